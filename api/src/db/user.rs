//! Users: lookup for login, creation, and the permissions their roles grant.

use entity::{role, role_permission, user, user_role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Query,
};
use uuid::Uuid;

use crate::{
    db::{conflict_or, now},
    error::ApiError,
};

pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: String,
    pub display_name: Option<&'a str>,
    pub org_code: Option<&'a str>,
    pub company_code: Option<&'a str>,
    pub roles: &'a [String],
}

pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<user::Model>, ApiError> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?)
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<user::Model>, ApiError> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, ApiError> {
    Ok(user::Entity::find().count(db).await?)
}

/// Every permission the user's roles grant, sorted and without repeats.
pub async fn permissions(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<String>, ApiError> {
    let roles_of_user = Query::select()
        .column(user_role::Column::RoleId)
        .from(user_role::Entity)
        .and_where(user_role::Column::UserId.eq(user_id))
        .to_owned();
    Ok(role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::Permission)
        .distinct()
        .filter(role_permission::Column::RoleId.in_subquery(roles_of_user))
        .order_by_asc(role_permission::Column::Permission)
        .into_tuple()
        .all(db)
        .await?)
}

/// Creates a user holding existing roles, all or nothing. A taken username is a CONFLICT.
pub async fn create(db: &DatabaseConnection, new: NewUser<'_>) -> Result<user::Model, ApiError> {
    let txn = super::begin_write(db).await?;
    let mut role_ids = Vec::with_capacity(new.roles.len());
    for name in new.roles {
        let found = role::Entity::find()
            .filter(role::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        let role = found.ok_or_else(|| {
            ApiError::bad_input("role", format!("role `{name}` does not exist; create it with `api role grant {name} <permission>`"))
        })?;
        role_ids.push(role.id);
    }
    let now = now();
    let user = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(new.username.to_owned()),
        password_hash: Set(new.password_hash),
        display_name: Set(new.display_name.map(str::to_owned)),
        org_code: Set(new.org_code.map(str::to_owned)),
        company_code: Set(new.company_code.map(str::to_owned)),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|error| conflict_or(error, || format!("user `{}` already exists", new.username)))?;
    for role_id in role_ids {
        user_role::ActiveModel {
            user_id: Set(user.id),
            role_id: Set(role_id),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(user)
}

/// Enables or disables a user. NOT_FOUND when there is no such user.
pub async fn set_enabled(
    db: &impl ConnectionTrait,
    username: &str,
    enabled: bool,
) -> Result<Uuid, ApiError> {
    update(db, username, |user| user.enabled = Set(enabled)).await
}

/// Replaces a user's password hash. NOT_FOUND when there is no such user.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    username: &str,
    password_hash: String,
) -> Result<Uuid, ApiError> {
    update(db, username, |user| user.password_hash = Set(password_hash)).await
}

/// The ids of every user holding the role.
pub async fn holders_of_role(
    db: &impl ConnectionTrait,
    role_id: Uuid,
) -> Result<Vec<Uuid>, ApiError> {
    Ok(user_role::Entity::find()
        .select_only()
        .column(user_role::Column::UserId)
        .filter(user_role::Column::RoleId.eq(role_id))
        .into_tuple()
        .all(db)
        .await?)
}

async fn update(
    db: &impl ConnectionTrait,
    username: &str,
    change: impl FnOnce(&mut user::ActiveModel),
) -> Result<Uuid, ApiError> {
    let user = find_by_username(db, username)
        .await?
        .ok_or(ApiError::NotFound { what: "user" })?;
    let id = user.id;
    let mut active: user::ActiveModel = user.into();
    change(&mut active);
    active.updated_at = Set(now());
    active.update(db).await?;
    Ok(id)
}
