//! The mutation root, merged from one object per domain.

mod auth;
mod blacklist;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(auth::AuthMutation, blacklist::BlacklistMutation);
