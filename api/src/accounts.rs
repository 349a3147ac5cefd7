//! Account changes that must reach live tokens too: the CLI and GraphQL both go through here, so a
//! withdrawn permission or a disabled account is refused on the very next request, on every instance
//! sharing the Redis token store. (The in-process store lives inside one server: a CLI process has
//! its own, so there its changes reach live tokens only through the next login.)

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use uuid::Uuid;

use crate::{auth::permission, db, error::ApiError, state::AppState};

/// Random bytes in a generated client secret: far beyond guessing, so argon2 only guards the stored copy.
const SECRET_BYTES: usize = 32;
const MAX_NAME_CHARS: usize = 64;

/// Checks a username or client id: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
pub fn check_name(field: &'static str, name: &str) -> Result<(), ApiError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !name.chars().all(allowed) {
        return Err(ApiError::bad_input(
            field,
            format!("must be 1 to {MAX_NAME_CHARS} letters, digits, `.`, `_`, `-` or `@`"),
        ));
    }
    Ok(())
}

pub fn check_permissions(permissions: &[String]) -> Result<(), ApiError> {
    permissions.iter().try_for_each(|p| {
        permission::validate(p).map_err(|reason| ApiError::bad_input("permission", reason))
    })
}

/// Grants permissions to a role; live tokens of its holders gain them at once. Returns tokens updated.
pub async fn grant_role(
    state: &AppState,
    role: &str,
    permissions: &[String],
) -> Result<u64, ApiError> {
    check_permissions(permissions)?;
    let role_id = db::role::grant(&state.db, role, permissions).await?;
    refresh_holders(state, role_id).await
}

/// Withdraws permissions from a role; live tokens of its holders lose them at once.
/// Returns how many permissions the role held and how many tokens were updated.
pub async fn revoke_role(
    state: &AppState,
    role: &str,
    permissions: &[String],
) -> Result<(u64, u64), ApiError> {
    let (role_id, removed) = db::role::revoke(&state.db, role, permissions).await?;
    Ok((removed, refresh_holders(state, role_id).await?))
}

async fn refresh_holders(state: &AppState, role_id: Uuid) -> Result<u64, ApiError> {
    let mut updated = 0;
    for user_id in db::user::holders_of_role(&state.db, role_id).await? {
        let permissions = db::user::permissions(&state.db, user_id).await?;
        updated += state
            .sessions
            .set_subject_permissions(user_id, &permissions)
            .await?;
    }
    Ok(updated)
}

/// Kills every live token of a user. Returns how many were alive.
pub async fn revoke_user_tokens(state: &AppState, username: &str) -> Result<u64, ApiError> {
    let user = db::user::find_by_username(&state.db, username)
        .await?
        .ok_or(ApiError::NotFound { what: "user" })?;
    state.sessions.revoke_subject(user.id).await
}

/// Disables a user and kills their live tokens. Returns how many were alive.
pub async fn disable_user(state: &AppState, username: &str) -> Result<u64, ApiError> {
    let id = db::user::set_enabled(&state.db, username, false).await?;
    state.sessions.revoke_subject(id).await
}

/// Sets a new password and kills the user's live tokens. Returns how many were alive.
pub async fn change_password(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<u64, ApiError> {
    let hash = state.passwords.hash(password).await?;
    let id = db::user::set_password_hash(&state.db, username, hash).await?;
    state.sessions.revoke_subject(id).await
}

/// Creates a service account and returns its client secret, which is never shown again.
pub async fn create_service(
    state: &AppState,
    client_id: &str,
    permissions: &[String],
) -> Result<String, ApiError> {
    check_name("clientId", client_id)?;
    check_permissions(permissions)?;
    let secret = generate_secret();
    let hash = state.passwords.hash(&secret).await?;
    db::service_account::create(&state.db, client_id, hash, permissions).await?;
    Ok(secret)
}

/// Issues a new client secret; the old one stops working. Tokens already issued live out their short TTL.
pub async fn rotate_service(state: &AppState, client_id: &str) -> Result<String, ApiError> {
    let secret = generate_secret();
    let hash = state.passwords.hash(&secret).await?;
    db::service_account::set_secret(&state.db, client_id, hash).await?;
    Ok(secret)
}

/// Disables a service account and kills its live tokens at once. Returns how many were alive.
pub async fn disable_service(state: &AppState, client_id: &str) -> Result<u64, ApiError> {
    let id = db::service_account::disable(&state.db, client_id).await?;
    state.sessions.revoke_subject(id).await
}

fn generate_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
