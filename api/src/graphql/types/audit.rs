//! The audit log as GraphQL shows it.

use async_graphql::{ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::audit_event::Model;

use crate::{
    auth::PrincipalKind, db::audit_log::EventFilter, error::ApiError,
    graphql::types::input::optional_text,
};

/// Longest value a filter field takes: the longest actor or subject a line can hold.
const MAX_FILTER_CHARS: usize = 160;

/// One line of the audit log.
pub struct AuditEvent(pub Model);

#[Object]
impl AuditEvent {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.at.to_utc()
    }

    /// What happened: `login`, `login.failed`, `service_login`, `service_login.failed`, `logout`,
    /// `tokens.revoke`, `permission.denied`, `blacklist.create`, `blacklist.update`,
    /// `blacklist.delete`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// Whether the actor is a person or a service account; null when nobody was authenticated.
    async fn actor_kind(&self) -> Option<PrincipalKind> {
        match self.0.actor_kind.as_deref() {
            Some("USER") => Some(PrincipalKind::User),
            Some("SERVICE") => Some(PrincipalKind::Service),
            _ => None,
        }
    }

    /// The user's name or the service account's client id.
    async fn actor(&self) -> Option<&str> {
        self.0.actor.as_deref()
    }

    /// What the action was done to: an entry's id, the name a login was tried for, a user.
    async fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }

    /// A JSON object: each changed field's value before and after, the client's address, the
    /// permission a refused caller lacked.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
}

/// Every field given must match exactly.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
}

impl AuditFilter {
    pub fn parse(self) -> Result<EventFilter, ApiError> {
        Ok(EventFilter {
            action: optional_text("action", self.action, MAX_FILTER_CHARS)?,
            actor: optional_text("actor", self.actor, MAX_FILTER_CHARS)?,
            subject: optional_text("subject", self.subject, MAX_FILTER_CHARS)?,
        })
    }
}
