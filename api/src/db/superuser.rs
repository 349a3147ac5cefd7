//! Somebody must keep `*`: a change that would leave no enabled user holding it (through any role)
//! over every organisation (see `data_scope`) is refused, because nobody could then grant
//! anything again short of editing the database.
//!
//! The check reads what concurrent changes write, so it runs inside the writing transaction:
//! [`lock_holders`] first, then the write, then [`ensure_kept`]. Every change that can remove a
//! holder locks the same rows (the grants of `*`), so two of them run one after the other and
//! the second sees what the first left. SQLite's `begin_write` already serialises every writer.

use entity::{role, role_permission, user, user_role};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::{db::data_scope::DataScope, error::ApiError};

/// The permission that covers every other.
const EVERYTHING: &str = "*";

/// How many enabled users hold `*`, as the transaction began to change them. Must be the
/// transaction's first statement: MySQL reads later statements from the snapshot its first
/// non-locking read takes, and that must come after the lock. For the same reason the lock is
/// one plain locking read: MySQL reads a subquery of a locking read without locking, which
/// would take the snapshot before waiting and count holders a concurrent change had removed.
pub async fn lock_holders(txn: &DatabaseTransaction) -> Result<u64, ApiError> {
    role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::RoleId)
        .filter(role_permission::Column::Permission.eq(EVERYTHING))
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .all(txn)
        .await?;
    count_holders(txn).await
}

/// CONFLICT when the transaction's changes took `*` from its last enabled holder; the caller
/// then drops the transaction, so nothing changes.
pub async fn ensure_kept(txn: &DatabaseTransaction, holders_before: u64) -> Result<(), ApiError> {
    if holders_before > 0 && count_holders(txn).await? == 0 {
        return Err(ApiError::Conflict(
            "this would leave no enabled user holding `*`; give `*` to another user first"
                .to_owned(),
        ));
    }
    Ok(())
}

async fn count_holders(db: &impl ConnectionTrait) -> Result<u64, ApiError> {
    let holding_users = Query::select()
        .column(user_role::Column::UserId)
        .from(user_role::Entity)
        .and_where(user_role::Column::RoleId.in_subquery(roles_holding_everything()))
        .to_owned();
    Ok(user::Entity::find()
        .filter(user::Column::Enabled.eq(true))
        .filter(user::Column::Id.in_subquery(holding_users))
        .count(db)
        .await?)
}

/// Roles granting `*` over every organisation's rows: one limited to its holder's organisation
/// would leave nobody reaching the rest.
fn roles_holding_everything() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column((role_permission::Entity, role_permission::Column::RoleId))
        .from(role_permission::Entity)
        .inner_join(
            role::Entity,
            Expr::col((role::Entity, role::Column::Id))
                .equals((role_permission::Entity, role_permission::Column::RoleId)),
        )
        .and_where(role_permission::Column::Permission.eq(EVERYTHING))
        .and_where(role::Column::DataScope.eq(DataScope::All.as_str()))
        .to_owned()
}
