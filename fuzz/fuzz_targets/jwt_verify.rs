//! JWT header and claims decoding: no forged or garbled token verifies, and a real token with any
//! one byte changed is refused.
#![no_main]

use api::auth::{
    PrincipalKind,
    jwt::{Claims, JwtKeys},
};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzzing-secret-that-is-long-enough-for-hs256";

#[derive(Debug, Arbitrary)]
enum Input<'a> {
    /// Any text presented as a token.
    Forged(&'a str),
    /// A real token with one byte replaced.
    Tampered { position: usize, byte: u8 },
}

fuzz_target!(|input: Input<'_>| {
    let keys = JwtKeys::from_secret(SECRET);
    match input {
        Input::Forged(token) => {
            assert!(
                keys.verify(token).is_none(),
                "a forged token verified: {token:?}"
            );
        }
        Input::Tampered { position, byte } => {
            let now = chrono::Utc::now().timestamp();
            let claims = Claims {
                sub: uuid::Uuid::nil(),
                jti: uuid::Uuid::nil(),
                kind: PrincipalKind::User,
                iat: now,
                exp: now + 60,
            };
            let token = keys.sign(&claims).expect("signs");
            let mut bytes = token.into_bytes();
            let position = position % bytes.len();
            if bytes[position] == byte {
                return;
            }
            bytes[position] = byte;
            let Ok(tampered) = String::from_utf8(bytes) else {
                return;
            };
            if let Some(verified) = keys.verify(&tampered) {
                // Base64 padding bits may change without changing the bytes they decode to.
                assert_eq!(verified.jti, claims.jti, "{tampered:?}");
                assert_eq!(verified.sub, claims.sub, "{tampered:?}");
                assert_eq!(verified.exp, claims.exp, "{tampered:?}");
            }
        }
    }
});
