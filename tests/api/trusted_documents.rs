//! Trusted documents (TRUSTED_DOCUMENTS): persisted documents served by `documentId` and by APQ
//! hash, and in `enforced` mode the allow-list that refuses any other document.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{
    ADMIN_PASSWORD, Backend, TestApp, TestStorage, spawn_app, spawn_app_with, test_config,
};
use api::{app::App, config::TrustedDocumentsMode};

/// The text `TestApp::login` sends, so a test can log in under `enforced` mode.
const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
const ME: &str = "query Me { me { username } }";
const COUNT_ENTRIES: &str = "query CountEntries { blacklistEntries { totalCount } }";
const DELETE_ENTRY: &str = "mutation Delete($id: ID!) { deleteBlacklistEntry(id: $id) }";
const TWO_ALIASES: &str = "query Twice { a: me { username } b: me { displayName } }";

fn sha256_hex(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// A manifest of `documents`, as codegen writes it, in a file of its own.
fn write_manifest(documents: &[&str]) -> std::path::PathBuf {
    let manifest: serde_json::Map<String, Value> = documents
        .iter()
        .map(|document| (sha256_hex(document), json!(document)))
        .collect();
    write_file(&Value::Object(manifest))
}

fn write_file(manifest: &Value) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("trusted-{}.json", Uuid::now_v7().simple()));
    std::fs::write(&path, manifest.to_string()).expect("write the manifest");
    path
}

async fn spawn_trusting(backend: Backend, mode: TrustedDocumentsMode) -> TestApp {
    let manifest = write_manifest(&[LOGIN, ME, COUNT_ENTRIES, DELETE_ENTRY, TWO_ALIASES]);
    spawn_app_with(backend, |config| {
        config.trusted_documents = Some(manifest);
        config.trusted_documents_mode = mode;
        config.query_max_aliases = 1;
    })
    .await
}

async fn post(app: &TestApp, body: Value, token: Option<&str>) -> Value {
    let mut request = app.client.post(app.url("/graphql")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request reaches the server");
    response.json().await.expect("the body is JSON")
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

async fn a_document_id_from_the_manifest_is_served(backend: Backend) {
    let app = spawn_trusting(backend, TrustedDocumentsMode::Allow).await;
    let token = app.login("admin", ADMIN_PASSWORD).await;

    let prefixed = post(
        &app,
        json!({ "documentId": format!("sha256:{}", sha256_hex(ME)) }),
        Some(&token),
    )
    .await;
    let bare = post(&app, json!({ "documentId": sha256_hex(ME) }), Some(&token)).await;
    let batch = post(
        &app,
        json!([
            { "documentId": format!("sha256:{}", sha256_hex(ME)) },
            { "query": "{ me { displayName } }" },
        ]),
        Some(&token),
    )
    .await;

    assert_eq!(prefixed["data"]["me"]["username"], "admin", "{prefixed}");
    assert_eq!(bare["data"]["me"]["username"], "admin", "{bare}");
    assert_eq!(batch[0]["data"]["me"]["username"], "admin", "{batch}");
    assert!(batch[1]["data"]["me"].is_object(), "{batch}");
}

async fn an_apq_hash_from_the_manifest_is_served(backend: Backend) {
    let app = spawn_trusting(backend, TrustedDocumentsMode::Allow).await;
    let token = app.login("admin", ADMIN_PASSWORD).await;
    let apq = |hash: String| json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });

    let by_hash = post(
        &app,
        json!({ "extensions": apq(sha256_hex(ME)) }),
        Some(&token),
    )
    .await;

    assert_eq!(by_hash["data"]["me"]["username"], "admin", "{by_hash}");
}

async fn an_unknown_id_is_not_found_until_apq_registers_it(backend: Backend) {
    let app = spawn_trusting(backend, TrustedDocumentsMode::Allow).await;
    let token = app.login("admin", ADMIN_PASSWORD).await;
    let unlisted = "query Unlisted { me { displayName username } }";
    let hash = sha256_hex(unlisted);
    let apq = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });

    let unknown_id = post(
        &app,
        json!({ "documentId": format!("sha256:{hash}") }),
        Some(&token),
    )
    .await;
    let unknown_hash = post(&app, json!({ "extensions": apq }), Some(&token)).await;
    let wrong_hash = post(
        &app,
        json!({ "query": ME, "extensions": apq }),
        Some(&token),
    )
    .await;
    let registered = post(
        &app,
        json!({ "query": unlisted, "extensions": apq }),
        Some(&token),
    )
    .await;
    let by_hash = post(&app, json!({ "extensions": apq }), Some(&token)).await;

    assert_eq!(
        code(&unknown_id),
        "PERSISTED_QUERY_NOT_FOUND",
        "{unknown_id}"
    );
    assert_eq!(
        code(&unknown_hash),
        "PERSISTED_QUERY_NOT_FOUND",
        "{unknown_hash}"
    );
    assert_eq!(code(&wrong_hash), "BAD_REQUEST", "{wrong_hash}");
    assert_eq!(
        registered["data"]["me"]["username"], "admin",
        "{registered}"
    );
    assert_eq!(by_hash["data"]["me"]["username"], "admin", "{by_hash}");
}

async fn without_a_manifest_persisted_documents_are_not_supported(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.login("admin", ADMIN_PASSWORD).await;

    let by_id = post(
        &app,
        json!({ "documentId": format!("sha256:{}", sha256_hex(ME)) }),
        Some(&token),
    )
    .await;
    let by_hash = post(
        &app,
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(ME) } } }),
        Some(&token),
    )
    .await;

    assert_eq!(code(&by_id), "PERSISTED_QUERY_NOT_SUPPORTED", "{by_id}");
    assert_eq!(code(&by_hash), "PERSISTED_QUERY_NOT_SUPPORTED", "{by_hash}");
}

