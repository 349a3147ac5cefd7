//! The mutation root, merged from one object per domain.

mod auth;
mod blacklist;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct MutationRoot(auth::AuthMutation, blacklist::BlacklistMutation);
