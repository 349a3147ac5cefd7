//! The committed schema.graphql is what frontends build on: it must be exactly what the code serves.

#[test]
fn the_committed_schema_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed at the workspace root");
    assert!(
        committed == api::graphql::schema::sdl(),
        "schema.graphql is out of date: run `cargo run -p api -- schema > schema.graphql`"
    );
}
