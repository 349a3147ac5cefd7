//! Users: lookup for login, creation, listing, changes, and the permissions their roles grant.

use entity::{role, role_permission, user, user_role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, Set, sea_query::Query,
};
use uuid::Uuid;

use crate::{
    db::{
        conflict_or,
        data_scope::{Grants, Reach},
        keyset::{self, CreationOrdered, Page, Position, Window},
        like, now,
    },
    error::ApiError,
};

const NOT_FOUND: ApiError = ApiError::NotFound { what: "user" };

pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: String,
    pub display_name: Option<&'a str>,
    pub org_code: Option<&'a str>,
    pub company_code: Option<&'a str>,
    pub roles: &'a [String],
}

/// Which users a listing shows; every field set must match.
#[derive(Default)]
pub struct UserFilter {
    /// Part of the username or of the display name, in any case.
    pub name_contains: Option<String>,
    pub org_code: Option<String>,
    pub enabled: Option<bool>,
}

/// A checked update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<Option<String>>,
    pub org_code: Option<Option<String>>,
    pub enabled: Option<bool>,
}

impl CreationOrdered for user::Entity {
    fn created_at_column() -> user::Column {
        user::Column::CreatedAt
    }

    fn id_column() -> user::Column {
        user::Column::Id
    }

    fn position(user: &user::Model) -> Position {
        Position {
            created_at: user.created_at,
            id: user.id,
        }
    }
}

/// One page of the users within `reach` that `filter` matches, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    reach: &Reach,
    filter: &UserFilter,
    window: Window,
) -> Result<Page<user::Model>, ApiError> {
    let condition = reach
        .condition(user::Column::OrgCode)
        .add_option(filter.name_contains.as_deref().map(|part| {
            Condition::any()
                .add(like::contains(user::Column::Username, &part.to_lowercase()))
                .add(like::contains_ignoring_case(
                    user::Column::DisplayName,
                    part,
                ))
        }))
        .add_option(
            filter
                .org_code
                .clone()
                .map(|org| user::Column::OrgCode.eq(org)),
        )
        .add_option(
            filter
                .enabled
                .map(|enabled| user::Column::Enabled.eq(enabled)),
        );
    keyset::page(db, user::Entity::find().filter(condition), window).await
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

/// Every permission the user's roles grant and how far each reaches.
pub async fn grants(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Grants, ApiError> {
    let roles_of_user = Query::select()
        .column(user_role::Column::RoleId)
        .from(user_role::Entity)
        .and_where(user_role::Column::UserId.eq(user_id))
        .to_owned();
    super::role::grants_where(
        db,
        role_permission::Column::RoleId.in_subquery(roles_of_user),
    )
    .await
}

/// Creates a user holding existing roles, on the caller's transaction so that all of it, and
/// whatever the caller writes beside it, is kept or none. A taken username is a CONFLICT.
pub async fn create(db: &impl ConnectionTrait, new: NewUser<'_>) -> Result<user::Model, ApiError> {
    let mut role_ids = Vec::with_capacity(new.roles.len());
    for name in new.roles {
        let found = role::Entity::find()
            .filter(role::Column::Name.eq(name.as_str()))
            .one(db)
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
    .insert(db)
    .await
    .map_err(|error| conflict_or(error, || format!("user `{}` already exists", new.username)))?;
    for role_id in role_ids {
        user_role::ActiveModel {
            user_id: Set(user.id),
            role_id: Set(role_id),
        }
        .insert(db)
        .await?;
    }
    Ok(user)
}

/// Enables or disables a user; returns the user before and after. NOT_FOUND when there is no
/// such user.
pub async fn set_enabled(
    db: &impl ConnectionTrait,
    username: &str,
    enabled: bool,
) -> Result<(user::Model, user::Model), ApiError> {
    let user = find_by_username(db, username).await?.ok_or(NOT_FOUND)?;
    let after = update(db, user.clone(), |user| user.enabled = Set(enabled)).await?;
    Ok((user, after))
}

/// Replaces a user's password hash. NOT_FOUND when there is no such user.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    username: &str,
    password_hash: String,
) -> Result<Uuid, ApiError> {
    let user = find_by_username(db, username).await?.ok_or(NOT_FOUND)?;
    Ok(
        update(db, user, |user| user.password_hash = Set(password_hash))
            .await?
            .id,
    )
}

/// Replaces the password hash of `user`, as the caller read it in this transaction.
pub async fn set_password_hash_of(
    db: &impl ConnectionTrait,
    user: user::Model,
    password_hash: String,
) -> Result<user::Model, ApiError> {
    update(db, user, |user| user.password_hash = Set(password_hash)).await
}

/// Applies checked changes to `user`, as the caller read it in this transaction; returns the
/// user before and after.
pub async fn change(
    db: &impl ConnectionTrait,
    user: user::Model,
    changes: UserChanges,
) -> Result<(user::Model, user::Model), ApiError> {
    let after = update(db, user.clone(), |user| {
        if let Some(display_name) = changes.display_name {
            user.display_name = Set(display_name);
        }
        if let Some(org_code) = changes.org_code {
            user.org_code = Set(org_code);
        }
        if let Some(enabled) = changes.enabled {
            user.enabled = Set(enabled);
        }
    })
    .await?;
    Ok((user, after))
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
    user: user::Model,
    change: impl FnOnce(&mut user::ActiveModel),
) -> Result<user::Model, ApiError> {
    let mut active: user::ActiveModel = user.into();
    change(&mut active);
    active.updated_at = Set(now());
    Ok(active.update(db).await?)
}
