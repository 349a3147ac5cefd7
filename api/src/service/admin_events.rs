//! The audit lines of administration changes, one builder per action, so that GraphQL and the
//! command line record the same change alike. They take names and permissions only: no
//! password, hash or client secret can reach a line.

use entity::{service_account, user};
use serde_json::{Value, json};

use crate::db::{
    audit::Audit,
    audit_log::{Event, changed_fields},
    role::RoleGrants,
};

/// Who the command line acts for: the server's operator, whom the log records with no actor
/// (GraphQL changes always name theirs).
pub const OPERATOR: Option<&Audit> = None;

/// A new user, with every recorded field and its roles.
pub fn user_created<'a>(by: Option<&'a Audit>, user: &user::Model, roles: &[String]) -> Event<'a> {
    let mut after = user_fields(user);
    after["roles"] = json!(sorted(roles));
    Event::new("user.create", by)
        .subject(&user.username)
        .detail(json!({ "after": after }))
}

/// Display name, organisation or enabled flag: only the fields that changed.
pub fn user_updated<'a>(
    by: Option<&'a Audit>,
    before: &user::Model,
    after: &user::Model,
) -> Event<'a> {
    Event::new("user.update", by)
        .subject(&after.username)
        .detail(changed_fields(&user_fields(before), &user_fields(after)))
}

/// That the password changed, and nothing of it.
pub fn password_set<'a>(by: Option<&'a Audit>, username: &str) -> Event<'a> {
    Event::new("user.password", by).subject(username)
}

/// A user's whole set of roles, before and after.
pub fn roles_set<'a>(
    by: Option<&'a Audit>,
    username: &str,
    before: &[String],
    after: &[String],
) -> Event<'a> {
    Event::new("user.roles", by)
        .subject(username)
        .detail(changed_fields(
            &json!({ "roles": sorted(before) }),
            &json!({ "roles": sorted(after) }),
        ))
}

/// A new role, its permissions and scope.
pub fn role_created<'a>(by: Option<&'a Audit>, role: &RoleGrants) -> Event<'a> {
    Event::new("role.create", by)
        .subject(&role.role.name)
        .detail(json!({ "after": role_fields(role) }))
}

/// A role's permissions and scope: only what changed (the command line's grant and revoke too).
pub fn role_updated<'a>(
    by: Option<&'a Audit>,
    before: &RoleGrants,
    after: &RoleGrants,
) -> Event<'a> {
    Event::new("role.update", by)
        .subject(&after.role.name)
        .detail(changed_fields(&role_fields(before), &role_fields(after)))
}

/// A deleted role as it was.
pub fn role_deleted<'a>(by: Option<&'a Audit>, role: &RoleGrants) -> Event<'a> {
    Event::new("role.delete", by)
        .subject(&role.role.name)
        .detail(json!({ "before": role_fields(role) }))
}

/// A new service account and its permissions; its secret is never passed here.
pub fn service_created<'a>(
    by: Option<&'a Audit>,
    client_id: &str,
    permissions: &[String],
) -> Event<'a> {
    Event::new("service.create", by)
        .subject(client_id)
        .detail(json!({ "after": { "permissions": sorted(permissions) } }))
}

/// That the secret changed, and nothing of it.
pub fn service_rotated<'a>(by: Option<&'a Audit>, client_id: &str) -> Event<'a> {
    Event::new("service.rotate", by).subject(client_id)
}

/// `before` is the account as it was: disabling one already disabled changes nothing.
pub fn service_disabled<'a>(by: Option<&'a Audit>, before: &service_account::Model) -> Event<'a> {
    Event::new("service.disable", by)
        .subject(&before.client_id)
        .detail(changed_fields(
            &json!({ "enabled": before.enabled }),
            &json!({ "enabled": false }),
        ))
}

fn role_fields(role: &RoleGrants) -> Value {
    json!({ "permissions": sorted(&role.permissions), "dataScope": role.role.data_scope })
}

/// A user's fields as the log shows them (never the password hash).
fn user_fields(user: &user::Model) -> Value {
    json!({
        "username": user.username,
        "displayName": user.display_name,
        "orgCode": user.org_code,
        "enabled": user.enabled,
    })
}

/// Names in one order, each once, so that two lines listing the same set read the same.
fn sorted(names: &[String]) -> Vec<&String> {
    let mut names: Vec<&String> = names.iter().collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use entity::Instant;
    use uuid::Uuid;

    use super::*;

    fn alice(enabled: bool) -> user::Model {
        user::Model {
            id: Uuid::nil(),
            username: "alice".to_owned(),
            password_hash: "$argon2id$secret-hash".to_owned(),
            display_name: Some("Alice".to_owned()),
            org_code: None,
            company_code: None,
            enabled,
            created_at: Instant::MIN,
            updated_at: Instant::MIN,
        }
    }

    #[test]
    fn a_new_user_is_recorded_with_its_fields_and_roles_but_no_hash() {
        let event = user_created(None, &alice(true), &["b".to_owned(), "a".to_owned()]);
        let detail = event.detail.expect("a detail");
        assert_eq!(
            detail,
            json!({ "after": {
                "username": "alice", "displayName": "Alice", "orgCode": null,
                "enabled": true, "roles": ["a", "b"],
            } })
        );
        assert!(!detail.to_string().contains("argon2"));
    }

    #[test]
    fn an_update_records_only_what_changed() {
        let event = user_updated(None, &alice(true), &alice(false));
        assert_eq!(
            event.detail,
            Some(json!({ "enabled": { "before": true, "after": false } }))
        );
    }
}
