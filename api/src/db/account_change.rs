//! The account-change log: written by whoever changes an account, read by servers whose token
//! store lives in their own process.

use chrono::Duration;
use entity::{Instant, account_change};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{db::now, error::ApiError};

/// What live tokens must do about a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Every token of the subject dies (disabled, new password).
    Revoke,
    /// The subject's tokens take its current permissions, their reach, organisation and display
    /// name (a role or the user changed).
    Permissions,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::Permissions => "permissions",
        }
    }

    fn parse(kind: &str) -> Self {
        // Anything unknown is treated as the stronger change.
        if kind == "permissions" {
            Self::Permissions
        } else {
            Self::Revoke
        }
    }
}

/// One logged change.
pub struct Change {
    pub id: i32,
    pub subject: Uuid,
    pub kind: ChangeKind,
}

/// How long a change stays in the log: far longer than any server takes to see it.
const KEPT_FOR: Duration = Duration::hours(1);
/// Most changes one poll reads.
const PAGE: u64 = 500;

pub async fn record(
    db: &impl ConnectionTrait,
    subject: Uuid,
    kind: ChangeKind,
) -> Result<(), ApiError> {
    account_change::ActiveModel {
        subject_id: Set(subject),
        kind: Set(kind.as_str().to_owned()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The newest change's id (0 for none): a starting server has nothing older to apply.
pub async fn latest(db: &impl ConnectionTrait) -> Result<i32, ApiError> {
    let newest: Option<i32> = account_change::Entity::find()
        .select_only()
        .column(account_change::Column::Id)
        .order_by_desc(account_change::Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.unwrap_or(0))
}

/// Changes after `after`, oldest first.
pub async fn since(db: &impl ConnectionTrait, after: i32) -> Result<Vec<Change>, ApiError> {
    let rows = account_change::Entity::find()
        .filter(account_change::Column::Id.gt(after))
        .order_by_asc(account_change::Column::Id)
        .limit(PAGE)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Change {
            id: row.id,
            subject: row.subject_id,
            kind: ChangeKind::parse(&row.kind),
        })
        .collect())
}

/// Forgets changes every server has long seen.
pub async fn prune(db: &impl ConnectionTrait) -> Result<(), ApiError> {
    account_change::Entity::delete_many()
        .filter(
            account_change::Column::CreatedAt
                .lt(Instant::from_utc(now().to_utc() - KEPT_FOR).unwrap_or(Instant::MIN)),
        )
        .exec(db)
        .await?;
    Ok(())
}
