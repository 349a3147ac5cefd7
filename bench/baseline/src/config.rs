//! Config: the subset of the server's environment variables the baselines need, same names.

use std::net::SocketAddr;

use clap::Parser;
use secrecy::SecretString;

#[derive(Debug, Parser)]
#[command(about = "A benchmark baseline doing the server's point-query I/O")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8001")]
    pub bind: SocketAddr,

    /// PostgreSQL (or any SeaORM) URL of a database the server has migrated.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,

    /// Maximum size of the database pool; the server's default is 16.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,

    /// Redis holding the server's token liveness records.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: String,

    /// The server's REDIS_KEY_PREFIX, so the same records are found.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "gql:")]
    pub redis_key_prefix: String,

    /// The server's HS256 secret, so its tokens verify.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub jwt_secret: SecretString,

    /// Idle TTL renewed on every use, as the server does.
    #[arg(long, env = "TOKEN_IDLE_TTL_SECS", default_value_t = 30 * 60)]
    pub token_idle_ttl_secs: u64,
}

fn parse_secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value.to_owned()))
}
