//! What each root field costs the database, for the per-request statement budget
//! (QUERY_MAX_DB_STATEMENTS).
//!
//! Only root fields are listed: every field below them resolves from rows already loaded. A
//! resolver that reads the database below the root would need the budget counted there too.

/// Statements a root field runs at most, or `None` for a field this table does not know
/// (a unit test keeps it complete for the schema).
pub fn declared(root_field: &str) -> Option<usize> {
    match root_field {
        // Answered from memory: the principal, the blacklist matcher, the token store.
        "__typename" | "__schema" | "__type" | "me" | "isBlocked" | "permissions" => Some(0),
        // One read; or the audit line of a change made in the token store.
        "blacklistEntry" | "logout" => Some(1),
        // A page and its count; a write and its audit line.
        "blacklistEntries" | "auditLog" | "createBlacklistEntry" => Some(2),
        // A read, a write and its audit line; an account, its permissions and the audit line.
        "updateBlacklistEntry" | "deleteBlacklistEntry" | "login" | "serviceLogin" => Some(3),
        // Rows and the roles or permissions beside them (one statement for all of them).
        "user" | "roles" | "serviceAccounts" => Some(2),
        "users" => Some(3),
        // Administration, with a handful of roles or permissions in the input (one statement
        // each): the write, the locks and checks around it, its announcement, its audit line
        // (and what was there before, for the line) and the answer. Live tokens that follow an
        // account read it twice (two statements each time: see `accounts::follow_account`).
        "revokeTokens" => Some(3),
        "setUserPassword" => Some(4),
        "createServiceAccount" | "rotateServiceAccountSecret" | "disableServiceAccount" => Some(6),
        "createUser" | "createRole" => Some(7),
        "updateUser" => Some(12),
        "deleteRole" => Some(13),
        "updateRole" => Some(14),
        "setUserRoles" => Some(15),
        _ => None,
    }
}

/// Statements of one root field; an unknown one (refused by validation anyway) counts one.
pub fn statements(root_field: &str) -> usize {
    declared(root_field).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::{
        parse_schema,
        types::{TypeKind, TypeSystemDefinition},
    };

    use super::*;

    #[test]
    fn every_root_field_of_the_schema_declares_its_statements() {
        let sdl = crate::graphql::schema::sdl();
        let document = parse_schema(&sdl).expect("the SDL parses");
        let mut roots = 0;
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            if !matches!(ty.node.name.node.as_str(), "Query" | "Mutation") {
                continue;
            }
            roots += 1;
            let TypeKind::Object(object) = &ty.node.kind else {
                panic!("a root type is an object");
            };
            for field in &object.fields {
                let name = field.node.name.node.as_str();
                assert!(declared(name).is_some(), "cost::declared lacks `{name}`");
            }
        }
        assert_eq!(roots, 2);
    }
}
