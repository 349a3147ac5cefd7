//! Counting a document's lexical tokens before it is parsed, so that the size of the syntax tree
//! an anonymous request can make the server build is bounded by QUERY_MAX_TOKENS, not by the body.
//!
//! The count follows GraphQL's lexical grammar (punctuators, names, numbers, strings; whitespace,
//! commas and comments are ignored) closely enough to bound the parser's work; malformed input is
//! left for the parser to name.

/// Counts the tokens of `query`, stopping as soon as there are more than `limit`: a one-megabyte
/// document costs no more to refuse than the first `limit` tokens of it.
pub fn count(query: &str, limit: usize) -> Result<usize, TooManyTokens> {
    let bytes = query.as_bytes();
    let mut at = 0;
    let mut tokens = 0;
    while at < bytes.len() {
        at = match bytes[at] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                at += 1;
                continue;
            }
            b'#' => {
                at = line_end(bytes, at);
                continue;
            }
            b'"' if bytes[at..].starts_with(b"\"\"\"") => block_string_end(bytes, at + 3),
            b'"' => string_end(bytes, at + 1),
            b'.' if bytes[at..].starts_with(b"...") => at + 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                skip_while(bytes, at + 1, |b| b == b'_' || b.is_ascii_alphanumeric())
            }
            b'-' | b'0'..=b'9' => skip_while(bytes, at + 1, |b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-')
            }),
            // A punctuator, or a character no token starts with (the parser will say so).
            first => at + utf8_len(first),
        };
        tokens += 1;
        if tokens > limit {
            return Err(TooManyTokens { limit });
        }
    }
    Ok(tokens)
}

/// The document has more tokens than QUERY_MAX_TOKENS allows.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyTokens {
    pub limit: usize,
}

fn skip_while(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| !keep(b))
        .map_or(bytes.len(), |n| from + n)
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    skip_while(bytes, from, |b| b != b'\n' && b != b'\r')
}

/// After the closing quote of a string whose opening quote ends before `from`; an unterminated
/// string ends at the line's end, as the parser would refuse it there.
fn string_end(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            b'\n' | b'\r' => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

fn block_string_end(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        if bytes[at..].starts_with(b"\\\"\"\"") {
            at += 4;
        } else if bytes[at..].starts_with(b"\"\"\"") {
            return at + 3;
        } else {
            at += 1;
        }
    }
    bytes.len()
}

/// Length of the UTF-8 sequence a leading byte starts (1 for a stray continuation byte).
fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(query: &str) -> usize {
        count(query, usize::MAX).expect("no limit")
    }

    #[test]
    fn ignored_characters_are_not_tokens() {
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens(" ,\t\r\n# a comment { } \n"), 0);
    }

    #[test]
    fn each_lexical_token_counts_once() {
        // { a ( b : "x , y" ) ... F @ skip ( if : $ v ) c : -1.5e3 """ "" a """ }
        let query = r#"{ a(b: "x, y") ...F @skip(if: $v) c: -1.5e3 """ "" a """ }"#;
        assert_eq!(tokens(query), 22);
        assert_eq!(tokens(r#""a \" b""#), 1);
        assert_eq!(tokens(r#""""a \""" b""""#), 1);
    }

    #[test]
    fn counting_stops_past_the_limit() {
        let query = "a ".repeat(1_000_000);
        assert_eq!(count(&query, 10), Err(TooManyTokens { limit: 10 }));
        assert_eq!(count("a b c", 3), Ok(3));
    }

    #[test]
    fn non_ascii_and_stray_bytes_never_panic() {
        assert_eq!(tokens("é ü 𝄞"), 3);
        assert_eq!(tokens("\"unterminated\n{"), 2);
        assert_eq!(tokens("\"\"\"unterminated"), 1);
        assert_eq!(tokens("\"ends in a backslash\\"), 1);
    }
}
