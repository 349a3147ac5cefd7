//! Blacklist GraphQL types, and turning raw input into checked `db::blacklist` values.

use std::sync::Arc;

use async_graphql::{ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::{Instant, blacklist_entry::Model};

use crate::{
    blacklist::feed::{ChangeEvent, ChangeKind},
    db::blacklist::{EntryChanges, EntryFilter, NewEntry},
    error::ApiError,
    graphql::types::input::{clearable, optional_text},
    ip,
};

pub const MAX_REMARK_CHARS: usize = 500;
pub const MAX_BPM_STATUS_CHARS: usize = 32;
const MAX_FILTER_CHARS: usize = 64;
/// The width of the audit columns: `service:` and a 64-character client id fit.
const MAX_ACTOR_CHARS: usize = 128;

pub struct BlacklistEntry(pub Model);

#[Object]
impl BlacklistEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn ip(&self) -> &str {
        &self.0.ip
    }
    async fn remark(&self) -> Option<&str> {
        self.0.remark.as_deref()
    }
    async fn bpm_status(&self) -> Option<&str> {
        self.0.bpm_status.as_deref()
    }
    /// Who created the entry: a username, or `service:<clientId>` for a service account.
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_by_name(&self) -> Option<&str> {
        self.0.created_by_name.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.to_utc()
    }
    /// Who last updated the entry, recorded as `createdBy` is.
    async fn updated_by(&self) -> Option<&str> {
        self.0.updated_by.as_deref()
    }
    async fn updated_by_name(&self) -> Option<&str> {
        self.0.updated_by_name.as_deref()
    }
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.updated_at.map(Instant::to_utc)
    }
    async fn org_code(&self) -> Option<&str> {
        self.0.org_code.as_deref()
    }
    async fn company_code(&self) -> Option<&str> {
        self.0.company_code.as_deref()
    }
}

/// One committed change of the blacklist.
pub struct BlacklistChange(pub Arc<ChangeEvent>);

#[Object]
impl BlacklistChange {
    async fn kind(&self) -> ChangeKind {
        self.0.kind
    }
    /// The entry as the change left it; for a deletion, as it was.
    async fn entry(&self) -> BlacklistEntry {
        BlacklistEntry(self.0.entry.clone())
    }
}

#[derive(InputObject)]
pub struct CreateBlacklistEntryInput {
    /// An IPv4 or IPv6 address, or a CIDR block without host bits (`10.0.0.0/8`).
    pub ip: String,
    pub remark: Option<String>,
    pub bpm_status: Option<String>,
}

/// Omitted fields stay as they are; `null` clears `remark` or `bpmStatus`.
#[derive(InputObject)]
pub struct UpdateBlacklistEntryInput {
    // Not `Option`: that would read `null` as "unchanged", and an entry cannot lose its address.
    pub ip: MaybeUndefined<String>,
    pub remark: MaybeUndefined<String>,
    pub bpm_status: MaybeUndefined<String>,
}

#[derive(InputObject, Default)]
pub struct BlacklistFilter {
    /// Part of the canonical address text, e.g. `10.0.` or `db8`.
    pub ip_contains: Option<String>,
    /// Exact `createdBy`: a username, or `service:<clientId>` for a service account.
    pub created_by: Option<String>,
    /// Created strictly after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Created strictly before this instant.
    pub created_before: Option<DateTime<Utc>>,
}

impl CreateBlacklistEntryInput {
    pub fn parse(self) -> Result<NewEntry, ApiError> {
        Ok(NewEntry {
            ip: parse_ip(&self.ip)?,
            remark: optional_text("remark", self.remark, MAX_REMARK_CHARS)?,
            bpm_status: optional_text("bpmStatus", self.bpm_status, MAX_BPM_STATUS_CHARS)?,
        })
    }
}

impl UpdateBlacklistEntryInput {
    pub fn parse(self) -> Result<EntryChanges, ApiError> {
        Ok(EntryChanges {
            ip: match self.ip {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => {
                    return Err(ApiError::bad_input(
                        "ip",
                        "must not be null; omit it to keep the address",
                    ));
                }
                MaybeUndefined::Value(ip) => Some(parse_ip(&ip)?),
            },
            remark: clearable("remark", self.remark, MAX_REMARK_CHARS)?,
            bpm_status: clearable("bpmStatus", self.bpm_status, MAX_BPM_STATUS_CHARS)?,
        })
    }
}

impl BlacklistFilter {
    pub fn parse(self) -> Result<EntryFilter, ApiError> {
        Ok(EntryFilter {
            ip_contains: optional_text("ipContains", self.ip_contains, MAX_FILTER_CHARS)?,
            created_by: optional_text("createdBy", self.created_by, MAX_ACTOR_CHARS)?,
            created_after: self.created_after,
            created_before: self.created_before,
        })
    }
}

/// One address (not a block), as `isBlocked` takes it.
pub fn parse_address(raw: &str) -> Result<std::net::IpAddr, ApiError> {
    raw.trim()
        .parse::<std::net::IpAddr>()
        .map(|addr| addr.to_canonical())
        .map_err(|_| ApiError::bad_input("ip", format!("`{raw}` is not an IPv4 or IPv6 address")))
}

fn parse_ip(raw: &str) -> Result<String, ApiError> {
    ip::canonicalize(raw).map_err(|reason| ApiError::bad_input("ip", reason))
}
