//! Clients generated from schema.graphql, run against the server: the Rust one of
//! tests/clients/rust (graphql_client) and the TypeScript one of tests/web/client (GraphQL Code
//! Generator, checked by tsc, sent by persisted-document id to a server enforcing its manifest).
//! A schema change that breaks either breaks these tests.

use std::time::Duration;

use blacklist_client::Client;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::{
    helpers::{ADMIN_PASSWORD, Backend, spawn_app, spawn_app_with},
    node,
};
use api::config::TrustedDocumentsMode;

async fn the_rust_client_logs_in_creates_lists_and_logs_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = Client::new(app.client.clone(), app.url("/graphql"));
    let ip = "198.51.100.23";

    let login = client.login("admin", ADMIN_PASSWORD).await.expect("login");
    let created = client
        .create_entry(ip, Some("from the generated Rust client"))
        .await
        .expect("create an entry");
    let listed = client.entries(ip).await.expect("list the entries");
    let logged_out = client.logout().await.expect("logout");
    let after_logout = client.entries(ip).await.expect_err("the token is refused");

    assert_eq!(login.principal.username, "admin");
    assert_eq!(created.ip, ip);
    assert_eq!(created.created_by, "admin");
    assert!(
        listed.nodes.iter().any(|entry| entry.id == created.id),
        "{listed:?}"
    );
    assert!(logged_out);
    assert_eq!(
        after_logout.code(),
        Some("UNAUTHENTICATED"),
        "{after_logout}"
    );
}

/// Runs codegen and tsc once for the whole test binary: both backends' tests share the output.
async fn build_typescript_client() {
    static BUILT: OnceCell<()> = OnceCell::const_new();
    BUILT
        .get_or_init(|| async {
            let limit = Duration::from_secs(180);
            node::run(
                "node_modules/@graphql-codegen/cli/cjs/bin.js",
                &["--silent", "--config", "client/codegen.json"],
                &[],
                limit,
            )
            .await;
            node::run(
                "node_modules/typescript/bin/tsc",
                &["-p", "client/tsconfig.json"],
                &[],
                limit,
            )
            .await;
        })
        .await;
}

async fn the_typescript_client_runs_on_trusted_documents_only(backend: Backend) {
    build_typescript_client().await;
    let manifest = node::web_dir().join("client/generated/persisted-documents.json");
    let app = spawn_app_with(backend, |config| {
        config.trusted_documents = Some(manifest);
        config.trusted_documents_mode = TrustedDocumentsMode::Enforced;
    })
    .await;
    let endpoint = app.url("/graphql");

    let stdout = node::run(
        "client/dist/src/main.js",
        &[&endpoint],
        &[
            ("CLIENT_USERNAME", "admin"),
            ("CLIENT_PASSWORD", ADMIN_PASSWORD),
        ],
        Duration::from_secs(60),
    )
    .await;
    let arbitrary = app.gql("{ me { username } }", json!({}), None).await;

    let walk: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|error| panic!("the client printed no JSON ({error}): {stdout}"));
    assert_eq!(walk["username"], "admin", "{walk}");
    assert_eq!(walk["created"]["createdBy"], "admin", "{walk}");
    assert_eq!(walk["found"], true, "{walk}");
    assert_eq!(walk["logout"], true, "{walk}");
    assert_eq!(walk["afterLogout"], "UNAUTHENTICATED", "{walk}");
    assert_eq!(
        arbitrary["errors"][0]["extensions"]["code"], "DOCUMENT_NOT_TRUSTED",
        "the server enforced its manifest: {arbitrary}"
    );
}

crate::on_backends!([sqlite, postgres] [
    the_rust_client_logs_in_creates_lists_and_logs_out,
    the_typescript_client_runs_on_trusted_documents_only,
]);
