//! Administering users over GraphQL: create, change, new password, new roles. Each change that
//! can take rights away reaches the user's live tokens before the call returns (see `accounts`),
//! and none may leave nobody holding `*` (see `db::superuser`).

use entity::user;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{
    accounts::{announce, apply},
    admin_events,
};
use crate::{
    auth::{Principal, name, permission},
    db::{
        self,
        account_change::ChangeKind,
        audit::Audit,
        audit_log, superuser,
        user::{NewUser, UserChanges},
    },
    error::ApiError,
    state::AppState,
};

/// A user and the names of the roles they hold.
pub struct UserWithRoles {
    pub user: user::Model,
    pub roles: Vec<String>,
}

/// A user as an administrator asks for one; `display_name` and `org_code` are already checked.
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
    pub org_code: Option<String>,
    pub roles: Vec<String>,
}

/// Creates a user holding existing roles, whose permissions `by` must hold. A taken username is
/// a CONFLICT; nothing is written unless all of it is.
pub async fn create(
    state: &AppState,
    by: &Principal,
    new: NewAccount,
) -> Result<UserWithRoles, ApiError> {
    let username = name::parse("username", &new.username)?;
    may_place(by, new.org_code.as_deref())?;
    let mut roles = new.roles;
    roles.sort();
    roles.dedup();
    // Checked before the (deliberately slow) hash, so a refusal costs nothing.
    let role_ids = db::role::ids_named(&state.db, &roles).await?;
    by.may_grant(&db::role::grants_of(&state.db, &role_ids).await?)?;
    let password_hash = state.passwords.hash(&new.password).await?;
    let audit = by.audit();
    let user = create_account(
        state,
        NewUser {
            username: &username,
            password_hash,
            display_name: new.display_name.as_deref(),
            org_code: new.org_code.as_deref(),
            company_code: None,
            roles: &roles,
        },
        Some(&audit),
    )
    .await?;
    with_roles(state, user).await
}

/// Writes a new user and its audit line in one transaction; GraphQL and the command line (`by`
/// none) both create users through here. A taken username is a CONFLICT, and then nothing is
/// written.
pub async fn create_account(
    state: &AppState,
    new: NewUser<'_>,
    by: Option<&Audit>,
) -> Result<user::Model, ApiError> {
    let roles = new.roles;
    let txn = db::begin_write(&state.db).await?;
    let user = db::user::create(&txn, new).await?;
    audit_log::record(&txn, admin_events::user_created(by, &user, roles)).await?;
    txn.commit().await?;
    Ok(user)
}

/// Changes a user's display name, organisation or enabled flag; their live tokens follow before
/// this returns. Disabling ends them, and is refused when they are the last enabled holder of `*`.
pub async fn update(
    state: &AppState,
    by: &Principal,
    id: Uuid,
    changes: UserChanges,
) -> Result<UserWithRoles, ApiError> {
    let follow = followed_by_tokens(&changes);
    let user = db::retrying(|| write_update(state, id, changes.clone(), follow, by)).await?;
    if let Some(kind) = follow {
        apply(state, id, kind).await?;
    }
    with_roles(state, user).await
}

/// What the user's live tokens must do about `changes`: die when the user is disabled, take the
/// new organisation (which decides what an `ORG` role reaches) and name otherwise.
fn followed_by_tokens(changes: &UserChanges) -> Option<ChangeKind> {
    if changes.enabled == Some(false) {
        Some(ChangeKind::Revoke)
    } else if changes.org_code.is_some() || changes.display_name.is_some() {
        Some(ChangeKind::Permissions)
    } else {
        None
    }
}

async fn write_update(
    state: &AppState,
    id: Uuid,
    changes: UserChanges,
    follow: Option<ChangeKind>,
    by: &Principal,
) -> Result<user::Model, ApiError> {
    let disabling = follow == Some(ChangeKind::Revoke);
    let txn = db::begin_write(&state.db).await?;
    let holders = if disabling {
        superuser::lock_holders(&txn).await?
    } else {
        0
    };
    let user = reachable(&txn, by, id).await?;
    if let Some(org_code) = &changes.org_code {
        may_place(by, org_code.as_deref())?;
    }
    let (before, user) = db::user::change(&txn, user, changes).await?;
    let by = by.audit();
    audit_log::record(&txn, admin_events::user_updated(Some(&by), &before, &user)).await?;
    if disabling {
        superuser::ensure_kept(&txn, holders).await?;
    }
    if let Some(kind) = follow {
        announce(state, &txn, id, kind).await?;
    }
    txn.commit().await?;
    Ok(user)
}

