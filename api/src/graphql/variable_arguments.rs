//! Where a document passes a variable as an argument.
//!
//! async-graphql reports a wrongly typed argument with the same message whether the value
//! was written in the document or came in a variable. The two are different errors in the
//! spec: a literal of the wrong type is a validation error (`GRAPHQL_VALIDATION_FAILED`),
//! a variable of the wrong type is bad input (`BAD_USER_INPUT`). The error points at the
//! argument's name; this module finds which argument names carry a variable.

use std::collections::HashSet;

use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, Positioned};

/// Whether an argument's value, as written, holds a variable anywhere: found by trying to
/// make it a constant without any variables. (A macro: the parser's value type has no
/// public name.)
macro_rules! holds_variable {
    ($value:expr) => {
        $value
            .node
            .clone()
            .into_const_with(|_| Err::<async_graphql::Value, ()>(()))
            .is_err()
    };
}

/// The positions of every argument name whose value holds a variable, in fields and
/// directives, each selection of the document visited once (fragments as written).
pub fn positions(document: &ExecutableDocument) -> HashSet<Pos> {
    let mut found = HashSet::new();
    for (_, operation) in document.operations.iter() {
        selection_set(&operation.node.selection_set.node, &mut found);
    }
    for fragment in document.fragments.values() {
        selection_set(&fragment.node.selection_set.node, &mut found);
    }
    found
}

fn selection_set(selections: &SelectionSet, found: &mut HashSet<Pos>) {
    for selection in &selections.items {
        directives(selection.node.directives(), found);
        match &selection.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    if holds_variable!(value) {
                        found.insert(name.pos);
                    }
                }
                selection_set(&field.node.selection_set.node, found);
            }
            Selection::InlineFragment(fragment) => {
                selection_set(&fragment.node.selection_set.node, found);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn directives(directives: &[Positioned<Directive>], found: &mut HashSet<Pos>) {
    for directive in directives {
        for (name, value) in &directive.node.arguments {
            if holds_variable!(value) {
                found.insert(name.pos);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_arguments_carrying_a_variable_are_found() {
        let document = async_graphql::parser::parse_query(
            "query($v: String, $b: Boolean!) { a(x: $v, y: 1) { b(z: [{ w: $v }]) @skip(if: $b) } ...F } \
             fragment F on Query { c(q: \"lit\", r: $v) }",
        )
        .unwrap();
        assert_eq!(positions(&document).len(), 4);
    }
}
