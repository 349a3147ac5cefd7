//! First start: an empty user table gets an `admin` user holding the built-in `admin` role (`*`).

use rand::{Rng, distr::Alphanumeric};
use secrecy::ExposeSecret;

use crate::{
    config::Config,
    data_dir,
    db::{self, role::ADMIN_ROLE, user::NewUser},
    error::ApiError,
    state::AppState,
};

pub const ADMIN_USERNAME: &str = "admin";
/// Where a generated admin password is written, in DATA_DIR.
pub const GENERATED_PASSWORD_FILE: &str = "initial-admin-password";
const GENERATED_PASSWORD_CHARS: usize = 24;

pub async fn ensure_admin(state: &AppState, config: &Config) -> anyhow::Result<()> {
    if db::user::count(&state.db).await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(password) => (password.expose_secret().to_owned(), false),
        None => (generate_password(), true),
    };
    let txn = db::begin_write(&state.db).await?;
    db::role::grant(&txn, ADMIN_ROLE, &["*".to_owned()]).await?;
    txn.commit().await?;
    let new = NewUser {
        username: ADMIN_USERNAME,
        password_hash: state
            .passwords
            .hash(&password)
            .await
            .map_err(|e| anyhow::anyhow!("ADMIN_PASSWORD {e}"))?,
        display_name: Some("Administrator"),
        org_code: None,
        company_code: None,
        roles: &[ADMIN_ROLE.to_owned()],
    };
    let txn = db::begin_write(&state.db).await?;
    match db::user::create(&txn, new).await {
        // Another instance starting at the same moment created it first.
        Err(ApiError::Conflict(_)) => return Ok(()),
        other => other?,
    };
    txn.commit().await?;
    if generated {
        // Never into the log stream, which is kept and shipped: into a file only the server's
        // user can read, for the operator to read once and delete.
        let file = config.data_dir.join(GENERATED_PASSWORD_FILE);
        data_dir::ensure(&config.data_dir)?;
        data_dir::restrict_file(&file)?;
        std::fs::write(&file, format!("{password}\n"))?;
        tracing::warn!(
            file = %file.display(),
            "created user `{ADMIN_USERNAME}` with a generated password, written to this file \
             (mode 0600); read it, delete the file, and change the password"
        );
    } else {
        tracing::info!("created user `{ADMIN_USERNAME}` with the password from ADMIN_PASSWORD");
    }
    Ok(())
}

pub fn generate_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(GENERATED_PASSWORD_CHARS)
        .map(char::from)
        .collect()
}
