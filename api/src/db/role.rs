//! Roles and the permissions they hold.

use entity::{role, role_permission, user_role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::SimpleExpr,
};
use uuid::Uuid;

use crate::{
    db::{
        conflict_or,
        data_scope::{DataScope, Grants},
        grouped, now,
    },
    error::ApiError,
};

const NOT_FOUND: ApiError = ApiError::NotFound { what: "role" };

/// A role and every permission it holds, sorted.
pub struct RoleGrants {
    pub role: role::Model,
    pub permissions: Vec<String>,
}

/// Every role with its permissions, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<RoleGrants>, ApiError> {
    let roles = role::Entity::find()
        .order_by_asc(role::Column::Name)
        .all(db)
        .await?;
    let pairs: Vec<(Uuid, String)> = role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::RoleId)
        .column(role_permission::Column::Permission)
        .order_by_asc(role_permission::Column::Permission)
        .into_tuple()
        .all(db)
        .await?;
    let mut held = grouped(pairs);
    Ok(roles
        .into_iter()
        .map(|role| RoleGrants {
            permissions: held.remove(&role.id).unwrap_or_default(),
            role,
        })
        .collect())
}

/// The role called `name`, or NOT_FOUND.
pub async fn find(db: &impl ConnectionTrait, name: &str) -> Result<role::Model, ApiError> {
    role::Entity::find()
        .filter(role::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or(NOT_FOUND)
}

/// The role called `name` with its permissions, or NOT_FOUND.
pub async fn find_with_permissions(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<RoleGrants, ApiError> {
    let role = find(db, name).await?;
    let permissions = permissions_of(db, &[role.id]).await?;
    Ok(RoleGrants { role, permissions })
}

/// The ids of the roles called `names`, or BAD_USER_INPUT naming the first that does not exist.
pub async fn ids_named(db: &impl ConnectionTrait, names: &[String]) -> Result<Vec<Uuid>, ApiError> {
    let found: Vec<(Uuid, String)> = role::Entity::find()
        .select_only()
        .column(role::Column::Id)
        .column(role::Column::Name)
        .filter(role::Column::Name.is_in(names.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?;
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        let (id, _) = found
            .iter()
            .find(|(_, found)| found == name)
            .ok_or_else(|| ApiError::bad_input("roles", format!("role `{name}` does not exist")))?;
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
    Ok(ids)
}

/// Every permission the roles hold and how far each reaches.
pub async fn grants_of(db: &impl ConnectionTrait, roles: &[Uuid]) -> Result<Grants, ApiError> {
    grants_where(
        db,
        role_permission::Column::RoleId.is_in(roles.iter().copied()),
    )
    .await
}

/// The permissions of the roles `roles` selects (a condition on `role_permission.role_id`).
pub(super) async fn grants_where(
    db: &impl ConnectionTrait,
    roles: SimpleExpr,
) -> Result<Grants, ApiError> {
    let pairs: Vec<(String, String)> = role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::Permission)
        .column(role::Column::DataScope)
        .inner_join(role::Entity)
        .filter(roles)
        .into_tuple()
        .all(db)
        .await?;
    Ok(Grants::from_pairs(pairs.into_iter().map(
        |(permission, scope)| (permission, DataScope::parse(&scope)),
    )))
}

/// Every permission the roles hold, sorted and without repeats.
pub async fn permissions_of(
    db: &impl ConnectionTrait,
    roles: &[Uuid],
) -> Result<Vec<String>, ApiError> {
    Ok(role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::Permission)
        .distinct()
        .filter(role_permission::Column::RoleId.is_in(roles.iter().copied()))
        .order_by_asc(role_permission::Column::Permission)
        .into_tuple()
        .all(db)
        .await?)
}

/// Creates a role holding exactly `permissions`, reaching as far as `scope`. A taken name is a
/// CONFLICT.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    permissions: &[String],
    scope: DataScope,
) -> Result<role::Model, ApiError> {
    let role = role::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_owned()),
        data_scope: Set(scope.as_str().to_owned()),
        created_at: Set(now()),
    }
    .insert(db)
    .await
    .map_err(|error| conflict_or(error, || format!("role `{name}` already exists")))?;
    set_permissions(db, role.id, permissions).await?;
    Ok(role)
}

/// Makes `permissions` the role's whole set.
pub async fn set_permissions(
    db: &impl ConnectionTrait,
    role: Uuid,
    permissions: &[String],
) -> Result<(), ApiError> {
    role_permission::Entity::delete_many()
        .filter(role_permission::Column::RoleId.eq(role))
        .exec(db)
        .await?;
    let mut permissions = permissions.to_vec();
    permissions.sort();
    permissions.dedup();
    for permission in permissions {
        role_permission::ActiveModel {
            role_id: Set(role),
            permission: Set(permission),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Changes how far the role's permissions reach.
pub async fn set_data_scope(
    db: &impl ConnectionTrait,
    role: role::Model,
    scope: DataScope,
) -> Result<role::Model, ApiError> {
    let mut active: role::ActiveModel = role.into();
    active.data_scope = Set(scope.as_str().to_owned());
    Ok(active.update(db).await?)
}

/// Deletes a role, its permissions and every user's hold on it.
pub async fn delete(db: &impl ConnectionTrait, role: Uuid) -> Result<(), ApiError> {
    // Explicitly rather than by ON DELETE CASCADE, which SQLite honours only when told to.
    role_permission::Entity::delete_many()
        .filter(role_permission::Column::RoleId.eq(role))
        .exec(db)
        .await?;
    user_role::Entity::delete_many()
        .filter(user_role::Column::RoleId.eq(role))
        .exec(db)
        .await?;
    role::Entity::delete_by_id(role).exec(db).await?;
    Ok(())
}

/// The built-in role of the first user; it holds `*`.
pub const ADMIN_ROLE: &str = "admin";

/// Grants permissions to a role, creating the role when it does not exist. Already held ones are kept.
/// Runs on the caller's transaction. Returns the role's id.
pub async fn grant(
    db: &impl ConnectionTrait,
    role_name: &str,
    permissions: &[String],
) -> Result<Uuid, ApiError> {
    let role = match role::Entity::find()
        .filter(role::Column::Name.eq(role_name))
        .one(db)
        .await?
    {
        Some(role) => role,
        None => {
            role::ActiveModel {
                id: Set(Uuid::now_v7()),
                name: Set(role_name.to_owned()),
                data_scope: Set(DataScope::All.as_str().to_owned()),
                created_at: Set(now()),
            }
            .insert(db)
            .await?
        }
    };
    let held: Vec<String> = role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::Permission)
        .filter(role_permission::Column::RoleId.eq(role.id))
        .into_tuple()
        .all(db)
        .await?;
    let mut missing: Vec<&String> = permissions.iter().filter(|p| !held.contains(p)).collect();
    missing.dedup();
    for permission in missing {
        role_permission::ActiveModel {
            role_id: Set(role.id),
            permission: Set(permission.clone()),
        }
        .insert(db)
        .await?;
    }
    Ok(role.id)
}

/// Withdraws permissions from a role. Returns the role's id and how many of them it held.
pub async fn revoke(
    db: &impl ConnectionTrait,
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
