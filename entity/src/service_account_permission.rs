//! A permission string granted directly to a service account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_account_permission")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_account_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub permission: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::service_account::Entity",
        from = "Column::ServiceAccountId",
        to = "super::service_account::Column::Id",
        on_delete = "Cascade"
    )]
    ServiceAccount,
}

impl Related<super::service_account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ServiceAccount.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
