//! What a document would cost if it ran, worked out on the document itself, in time and
//! memory linear in its size.
//!
//! A fragment may be spread many times, and fragments may spread each other: ten lines of
//! `fragment F1 on Query { ...F0 ...F0 }` stand for a thousand fields, thirty lines for a
//! billion. Walking the expansion to count it is the attack itself. So each fragment's
//! [`Cost`] is computed once, remembered, and added wherever it is spread: counts add up
//! (saturating), depths take the deepest. Every field counts, `__typename` and the
//! introspection fields included, and every field counts as often as the expansion would
//! resolve it (directives such as `@skip` are ignored: the count is an upper bound).
//!
//! A fragment that spreads itself, directly or through others, has no finite expansion;
//! it is reported as [`FragmentCycle`] instead of being walked.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Pos};

/// The fields that check a password, a one-time password, a refresh token or a token
/// from a mail, and those that write mail. `refresh` is one: twenty aliased refreshes of
/// one token would otherwise race each other inside the grace window and mint twenty live
/// successors; a verification code guessed twenty times per request, or twenty mails
/// requested by one, would multiply what the limits allow. So are the step-up operations,
/// which may be given the password (`addAuthHeader`, `enrollTotp`), and `reauthenticate`.
/// The passkey finishes check a signature and spend a challenge: aliased, sixteen copies
/// of one assertion would race for its challenge inside one request.
pub const CREDENTIAL_FIELDS: &[&str] = &[
    "login",
    "register",
    "changePassword",
    "confirmTotp",
    "disableTotp",
    "refresh",
    "reauthenticate",
    "addAuthHeader",
    "enrollTotp",
    "requestEmailVerification",
    "verifyEmail",
    "requestPasswordReset",
    "resetPassword",
    "changeEmail",
    "confirmEmailChange",
    "startPasskeyRegistration",
    "finishPasskeyRegistration",
    "finishPasskeyLogin",
    "deletePasskey",
    "startPasskeySignup",
    "finishPasskeySignup",
];

/// The root fields whose subtrees describe the schema rather than data.
const INTROSPECTION_ROOTS: &[&str] = &["__schema", "__type"];

/// The cost of an operation, or of a fragment wherever it is spread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Fields in the expansion.
    pub fields: usize,
    /// Fields in the expansion written with an alias.
    pub aliases: usize,
    /// Credential-checking fields at the top level of the selection (what an operation's
    /// root would resolve).
    pub credential_fields: usize,
    /// The deepest path of nested fields that passes through no introspection root field.
    pub depth: usize,
    /// The deepest path of nested fields that passes through `__schema` or `__type`, or 0.
    pub introspection_depth: usize,
}

impl Cost {
    fn add(self, other: Cost) -> Cost {
        Cost {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
            credential_fields: self
                .credential_fields
                .saturating_add(other.credential_fields),
            depth: self.depth.max(other.depth),
            introspection_depth: self.introspection_depth.max(other.introspection_depth),
        }
    }
}

/// A fragment that spreads itself: its expansion never ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentCycle {
    pub fragment: String,
    pub pos: Pos,
}

/// The cost of each operation of the document, by name (`None` for an anonymous one),
/// after checking that no fragment, used or not, is part of a cycle.
pub fn operation_costs(
    document: &ExecutableDocument,
) -> Result<Vec<(Option<&str>, Cost)>, FragmentCycle> {
    let mut walk = Walk {
        document,
        fragments: HashMap::new(),
    };
    for name in document.fragments.keys() {
        walk.fragment(name, None)?;
    }
    document
        .operations
        .iter()
        .map(|(name, operation)| {
            let cost = walk.selection_set(&operation.node.selection_set.node)?;
            Ok((name.map(Name::as_str), cost))
        })
        .collect()
}

/// The cost of each fragment, once; `InProgress` while its own selection is being walked,
/// so meeting it again then is a cycle.
enum Known {
    InProgress,
    Done(Cost),
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    fragments: HashMap<&'a Name, Known>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, selections: &'a SelectionSet) -> Result<Cost, FragmentCycle> {
        let mut total = Cost::default();
        for selection in &selections.items {
            let cost = match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let inner = self.selection_set(&field.selection_set.node)?;
                    let introspection = INTROSPECTION_ROOTS.contains(&name);
                    Cost {
                        fields: inner.fields.saturating_add(1),
                        aliases: inner
                            .aliases
                            .saturating_add(usize::from(field.alias.is_some())),
                        // What a field selects is its answer, not more root fields.
                        credential_fields: usize::from(CREDENTIAL_FIELDS.contains(&name)),
                        depth: if introspection { 0 } else { inner.depth + 1 },
                        introspection_depth: if introspection {
                            inner.depth.max(inner.introspection_depth) + 1
                        } else if inner.introspection_depth > 0 {
                            inner.introspection_depth + 1
                        } else {
                            0
                        },
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set.node)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, Some(spread.pos))?
                }
            };
            total = total.add(cost);
        }
        Ok(total)
    }

    /// A fragment's cost, walked the first time only. An unknown fragment costs nothing
    /// here: validation refuses it by name.
    fn fragment(&mut self, name: &'a Name, spread_at: Option<Pos>) -> Result<Cost, FragmentCycle> {
        let Some(definition) = self.document.fragments.get(name) else {
            return Ok(Cost::default());
        };
        match self.fragments.get(name) {
            Some(Known::Done(cost)) => return Ok(*cost),
            Some(Known::InProgress) => {
                return Err(FragmentCycle {
                    fragment: name.to_string(),
                    pos: spread_at.unwrap_or(definition.pos),
                });
            }
            None => {}
        }
        self.fragments.insert(name, Known::InProgress);
        let cost = self.selection_set(&definition.node.selection_set.node)?;
        self.fragments.insert(name, Known::Done(cost));
        Ok(cost)
    }
}

#[cfg(test)]
#[path = "document_cost_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "document_cost_props.rs"]
mod props;
