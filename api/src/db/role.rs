//! Roles and the permissions they hold.

use entity::{role, role_permission};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::{db::now, error::ApiError};

/// The built-in role of the first user; it holds `*`.
pub const ADMIN_ROLE: &str = "admin";

/// Grants permissions to a role, creating the role when it does not exist. Already held ones are kept.
/// Returns the role's id.
pub async fn grant(
    db: &DatabaseConnection,
    role_name: &str,
    permissions: &[String],
) -> Result<Uuid, ApiError> {
    let txn = super::begin_write(db).await?;
    let role = match role::Entity::find()
        .filter(role::Column::Name.eq(role_name))
        .one(&txn)
        .await?
    {
        Some(role) => role,
        None => {
            role::ActiveModel {
                id: Set(Uuid::now_v7()),
                name: Set(role_name.to_owned()),
                created_at: Set(now()),
            }
            .insert(&txn)
            .await?
        }
    };
    let held: Vec<String> = role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::Permission)
        .filter(role_permission::Column::RoleId.eq(role.id))
        .into_tuple()
        .all(&txn)
        .await?;
    let mut missing: Vec<&String> = permissions.iter().filter(|p| !held.contains(p)).collect();
    missing.dedup();
    for permission in missing {
        role_permission::ActiveModel {
            role_id: Set(role.id),
            permission: Set(permission.clone()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(role.id)
}

/// Withdraws permissions from a role. Returns the role's id and how many of them it held.
pub async fn revoke(
    db: &DatabaseConnection,
    role_name: &str,
    permissions: &[String],
) -> Result<(Uuid, u64), ApiError> {
    let role = role::Entity::find()
        .filter(role::Column::Name.eq(role_name))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound { what: "role" })?;
    let result = role_permission::Entity::delete_many()
        .filter(role_permission::Column::RoleId.eq(role.id))
        .filter(role_permission::Column::Permission.is_in(permissions.iter().cloned()))
        .exec(db)
        .await?;
    Ok((role.id, result.rows_affected))
}