async fn enforced_mode_refuses_documents_not_in_the_manifest(backend: Backend) {
    let app = spawn_trusting(backend, TrustedDocumentsMode::Enforced).await;
    let token = app.login("admin", ADMIN_PASSWORD).await;
    let create = "mutation { createBlacklistEntry(input: { ip: \"192.0.2.1\" }) { id } }";
    let apq = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(create) } });

    let arbitrary = app
        .gql("{ me { username displayName } }", json!({}), Some(&token))
        .await;
    let mutation = app.gql(create, json!({}), Some(&token)).await;
    let registration = post(
        &app,
        json!({ "query": create, "extensions": apq }),
        Some(&token),
    )
    .await;
    let garbage = app
        .gql("{ this is not GraphQL", json!({}), Some(&token))
        .await;
    let trusted_text = app.gql(ME, json!({}), Some(&token)).await;
    let count = post(
        &app,
        json!({ "documentId": format!("sha256:{}", sha256_hex(COUNT_ENTRIES)) }),
        Some(&token),
    )
    .await;

    assert_eq!(code(&arbitrary), "DOCUMENT_NOT_TRUSTED", "{arbitrary}");
    assert_eq!(code(&mutation), "DOCUMENT_NOT_TRUSTED", "{mutation}");
    assert_eq!(
        code(&registration),
        "DOCUMENT_NOT_TRUSTED",
        "{registration}"
    );
    // Refused before it is parsed: no syntax error, the same refusal.
    assert_eq!(code(&garbage), "DOCUMENT_NOT_TRUSTED", "{garbage}");
    assert_eq!(
        trusted_text["data"]["me"]["username"], "admin",
        "{trusted_text}"
    );
    assert_eq!(
        count["data"]["blacklistEntries"]["totalCount"], 0,
        "{count}"
    );
}

async fn a_trusted_document_still_meets_every_limit_and_guard(backend: Backend) {
    let app = spawn_trusting(backend, TrustedDocumentsMode::Enforced).await;
    let id = |document: &str| format!("sha256:{}", sha256_hex(document));

    let over_aliases = post(&app, json!({ "documentId": id(TWO_ALIASES) }), None).await;
    let anonymous = post(&app, json!({ "documentId": id(ME) }), None).await;

    assert_eq!(
        code(&over_aliases),
        "GRAPHQL_VALIDATION_FAILED",
        "{over_aliases}"
    );
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
}

async fn a_get_with_a_document_id_serves_a_query_and_never_a_mutation(backend: Backend) {
    let app = spawn_trusting(backend, TrustedDocumentsMode::Enforced).await;
    let token = app.login("admin", ADMIN_PASSWORD).await;
    let get = |document: &str| {
        let mut url = reqwest::Url::parse(&app.url("/graphql")).expect("a URL");
        url.query_pairs_mut()
            .append_pair("documentId", &format!("sha256:{}", sha256_hex(document)))
            .append_pair("variables", r#"{"id":"1"}"#);
        app.client.get(url).bearer_auth(&token).send()
    };

    let query = get(ME).await.expect("request reaches the server");
    let mutation = get(DELETE_ENTRY).await.expect("request reaches the server");

    assert_eq!(query.status(), StatusCode::OK);
    let body: Value = query.json().await.expect("the body is JSON");
    assert_eq!(body["data"]["me"]["username"], "admin", "{body}");
    assert!(mutation.status().is_client_error(), "{}", mutation.status());
    let body: Value = mutation.json().await.expect("the body is JSON");
    assert!(
        body["errors"][0]["extensions"]["code"].is_string(),
        "{body}"
    );
}

async fn a_manifest_entry_not_keyed_by_its_hash_stops_start_up(backend: Backend) {
    let storage = TestStorage::create(backend).await;
    let wrong_key = sha256_hex(LOGIN);
    let mut config = test_config(backend, &storage);
    config.trusted_documents = Some(write_file(&json!({ wrong_key.clone(): ME })));

    let error = App::build(&config)
        .await
        .err()
        .expect("the start is refused");
    let mut enforced_without_manifest = test_config(backend, &storage);
    enforced_without_manifest.trusted_documents_mode = TrustedDocumentsMode::Enforced;
    let unset = App::build(&enforced_without_manifest)
        .await
        .err()
        .expect("the start is refused");

    let message = format!("{error:#}");
    assert!(message.contains("TRUSTED_DOCUMENTS"), "{message}");
    assert!(
        message.contains(&wrong_key) && message.contains("not the sha256"),
        "{message}"
    );
    assert!(
        format!("{unset:#}").contains("TRUSTED_DOCUMENTS"),
        "{unset:#}"
    );
}

crate::on_backends!([sqlite, postgres] [
    a_document_id_from_the_manifest_is_served,
    an_apq_hash_from_the_manifest_is_served,
    an_unknown_id_is_not_found_until_apq_registers_it,
    without_a_manifest_persisted_documents_are_not_supported,
    enforced_mode_refuses_documents_not_in_the_manifest,
    a_trusted_document_still_meets_every_limit_and_guard,
    a_get_with_a_document_id_serves_a_query_and_never_a_mutation,
    a_manifest_entry_not_keyed_by_its_hash_stops_start_up,
]);
