use serde_json::json;

use crate::helpers::{Backend, spawn_app};

async fn admin_can_create_and_read_an_entry(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let created = app
        .gql(
            "mutation($i: CreateBlacklistEntryInput!) { createBlacklistEntry(input: $i) { id ip createdAt } }",
            json!({ "i": { "ip": "2001:DB8::1" } }),
            Some(&token),
        )
        .await;
    assert_eq!(
        created["data"]["createBlacklistEntry"]["ip"], "2001:db8::1",
        "{created}"
    );
    let list = app
        .gql(
            "{ blacklistEntries { totalCount nodes { ip createdAt } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(list["data"]["blacklistEntries"]["totalCount"], 1, "{list}");
    assert_eq!(
        list["data"]["blacklistEntries"]["nodes"][0]["createdAt"],
        created["data"]["createBlacklistEntry"]["createdAt"]
    );
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
}

crate::on_backends!([sqlite, postgres, mysql][admin_can_create_and_read_an_entry]);
