//! Changing the blacklist. Audit fields come from the caller's principal, never from input.

use async_graphql::{Context, ID, Object, ResultExt};

use crate::{
    auth::{RequestAuth, guard::RequirePermission, permission},
    graphql::{
        access::requires,
        types::{
            blacklist::{BlacklistEntry, CreateBlacklistEntryInput, UpdateBlacklistEntryInput},
            input::parse_id,
        },
    },
    service,
    state::AppState,
};

#[derive(Default)]
pub struct BlacklistMutation;

#[Object]
impl BlacklistMutation {
    #[graphql(
        guard = "RequirePermission(permission::BLACKLIST_CREATE)",
        directive = requires::apply(permission::BLACKLIST_CREATE.to_owned())
    )]
    async fn create_blacklist_entry(
        &self,
        ctx: &Context<'_>,
        input: CreateBlacklistEntryInput,
    ) -> async_graphql::Result<BlacklistEntry> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let new = input.parse().extend()?;
        let entry = service::blacklist::create(state, new, &principal.audit())
            .await
            .extend()?;
        Ok(BlacklistEntry(entry))
    }

    #[graphql(
        guard = "RequirePermission(permission::BLACKLIST_UPDATE)",
        directive = requires::apply(permission::BLACKLIST_UPDATE.to_owned())
    )]
    async fn update_blacklist_entry(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateBlacklistEntryInput,
    ) -> async_graphql::Result<BlacklistEntry> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let id = parse_id(&id).extend()?;
        let changes = input.parse().extend()?;
        let reach = principal.reach(permission::BLACKLIST_UPDATE);
        let entry = service::blacklist::update(state, id, &reach, changes, &principal.audit())
            .await
            .extend()?;
        Ok(BlacklistEntry(entry))
    }

    /// Deletes an entry and returns its id.
    #[graphql(
        guard = "RequirePermission(permission::BLACKLIST_DELETE)",
        directive = requires::apply(permission::BLACKLIST_DELETE.to_owned())
    )]
    async fn delete_blacklist_entry(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let state = ctx.data::<AppState>()?;
        let uuid = parse_id(&id).extend()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let reach = principal.reach(permission::BLACKLIST_DELETE);
        service::blacklist::delete(state, uuid, &reach, &principal.audit())
            .await
            .extend()?;
        Ok(ID(uuid.to_string()))
    }
}
