//! `me`: who the token belongs to.

use async_graphql::{Context, Object, ResultExt};

use crate::{
    auth::{Principal, RequestAuth, guard::Authenticated},
    graphql::access::authenticated,
};

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// The caller behind the token of this request.
    #[graphql(guard = "Authenticated", directive = authenticated::apply())]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Principal> {
        ctx.data::<RequestAuth>()?.principal().cloned().extend()
    }
}
