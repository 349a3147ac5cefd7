//! Reading users.

use async_graphql::{Context, ID, Object, ResultExt};
use entity::user;

use crate::{
    auth::{RequestAuth, guard::RequirePermission, permission},
    db,
    graphql::{
        access::requires,
        types::{
            input::parse_id,
            pagination::{PageArgs, PageConnection, connection, page_complexity},
            user::{User, UserFilter},
        },
    },
    service::{self, users::UserWithRoles},
    state::AppState,
};

pub type UserConnection = PageConnection<User>;

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Users within the caller's data scope, oldest first, as a Relay connection (`first` defaults to 20; at most 100 per page).
    #[graphql(
        guard = "RequirePermission(permission::USER_MANAGE)",
        directive = requires::apply(permission::USER_MANAGE.to_owned()),
        complexity = "page_complexity(first, last, child_complexity)"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<UserFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<UserConnection> {
        let state = ctx.data::<AppState>()?;
        let window = PageArgs {
            first,
            after,
            last,
            before,
        }
        .window()
        .extend()?;
        let filter = filter.unwrap_or_default().parse().extend()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let reach = principal.reach(permission::USER_MANAGE);
        let page = db::user::list(&state.db, &reach, &filter, window)
            .await
            .extend()?;
        let ids: Vec<_> = page.rows.iter().map(|user| user.id).collect();
        // One query for the roles of the whole page, not one per user.
        let roles = db::user_role::names_by_user(&state.db, &ids)
            .await
            .extend()?;
        Ok(connection::<user::Entity, _>(page, |user| {
            User(UserWithRoles {
                roles: roles.get(&user.id).cloned().unwrap_or_default(),
                user,
            })
        }))
    }

    /// One user by id; null when there is none.
    #[graphql(
        guard = "RequirePermission(permission::USER_MANAGE)",
        directive = requires::apply(permission::USER_MANAGE.to_owned())
    )]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<User>> {
        let state = ctx.data::<AppState>()?;
        let id = parse_id(&id).extend()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        Ok(service::users::find(state, principal, id)
            .await
            .extend()?
            .map(User))
    }
}
