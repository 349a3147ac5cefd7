//! The access markers in the schema tell the truth. Every root field the walk over the built schema
//! finds is called on the real server, with a request built from the schema: `@requires(p)` and
//! `@authenticated` refuse a caller without a token, `@requires(p)` refuses a token holding every
//! other marked permission but `p` (naming `p`) and admits one holding only `p`, `@authenticated`
//! admits a token without permissions, and `@public` answers without a token. A new field needs
//! no entry here: it is found, and tested, by its marker.

mod request;

use std::collections::BTreeSet;

use api::graphql::access::walk::{Access, CoveredField, covered_fields};
use async_graphql::parser::{parse_schema, types::ServiceDocument};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, spawn_app},
    subscriptions::{closed, connect, initialised, receive, send},
};
use request::minimal_request;

const ROOTS: [&str; 3] = ["Query", "Mutation", "Subscription"];
/// `ApiError::Unauthenticated`: what a guard says to a request without a token. A resolver's own
/// UNAUTHENTICATED (`login`'s "invalid username or password") is not a guard's refusal.
const NO_TOKEN_MESSAGE: &str = "authentication required";

/// The served schema and its root fields, each with the marker the walk read.
struct ServedSchema {
    document: ServiceDocument,
    root_fields: Vec<CoveredField>,
}

impl ServedSchema {
    fn load() -> Self {
        let sdl = api::graphql::schema::sdl();
        let root_fields = covered_fields(&sdl)
            .expect("the served SDL parses")
            .into_iter()
            .filter(|field| ROOTS.contains(&field.owner.as_str()))
            .collect();
        Self {
            document: parse_schema(&sdl).expect("the served SDL parses"),
            root_fields,
        }
    }

    fn marked(&self, wanted: impl Fn(&Access) -> bool) -> impl Iterator<Item = &CoveredField> {
        self.root_fields.iter().filter(move |field| {
            let access = field.access.as_ref();
            wanted(access.unwrap_or_else(|| panic!("{} has no access marker", field.path())))
        })
    }

    /// Every permission some root field requires.
    fn permissions(&self) -> BTreeSet<&str> {
        self.root_fields
            .iter()
            .filter_map(|field| match &field.access {
                Some(Access::Requires(permission)) => Some(permission.as_str()),
                _ => None,
            })
            .collect()
    }
}

fn needs_a_token(access: &Access) -> bool {
    !matches!(access, Access::Public)
}

/// A username the server accepts for a user that holds (`holds`) or lacks (`lacks`) `permission`.
fn username(prefix: &str, permission: &str) -> String {
    format!("{prefix}-{}", permission.replace([':', '*'], "-"))
}

fn password(username: &str) -> String {
    format!("{username}-password")
}

async fn create_user(app: &TestApp, username: &str, permissions: &[&str]) {
    app.create_user(username, &password(username), permissions, None, None)
        .await;
}

/// A fresh token for `username`: `logout` ends the token that calls it, so no token is reused.
async fn fresh_token(app: &TestApp, username: &str) -> String {
    app.login(username, &password(username)).await
}

/// Calls `field` with its minimal request, over HTTP or, for a subscription, over WebSocket.
async fn call(
    app: &TestApp,
    schema: &ServedSchema,
    field: &CoveredField,
    token: Option<&str>,
) -> Value {
    let query = minimal_request(&schema.document, &field.owner, &field.definition);
    if field.owner != "Subscription" {
        return app.gql(&query, json!({}), token).await;
    }
    let token = token.expect("a subscription socket opens only with a live token");
    let mut socket = initialised(app, json!({ "Authorization": format!("Bearer {token}") })).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    // Messages come back in order, so a refusal of the subscription arrives before the pongs.
    for _ in 0..2 {
        send(&mut socket, json!({ "type": "ping" })).await;
        let answer = receive(&mut socket).await;
        if answer["type"] == "next" {
            return answer["payload"].clone();
        }
        assert_eq!(answer, json!({ "type": "pong" }), "{}", field.path());
    }
    // Open and unrefused: the field was reached, as a query's key in `data` would show.
    json!({ "data": { field_name(field): {} } })
}

fn field_name(field: &CoveredField) -> String {
    field.definition.name.node.to_string()
}

/// Whether execution got to the field: it has a key in `data`, or an error on its path. A request
/// that failed validation has neither, and must not pass for one a guard let through.
fn reached(body: &Value, name: &str) -> bool {
    let in_data = body["data"]
        .as_object()
        .is_some_and(|data| data.contains_key(name));
    let on_path = body["errors"]
        .as_array()
        .is_some_and(|errors| errors.iter().any(|error| error["path"] == json!([name])));
    in_data || on_path
}

