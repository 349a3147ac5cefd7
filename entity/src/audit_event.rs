//! One line of the audit log: who did what to what, appended in the transaction of the change.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: crate::Instant,
    /// What happened, e.g. `login`, `login.failed`, `blacklist.update`, `permission.denied`.
    pub action: String,
    /// `USER` or `SERVICE`; none when nobody was authenticated (a failed login).
    pub actor_kind: Option<String>,
    /// The user's name or the service account's client id.
    pub actor: Option<String>,
    /// What the action was done to: an entry's id, an account's name.
    pub subject: Option<String>,
    /// A JSON object: before/after of changed fields, the client's address, the permission missed.
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
