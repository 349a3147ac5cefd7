//! Changing the blacklist: each change is written, enforced here, announced to the other instances
//! and published to subscribers, in that order, by one function per kind of change.

use entity::blacklist_entry::Model;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    auth::session::store_error,
    blacklist::Change,
    db::{
        self,
        audit::Audit,
        audit_log::{self, Event, changed_fields},
        blacklist::{EntryChanges, NewEntry},
        data_scope::Reach,
    },
    error::ApiError,
    state::AppState,
};

pub async fn create(state: &AppState, new: NewEntry, by: &Audit) -> Result<Model, ApiError> {
    let entry = db::retrying(|| async {
        let txn = db::begin_write(&state.db).await?;
        let entry = db::blacklist::create(&txn, new.clone(), by).await?;
        let event = Event::new("blacklist.create", Some(by))
            .subject(entry.id.to_string())
            .detail(json!({ "after": recorded_fields(&entry) }));
        audit_log::record(&txn, event).await?;
        txn.commit().await?;
        Ok(entry)
    })
    .await?;
    changed(state, Change::created(entry.clone())).await;
    Ok(entry)
}

/// Changes an entry within `reach`; one out of it is NOT_FOUND.
pub async fn update(
    state: &AppState,
    id: Uuid,
    reach: &Reach,
    changes: EntryChanges,
    by: &Audit,
) -> Result<Model, ApiError> {
    let (previous, entry) = db::retrying(|| async {
        let txn = db::begin_write(&state.db).await?;
        let (previous, entry) = db::blacklist::update(&txn, id, reach, changes.clone(), by).await?;
        let event = Event::new("blacklist.update", Some(by))
            .subject(id.to_string())
            .detail(changed_fields(
                &recorded_fields(&previous),
                &recorded_fields(&entry),
            ));
        audit_log::record(&txn, event).await?;
        txn.commit().await?;
        Ok((previous, entry))
    })
    .await?;
    changed(state, Change::updated(previous.ip, entry.clone())).await;
    Ok(entry)
}

/// Deletes an entry within `reach` and returns it as it was; one out of it is NOT_FOUND.
pub async fn delete(
    state: &AppState,
    id: Uuid,
    reach: &Reach,
    by: &Audit,
) -> Result<Model, ApiError> {
    let removed = db::retrying(|| async {
        let txn = db::begin_write(&state.db).await?;
        let removed = db::blacklist::delete(&txn, id, reach).await?;
        let event = Event::new("blacklist.delete", Some(by))
            .subject(id.to_string())
            .detail(json!({ "before": recorded_fields(&removed) }));
        audit_log::record(&txn, event).await?;
        txn.commit().await?;
        Ok(removed)
    })
    .await?;
    changed(state, Change::deleted(removed.clone())).await;
    Ok(removed)
}

/// The fields a person changes, as the audit log shows an entry.
fn recorded_fields(entry: &Model) -> Value {
    json!({ "ip": entry.ip, "remark": entry.remark, "bpmStatus": entry.bpm_status })
}

/// After this instance committed a blacklist change: enforce it here at once, then tell the others
/// and the subscribers.
/// The change is already committed, so a failure to announce it is logged, not returned: the
/// others still pick it up at their next periodic full reload.
async fn changed(state: &AppState, change: Change) {
    let state = state.clone();
    // A task of its own: a request cancelled after its commit (timeout, client gone) must still
    // bring the matcher in line and announce the change.
    let task = tokio::spawn(async move {
        state.blacklist.follow(&state.db, &change).await;
        announce(&state).await;
        state.blacklist_feed.publish(change.into_event()).await;
    });
    if let Err(error) = task.await {
        tracing::error!(%error, "applying a blacklist change failed");
    }
}

async fn announce(state: &AppState) {
    match state.changes.bump_blacklist_version().await {
        Ok(version) => state.blacklist.announced(version),
        Err(error) => {
            let error = store_error(error);
            tracing::warn!(%error, "could not announce a blacklist change to other instances");
        }
    }
}
