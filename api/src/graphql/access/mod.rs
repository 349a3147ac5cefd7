//! Who may call a field, written into the schema beside the guard that enforces it. Guards are
//! invisible in the SDL; these markers are not, so a walk over the built schema can refuse a root
//! field that has neither a guard nor an explicit `@public` (deny by default).

pub mod walk;

use async_graphql::TypeDirective;

// Each marker goes beside the guard it describes (`requires` beside `RequirePermission`,
// `authenticated` beside `Authenticated`); tests/api/access.rs calls every root field to prove the
// two agree. The doc comments below are what clients read in schema.graphql.

/// Callable only with a live token that grants `permission` (else UNAUTHENTICATED, or FORBIDDEN naming it).
#[TypeDirective(location = "FieldDefinition")]
pub fn requires(permission: String) {}

/// Callable with any live token (else UNAUTHENTICATED).
#[TypeDirective(location = "FieldDefinition")]
pub fn authenticated() {}

/// Callable without a token: left open on purpose (logging in), not by omission.
#[TypeDirective(location = "FieldDefinition")]
pub fn public() {}
