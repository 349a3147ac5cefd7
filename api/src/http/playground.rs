//! The GraphiQL playground: its page at GET /graphql and its files under /graphql/playground/, all
//! built into the binary, so it works without the internet and runs only the pinned versions.
//!
//! Third-party files are vendored in api/assets/graphiql/ by scripts/vendor-graphiql; ours are in
//! api/assets/playground/. Each file is served under a name holding a hash of its content, so a
//! browser may keep it for good, and a new binary's page asks for new names.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hasher},
    sync::{Arc, LazyLock},
};

use axum::{
    extract::{Path, State},
    http::{
        HeaderName, HeaderValue, StatusCode,
        header::{
            CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
            X_CONTENT_TYPE_OPTIONS,
        },
    },
    response::{IntoResponse, Response},
};

use super::{graphql::error_response, server::HttpState};
use crate::error::code;

/// The route of the playground's files; `{file}` is a content-hashed name from the page.
pub const FILES_ROUTE: &str = "/graphql/playground/{file}";

/// Nothing off-host, and no inline script or style: every script and stylesheet is one of
/// [`FILES`], and the only request the page makes is to the GraphQL endpoint (`connect-src`).
/// GraphiQL's fonts are `data:` URLs inside its stylesheet.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// A file of the playground, as built into the binary.
struct File {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file the page refers to, by the `{{name}}` placeholders in index.html.
const FILES: [File; 6] = [
    File {
        name: "react.production.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    File {
        name: "react-dom.production.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
    File {
        name: "graphiql.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    File {
        name: "graphiql.min.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    File {
        name: "playground.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/playground/playground.js"),
    },
    File {
        name: "playground.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/playground/playground.css"),
    },
];

const PAGE_TEMPLATE: &str = include_str!("../../assets/playground/index.html");

/// The page with its placeholders filled in, and the files by their hashed names: built on first use.
struct Playground {
    page: String,
    files: HashMap<String, &'static File>,
}

static PLAYGROUND: LazyLock<Playground> = LazyLock::new(|| {
    let mut page = PAGE_TEMPLATE.to_owned();
    let mut files = HashMap::new();
    for file in &FILES {
        let hashed = hashed_name(file);
        // Relative to the page at /graphql, so it stays right behind a proxy's path prefix.
        page = page.replace(
            &format!("{{{{{}}}}}", file.name),
            &format!("graphql/playground/{hashed}"),
        );
        files.insert(hashed, file);
    }
    Playground { page, files }
});

/// `graphiql.min.js` becomes `graphiql.min.<hash>.js`. The hash only has to tell this binary's
/// files from another's, so std's hasher does (its output may change between Rust releases,
/// which merely renames the files).
fn hashed_name(file: &File) -> String {
    let mut hasher = DefaultHasher::new();
    hasher.write(file.bytes);
    let hash = hasher.finish();
    match file.name.rsplit_once('.') {
        Some((stem, extension)) => format!("{stem}.{hash:016x}.{extension}"),
        None => format!("{}.{hash:016x}", file.name),
    }
}

/// The page, for GET /graphql without a query string (the caller checked PLAYGROUND). The
/// /graphql route marks it `no-store`, so a new binary's page, with new file names, is always seen.
pub fn page() -> Response {
    let mut response = PLAYGROUND.page.clone().into_response();
    set(&mut response, CONTENT_TYPE, "text/html; charset=utf-8");
    protect(response)
}

/// GET /graphql/playground/{file}: one of the page's files, cacheable for good under its hashed name.
pub async fn file(State(http): State<Arc<HttpState>>, Path(name): Path<String>) -> Response {
    if !http.limits.playground {
        return switched_off();
    }
    let Some(file) = PLAYGROUND.files.get(&name) else {
        return error_response(
            StatusCode::NOT_FOUND,
            "the playground has no such file",
            code::NOT_FOUND,
            None,
        );
    };
    let mut response = file.bytes.into_response();
    set(&mut response, CONTENT_TYPE, file.content_type);
    set(
        &mut response,
        CACHE_CONTROL,
        "public, max-age=31536000, immutable",
    );
    protect(response)
}

/// The answer to the page or a file while PLAYGROUND is off (or APP_ENV=production).
pub fn switched_off() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "the playground is switched off",
        code::BAD_REQUEST,
        None,
    )
}

/// Headers for the page and its files: the policy (a file opened on its own gets it too), no
/// content sniffing, and no address of the playground handed to anyone.
fn protect(mut response: Response) -> Response {
    set(&mut response, CONTENT_SECURITY_POLICY, POLICY);
    set(&mut response, X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut response, REFERRER_POLICY, "no-referrer");
    response
}

fn set(response: &mut Response, name: HeaderName, value: &'static str) {
    response
        .headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_in_the_page_is_filled_with_a_served_file() {
        let page = &PLAYGROUND.page;
        assert!(!page.contains("{{"), "{page}");
        for file in &FILES {
            let hashed = hashed_name(file);
            assert!(
                page.contains(&format!("\"graphql/playground/{hashed}\"")),
                "{} is not on the page",
                file.name
            );
            assert!(PLAYGROUND.files.contains_key(&hashed));
        }
    }

    #[test]
    fn hashed_names_keep_the_extension() {
        let name = hashed_name(&FILES[2]);
        assert!(
            name.starts_with("graphiql.min.") && name.ends_with(".js"),
            "{name}"
        );
        assert_eq!(name.len(), "graphiql.min..js".len() + 16);
    }
}
