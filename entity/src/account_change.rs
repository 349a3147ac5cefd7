//! An account change that live tokens must follow, for servers that poll for it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub subject_id: Uuid,
    /// `revoke` (every token dies) or `permissions` (tokens take the subject's current permissions).
    pub kind: String,
    pub created_at: crate::Instant,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
