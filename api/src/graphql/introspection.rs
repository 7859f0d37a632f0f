//! Refuses introspection at validation when it is turned off.
//!
//! async-graphql's own switch answers `__schema` with `null`, which a client cannot tell
//! from an empty schema; API.md wants the query refused, so this extension fails such a
//! document with `GRAPHQL_VALIDATION_FAILED` before anything runs.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, ServerError, ServerResult, Variables};

use super::errors::{code, with_code};

pub struct NoIntrospection;

impl ExtensionFactory for NoIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NoIntrospection)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for NoIntrospection {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut visited = HashSet::new();
        for (_, operation) in document.operations.iter() {
            if let Some(pos) =
                introspection_field(&document, &operation.node.selection_set.node, &mut visited)
            {
                let error = ServerError::new("introspection is disabled on this server", Some(pos));
                return Err(with_code(error, code::GRAPHQL_VALIDATION_FAILED));
            }
        }
        Ok(document)
    }
}

/// The position of a root `__schema` or `__type` field, looking through fragments.
fn introspection_field<'a>(
    document: &'a ExecutableDocument,
    selections: &'a SelectionSet,
    visited: &mut HashSet<&'a str>,
) -> Option<Pos> {
    selections
        .items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type").then_some(field.pos)
            }
            Selection::InlineFragment(fragment) => {
                introspection_field(document, &fragment.node.selection_set.node, visited)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                // A fragment cycle is a validation error of its own; just do not loop on it.
                if !visited.insert(name) {
                    return None;
                }
                let fragment = document.fragments.get(&spread.node.fragment_name.node)?;
                introspection_field(document, &fragment.node.selection_set.node, visited)
            }
        })
}
