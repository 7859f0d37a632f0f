//! Which kind of operation a document runs: whether it might hold a mutation (or
//! subscription), read from its text without parsing it ([`may_mutate`]), and which
//! operation a parsed document selects ([`selected_type`]).
//!
//! The HTTP layer decides with this where an anonymous request runs (see
//! `http/low_priority.rs`) before anything is parsed: parsing is the largest cost a
//! document of unique text brings, and it is what the decision is there to move off the
//! request workers. So this is a byte scan, not the parser: an operation's kind keyword can
//! only stand outside every selection set, so it is enough to track `{ }` depth, skip
//! strings and comments, and look for the bare names `mutation` and `subscription` at depth
//! zero. A false "might" (a fragment or variable default named `mutation`) only keeps a
//! document on the workers, where it would have run anyway.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

use super::bounded_parser::skip_string;

/// The type of the operation `name` selects in `document`, or of its only operation when
/// no name is given; `None` when the name selects nothing, or several operations and no
/// name (the executor reports both).
pub fn selected_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// `true` unless every operation in `text` is certainly a query.
pub fn may_mutate(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'#' => {
                while bytes.get(i).is_some_and(|&b| b != b'\n' && b != b'\r') {
                    i += 1;
                }
            }
            b'"' => i = skip_string(bytes, i),
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'$' | b'@' => {
                // A variable or directive name: never an operation's kind.
                i += 1;
                while bytes.get(i).is_some_and(|&b| is_name_byte(b)) {
                    i += 1;
                }
            }
            b if is_name_start(b) => {
                let start = i;
                while bytes.get(i).is_some_and(|&b| is_name_byte(b)) {
                    i += 1;
                }
                let name = bytes.get(start..i).unwrap_or_default();
                if depth == 0 && (name == b"mutation" || name == b"subscription") {
                    return true;
                }
            }
            _ => i += 1,
        }
    }
    false
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::may_mutate;

    #[test]
    fn queries_are_queries() {
        for text in [
            "{ me { id } }",
            "query { authPolicy { signupEnabled } }",
            "query Q($mutation: Int = 1) { a: __typename }",
            "query { __schema { mutationType { name } subscriptionType { name } } }",
            "{ f(arg: \"mutation { x }\") }",
            "{ f(arg: \"\"\" mutation \\\"\"\" } mutation \"\"\") }",
            "# mutation\n{ __typename }",
            "{ ...F } fragment F on Query { __typename }",
            "query @mutation { __typename }",
        ] {
            assert!(!may_mutate(text), "{text}");
        }
    }

    #[test]
    fn anything_that_might_mutate_is_said_to() {
        for text in [
            "mutation { logout }",
            "  mutation\n{ logout }",
            "query A { __typename } mutation B { logout }",
            "subscription { x }",
            "{ a } mutation{ b }",
            "fragment mutation on Query { __typename }",
            // Unbalanced braces cannot hide a keyword: depth never goes below zero.
            "} } mutation { logout }",
            "{ x(a: \"unterminated\n} mutation { logout }",
        ] {
            assert!(may_mutate(text), "{text}");
        }
    }
}
