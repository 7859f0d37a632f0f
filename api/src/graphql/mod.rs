//! The GraphQL schema: built once at start, with every document's cost judged before it
//! runs (`limits`), and error codes on everything it can answer.

mod bounded_parser;
mod context;
mod document_cost;
pub mod errors;
mod introspection;
mod limits;
mod mutation;
pub mod operation_kinds;
mod operation_metrics;
mod parsed_documents;
mod query;
pub mod subscription;
pub mod types;
mod variable_arguments;
mod variable_bounds;

use std::sync::Arc;

use async_graphql::Schema;

pub use bounded_parser::parse as parse_bounded;
pub use context::{Credential, CredentialSource, IssuedTokens, RequestContext, TokenDelivery};
pub use mutation::Mutation;
pub use operation_metrics::ObservedOperation;
pub use query::Query;
pub use subscription::{SocketEnd, Subscription};

use crate::auth::authenticator::Authenticator;
use crate::config::Settings;

pub type LatchkeySchema = Schema<Query, Mutation, Subscription>;

/// The schema the server runs.
pub fn build_schema(settings: &Settings, auth: Arc<Authenticator>) -> LatchkeySchema {
    let mut builder = Schema::build(Query, Mutation::default(), Subscription)
        .data(auth)
        // Outermost: it also notes each request's operation kind for the metrics, once
        // every parse-stage check below has passed.
        .extension(errors::ErrorCodes::default())
        // No `limit_depth` / `limit_complexity`: `DocumentLimits` replaces them (see there).
        .extension(limits::DocumentLimits::from_settings(settings));
    if !settings.introspection {
        builder = builder
            .disable_introspection()
            .extension(introspection::NoIntrospection);
    }
    // Innermost: the cache stands in for the parser only, so every extension above still
    // inspects each request's document; and the bounded parser stands in for
    // async-graphql's parse stage, whose recursion check expands fragments.
    builder
        .extension(parsed_documents::ParsedDocuments::default())
        .extension(bounded_parser::BoundedParser {
            max_tokens: settings.max_query_tokens,
        })
        .finish()
}

/// The SDL the code defines: what `latchkey schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    Schema::build(Query, Mutation::default(), Subscription)
        .finish()
        .sdl()
}
