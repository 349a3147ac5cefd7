//! Service account GraphQL types.

use async_graphql::{InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::service_account::Model;

/// A non-human caller (a job, another service) that logs in with `serviceLogin`.
pub struct ServiceAccount {
    pub account: Model,
    pub permissions: Vec<String>,
}

#[Object]
impl ServiceAccount {
    async fn client_id(&self) -> &str {
        &self.account.client_id
    }
    /// Sorted.
    async fn permissions(&self) -> &[String] {
        &self.permissions
    }
    /// A disabled account cannot log in, and had every live token ended when disabled.
    async fn enabled(&self) -> bool {
        self.account.enabled
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.account.created_at.to_utc()
    }
}

/// A service account with its client secret: shown in this answer only, never again.
#[derive(SimpleObject)]
pub struct ServiceAccountSecret {
    pub service_account: ServiceAccount,
    pub client_secret: String,
}

#[derive(InputObject)]
pub struct CreateServiceAccountInput {
    /// 1 to 64 of `a-z`, `0-9`, `.`, `_`, `-`, `@`, after lower-casing.
    pub client_id: String,
    /// The caller must hold each one.
    pub permissions: Vec<String>,
}
