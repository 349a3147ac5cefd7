//! Changing the blacklist: each change is written, enforced here, announced to the other instances
//! and published to subscribers, in that order, by one function per kind of change.

use entity::blacklist_entry::Model;
use uuid::Uuid;

use crate::{
    auth::session::store_error,
    blacklist::Change,
    db::{
        self,
        audit::Audit,
        blacklist::{EntryChanges, NewEntry},
    },
    error::ApiError,
    state::AppState,
};

pub async fn create(state: &AppState, new: NewEntry, by: &Audit) -> Result<Model, ApiError> {
    let entry = db::retrying(|| db::blacklist::create(&state.db, new.clone(), by)).await?;
    changed(state, Change::created(entry.clone())).await;
    Ok(entry)
}

pub async fn update(
    state: &AppState,
    id: Uuid,
    changes: EntryChanges,
    by: &Audit,
) -> Result<Model, ApiError> {
    let (previous_ip, entry) =
        db::retrying(|| db::blacklist::update(&state.db, id, changes.clone(), by)).await?;
    changed(state, Change::updated(previous_ip, entry.clone())).await;
    Ok(entry)
}

/// Deletes an entry and returns it as it was.
pub async fn delete(state: &AppState, id: Uuid) -> Result<Model, ApiError> {
    let removed = db::retrying(|| db::blacklist::delete(&state.db, id)).await?;
    changed(state, Change::deleted(removed.clone())).await;
    Ok(removed)
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
