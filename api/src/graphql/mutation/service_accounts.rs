//! Administering service accounts. A client secret appears in one answer only and is never logged.

use async_graphql::{Context, Object, ResultExt};

use crate::{
    auth::{RequestAuth, guard::RequirePermission, name, permission},
    db,
    error::ApiError,
    graphql::{
        access::requires,
        types::service_account::{CreateServiceAccountInput, ServiceAccount, ServiceAccountSecret},
    },
    service::accounts,
    state::AppState,
};

#[derive(Default)]
pub struct ServiceAccountMutation;

#[Object]
impl ServiceAccountMutation {
    /// Creates a service account; the caller must hold each of its permissions.
    #[graphql(
        guard = "RequirePermission(permission::SERVICE_MANAGE)",
        directive = requires::apply(permission::SERVICE_MANAGE.to_owned())
    )]
    async fn create_service_account(
        &self,
        ctx: &Context<'_>,
        input: CreateServiceAccountInput,
    ) -> async_graphql::Result<ServiceAccountSecret> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let (account, client_secret) = accounts::create_service_granted_by(
            state,
            principal,
            &input.client_id,
            &input.permissions,
        )
        .await
        .extend()?;
        let permissions = db::service_account::permissions(&state.db, account.id)
            .await
            .extend()?;
        Ok(ServiceAccountSecret {
            service_account: ServiceAccount {
                account,
                permissions,
            },
            client_secret,
        })
    }

    /// Issues a new client secret; the old one and every token issued with it stop working at once.
    #[graphql(
        guard = "RequirePermission(permission::SERVICE_MANAGE)",
        directive = requires::apply(permission::SERVICE_MANAGE.to_owned())
    )]
    async fn rotate_service_account_secret(
        &self,
        ctx: &Context<'_>,
        client_id: String,
    ) -> async_graphql::Result<ServiceAccountSecret> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let client_secret = accounts::rotate_service(state, &client_id, Some(&principal.audit()))
            .await
            .extend()?;
        Ok(ServiceAccountSecret {
            service_account: load(state, &client_id).await.extend()?,
            client_secret,
        })
    }

    /// Disables a service account: its logins are refused and its live tokens end at once.
    #[graphql(
        guard = "RequirePermission(permission::SERVICE_MANAGE)",
        directive = requires::apply(permission::SERVICE_MANAGE.to_owned())
    )]
    async fn disable_service_account(
        &self,
        ctx: &Context<'_>,
        client_id: String,
    ) -> async_graphql::Result<ServiceAccount> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        accounts::disable_service(state, &client_id, Some(&principal.audit()))
            .await
            .extend()?;
        load(state, &client_id).await.extend()
    }
}

async fn load(state: &AppState, client_id: &str) -> Result<ServiceAccount, ApiError> {
    let account = db::service_account::find_by_client_id(&state.db, &name::canonical(client_id))
        .await?
        .ok_or(ApiError::NotFound {
            what: "service account",
        })?;
    let permissions = db::service_account::permissions(&state.db, account.id).await?;
    Ok(ServiceAccount {
        account,
        permissions,
    })
}
