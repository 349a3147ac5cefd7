//! The layers of `api/src` only point down: every `crate::…` path a module names leads to a module
//! on a lower floor (or to itself). A new upward import fails here, naming the file and the path.

use std::{
    fs,
    path::{Path, PathBuf},
};

/// The floors, top first. A module may use modules on the floors below its own, never beside or
/// above it: that is what keeps the graph free of circles between modules.
const FLOORS: &[&[&str]] = &[
    &["main"],
    &["cli"],
    &["app"],
    &["http"],
    &["graphql"],
    &["service", "bootstrap"],
    &["state"],
    &["auth", "blacklist"],
    &["db"],
    &[
        "shared_store",
        "shared_redis",
        "config",
        "error",
        "ip",
        "lock",
        "data_dir",
        "outage",
    ],
];

fn floor_of(module: &str) -> usize {
    FLOORS
        .iter()
        .position(|floor| floor.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is on no floor: add it to FLOORS"))
}

#[test]
fn every_module_uses_only_the_floors_below_it() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut upward = Vec::new();
    for file in rust_files(&source) {
        let relative = file.strip_prefix(&source).expect("under src");
        let module = module_of(relative);
        if module == "lib" {
            continue;
        }
        let text = fs::read_to_string(&file).expect("a readable source file");
        for used in used_modules(&text) {
            if used != module && floor_of(&used) <= floor_of(&module) {
                upward.push(format!("{} uses crate::{used}", relative.display()));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that do not point down:\n{}",
        upward.join("\n")
    );
}

#[test]
fn grouped_and_inline_paths_are_both_read() {
    let text = "use crate::{\n    auth::{Principal, guard},\n    db,\n};\n\
                // crate::commented does not count\n\
                fn f() { crate::error::ApiError::Internal; }\n";
    assert_eq!(used_modules(text), ["auth", "db", "error"]);
}

/// The top-level module a file belongs to: its first folder, or its own name.
fn module_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .expect("a path")
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

fn rust_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(folder).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// The top-level modules named by `crate::x…` paths and `crate::{x…, y…}` groups, outside comments.
fn used_modules(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut used = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            used.extend(group_heads(group));
        } else {
            used.push(identifier(rest));
        }
    }
    used.retain(|name| !name.is_empty() && name != "self");
    used.sort();
    used.dedup();
    used
}

/// The first identifier of each item of a `{…}` group that `text` starts inside.
fn group_heads(text: &str) -> Vec<String> {
    let mut heads = vec![identifier(text.trim_start())];
    let mut depth = 1;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 1 => break,
            '}' => depth -= 1,
            ',' if depth == 1 => heads.push(identifier(text[at + 1..].trim_start())),
            _ => {}
        }
    }
    heads
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}
