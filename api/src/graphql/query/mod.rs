//! The query root, merged from one object per domain.

mod audit;
mod blacklist;
mod me;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(me::MeQuery, blacklist::BlacklistQuery, audit::AuditQuery);
