//! Data scope, after JEECG's data rules: a role reaches every row of an organisation-owned
//! resource (`ALL`), or only the rows of its holder's own organisation (`ORG`). A permission held
//! through an `ALL` role anywhere reaches everything; one held only through `ORG` roles reaches
//! the holder's organisation, and nothing at all for a holder who belongs to none.

use sea_orm::{
    ColumnTrait, Condition,
    sea_query::{Expr, ExprTrait},
};

/// How far a role's permissions reach, as the role table stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataScope {
    #[default]
    All,
    Org,
}

impl DataScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "ALL",
            Self::Org => "ORG",
        }
    }

    /// The stored spelling read back; anything unknown reaches the least.
    pub fn parse(stored: &str) -> Self {
        if stored == Self::All.as_str() {
            Self::All
        } else {
            Self::Org
        }
    }
}

/// Permissions and how far each reaches: every one in `permissions`, and among them those held
/// only through `ORG` roles in `org_only`. Both sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    pub permissions: Vec<String>,
    pub org_only: Vec<String>,
}

impl Grants {
    /// Permissions that reach every row, as a service account's do.
    pub fn everywhere(mut permissions: Vec<String>) -> Self {
        permissions.sort();
        permissions.dedup();
        Self {
            permissions,
            org_only: Vec::new(),
        }
    }

    /// The permissions of one role of `scope`.
    pub fn scoped(permissions: Vec<String>, scope: DataScope) -> Self {
        let mut grants = Self::everywhere(permissions);
        if scope == DataScope::Org {
            grants.org_only = grants.permissions.clone();
        }
        grants
    }

    /// Gathers `(permission, scope)` pairs of several roles: a permission any `ALL` role holds
    /// reaches everything.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, DataScope)>) -> Self {
        let mut everywhere = Vec::new();
        let mut org = Vec::new();
        for (permission, scope) in pairs {
            match scope {
                DataScope::All => everywhere.push(permission),
                DataScope::Org => org.push(permission),
            }
        }
        org.retain(|permission| !everywhere.contains(permission));
        org.sort();
        org.dedup();
        let mut grants = Self::everywhere(everywhere);
        grants.permissions.extend(org.iter().cloned());
        grants.permissions.sort();
        grants.org_only = org;
        grants
    }
}

/// Which rows a caller reaches with one permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Everything,
    /// The rows of this organisation only; none when the caller belongs to no organisation.
    Organisation(Option<String>),
}

impl Reach {
    /// Whether a row of organisation `org_code` is within reach.
    pub fn contains(&self, org_code: Option<&str>) -> bool {
        match self {
            Self::Everything => true,
            Self::Organisation(own) => own.is_some() && own.as_deref() == org_code,
        }
    }

    /// The same test as a condition on a table's organisation column.
    pub fn condition(&self, org_column: impl ColumnTrait) -> Condition {
        match self {
            Self::Everything => Condition::all(),
            Self::Organisation(Some(own)) => Condition::all().add(org_column.eq(own.as_str())),
            Self::Organisation(None) => Condition::all().add(Expr::val(1).eq(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_permission_any_all_role_holds_reaches_everything() {
        let grants = Grants::from_pairs([
            ("blacklist:read".to_owned(), DataScope::Org),
            ("blacklist:update".to_owned(), DataScope::Org),
            ("blacklist:read".to_owned(), DataScope::All),
            ("audit:read".to_owned(), DataScope::All),
        ]);
        assert_eq!(
            grants.permissions,
            strings(&["audit:read", "blacklist:read", "blacklist:update"])
        );
        assert_eq!(grants.org_only, strings(&["blacklist:update"]));
    }

    #[test]
    fn an_organisation_reach_holds_only_its_own_rows_and_none_without_one() {
        let own = Reach::Organisation(Some("A01".to_owned()));
        assert!(own.contains(Some("A01")));
        assert!(!own.contains(Some("A02")));
        assert!(!own.contains(None));
        assert!(!Reach::Organisation(None).contains(None));
        assert!(Reach::Everything.contains(None));
    }
}