/// Sets a new password and ends the user's live tokens.
pub async fn set_password(
    state: &AppState,
    by: &Principal,
    id: Uuid,
    password: &str,
) -> Result<(), ApiError> {
    let hash = state.passwords.hash(password).await?;
    let txn = db::begin_write(&state.db).await?;
    let user = reachable(&txn, by, id).await?;
    let user = db::user::set_password_hash_of(&txn, user, hash).await?;
    let by = by.audit();
    audit_log::record(&txn, admin_events::password_set(Some(&by), &user.username)).await?;
    announce(state, &txn, id, ChangeKind::Revoke).await?;
    txn.commit().await?;
    apply(state, id, ChangeKind::Revoke).await?;
    Ok(())
}

/// Makes `roles` the user's whole set of roles. `by` must hold every permission of the roles
/// added; the user's live tokens follow at once; taking `*` from its last holder is refused.
pub async fn set_roles(
    state: &AppState,
    by: &Principal,
    id: Uuid,
    roles: &[String],
) -> Result<UserWithRoles, ApiError> {
    let user = db::retrying(|| write_roles(state, by, id, roles)).await?;
    apply(state, id, ChangeKind::Permissions).await?;
    with_roles(state, user).await
}

async fn write_roles(
    state: &AppState,
    by: &Principal,
    id: Uuid,
    roles: &[String],
) -> Result<user::Model, ApiError> {
    let txn = db::begin_write(&state.db).await?;
    let holders = superuser::lock_holders(&txn).await?;
    let user = reachable(&txn, by, id).await?;
    let wanted = db::role::ids_named(&txn, roles).await?;
    let held = db::user_role::ids_of(&txn, id).await?;
    let held_names = db::user_role::names_of(&txn, id).await?;
    let added: Vec<Uuid> = wanted
        .iter()
        .filter(|role| !held.contains(role))
        .copied()
        .collect();
    by.may_grant(&db::role::grants_of(&txn, &added).await?)?;
    db::user_role::replace(&txn, id, &wanted).await?;
    let audit = by.audit();
    let event = admin_events::roles_set(Some(&audit), &user.username, &held_names, roles);
    audit_log::record(&txn, event).await?;
    superuser::ensure_kept(&txn, holders).await?;
    announce(state, &txn, id, ChangeKind::Permissions).await?;
    txn.commit().await?;
    Ok(user)
}

/// One user by id with their roles, or `None` (also when out of `by`'s reach).
pub async fn find(
    state: &AppState,
    by: &Principal,
    id: Uuid,
) -> Result<Option<UserWithRoles>, ApiError> {
    match reachable(&state.db, by, id).await {
        Ok(user) => Ok(Some(with_roles(state, user).await?)),
        Err(ApiError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The user `id`, or NOT_FOUND, also when `by` holds `user:manage` only for an organisation the
/// user is not in: administering users is data-scoped like the blacklist, or an organisation's
/// administrator could move people, and with them its `ORG` roles, into another organisation.
async fn reachable(
    db: &impl ConnectionTrait,
    by: &Principal,
    id: Uuid,
) -> Result<user::Model, ApiError> {
    let reach = by.reach(permission::USER_MANAGE);
    db::user::find_by_id(db, id)
        .await?
        .filter(|user| reach.contains(user.org_code.as_deref()))
        .ok_or(ApiError::NotFound { what: "user" })
}

/// FORBIDDEN when `by` may not put a user into `org_code`: outside its reach for `user:manage`.
fn may_place(by: &Principal, org_code: Option<&str>) -> Result<(), ApiError> {
    if by.reach(permission::USER_MANAGE).contains(org_code) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            permission: permission::USER_MANAGE.to_owned(),
        })
    }
}

async fn with_roles(state: &AppState, user: user::Model) -> Result<UserWithRoles, ApiError> {
    let roles = db::user_role::names_of(&state.db, user.id).await?;
    Ok(UserWithRoles { user, roles })
}
