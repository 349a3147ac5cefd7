//! The audit log: appended in the transaction of the change it records (so a change rolled back
//! leaves no line), and read in (at, id) order.

use entity::audit_event::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    db::{
        audit::Audit,
        keyset::{self, CreationOrdered, Page, Position, Window},
        now,
    },
    error::ApiError,
};

/// One event to record. `by` is whoever was authenticated (none for a failed login).
pub struct Event<'a> {
    pub action: &'static str,
    pub by: Option<&'a Audit>,
    pub subject: Option<String>,
    pub detail: Option<Value>,
}

impl<'a> Event<'a> {
    pub fn new(action: &'static str, by: Option<&'a Audit>) -> Self {
        Self {
            action,
            by,
            subject: None,
            detail: None,
        }
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Appends the event on `db`: pass the change's own transaction.
pub async fn record(db: &impl ConnectionTrait, event: Event<'_>) -> Result<(), ApiError> {
    ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(now()),
        action: Set(event.action.to_owned()),
        actor_kind: Set(event.by.map(|by| by.kind.as_str().to_owned())),
        actor: Set(event.by.map(|by| by.name.clone())),
        subject: Set(event.subject),
        detail: Set(event.detail.map(|detail| detail.to_string())),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Each field whose value differs between two objects of the same fields, with its value before
/// and after: an update's detail shows what it changed and nothing else.
pub fn changed_fields(before: &Value, after: &Value) -> Value {
    let mut changed = serde_json::Map::new();
    for (field, was) in before.as_object().into_iter().flatten() {
        let now = &after[field];
        if was != now {
            changed.insert(field.clone(), json!({ "before": was, "after": now }));
        }
    }
    Value::Object(changed)
}

/// Which events to list; every part given must match exactly.
#[derive(Default)]
pub struct EventFilter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
}

impl CreationOrdered for Entity {
    fn created_at_column() -> Column {
        Column::At
    }

    fn id_column() -> Column {
        Column::Id
    }

    fn position(event: &Model) -> Position {
        Position {
            created_at: event.at,
            id: event.id,
        }
    }
}

/// One page of the events `filter` matches, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    window: Window,
) -> Result<Page<Model>, ApiError> {
    let condition = Condition::all()
        .add_option(
            filter
                .action
                .clone()
                .map(|action| Column::Action.eq(action)),
        )
        .add_option(filter.actor.clone().map(|actor| Column::Actor.eq(actor)))
        .add_option(
            filter
                .subject
                .clone()
                .map(|subject| Column::Subject.eq(subject)),
        );
    keyset::page(db, Entity::find().filter(condition), window).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_fields_that_changed_are_kept_with_both_values() {
        let before = json!({ "ip": "192.0.2.1", "remark": null, "roles": ["a"] });
        let after = json!({ "ip": "192.0.2.1", "remark": "moved", "roles": ["a", "b"] });
        assert_eq!(
            changed_fields(&before, &after),
            json!({
                "remark": { "before": null, "after": "moved" },
                "roles": { "before": ["a"], "after": ["a", "b"] },
            })
        );
        assert_eq!(changed_fields(&before, &before), json!({}));
    }
}
