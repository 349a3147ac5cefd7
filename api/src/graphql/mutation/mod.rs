//! The mutation root, merged from one object per domain.

mod auth;
mod blacklist;
mod roles;
mod service_accounts;
mod users;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    auth::AuthMutation,
    blacklist::BlacklistMutation,
    users::UserMutation,
    roles::RoleMutation,
    service_accounts::ServiceAccountMutation,
);
