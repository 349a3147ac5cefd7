//! Blacklist entries: create, read, update, delete, and keyset-paginated listing.

use chrono::{DateTime, Utc};
use entity::blacklist_entry::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{
    db::{
        audit::Audit,
        by_id::ById,
        conflict_or,
        data_scope::Reach,
        held::HeldConnections,
        keyset::{self, CreationOrdered, Page, Position, Window},
        like, now, time_range,
    },
    error::ApiError,
};

const NOT_FOUND: ApiError = ApiError::NotFound {
    what: "blacklist entry",
};

/// A checked create: `ip` is already canonical.
#[derive(Clone)]
pub struct NewEntry {
    pub ip: String,
    pub remark: Option<String>,
    pub bpm_status: Option<String>,
}

/// A checked update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Clone, Default)]
pub struct EntryChanges {
    pub ip: Option<String>,
    pub remark: Option<Option<String>>,
    pub bpm_status: Option<Option<String>>,
}

/// Instants may be any the `DateTime` scalar accepts: `time_range` compares them exactly.
#[derive(Default)]
pub struct EntryFilter {
    pub ip_contains: Option<String>,
    pub created_by: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
}

impl CreationOrdered for Entity {
    fn created_at_column() -> Column {
        Column::CreatedAt
    }

    fn id_column() -> Column {
        Column::Id
    }

    fn position(entry: &Model) -> Position {
        Position {
            created_at: entry.created_at,
            id: entry.id,
        }
    }
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, ApiError> {
    Ok(Entity::find_by_id(id).one(db).await?)
}

/// One entry by id within `reach`, for a read outside any transaction: the hottest query there
/// is, so its statement is built once (see `by_id`), and the reach is checked on the row read.
pub async fn find_one(
    held: &HeldConnections,
    id: Uuid,
    reach: &Reach,
) -> Result<Option<Model>, ApiError> {
    static BY_ID: ById<Entity> = ById::new();
    Ok(BY_ID
        .find(held, id)
        .await?
        .filter(|entry| reach.contains(entry.org_code.as_deref())))
}

/// The entry, locked until the transaction ends, or NOT_FOUND. The lock (`FOR UPDATE`; on SQLite
/// the write lock `begin_write` took) makes the address read here the one this transaction
/// replaces or deletes, even when another transaction changed the entry since this one began.
/// An entry out of `reach` is NOT_FOUND too: its existence is not the caller's to learn.
async fn find_for_update(
    db: &impl ConnectionTrait,
    id: Uuid,
    reach: &Reach,
) -> Result<Model, ApiError> {
    Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .filter(|entry| reach.contains(entry.org_code.as_deref()))
        .ok_or(NOT_FOUND)
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewEntry,
    by: &Audit,
) -> Result<Model, ApiError> {
    let ip = new.ip.clone();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        ip: Set(new.ip),
        remark: Set(new.remark),
        bpm_status: Set(new.bpm_status),
        created_by: Set(by.actor()),
        created_by_name: Set(by.actor_name.clone()),
        created_at: Set(now()),
        updated_by: Set(None),
        updated_by_name: Set(None),
        updated_at: Set(None),
        org_code: Set(by.org_code.clone()),
        company_code: Set(by.company_code.clone()),
    }
    .insert(db)
    .await
    .map_err(|error| conflict_or(error, || duplicate_ip(&ip)))
}

/// Applies changes inside the caller's write transaction (see `begin_write`), the entry locked
/// first; one out of `reach` is NOT_FOUND. Returns the entry as it was until this update and as
/// it is now.
pub async fn update(
    txn: &impl ConnectionTrait,
    id: Uuid,
    reach: &Reach,
    changes: EntryChanges,
    by: &Audit,
) -> Result<(Model, Model), ApiError> {
    let entry = find_for_update(txn, id, reach).await?;
    let previous = entry.clone();
    let mut active: ActiveModel = entry.into();
    let new_ip = changes.ip.clone();
    if let Some(ip) = changes.ip {
        active.ip = Set(ip);
    }
    if let Some(remark) = changes.remark {
        active.remark = Set(remark);
    }
    if let Some(bpm_status) = changes.bpm_status {
        active.bpm_status = Set(bpm_status);
    }
    active.updated_by = Set(Some(by.actor()));
    active.updated_by_name = Set(by.actor_name.clone());
    active.updated_at = Set(Some(now()));
    let updated = active.update(txn).await.map_err(|error| match error {
        DbErr::RecordNotUpdated => NOT_FOUND,
        error => conflict_or(error, || {
            duplicate_ip(new_ip.as_deref().unwrap_or_default())
        }),
    })?;
    Ok((previous, updated))
}

/// Deletes an entry inside the caller's write transaction and returns it as it was; NOT_FOUND
/// when there was none within `reach`.
pub async fn delete(
    txn: &impl ConnectionTrait,
    id: Uuid,
    reach: &Reach,
) -> Result<Model, ApiError> {
    let entry = find_for_update(txn, id, reach).await?;
    let result = Entity::delete_by_id(id).exec(txn).await?;
    if result.rows_affected == 0 {
        return Err(NOT_FOUND);
    }
    Ok(entry)
}

/// One page of the entries within `reach` that `filter` matches, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    reach: &Reach,
    filter: &EntryFilter,
    window: Window,
) -> Result<Page<Model>, ApiError> {
    let condition = filter_condition(filter).add(reach.condition(Column::OrgCode));
    keyset::page(db, Entity::find().filter(condition), window).await
}

fn filter_condition(filter: &EntryFilter) -> Condition {
    Condition::all()
        .add_option(
            filter
                .ip_contains
                .as_deref()
                .map(|part| like::contains(Column::Ip, &part.to_lowercase())),
        )
        .add_option(filter.created_by.clone().map(|by| Column::CreatedBy.eq(by)))
        .add_option(
            filter
                .created_after
                .map(|t| time_range::after(Column::CreatedAt, t)),
        )
        .add_option(
            filter
                .created_before
                .map(|t| time_range::before(Column::CreatedAt, t)),
        )
}

/// Which of `ips` some entry holds now, as committed.
pub async fn held(db: &impl ConnectionTrait, ips: &[&str]) -> Result<Vec<String>, ApiError> {
    Ok(Entity::find()
        .select_only()
        .column(Column::Ip)
        .filter(Column::Ip.is_in(ips.iter().copied()))
        .into_tuple()
        .all(db)
        .await?)
}

fn duplicate_ip(ip: &str) -> String {
    format!("`{ip}` is already on the blacklist")
}
