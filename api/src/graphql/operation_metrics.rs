//! Counts and times every GraphQL request by the kind of operation it ran (query,
//! mutation, subscription; `invalid` when no operation was selected: a parse error, or
//! an `operationName` that names none). Outermost, so its time covers every stage.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Request, Response, ServerResult, Variables};

use crate::series::record;

pub struct OperationMetrics;

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Observed::default())
    }
}

/// One request's observations.
#[derive(Default)]
struct Observed {
    operation_name: OnceLock<Option<String>>,
    /// `KINDS` index, or `INVALID`.
    kind: AtomicU8,
}

const INVALID: u8 = 0;
const KINDS: [&str; 4] = ["invalid", "query", "mutation", "subscription"];

#[async_graphql::async_trait::async_trait]
impl Extension for Observed {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let kind = KINDS
            .get(usize::from(self.kind.load(Ordering::Relaxed)))
            .copied()
            .unwrap_or("invalid");
        record::graphql_request(kind, started.elapsed());
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let _ = self.operation_name.set(request.operation_name.clone());
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let name = self.operation_name.get().and_then(Option::as_deref);
        self.kind.store(kind_of(&document, name), Ordering::Relaxed);
        Ok(document)
    }
}

/// The kind of the operation `name` selects (or the only one), as a `KINDS` index.
fn kind_of(document: &ExecutableDocument, name: Option<&str>) -> u8 {
    let selected = match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    match selected {
        None => INVALID,
        Some(OperationType::Query) => 1,
        Some(OperationType::Mutation) => 2,
        Some(OperationType::Subscription) => 3,
    }
}
