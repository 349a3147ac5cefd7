//! Sessions: issuing a token for a principal, recognising it on later requests, and revoking it.

use std::{sync::Arc, time::Duration};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Principal,
    jwt::{Claims, JwtKeys},
    liveness::{StoreError, TokenStore},
    principal::PrincipalUpdate,
    request::{PresentedToken, RequestAuth, Session, presented_token},
};
use crate::{config::Config, error::ApiError};

pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The token's id in the store, to end it again when what issued it cannot complete.
    pub jti: Uuid,
}

#[derive(Clone)]
pub struct Sessions {
    keys: Arc<JwtKeys>,
    store: Arc<dyn TokenStore>,
    idle_ttl: Duration,
    max_ttl: Duration,
    service_default_ttl: Duration,
    service_max_ttl: Duration,
}

impl Sessions {
    pub fn new(config: &Config, keys: JwtKeys, store: Arc<dyn TokenStore>) -> Self {
        Self {
            keys: Arc::new(keys),
            store,
            idle_ttl: config.token_idle_ttl(),
            max_ttl: config.token_max_ttl(),
            service_default_ttl: Duration::from_secs(config.service_token_default_ttl_secs),
            service_max_ttl: Duration::from_secs(config.service_token_max_ttl_secs),
        }
    }

    pub fn store(&self) -> &dyn TokenStore {
        self.store.as_ref()
    }

    /// How long a person's token lives at most (TOKEN_MAX_TTL_SECS).
    pub fn user_token_lifetime(&self) -> Duration {
        self.max_ttl
    }

    /// The lifetime a service token asked for, checked against SERVICE_TOKEN_MAX_TTL_SECS:
    /// more than the cap is refused rather than quietly shortened.
    pub fn service_token_lifetime(
        &self,
        requested_secs: Option<i32>,
    ) -> Result<Duration, ApiError> {
        let max = self.service_max_ttl.as_secs();
        match requested_secs {
            None => Ok(self.service_default_ttl),
            Some(secs) if secs <= 0 => Err(ApiError::bad_input("ttlSeconds", "must be at least 1")),
            Some(secs) if secs as u64 > max => Err(ApiError::bad_input(
                "ttlSeconds",
                format!("must be at most {max}"),
            )),
            Some(secs) => Ok(Duration::from_secs(secs as u64)),
        }
    }

    /// The subject's revocation epoch (see [`TokenStore::epoch`]): read it before reading the
    /// account a token is issued for, and hand it to [`Sessions::issue`].
    pub async fn epoch(&self, subject: Uuid) -> Result<u64, ApiError> {
        self.store.epoch(subject).await.map_err(store_error)
    }

    /// Signs a token for `principal`, alive for `lifetime` at most, and records it as live,
    /// unless the subject was revoked or changed since its epoch was `epoch`: then `None`, and
    /// the caller reads the account afresh.
    pub async fn issue(
        &self,
        principal: Principal,
        lifetime: Duration,
        epoch: u64,
    ) -> Result<Option<IssuedToken>, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: principal.subject_id,
            jti: Uuid::now_v7(),
            kind: principal.kind,
            iat: now,
            exp: now.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX)),
        };
        let token = self.keys.sign(&claims).map_err(ApiError::Internal)?;
        let recorded = self
            .store
            .insert(
                claims.jti,
                &principal,
                self.idle_ttl.min(lifetime),
                lifetime,
                epoch,
            )
            .await
            .map_err(store_error)?;
        Ok(recorded.then(|| IssuedToken {
            token,
            expires_at: claims.expires_at(),
            jti: claims.jti,
        }))
    }

    /// Authenticates a request from its headers: signature and expiry first (cheap, local), then
    /// one store round trip that both proves the token alive and renews its idle TTL.
    pub async fn authenticate(&self, headers: &HeaderMap) -> RequestAuth {
        let token = match presented_token(headers) {
            PresentedToken::None => return RequestAuth::Anonymous,
            PresentedToken::Malformed => return RequestAuth::Rejected,
            PresentedToken::Token(token) => token,
        };
        let Some(claims) = self.keys.verify(token) else {
            return RequestAuth::Rejected;
        };
        match self.store.touch(claims.jti, self.idle_ttl).await {
            Ok(Some(principal)) if principal.subject_id == claims.sub => {
                RequestAuth::Authenticated(Session {
                    jti: claims.jti,
                    principal,
                    expires_at: claims.exp,
                })
            }
            Ok(_) => RequestAuth::Rejected,
            Err(error) => {
                tracing::warn!(%error, "token store unavailable while authenticating");
                RequestAuth::StoreUnavailable
            }
        }
    }

    /// The session's principal as the store holds it now, or `None` once the token is dead
    /// (logged out, revoked, idle too long, past its `exp`). Renews nothing: for what holds a
    /// session open without using it (a subscription), so it cannot keep its token alive.
    pub async fn recheck(&self, session: &Session) -> Result<Option<Principal>, StoreError> {
        if Utc::now().timestamp() >= session.expires_at {
            return Ok(None);
        }
        let principal = self.store.peek(session.jti).await?;
        Ok(principal.filter(|principal| principal.subject_id == session.principal.subject_id))
    }

    /// Kills every live token of a user or service account. Returns how many were alive.
    pub async fn revoke_subject(&self, subject: Uuid) -> Result<u64, ApiError> {
        self.store
            .remove_subject(subject)
            .await
            .map_err(store_error)
    }

    /// Rewrites the principal carried by every live token of a subject. Returns how many.
    pub async fn update_subject(
        &self,
        subject: Uuid,
        update: &PrincipalUpdate<'_>,
    ) -> Result<u64, ApiError> {
        self.store
            .update_subject(subject, update)
            .await
            .map_err(store_error)
    }

    /// Kills one token of `subject` at once (logout).
    pub async fn revoke(&self, jti: Uuid, subject: Uuid) -> Result<bool, ApiError> {
        self.store.remove(jti, subject).await.map_err(store_error)
    }
}

pub fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::Unavailable(detail) => {
            tracing::warn!(%detail, "token store unavailable");
            ApiError::Unavailable {
                dependency: "token store",
            }
        }
        corrupt @ StoreError::Corrupt(_) => ApiError::internal(corrupt),
    }
}
