//! Cost before work: every limit on a document is judged on the document itself, before
//! async-graphql validates or runs anything, in time linear in its size.
//!
//! - **Shape**: at most `max_query_operations` operations and `max_query_fragments`
//!   fragments, at most `max_field_directives` directives on any field or spread, at most
//!   `max_variables` variable definitions per operation.
//! - **Cost** ([`document_cost`]): each operation's expansion, with fragments counted
//!   once and multiplied where spread, selects at most `max_query_complexity` fields
//!   (every field counts 1, `__typename` and introspection included), at most
//!   `max_query_aliases` of them aliased, nests at most `max_query_depth` fields deep, and
//!   checks at most one credential. A fragment cycle is refused here too.
//! - **Introspection depth**: a path through `__schema` or `__type` may nest
//!   [`INTROSPECTION_DEPTH`] fields deep, whatever `max_query_depth` says. The standard
//!   introspection queries (graphql-js, GraphiQL, graphql-core) follow a type reference
//!   through nine `ofType` levels, 15 fields deep in all; no schema needs more, since
//!   each `ofType` unwraps one `[...]` or `!`.
//! - **Variables** ([`VariableBounds`]): out of bounds is `BAD_USER_INPUT`.
//!
//! The one-credential-field rule is why aliases are counted at all: `a1: login(...)
//! a2: login(...)` would try a thousand passwords in one request, each costing a hash,
//! all admitted by the throttle at once. Such a document fails before any resolver runs,
//! so nothing is hashed and nothing counts as a failed login.
//!
//! Because a document that passes has a bounded expansion, async-graphql's own depth and
//! complexity visitors (which walk the expansion, and always run during validation) and
//! its executor cannot be made to do more than these limits admit. Its `limit_depth` and
//! `limit_complexity` are not set: the rules here replace them (they would refuse the
//! standard introspection queries, and they count neither `__typename` nor fragments once).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, ServerError, ServerResult, Variables};

use super::document_cost::{CREDENTIAL_FIELDS, Cost, operation_costs};
use super::errors::{code, with_code};
use super::variable_bounds::VariableBounds;
use crate::config::Settings;

/// How deep a path through `__schema` or `__type` may nest (see the module comment).
pub const INTROSPECTION_DEPTH: usize = 15;

/// The limits, from the settings of the same names.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_operations: usize,
    pub max_fragments: usize,
    pub max_field_directives: usize,
    pub max_variable_definitions: usize,
    pub variables: VariableBounds,
}

impl DocumentLimits {
    pub fn from_settings(settings: &Settings) -> DocumentLimits {
        DocumentLimits {
            max_depth: settings.max_query_depth,
            max_complexity: settings.max_query_complexity,
            max_aliases: settings.max_query_aliases,
            max_operations: settings.max_query_operations,
            max_fragments: settings.max_query_fragments,
            max_field_directives: settings.max_field_directives,
            max_variable_definitions: settings.max_variables,
            variables: VariableBounds {
                max_count: settings.max_variables,
                max_depth: settings.max_variable_depth,
                max_string_bytes: settings.max_variable_string_bytes,
                max_list_length: settings.max_variable_list_length,
            },
        }
    }

    /// Why the document may not run, if it may not (`GRAPHQL_VALIDATION_FAILED`).
    pub fn check_document(&self, document: &ExecutableDocument) -> Result<(), ServerError> {
        let operations = document.operations.iter().count();
        if operations > self.max_operations {
            return Err(refused(
                format!(
                    "a document may hold at most {} operations",
                    self.max_operations
                ),
                None,
            ));
        }
        if document.fragments.len() > self.max_fragments {
            return Err(refused(
                format!(
                    "a document may hold at most {} fragments",
                    self.max_fragments
                ),
                None,
            ));
        }
        for (_, operation) in document.operations.iter() {
            if operation.node.variable_definitions.len() > self.max_variable_definitions {
                return Err(refused(
                    format!(
                        "an operation may define at most {} variables",
                        self.max_variable_definitions
                    ),
                    Some(operation.pos),
                ));
            }
            self.directives(&operation.node.selection_set.node)?;
        }
        for fragment in document.fragments.values() {
            self.directives(&fragment.node.selection_set.node)?;
        }
        let costs = operation_costs(document).map_err(|cycle| {
            refused(
                format!("fragment `{}` spreads itself", cycle.fragment),
                Some(cycle.pos),
            )
        })?;
        costs
            .iter()
            .try_for_each(|(name, cost)| self.cost(*name, cost))
    }

    fn cost(&self, operation: Option<&str>, cost: &Cost) -> Result<(), ServerError> {
        let named = operation.map_or(String::new(), |name| format!(" (operation `{name}`)"));
        if cost.credential_fields > 1 {
            return Err(refused(
                format!(
                    "at most one credential-checking field ({}) may be selected per request{named}",
                    CREDENTIAL_FIELDS.join(", ")
                ),
                None,
            ));
        }
        if cost.depth > self.max_depth {
            return Err(refused(
                format!(
                    "Query is nested too deep{named}: {} levels, at most {}",
                    cost.depth, self.max_depth
                ),
                None,
            ));
        }
        if cost.introspection_depth > INTROSPECTION_DEPTH {
            return Err(refused(
                format!(
                    "Query is nested too deep{named}: introspection {} levels, at most {INTROSPECTION_DEPTH}",
                    cost.introspection_depth
                ),
                None,
            ));
        }
        if cost.fields > self.max_complexity {
            return Err(refused(
                format!(
                    "Query is too complex{named}: {} fields once fragments are expanded, at most {}",
                    count(cost.fields),
                    self.max_complexity
                ),
                None,
            ));
        }
        if cost.aliases > self.max_aliases {
            return Err(refused(
                format!(
                    "Query has too many aliases{named}: {}, at most {}",
                    count(cost.aliases),
                    self.max_aliases
                ),
                None,
            ));
        }
        Ok(())
    }

    /// Directives per field or spread, over the document as written (each selection once).
    fn directives(&self, selections: &SelectionSet) -> Result<(), ServerError> {
        for selection in &selections.items {
            if selection.node.directives().len() > self.max_field_directives {
                return Err(refused(
                    format!(
                        "a selection may carry at most {} directives",
                        self.max_field_directives
                    ),
                    Some(selection.pos),
                ));
            }
            match &selection.node {
                Selection::Field(field) => self.directives(&field.node.selection_set.node)?,
                Selection::InlineFragment(fragment) => {
                    self.directives(&fragment.node.selection_set.node)?;
                }
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }
}

fn count(n: usize) -> String {
    if n == usize::MAX {
        "too many to count".to_owned()
    } else {
        n.to_string()
    }
}

fn refused(message: String, pos: Option<Pos>) -> ServerError {
    with_code(
        ServerError::new(message, pos),
        code::GRAPHQL_VALIDATION_FAILED,
    )
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        self.check_document(&document)?;
        let defined = |name: &str| {
            document.operations.iter().any(|(_, operation)| {
                operation
                    .node
                    .variable_definitions
                    .iter()
                    .any(|definition| definition.node.name.node.as_str() == name)
            })
        };
        self.variables
            .check(variables, defined)
            .map_err(|why| with_code(ServerError::new(why, None), code::BAD_USER_INPUT))?;
        Ok(document)
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
