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
    db::{
        self,
        account_change::ChangeKind,
        audit::Audit,
        audit_log,
        data_scope::{DataScope, Grants},
        role::RoleGrants,
        superuser,
    },
    error::ApiError,
    state::AppState,
};

/// Creates a role holding exactly `permissions`, reaching as far as `scope`. A taken name is a
/// CONFLICT.
pub async fn create(
    state: &AppState,
    by: &Principal,
    name: &str,
    permissions: &[String],
    scope: DataScope,
) -> Result<RoleGrants, ApiError> {
    let name = name::parse("name", name)?;
    check_permissions(permissions)?;
    by.may_grant(&Grants::scoped(permissions.to_vec(), scope))?;
    let txn = db::begin_write(&state.db).await?;
    let role = db::role::create(&txn, &name, permissions, scope).await?;
    let permissions = db::role::permissions_of(&txn, &[role.id]).await?;
    let created = RoleGrants { role, permissions };
    audit_log::record(
        &txn,
        admin_events::role_created(Some(&by.audit()), &created),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// What an update makes of a role; `None` keeps that part as it is.
#[derive(Clone, Default)]
pub struct RoleChanges {
    pub permissions: Option<Vec<String>>,
    pub scope: Option<DataScope>,
}

/// Changes a role's permissions (its whole new set) or scope; `by` must hold each permission the
/// role gains, as far as the role reaches (all of them when its scope widens to `ALL`).
pub async fn update(
    state: &AppState,
    by: &Principal,
    name: &str,
    changes: RoleChanges,
) -> Result<RoleGrants, ApiError> {
    if let Some(permissions) = &changes.permissions {
        check_permissions(permissions)?;
    }
    let (grants, holders) = db::retrying(|| write_update(state, by, name, &changes)).await?;
    follow(state, &holders).await?;
    Ok(grants)
}

async fn write_update(
    state: &AppState,
    by: &Principal,
    name: &str,
    changes: &RoleChanges,
) -> Result<(RoleGrants, Vec<Uuid>), ApiError> {
    let txn = db::begin_write(&state.db).await?;
    let holders_of_everything = superuser::lock_holders(&txn).await?;
    let before = db::role::find_with_permissions(&txn, name).await?;
    let (mut role, held) = (before.role.clone(), &before.permissions);
    let was = DataScope::parse(&role.data_scope);
    let scope = changes.scope.unwrap_or(was);
    let permissions = changes.permissions.clone().unwrap_or_else(|| held.clone());
    let widened = was == DataScope::Org && scope == DataScope::All;
    let gained = permissions
        .iter()
        .filter(|p| widened || !held.contains(p))
        .cloned()
        .collect();
    by.may_grant(&Grants::scoped(gained, scope))?;
    db::role::set_permissions(&txn, role.id, &permissions).await?;
    if scope != was {
        role = db::role::set_data_scope(&txn, role, scope).await?;
    }
    superuser::ensure_kept(&txn, holders_of_everything).await?;
    let holders = announce_to_holders(state, &txn, role.id).await?;
    let permissions = db::role::permissions_of(&txn, &[role.id]).await?;
    let after = RoleGrants { role, permissions };
    let by = by.audit();
    audit_log::record(&txn, admin_events::role_updated(Some(&by), &before, &after)).await?;
    txn.commit().await?;
    Ok((after, holders))
}

/// Deletes a role; its holders lose what it granted at once.
pub async fn delete(state: &AppState, name: &str, by: &Audit) -> Result<(), ApiError> {
    let holders = db::retrying(|| write_delete(state, name, by)).await?;
    follow(state, &holders).await
}

async fn write_delete(state: &AppState, name: &str, by: &Audit) -> Result<Vec<Uuid>, ApiError> {
    let txn = db::begin_write(&state.db).await?;
    let holders_of_everything = superuser::lock_holders(&txn).await?;
    // Read before the delete takes the holds and the permissions away with the role.
    let role = db::role::find_with_permissions(&txn, name).await?;
    let holders = announce_to_holders(state, &txn, role.role.id).await?;
    db::role::delete(&txn, role.role.id).await?;
    let event = admin_events::role_deleted(Some(by), &role);
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
