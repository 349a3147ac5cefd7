//! The command line: `api [serve]`, `api migrate`, `api schema`, `api user …`, `api role …`.

use std::io::BufRead;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::{
    app::{self, App},
    auth::name,
    bootstrap::generate_password,
    config::Config,
    db::{self, user::NewUser},
    graphql::schema::sdl,
    http::server::shutdown_signal,
    service::{accounts, admin_events::OPERATOR, users},
    state::AppState,
};

#[derive(Debug, Parser)]
#[command(
    name = "api",
    version,
    about = "GraphQL API server with JWT login, token liveness and an IP blacklist"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL SDL (`api schema > schema.graphql`).
    Schema,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage roles and their permissions.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Manage service accounts (jobs and other services).
    #[command(subcommand)]
    Service(ServiceCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin a password is generated and printed once.
    Create {
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// A role to hold (repeatable); it must exist.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Organisation code, copied into the audit fields of what the user creates.
        #[arg(long)]
        org: Option<String>,
        /// Company code, copied into the audit fields of what the user creates.
        #[arg(long)]
        company: Option<String>,
        /// Display name.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Disable a user: they can no longer log in, and their live tokens die at once.
    Disable { username: String },
    /// Set a new password (read from stdin); the user's live tokens die at once.
    Passwd {
        username: String,
        /// Read the password from the first line of standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Create a service account and print its client secret, once.
    Create {
        client_id: String,
        /// A permission the account holds (repeatable).
        #[arg(long = "permission")]
        permissions: Vec<String>,
    },
    /// Issue a new client secret and print it, once; the old secret and its live tokens stop working.
    Rotate { client_id: String },
    /// Disable a service account and kill all its live tokens at once.
    Disable { client_id: String },
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Grant permissions to a role, creating the role when it does not exist.
    Grant {
        role: String,
        #[arg(required = true)]
        permissions: Vec<String>,
    },
    /// Withdraw permissions from a role.
    Revoke {
        role: String,
        #[arg(required = true)]
        permissions: Vec<String>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = App::build(&config).await?;
            let listener = TcpListener::bind(config.bind)
                .await
                .with_context(|| format!("binding BIND {}", config.bind))?;
            app.serve(listener, shutdown_signal()).await?;
        }
        Command::Migrate => {
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            tracing::info!("migrations applied");
        }
        Command::Schema => print!("{}", sdl()),
        Command::User(UserCommand::Create {
            username,
            password_stdin,
            roles,
            org,
            company,
            display_name,
        }) => {
            let username = name::parse("username", &username)?;
            let state = app::build_state(&config).await?;
            let (password, generated) = if password_stdin {
                (read_password_line()?, false)
            } else {
                (generate_password(), true)
            };
            let new = NewUser {
                username: &username,
                password_hash: state.passwords.hash(&password).await?,
                display_name: display_name.as_deref(),
                org_code: org.as_deref(),
                company_code: company.as_deref(),
                roles: &roles,
            };
            users::create_account(&state, new, OPERATOR).await?;
            if generated {
                println!("created user `{username}` with password: {password}");
            } else {
                println!("created user `{username}`");
            }
        }
        Command::User(UserCommand::Disable { username }) => {
            let state = app::build_state(&config).await?;
            let revoked = accounts::disable_user(&state, &username).await?;
            println!(
                "disabled user `{username}`; {}",
                reached(&state, revoked, "revoked")
            );
        }
        Command::User(UserCommand::Passwd { username, .. }) => {
            let password = read_password_line()?;
            let state = app::build_state(&config).await?;
            let revoked = accounts::change_password(&state, &username, &password).await?;
            println!(
                "changed the password of `{username}`; {}",
                reached(&state, revoked, "revoked")
            );
        }
        Command::Role(RoleCommand::Grant { role, permissions }) => {
            accounts::check_permissions(&permissions)?;
            let state = app::build_state(&config).await?;
            let updated = accounts::grant_role(&state, &role, &permissions).await?;
            println!(
                "role `{role}` now holds {}; {}",
                permissions.join(", "),
                reached(&state, updated, "updated")
            );
        }
        Command::Role(RoleCommand::Revoke { role, permissions }) => {
            let state = app::build_state(&config).await?;
            let (removed, updated) = accounts::revoke_role(&state, &role, &permissions).await?;
            println!(
                "withdrew {removed} permission(s) from role `{role}`; {}",
                reached(&state, updated, "updated")
            );
        }
        Command::Service(ServiceCommand::Create {
            client_id,
            permissions,
        }) => {
            let state = app::build_state(&config).await?;
            let secret = accounts::create_service(&state, &client_id, &permissions).await?;
            println!(
                "created service account `{client_id}`; its client secret (shown only now): {secret}"
            );
        }
        Command::Service(ServiceCommand::Rotate { client_id }) => {
            let state = app::build_state(&config).await?;
            let secret = accounts::rotate_service(&state, &client_id, OPERATOR).await?;
            println!("new client secret of `{client_id}` (shown only now): {secret}");
        }
        Command::Service(ServiceCommand::Disable { client_id }) => {
            let state = app::build_state(&config).await?;
            let revoked = accounts::disable_service(&state, &client_id, OPERATOR).await?;
            println!(
                "disabled service account `{client_id}`; {}",
                reached(&state, revoked, "revoked")
            );
        }
    }
    Ok(())
}

/// What a change did to live tokens, said truthfully: with an in-process token store this
/// process cannot see the server's tokens, only hand the change to it.
fn reached(state: &AppState, tokens: u64, verb: &str) -> String {
    if accounts::reaches_every_server(state) {
        format!("{verb} {tokens} live token(s)")
    } else {
        "the running server applies it to live tokens within a second".to_owned()
    }
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
