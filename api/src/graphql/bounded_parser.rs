//! The parser the schema runs, in place of async-graphql's parse stage.
//!
//! Two things are wrong with the stage it replaces. Before any extension sees the
//! document, async-graphql walks it through every fragment spread to check its nesting
//! ("recursion depth"), expanding the spreads as it goes, which is exponential in a
//! document of fragments that spread each other. And its grammar recurses once per
//! bracket, so a document of a few thousand nested `[` could exhaust a worker's stack.
//!
//! So the text is first scanned once, without recursion: a document of more than
//! `max_query_tokens` tokens, or with brackets nested deeper than [`MAX_NESTING`], is
//! refused as `GRAPHQL_PARSE_FAILED` before the grammar runs. Then it is parsed, and
//! nothing else: what the document would cost is judged by the outer extensions
//! (`limits`), on the document, in linear time.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, Variables};

use super::errors::{code, with_code};

/// The deepest nesting of `{`, `[` and `(` a document may have. The parser itself refuses
/// selections nested deeper than 64, and values (lists, input objects) never need to nest
/// deeper than the schema's input types do.
pub const MAX_NESTING: usize = 64;

pub struct BoundedParser {
    pub max_tokens: usize,
}

impl ExtensionFactory for BoundedParser {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(BoundedParser {
            max_tokens: self.max_tokens,
        })
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for BoundedParser {
    async fn parse_query(
        &self,
        _ctx: &ExtensionContext<'_>,
        query: &str,
        _variables: &Variables,
        _next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // Deliberately not `next`: see the module comment.
        parse(query, self.max_tokens)
    }
}

/// Parses a document within the bounds, or says why not (`GRAPHQL_PARSE_FAILED`).
pub fn parse(query: &str, max_tokens: usize) -> ServerResult<ExecutableDocument> {
    let failed =
        |message: String| with_code(ServerError::new(message, None), code::GRAPHQL_PARSE_FAILED);
    let shape = scan(query);
    if shape.tokens > max_tokens {
        return Err(failed(format!(
            "the document has more than {max_tokens} tokens"
        )));
    }
    if shape.deepest > MAX_NESTING {
        return Err(failed(format!(
            "the document nests brackets deeper than {MAX_NESTING} levels"
        )));
    }
    async_graphql::parser::parse_query(query)
        .map_err(|e| with_code(ServerError::from(e), code::GRAPHQL_PARSE_FAILED))
}

/// What one pass over the text finds: how many tokens, how deep the brackets nest. The
/// scan stops counting once either is past any bound worth checking.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    tokens: usize,
    deepest: usize,
}

fn scan(text: &str) -> Shape {
    let bytes = text.as_bytes();
    let mut shape = Shape {
        tokens: 0,
        deepest: 0,
    };
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while bytes.get(i).is_some_and(|b| *b != b'\n' && *b != b'\r') {
                    i += 1;
                }
            }
            b'"' => {
                shape.tokens += 1;
                i = skip_string(bytes, i);
            }
            b'{' | b'[' | b'(' => {
                shape.tokens += 1;
                depth += 1;
                shape.deepest = shape.deepest.max(depth);
                i += 1;
            }
            b'}' | b']' | b')' => {
                shape.tokens += 1;
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes.get(i..i + 3) == Some(b"...") => {
                shape.tokens += 1;
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                shape.tokens += 1;
                // A name or a number (with its sign, fraction and exponent).
                while bytes.get(i).is_some_and(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'.')
                }) {
                    i += 1;
                }
            }
            _ => {
                shape.tokens += 1;
                i += 1;
            }
        }
    }
    shape
}

/// The index after the string that starts at `start`: a block string (`"""`) or a
/// string with backslash escapes. An unterminated string runs to the end; the parser
/// then says what is wrong.
pub(super) fn skip_string(bytes: &[u8], start: usize) -> usize {
    if bytes.get(start..start + 3) == Some(b"\"\"\"") {
        let mut i = start + 3;
        while i < bytes.len() {
            if bytes.get(i..i + 4) == Some(b"\\\"\"\"") {
                i += 4;
            } else if bytes.get(i..i + 3) == Some(b"\"\"\"") {
                return i + 3;
            } else {
                i += 1;
            }
        }
        return i;
    }
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_are_counted_strings_and_comments_as_one_or_none() {
        let shape = scan("query Q($a: Int = -1.5e3) { me { id } } # { { {");
        // query Q ( $ a : Int = -1.5e3 ) { me { id } }
        assert_eq!(shape.tokens, 16);
        assert_eq!(shape.deepest, 2);
        let shape = scan(r#"{ a(s: "x { [ \" (", b: """ { " "" \""" [ """) }"#);
        assert_eq!(shape.deepest, 2);
        assert_eq!(shape.tokens, 11);
        assert_eq!(scan("{ ...F }").tokens, 4);
    }

    #[test]
    fn a_document_over_the_token_bound_is_a_parse_failure() {
        let query = format!("{{ {} }}", "a ".repeat(100));
        assert!(parse(&query, 102).is_ok());
        let err = parse(&query, 101).unwrap_err();
        assert!(err.message.contains("tokens"), "{}", err.message);
    }

    #[test]
    fn brackets_nested_past_the_bound_are_refused_before_the_grammar_runs() {
        // Deep enough to exhaust a thread's stack in a recursive grammar.
        let depth = 100_000;
        let query = format!("{{ a(x: {}1{}) }}", "[".repeat(depth), "]".repeat(depth));
        let err = parse(&query, usize::MAX).unwrap_err();
        assert!(err.message.contains("deeper"), "{}", err.message);
        let query = format!("{{ a(x: {}1{}) }}", "[".repeat(60), "]".repeat(60));
        assert!(parse(&query, usize::MAX).is_ok());
    }

    #[test]
    fn what_does_not_parse_says_so() {
        assert!(parse("{ me { id }", 100).is_err());
        assert!(parse("{ a(s: \"unterminated) }", 100).is_err());
    }
}
