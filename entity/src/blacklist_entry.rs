//! A blocked IP address or CIDR block, with JEECG-style audit fields.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Instant;

// Serialisable so that a change can travel to the other instances (the blacklist change feed).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "blacklist_entry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Canonical text form (see `api::ip`); unique, so the database settles concurrent duplicates.
    #[sea_orm(unique)]
    pub ip: String,
    pub remark: Option<String>,
    pub bpm_status: Option<String>,
    pub created_by: String,
    pub created_by_name: Option<String>,
    pub created_at: Instant,
    pub updated_by: Option<String>,
    pub updated_by_name: Option<String>,
    pub updated_at: Option<Instant>,
    pub org_code: Option<String>,
    pub company_code: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
