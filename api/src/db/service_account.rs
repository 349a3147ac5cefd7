//! Service accounts: the credentials and permissions of jobs and other services.

use entity::{service_account, service_account_permission};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{
    db::{conflict_or, grouped, now},
    error::ApiError,
};

pub async fn find_by_client_id(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<service_account::Model>, ApiError> {
    Ok(service_account::Entity::find()
        .filter(service_account::Column::ClientId.eq(client_id))
        .one(db)
        .await?)
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<service_account::Model>, ApiError> {
    Ok(service_account::Entity::find_by_id(id).one(db).await?)
}

pub async fn permissions(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<String>, ApiError> {
    Ok(service_account_permission::Entity::find()
        .select_only()
        .column(service_account_permission::Column::Permission)
        .filter(service_account_permission::Column::ServiceAccountId.eq(id))
        .order_by_asc(service_account_permission::Column::Permission)
        .into_tuple()
        .all(db)
        .await?)
}

/// Creates an account with its permissions, on the caller's transaction so that all of it, and
/// whatever the caller writes beside it, is kept or none. A taken client id is a CONFLICT.
pub async fn create(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret_hash: String,
    permissions: &[String],
) -> Result<service_account::Model, ApiError> {
    let now = now();
    let account = service_account::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id.to_owned()),
        secret_hash: Set(secret_hash),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|error| {
        conflict_or(error, || {
            format!("service account `{client_id}` already exists")
        })
    })?;
    let mut permissions = permissions.to_vec();
    permissions.sort();
    permissions.dedup();
    for permission in permissions {
        service_account_permission::ActiveModel {
            service_account_id: Set(account.id),
            permission: Set(permission),
        }
        .insert(db)
        .await?;
    }
    Ok(account)
}

/// Replaces the secret hash (rotation). NOT_FOUND when there is no such account.
pub async fn set_secret(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret_hash: String,
) -> Result<Uuid, ApiError> {
    let before = update(db, client_id, |account| {
        account.secret_hash = Set(secret_hash)
    })
    .await?;
    Ok(before.id)
}

/// Disables the account so it can no longer log in; returns it as it was.
pub async fn disable(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<service_account::Model, ApiError> {
    update(db, client_id, |account| account.enabled = Set(false)).await
}

/// Changes the account and returns it as it was.
async fn update(
    db: &impl ConnectionTrait,
    client_id: &str,
    change: impl FnOnce(&mut service_account::ActiveModel),
) -> Result<service_account::Model, ApiError> {
    let account = find_by_client_id(db, client_id)
        .await?
        .ok_or(ApiError::NotFound {
            what: "service account",
        })?;
    let mut active: service_account::ActiveModel = account.clone().into();
    change(&mut active);
    active.updated_at = Set(now());
    active.update(db).await?;
    Ok(account)
}

/// Every service account with its permissions, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
) -> Result<Vec<(service_account::Model, Vec<String>)>, ApiError> {
    let accounts = service_account::Entity::find()
        .order_by_asc(service_account::Column::CreatedAt)
        .order_by_asc(service_account::Column::Id)
        .all(db)
        .await?;
    let pairs: Vec<(Uuid, String)> = service_account_permission::Entity::find()
        .select_only()
        .column(service_account_permission::Column::ServiceAccountId)
        .column(service_account_permission::Column::Permission)
        .order_by_asc(service_account_permission::Column::Permission)
        .into_tuple()
        .all(db)
        .await?;
    let mut held = grouped(pairs);
    Ok(accounts
        .into_iter()
        .map(|account| {
            let permissions = held.remove(&account.id).unwrap_or_default();
            (account, permissions)
        })
        .collect())
}
