//! The query root, merged from one object per domain.

mod audit;
mod blacklist;
mod me;
mod roles;
mod service_accounts;
mod users;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    me::MeQuery,
    blacklist::BlacklistQuery,
    users::UserQuery,
    roles::RoleQuery,
    service_accounts::ServiceAccountQuery,
    audit::AuditQuery,
);
