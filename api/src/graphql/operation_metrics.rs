//! Which kind of operation each GraphQL request ran (query, mutation, subscription;
//! `invalid` when none was selected: a parse error, a document refused before validation,
//! an `operationName` that names none), for the request series the HTTP layer records
//! around the schema (`http/graphql.rs`).
//!
//! Not an extension of its own: each extension is one more hop, through a boxed future, at
//! every stage of every request and at every field resolved, plus an allocation per request,
//! and that cost more than the recording itself (bench/README.md, "The cost of metrics").
//! The outermost parse stage there is anyway (`errors::ErrorCodes`) notes the kind into the
//! request's [`RequestContext`](super::RequestContext).

use std::sync::atomic::{AtomicU8, Ordering};

use async_graphql::parser::types::{ExecutableDocument, OperationType};

use super::operation_kinds::selected_type;

use crate::series::record::OperationKind;

/// One request's operation, as far as the metrics need it.
#[derive(Debug, Default)]
pub struct ObservedOperation {
    /// The request's `operationName`, which picks the operation of a document that holds
    /// several. Kept only while metrics are on.
    name: Option<String>,
    /// An `OperationKind` as `u8`: written by the parse stage, read once the request is
    /// answered.
    kind: AtomicU8,
}

impl ObservedOperation {
    pub fn named(name: Option<String>) -> ObservedOperation {
        ObservedOperation {
            name,
            kind: AtomicU8::new(OperationKind::Invalid as u8),
        }
    }

    /// The kind of the operation the request selected; `Invalid` until its document parsed.
    pub fn kind(&self) -> OperationKind {
        match self.kind.load(Ordering::Relaxed) {
            1 => OperationKind::Query,
            2 => OperationKind::Mutation,
            3 => OperationKind::Subscription,
            _ => OperationKind::Invalid,
        }
    }

    /// Notes the kind of the operation the request's name selects in its parsed document.
    pub(super) fn note(&self, document: &ExecutableDocument) {
        let kind = kind_of(document, self.name.as_deref());
        self.kind.store(kind as u8, Ordering::Relaxed);
    }
}

/// The kind of the operation `name` selects (or the only one).
fn kind_of(document: &ExecutableDocument, name: Option<&str>) -> OperationKind {
    match selected_type(document, name) {
        None => OperationKind::Invalid,
        Some(OperationType::Query) => OperationKind::Query,
        Some(OperationType::Mutation) => OperationKind::Mutation,
        Some(OperationType::Subscription) => OperationKind::Subscription,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn kind(document: &str, name: Option<&str>) -> OperationKind {
        let observed = ObservedOperation::named(name.map(str::to_owned));
        observed.note(&parse_query(document).unwrap());
        observed.kind()
    }

    #[test]
    fn the_selected_operation_gives_the_kind() {
        assert_eq!(kind("{ me { id } }", None), OperationKind::Query);
        assert_eq!(kind("mutation { logout }", None), OperationKind::Mutation);
        assert_eq!(
            kind("subscription S { x }", None),
            OperationKind::Subscription
        );
        let two = "query A { me { id } } mutation B { logout }";
        assert_eq!(kind(two, Some("A")), OperationKind::Query);
        assert_eq!(kind(two, Some("B")), OperationKind::Mutation);
    }

    #[test]
    fn no_selected_operation_is_invalid() {
        let two = "query A { me { id } } mutation B { logout }";
        assert_eq!(kind(two, None), OperationKind::Invalid);
        assert_eq!(kind(two, Some("C")), OperationKind::Invalid);
        assert_eq!(ObservedOperation::default().kind(), OperationKind::Invalid);
    }
}