/// Whether a guard refused the field: UNAUTHENTICATED for want of a token, or FORBIDDEN.
fn refused_by_a_guard(body: &Value) -> bool {
    body["errors"].as_array().is_some_and(|errors| {
        errors.iter().any(|error| {
            error["message"] == NO_TOKEN_MESSAGE || error["extensions"]["code"] == "FORBIDDEN"
        })
    })
}

async fn every_root_field_that_needs_a_token_refuses_a_request_without_one(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let schema = ServedSchema::load();

    for field in schema.marked(needs_a_token) {
        // Act
        if field.owner == "Subscription" {
            // The socket itself needs a live token: without one it never reaches the field.
            let mut socket = connect(&app).await;
            send(
                &mut socket,
                json!({ "type": "connection_init", "payload": {} }),
            )
            .await;
            let (code, _) = closed(&mut socket).await;
            assert_eq!(code, 4403, "{}", field.path());
            continue;
        }
        let body = call(&app, &schema, field, None).await;

        // Assert
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "UNAUTHENTICATED",
            "{}: {body}",
            field.path()
        );
        assert_eq!(body["errors"][0]["message"], NO_TOKEN_MESSAGE, "{body}");
        assert_eq!(
            body["errors"][0]["path"],
            json!([field_name(field)]),
            "{body}"
        );
    }
}

async fn every_root_field_requiring_a_permission_refuses_a_token_lacking_only_it(backend: Backend) {
    // Arrange: each user holds every permission a root field requires, but one.
    let app = spawn_app(backend).await;
    let schema = ServedSchema::load();
    let permissions = schema.permissions();
    for missing in &permissions {
        let others: Vec<&str> = permissions
            .iter()
            .copied()
            .filter(|permission| permission != missing)
            .collect();
        create_user(&app, &username("lacks", missing), &others).await;
    }

    for field in schema.marked(|access| matches!(access, Access::Requires(_))) {
        let Some(Access::Requires(permission)) = &field.access else {
            continue;
        };
        let token = fresh_token(&app, &username("lacks", permission)).await;

        // Act
        let body = call(&app, &schema, field, Some(&token)).await;

        // Assert
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "FORBIDDEN",
            "{}: {body}",
            field.path()
        );
        assert_eq!(
            body["errors"][0]["extensions"]["permission"],
            permission.as_str(),
            "{}: {body}",
            field.path()
        );
        assert_eq!(
            body["errors"][0]["path"],
            json!([field_name(field)]),
            "{body}"
        );
    }
}

async fn every_root_field_admits_a_token_holding_exactly_what_its_marker_names(backend: Backend) {
    // Arrange: one user per required permission holding only it, and one holding nothing.
    let app = spawn_app(backend).await;
    let schema = ServedSchema::load();
    for permission in schema.permissions() {
        create_user(&app, &username("holds", permission), &[permission]).await;
    }
    create_user(&app, "nobody", &[]).await;

    for field in schema.marked(needs_a_token) {
        let holder = match &field.access {
            Some(Access::Requires(permission)) => username("holds", permission),
            _ => "nobody".to_owned(),
        };
        let token = fresh_token(&app, &holder).await;

        // Act
        let body = call(&app, &schema, field, Some(&token)).await;

        // Assert
        assert!(
            reached(&body, &field_name(field)),
            "{}: {body}",
            field.path()
        );
        assert!(
            !refused_by_a_guard(&body),
            "{} refused {holder}: {body}",
            field.path()
        );
    }
}

async fn every_public_root_field_answers_without_a_token(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let schema = ServedSchema::load();

    for field in schema.marked(|access| !needs_a_token(access)) {
        // Act
        let body = call(&app, &schema, field, None).await;

        // Assert: the resolver ran (placeholder credentials are refused by it, not by a guard).
        assert!(
            reached(&body, &field_name(field)),
            "{}: {body}",
            field.path()
        );
        assert!(!refused_by_a_guard(&body), "{}: {body}", field.path());
    }
}

#[test]
fn the_walk_finds_root_fields_of_every_kind() {
    // Guards the tests above against passing because the walk found nothing to call.
    let schema = ServedSchema::load();
    for root in ROOTS {
        assert!(
            schema.root_fields.iter().any(|field| field.owner == root),
            "no {root} field found"
        );
    }
    assert!(schema.marked(|access| *access == Access::Public).count() > 0);
    assert!(
        schema
            .marked(|access| *access == Access::Authenticated)
            .count()
            > 0
    );
    assert!(!schema.permissions().is_empty());
}

crate::on_backends!([sqlite, postgres] [
    every_root_field_that_needs_a_token_refuses_a_request_without_one,
    every_root_field_requiring_a_permission_refuses_a_token_lacking_only_it,
    every_root_field_admits_a_token_holding_exactly_what_its_marker_names,
    every_public_root_field_answers_without_a_token,
]);
