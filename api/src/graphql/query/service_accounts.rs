//! Reading service accounts (never their secrets).

use async_graphql::{Context, Object, ResultExt};

use crate::{
    auth::{guard::RequirePermission, permission},
    db,
    graphql::{access::requires, types::service_account::ServiceAccount},
    state::AppState,
};

#[derive(Default)]
pub struct ServiceAccountQuery;

#[Object]
impl ServiceAccountQuery {
    /// Every service account, oldest first.
    #[graphql(
        guard = "RequirePermission(permission::SERVICE_MANAGE)",
        directive = requires::apply(permission::SERVICE_MANAGE.to_owned())
    )]
    async fn service_accounts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ServiceAccount>> {
        let state = ctx.data::<AppState>()?;
        let accounts = db::service_account::list(&state.db).await.extend()?;
        Ok(accounts
            .into_iter()
            .map(|(account, permissions)| ServiceAccount {
                account,
                permissions,
            })
            .collect())
    }
}
