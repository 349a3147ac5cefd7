//! Administering roles over GraphQL: create, replace the permissions, delete. A caller hands out
//! only permissions they hold; every holder's live tokens follow a change before the call
//! returns; and no change may leave nobody holding `*` (see `db::superuser`).

use uuid::Uuid;

use super::{
    accounts::{announce, apply, check_permissions},
    admin_events,
};
use crate::{
    auth::{Principal, name},
    db::{self, account_change::ChangeKind, audit::Audit, audit_log, role::RoleGrants, superuser},
    error::ApiError,
    state::AppState,
};

/// Creates a role holding exactly `permissions`. A taken name is a CONFLICT.
pub async fn create(
    state: &AppState,
    by: &Principal,
    name: &str,
    permissions: &[String],
) -> Result<RoleGrants, ApiError> {
    let name = name::parse("name", name)?;
    check_permissions(permissions)?;
    by.may_grant(permissions)?;
    let txn = db::begin_write(&state.db).await?;
    let role = db::role::create(&txn, &name, permissions).await?;
    let permissions = db::role::permissions_of(&txn, &[role.id]).await?;
    let audit = by.audit();
    let event = admin_events::role_created(Some(&audit), &role.name, &permissions);
    audit_log::record(&txn, event).await?;
    txn.commit().await?;
    Ok(RoleGrants { role, permissions })
}

/// Makes `permissions` the role's whole set; `by` must hold each one the role gains.
pub async fn update(
    state: &AppState,
    by: &Principal,
    name: &str,
    permissions: &[String],
) -> Result<RoleGrants, ApiError> {
    check_permissions(permissions)?;
    let (grants, holders) = db::retrying(|| write_update(state, by, name, permissions)).await?;
    follow(state, &holders).await?;
    Ok(grants)
}

async fn write_update(
    state: &AppState,
    by: &Principal,
    name: &str,
    permissions: &[String],
) -> Result<(RoleGrants, Vec<Uuid>), ApiError> {
    let txn = db::begin_write(&state.db).await?;
    let holders_of_everything = superuser::lock_holders(&txn).await?;
    let role = db::role::find(&txn, name).await?;
    let held = db::role::permissions_of(&txn, &[role.id]).await?;
    by.may_grant(permissions.iter().filter(|p| !held.contains(p)))?;
    db::role::set_permissions(&txn, role.id, permissions).await?;
    superuser::ensure_kept(&txn, holders_of_everything).await?;
    let holders = announce_to_holders(state, &txn, role.id).await?;
    let permissions = db::role::permissions_of(&txn, &[role.id]).await?;
    let audit = by.audit();
    let event = admin_events::role_updated(Some(&audit), &role.name, &held, &permissions);
    audit_log::record(&txn, event).await?;
    txn.commit().await?;
    Ok((RoleGrants { role, permissions }, holders))
}

/// Deletes a role; its holders lose what it granted at once.
pub async fn delete(state: &AppState, name: &str, by: &Audit) -> Result<(), ApiError> {
    let holders = db::retrying(|| write_delete(state, name, by)).await?;
    follow(state, &holders).await
}

async fn write_delete(state: &AppState, name: &str, by: &Audit) -> Result<Vec<Uuid>, ApiError> {
    let txn = db::begin_write(&state.db).await?;
    let holders_of_everything = superuser::lock_holders(&txn).await?;
    let role = db::role::find(&txn, name).await?;
    // Read before the delete takes the holds and the permissions away with the role.
    let holders = announce_to_holders(state, &txn, role.id).await?;
    let permissions = db::role::permissions_of(&txn, &[role.id]).await?;
    db::role::delete(&txn, role.id).await?;
    let event = admin_events::role_deleted(Some(by), &role.name, &permissions);
    audit_log::record(&txn, event).await?;
    superuser::ensure_kept(&txn, holders_of_everything).await?;
    txn.commit().await?;
    Ok(holders)
}

/// Announces, in the writing transaction, that every holder's permissions changed; returns them.
async fn announce_to_holders(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    role: Uuid,
) -> Result<Vec<Uuid>, ApiError> {
    let holders = db::user::holders_of_role(txn, role).await?;
    for holder in &holders {
        announce(state, txn, *holder, ChangeKind::Permissions).await?;
    }
    Ok(holders)
}

/// After the commit: the holders' live tokens in this process's store (or Redis) follow.
async fn follow(state: &AppState, holders: &[Uuid]) -> Result<(), ApiError> {
    for holder in holders {
        apply(state, *holder, ChangeKind::Permissions).await?;
    }
    Ok(())
}
