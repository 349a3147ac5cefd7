//! The document limits that run before anything is parsed or executed: the token count stops at
//! its limit and agrees with itself under any limit, no document over QUERY_MAX_TOKENS is ever
//! parsed, and the shape analysis (aliases, repeated fields, statements) always finishes.
#![no_main]

use api::graphql::{
    documents::{self, Unparsed},
    tokens,
};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    limit: u8,
    query: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let limit = usize::from(input.limit);
    let unlimited = tokens::count(input.query, usize::MAX).ok();
    match tokens::count(input.query, limit) {
        Ok(count) => {
            assert!(count <= limit, "{count} tokens passed a limit of {limit}");
            assert_eq!(Some(count), unlimited, "the count depends on the limit");
        }
        Err(_) => assert!(
            unlimited.is_none_or(|count| count > limit),
            "refused at {limit} with {unlimited:?} tokens"
        ),
    }
    match documents::parse(input.query, limit) {
        Ok(parsed) => {
            assert!(
                unlimited.is_some_and(|count| count <= limit),
                "parsed over the limit"
            );
            // The analysis is bounded: it finished, and counted no more aliases than tokens.
            assert!(parsed.shape.aliases <= limit, "{:?}", parsed.shape);
        }
        Err(Unparsed::TooManyTokens(_)) => {
            assert!(unlimited.is_none_or(|count| count > limit));
        }
        Err(Unparsed::Syntax(_)) => {}
    }
});
