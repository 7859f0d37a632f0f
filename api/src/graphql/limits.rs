//! At most one credential-checking field per operation, refused before anything runs.
//!
//! Aliases let one request ask for a field many times: `a1: login(...) a2: login(...)`
//! would try a thousand passwords in one HTTP request, each costing a hash, all of them
//! admitted by the throttle at once. A document whose operation selects more than one of
//! these fields (counting aliases, repeats, and fields reached through fragments) fails
//! with `GRAPHQL_VALIDATION_FAILED` before any resolver runs, so nothing is hashed and
//! nothing counts as a failed login.
//!
//! Fields are matched by name, so the rule covers a credential-checking field from the
//! moment it is added to the schema.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, ServerError, ServerResult, Variables};

use super::errors::{code, with_code};

/// The fields that check a password or a one-time password.
pub const CREDENTIAL_FIELDS: &[&str] = &[
    "login",
    "register",
    "changePassword",
    "confirmTotp",
    "disableTotp",
];

pub struct OneCredentialField;

impl ExtensionFactory for OneCredentialField {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OneCredentialField)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for OneCredentialField {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if most_credential_fields(&document) > 1 {
            let error = ServerError::new(
                format!(
                    "at most one credential-checking field ({}) may be selected per request",
                    CREDENTIAL_FIELDS.join(", ")
                ),
                None,
            );
            return Err(with_code(error, code::GRAPHQL_VALIDATION_FAILED));
        }
        Ok(document)
    }
}

/// The most credential-checking root fields any one operation of the document selects.
pub fn most_credential_fields(document: &ExecutableDocument) -> usize {
    let mut counter = Counter {
        document,
        fragments: HashMap::new(),
    };
    document
        .operations
        .iter()
        .map(|(_, operation)| counter.count(&operation.node.selection_set.node))
        .max()
        .unwrap_or(0)
}

struct Counter<'a> {
    document: &'a ExecutableDocument,
    /// Each fragment's count, worked out once: a fragment spread many times (or nested
    /// fragments spreading each other many times) costs no more than one walk, so a
    /// crafted document cannot make this check slow. `None` while it is being counted.
    fragments: HashMap<&'a Name, Option<usize>>,
}

impl<'a> Counter<'a> {
    fn count(&mut self, selections: &'a SelectionSet) -> usize {
        selections
            .items
            .iter()
            .map(|selection| match &selection.node {
                // Credential fields are root fields: what they select is their answer.
                Selection::Field(field) => {
                    usize::from(CREDENTIAL_FIELDS.contains(&field.node.name.node.as_str()))
                }
                Selection::InlineFragment(fragment) => {
                    self.count(&fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node),
            })
            .fold(0, usize::saturating_add)
    }

    fn fragment(&mut self, name: &'a Name) -> usize {
        match self.fragments.get(name) {
            Some(Some(known)) => return *known,
            // A cycle: validation refuses it on its own; count it once.
            Some(None) => return 0,
            None => {}
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return 0;
        };
        self.fragments.insert(name, None);
        let counted = self.count(&fragment.node.selection_set.node);
        self.fragments.insert(name, Some(counted));
        counted
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn count(query: &str) -> usize {
        most_credential_fields(&async_graphql::parser::parse_query(query).unwrap())
    }

    const LOGIN: &str = r#"login(input: {username: "a", password: "b"}) { expires }"#;

    #[test]
    fn one_credential_field_is_fine() {
        assert_eq!(count(&format!("mutation {{ {LOGIN} }}")), 1);
        assert_eq!(count("{ me { id } }"), 0);
    }

    #[test]
    fn aliases_and_repeats_are_each_counted() {
        assert_eq!(count(&format!("mutation {{ a: {LOGIN} b: {LOGIN} }}")), 2);
        assert_eq!(count(&format!("mutation {{ {LOGIN} {LOGIN} }}")), 2);
    }

    #[test]
    fn different_credential_fields_add_up() {
        let query = format!(
            r#"mutation {{ {LOGIN} register(input: {{username: "u", password: "p"}}) {{ id }} }}"#
        );
        assert_eq!(count(&query), 2);
        for field in ["changePassword", "confirmTotp", "disableTotp"] {
            let query = format!("mutation {{ {LOGIN} {field}(x: 1) }}");
            assert_eq!(count(&query), 2, "{field}");
        }
    }

    #[test]
    fn fields_inside_fragments_are_counted_each_time_they_are_spread() {
        let query = format!(
            "mutation {{ ...F ...F ... on Mutation {{ {LOGIN} }} }} fragment F on Mutation {{ {LOGIN} }}"
        );
        assert_eq!(count(&query), 3);
    }

    #[test]
    fn nested_fragments_are_counted_without_walking_them_again() {
        // Each level spreads the next twice: 2^30 logins if walked naively.
        let mut query = String::from("mutation { ...F0 }");
        for level in 0..30 {
            let next = level + 1;
            query.push_str(&format!(
                " fragment F{level} on Mutation {{ ...F{next} ...F{next} }}"
            ));
        }
        query.push_str(&format!(" fragment F30 on Mutation {{ {LOGIN} }}"));
        assert_eq!(count(&query), 1 << 30);
    }

    #[test]
    fn only_root_fields_count() {
        let query =
            format!("mutation M {{ {LOGIN} }} query Q {{ me {{ login: id register: id }} }}");
        assert_eq!(count(&query), 1);
    }

    #[test]
    fn a_fragment_cycle_does_not_loop() {
        let query = format!(
            "mutation {{ ...A }} fragment A on Mutation {{ {LOGIN} ...B }} fragment B on Mutation {{ ...A }}"
        );
        assert_eq!(count(&query), 1);
    }

    #[test]
    fn each_operation_is_judged_on_its_own() {
        let query = format!("mutation One {{ {LOGIN} }} mutation Two {{ {LOGIN} }}");
        assert_eq!(count(&query), 1);
    }
}
