//! Which roles each user holds: reading them by user, and replacing a user's whole set.

use std::collections::HashMap;

use entity::{role, user_role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{db::grouped, error::ApiError};

/// The names of the roles each of `users` holds, sorted; users holding none are absent.
pub async fn names_by_user(
    db: &impl ConnectionTrait,
    users: &[Uuid],
) -> Result<HashMap<Uuid, Vec<String>>, ApiError> {
    let pairs: Vec<(Uuid, String)> = user_role::Entity::find()
        .select_only()
        .column(user_role::Column::UserId)
        .column(role::Column::Name)
        .inner_join(role::Entity)
        .filter(user_role::Column::UserId.is_in(users.iter().copied()))
        .order_by_asc(role::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(grouped(pairs))
}

/// The names of the roles one user holds, sorted.
pub async fn names_of(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<String>, ApiError> {
    Ok(names_by_user(db, &[user])
        .await?
        .remove(&user)
        .unwrap_or_default())
}

/// The ids of the roles one user holds.
pub async fn ids_of(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<Uuid>, ApiError> {
    Ok(user_role::Entity::find()
        .select_only()
        .column(user_role::Column::RoleId)
        .filter(user_role::Column::UserId.eq(user))
        .into_tuple()
        .all(db)
        .await?)
}

/// Makes `roles` the user's whole set of roles.
pub async fn replace(
    db: &impl ConnectionTrait,
    user: Uuid,
    roles: &[Uuid],
) -> Result<(), ApiError> {
    user_role::Entity::delete_many()
        .filter(user_role::Column::UserId.eq(user))
        .exec(db)
        .await?;
    for role in roles {
        user_role::ActiveModel {
            user_id: Set(user),
            role_id: Set(*role),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
