//! What the server does, once for every way in: GraphQL resolvers and CLI commands parse their
//! input, call a function here and map its errors. Each write is one function that writes,
//! applies the change to what this instance holds in memory, and announces it to the others.

pub mod account_watch;
pub mod accounts;
pub mod admin_events;
pub mod blacklist;
pub mod blacklist_watch;
pub mod login;
pub mod roles;
pub mod sessions;
pub mod users;
