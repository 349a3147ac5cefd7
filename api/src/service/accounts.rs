//! Account changes that must reach live tokens too: the CLI and GraphQL both go through here, so a
//! withdrawn permission or a disabled account is refused on the very next request, on every instance
//! sharing the Redis token store. An in-process store lives inside one server, out of a CLI
//! process's reach: there the change is also written to the account-change log, in the same
//! transaction, and the server applies it within a second (see `account_watch`). The audit line
//! of each change is written in that transaction as well (the command line's names no actor).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::service_account;
use rand::RngCore;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use super::admin_events::{self, OPERATOR};
use crate::{
    auth::{Principal, name, permission},
    db::{self, account_change::ChangeKind, audit::Audit, audit_log, data_scope::Grants},
    error::ApiError,
    state::AppState,
};

/// Random bytes in a generated client secret: far beyond guessing, so argon2 only guards the stored copy.
const SECRET_BYTES: usize = 32;

/// BAD_USER_INPUT naming the first permission string that is not `*`, `resource:*` or `resource:action`.
pub fn check_permissions(permissions: &[String]) -> Result<(), ApiError> {
    permissions.iter().try_for_each(|p| {
        permission::validate(p).map_err(|reason| ApiError::bad_input("permission", reason))
    })
}

/// Grants permissions to a role; live tokens of its holders gain them at once. Returns tokens updated.
/// Recorded as `role.create` when the role is new, `role.update` otherwise.
pub async fn grant_role(
    state: &AppState,
    role: &str,
    permissions: &[String],
) -> Result<u64, ApiError> {
    check_permissions(permissions)?;
    let txn = db::begin_write(&state.db).await?;
    let before = match db::role::find_with_permissions(&txn, role).await {
        Ok(found) => Some(found),
        Err(ApiError::NotFound { .. }) => None,
        Err(error) => return Err(error),
    };
    let role_id = db::role::grant(&txn, role, permissions).await?;
    let after = db::role::find_with_permissions(&txn, role).await?;
    let event = match before {
        Some(before) => admin_events::role_updated(OPERATOR, &before, &after),
        None => admin_events::role_created(OPERATOR, &after),
    };
    audit_log::record(&txn, event).await?;
    txn.commit().await?;
    refresh_holders(state, role_id).await
}

/// Withdraws permissions from a role; live tokens of its holders lose them at once.
/// Returns how many permissions the role held and how many tokens were updated.
pub async fn revoke_role(
    state: &AppState,
    role: &str,
    permissions: &[String],
) -> Result<(u64, u64), ApiError> {
    let txn = db::begin_write(&state.db).await?;
    let before = db::role::find_with_permissions(&txn, role).await?;
    let (role_id, removed) = db::role::revoke(&txn, role, permissions).await?;
    let after = db::role::find_with_permissions(&txn, role).await?;
    let event = admin_events::role_updated(OPERATOR, &before, &after);
    audit_log::record(&txn, event).await?;
    txn.commit().await?;
    Ok((removed, refresh_holders(state, role_id).await?))
}

async fn refresh_holders(state: &AppState, role_id: Uuid) -> Result<u64, ApiError> {
    let mut updated = 0;
    for user_id in db::user::holders_of_role(&state.db, role_id).await? {
        announce(state, &state.db, user_id, ChangeKind::Permissions).await?;
        updated += apply(state, user_id, ChangeKind::Permissions).await?;
    }
    Ok(updated)
}

/// Kills every live token of a user. Returns how many were alive in this process's store.
pub async fn revoke_user_tokens(state: &AppState, user: Uuid) -> Result<u64, ApiError> {
    announce(state, &state.db, user, ChangeKind::Revoke).await?;
    apply(state, user, ChangeKind::Revoke).await
}

/// Disables a user and kills their live tokens. Returns how many were alive in this process's store.
pub async fn disable_user(state: &AppState, username: &str) -> Result<u64, ApiError> {
    let txn = state.db.begin().await?;
    let (before, after) = db::user::set_enabled(&txn, &name::canonical(username), false).await?;
    let event = admin_events::user_updated(OPERATOR, &before, &after);
    audit_log::record(&txn, event).await?;
    announce(state, &txn, after.id, ChangeKind::Revoke).await?;
    txn.commit().await?;
    apply(state, after.id, ChangeKind::Revoke).await
}

