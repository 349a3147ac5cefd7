//! The credential-header reader: any mix of repeated, conflicting and garbled `Authorization` and
//! `X-AUTH-TOKEN` headers yields a token only when exactly one unambiguous credential was sent,
//! and that token is what was sent.
#![no_main]

use api::auth::request::{PresentedToken, presented_token};
use arbitrary::Arbitrary;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header::AUTHORIZATION};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Name {
    Authorization,
    XAuthToken,
    Other,
}

#[derive(Debug, Arbitrary)]
struct Header {
    name: Name,
    value: Vec<u8>,
}

fuzz_target!(|headers: Vec<Header>| {
    let mut map = HeaderMap::new();
    let mut sent: Vec<(bool, Vec<u8>)> = Vec::new();
    for header in &headers {
        let Ok(value) = HeaderValue::from_bytes(&header.value) else {
            continue;
        };
        let name = match header.name {
            Name::Authorization => AUTHORIZATION,
            Name::XAuthToken => HeaderName::from_static("x-auth-token"),
            Name::Other => HeaderName::from_static("x-other"),
        };
        if !matches!(header.name, Name::Other) {
            sent.push((
                matches!(header.name, Name::Authorization),
                header.value.clone(),
            ));
        }
        map.append(name, value);
    }
    match presented_token(&map) {
        PresentedToken::None => assert!(sent.is_empty(), "credentials ignored: {sent:?}"),
        PresentedToken::Malformed => assert!(!sent.is_empty()),
        PresentedToken::Token(token) => {
            assert!(!token.is_empty());
            assert!(
                !token.contains(char::is_whitespace) || token.trim() == token,
                "{token:?}"
            );
            let authorizations = sent.iter().filter(|(auth, _)| *auth).count();
            let x_auth = sent.len() - authorizations;
            assert!(
                authorizations <= 1 && x_auth <= 1,
                "a repeated header was honoured: {sent:?}"
            );
            for (_, value) in &sent {
                let text = String::from_utf8_lossy(value);
                assert!(
                    text.contains(token),
                    "{token:?} was not sent as such: {sent:?}"
                );
            }
        }
    }
});
