//! ApiError: every way a request can fail, and the GraphQL error code each one carries.

use async_graphql::ErrorExtensions;

/// Error codes, as they appear in `extensions.code`.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const TOO_MANY_REQUESTS: &str = "TOO_MANY_REQUESTS";
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The `Accept` header allows neither GraphQL response media type (HTTP 406).
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
}

/// `extensions.reason` of a request refused because its address is on the blacklist.
pub const IP_BLACKLISTED: &str = "IP_BLACKLISTED";

/// `extensions.reason` of a request refused because X-Forwarded-For from a trusted proxy cannot be
/// read up to the client (HTTP 400, code BAD_REQUEST).
pub const FORWARDED_FOR_UNREADABLE: &str = "FORWARDED_FOR_UNREADABLE";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated,
    /// One message for an unknown user and a wrong password, so neither can be told apart.
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("invalid client id or client secret")]
    InvalidClientCredentials,
    #[error("the token is invalid, expired or revoked")]
    InvalidToken,
    #[error("you have no permission for this interface: {permission}")]
    Forbidden { permission: String },
    #[error("your address is on the blacklist")]
    IpBlacklisted,
    #[error("too many failed attempts; retry in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    #[error("{field}: {reason}")]
    BadInput { field: &'static str, reason: String },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{0}")]
    Conflict(String),
    #[error("{dependency} is unavailable, try again later")]
    Unavailable { dependency: &'static str },
    /// The database gave up on a lock (a deadlock victim, a serialization failure, SQLite busy
    /// past its timeout): nothing is broken, and the same write may well go through again.
    #[error("database is unavailable, try again later")]
    Contention,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated
            | Self::InvalidCredentials
            | Self::InvalidClientCredentials
            | Self::InvalidToken => code::UNAUTHENTICATED,
            Self::Forbidden { .. } | Self::IpBlacklisted => code::FORBIDDEN,
            Self::TooManyRequests { .. } => code::TOO_MANY_REQUESTS,
            Self::BadInput { .. } => code::BAD_USER_INPUT,
            Self::NotFound { .. } => code::NOT_FOUND,
            Self::Conflict(_) => code::CONFLICT,
            Self::Unavailable { .. } | Self::Contention => code::SERVICE_UNAVAILABLE,
            Self::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad_input(field: &'static str, reason: impl Into<String>) -> Self {
        Self::BadInput {
            field,
            reason: reason.into(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        match error {
            other if is_unavailable(&other) => {
                tracing::warn!(error = %other, "database unavailable");
                Self::Unavailable {
                    dependency: "database",
                }
            }
            // The database gave up on a lock (SQLite busy past its timeout, a deadlock or a
            // serialization failure): nothing is broken, and the request may succeed again.
            other if is_lock_contention(&other) => {
                tracing::warn!(error = %other, "database lock contention");
                Self::Contention
            }
            other => Self::Internal(other.into()),
        }
    }
}

/// The sqlx error inside a failed statement, if that is what failed.
fn statement_error(error: &sea_orm::DbErr) -> Option<&sea_orm::sqlx::Error> {
    use sea_orm::{DbErr, RuntimeErr};
    match error {
        DbErr::Query(RuntimeErr::SqlxError(error)) | DbErr::Exec(RuntimeErr::SqlxError(error)) => {
            Some(error)
        }
        _ => None,
    }
}

/// The database is down or overloaded, not broken: no connection could be had (pool exhaustion,
/// a refused connection), or the connection broke under the statement (I/O, TLS, protocol; pooled
/// connections are not tested before use, so this is how an outage shows), or the database said
/// it is going away or cannot take connections: SQLSTATE classes 08 (connection exception) and 57
/// (operator intervention, e.g. PostgreSQL's 57P01 at shutdown).
fn is_unavailable(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, sqlx::Error};
    if matches!(error, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return true;
    }
    match statement_error(error) {
        Some(
            Error::Io(_)
            | Error::Tls(_)
            | Error::Protocol(_)
            | Error::PoolTimedOut
            | Error::PoolClosed
            | Error::WorkerCrashed,
        ) => true,
        Some(Error::Database(error)) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
        _ => false,
    }
}

/// SQLite `SQLITE_BUSY` / `SQLITE_LOCKED` (and their extended codes), SQLSTATE 40001
/// (serialization failure; MySQL's deadlock too) and 40P01 (PostgreSQL's deadlock).
fn is_lock_contention(error: &sea_orm::DbErr) -> bool {
    statement_error(error)
        .and_then(|error| error.as_database_error())
        .and_then(|error| error.code())
        .is_some_and(|code| matches!(code.as_ref(), "5" | "6" | "262" | "517" | "40001" | "40P01"))
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        if let Self::Internal(source) = self {
            // The detail stays in the log, inside the request's span (which carries its request id).
            tracing::error!(error = ?source, "internal error");
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::Forbidden { permission } => ext.set("permission", permission.as_str()),
                Self::BadInput { field, .. } => ext.set("field", *field),
                Self::IpBlacklisted => ext.set("reason", IP_BLACKLISTED),
                Self::TooManyRequests { retry_after } => ext.set("retryAfter", *retry_after),
                _ => {}
            }
        })
    }
}