/// Sets a new password and kills the user's live tokens. Returns how many were alive in this
/// process's store.
pub async fn change_password(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<u64, ApiError> {
    let hash = state.passwords.hash(password).await?;
    let username = name::canonical(username);
    let txn = state.db.begin().await?;
    let id = db::user::set_password_hash(&txn, &username, hash).await?;
    audit_log::record(&txn, admin_events::password_set(OPERATOR, &username)).await?;
    announce(state, &txn, id, ChangeKind::Revoke).await?;
    txn.commit().await?;
    apply(state, id, ChangeKind::Revoke).await
}

/// Whether this process's token store is the one every server uses: then a change applied here
/// is seen everywhere, and its count of live tokens is the true one.
pub fn reaches_every_server(state: &AppState) -> bool {
    state.sessions.store().shared()
}

/// Writes the change to the account-change log when the token store is in-process, so the
/// server that owns it can follow (a no-op with Redis, which every process reaches directly).
pub(super) async fn announce(
    state: &AppState,
    db: &impl ConnectionTrait,
    subject: Uuid,
    kind: ChangeKind,
) -> Result<(), ApiError> {
    if reaches_every_server(state) {
        Ok(())
    } else {
        db::account_change::record(db, subject, kind).await
    }
}

/// Makes the subject's live tokens in this process's store follow a change. Returns how many.
pub async fn apply(state: &AppState, subject: Uuid, kind: ChangeKind) -> Result<u64, ApiError> {
    match kind {
        ChangeKind::Revoke => state.sessions.revoke_subject(subject).await,
        ChangeKind::Permissions => follow_account(state, subject).await,
    }
}

/// How many times the live tokens are rewritten while the account keeps changing under them,
/// before they are ended instead: with no end of changes in sight, dead is the safe state.
const FOLLOW_ROUNDS: usize = 16;

/// What live tokens carry of a user's account.
#[derive(Clone, PartialEq)]
struct Standing {
    grants: Grants,
    display_name: Option<String>,
    org_code: Option<String>,
}

async fn standing(state: &AppState, subject: Uuid) -> Result<Option<Standing>, ApiError> {
    let Some(user) = db::user::find_by_id(&state.db, subject).await? else {
        return Ok(None);
    };
    Ok(Some(Standing {
        grants: db::user::grants(&state.db, subject).await?,
        display_name: user.display_name,
        org_code: user.org_code,
    }))
}

/// Rewrites the live tokens from the account as stored, then reads it again: two changes
/// committed close together may each read the account before the other's write, and the older
/// read land last. The tokens are done only once the copy just written is still what is stored.
async fn follow_account(state: &AppState, subject: Uuid) -> Result<u64, ApiError> {
    let mut stored = standing(state, subject).await?;
    for _ in 0..FOLLOW_ROUNDS {
        let Some(written) = stored else { break };
        let copy = written.clone();
        let update = move |principal: &mut Principal| {
            principal.set_grants(copy.grants.clone());
            principal.display_name.clone_from(&copy.display_name);
            principal.org_code.clone_from(&copy.org_code);
        };
        let updated = state.sessions.update_subject(subject, &update).await?;
        stored = standing(state, subject).await?;
        if stored.as_ref() == Some(&written) {
            return Ok(updated);
        }
    }
    state.sessions.revoke_subject(subject).await
}

/// Creates a service account and returns its client secret, which is never shown again.
pub async fn create_service(
    state: &AppState,
    client_id: &str,
    permissions: &[String],
) -> Result<String, ApiError> {
    let (_, secret) = create_service_account(state, client_id, permissions, OPERATOR).await?;
    Ok(secret)
}

/// Creates a service account and returns it with its client secret, which is never shown again.
async fn create_service_account(
    state: &AppState,
    client_id: &str,
    permissions: &[String],
    by: Option<&Audit>,
) -> Result<(service_account::Model, String), ApiError> {
    let client_id = name::parse("clientId", client_id)?;
    check_permissions(permissions)?;
    let secret = generate_secret();
    let hash = state.passwords.hash(&secret).await?;
    let txn = db::begin_write(&state.db).await?;
    let account = db::service_account::create(&txn, &client_id, hash, permissions).await?;
    let event = admin_events::service_created(by, &account.client_id, permissions);
    audit_log::record(&txn, event).await?;
    txn.commit().await?;
    Ok((account, secret))
}

/// Like [`create_service`], for a caller who may hand out only permissions they hold themselves.
pub async fn create_service_granted_by(
    state: &AppState,
    by: &Principal,
    client_id: &str,
    permissions: &[String],
) -> Result<(service_account::Model, String), ApiError> {
    check_permissions(permissions)?;
    by.may_grant(&Grants::everywhere(permissions.to_vec()))?;
    let audit = by.audit();
    create_service_account(state, client_id, permissions, Some(&audit)).await
}

/// Issues a new client secret; the old one stops working, and so do the tokens issued with it
/// (a rotation usually means the old secret leaked, and so may have its tokens). Returns the
/// new secret. `by` is none for the command line.
pub async fn rotate_service(
    state: &AppState,
    client_id: &str,
    by: Option<&Audit>,
) -> Result<String, ApiError> {
    let secret = generate_secret();
    let hash = state.passwords.hash(&secret).await?;
    let client_id = name::canonical(client_id);
    let txn = state.db.begin().await?;
    let id = db::service_account::set_secret(&txn, &client_id, hash).await?;
    audit_log::record(&txn, admin_events::service_rotated(by, &client_id)).await?;
    announce(state, &txn, id, ChangeKind::Revoke).await?;
    txn.commit().await?;
    apply(state, id, ChangeKind::Revoke).await?;
    Ok(secret)
}

/// Disables a service account and kills its live tokens at once. Returns how many were alive in
/// this process's store. `by` is none for the command line.
pub async fn disable_service(
    state: &AppState,
    client_id: &str,
    by: Option<&Audit>,
) -> Result<u64, ApiError> {
    let txn = state.db.begin().await?;
    let before = db::service_account::disable(&txn, &name::canonical(client_id)).await?;
    audit_log::record(&txn, admin_events::service_disabled(by, &before)).await?;
    announce(state, &txn, before.id, ChangeKind::Revoke).await?;
    txn.commit().await?;
    apply(state, before.id, ChangeKind::Revoke).await
}

fn generate_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
