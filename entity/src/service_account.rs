//! A non-human caller (a scheduled job, another service) that logs in with a client id and secret.

use sea_orm::entity::prelude::*;

use crate::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_account")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub client_id: String,
    /// An argon2id PHC string of the client secret; the secret itself is shown once and never stored.
    pub secret_hash: String,
    pub enabled: bool,
    pub created_at: Instant,
    pub updated_at: Instant,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::service_account_permission::Entity")]
    Permission,
}

impl Related<super::service_account_permission::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Permission.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
