//! The GraphQL schema: built once at start, with depth and complexity limits, and
//! error codes on everything it can answer.

mod context;
pub mod errors;
mod introspection;
mod limits;
mod mutation;
mod parsed_documents;
mod query;
pub mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema};

pub use context::{Credential, CredentialSource, IssuedTokens, RequestContext, TokenDelivery};
pub use mutation::Mutation;
pub use query::Query;

use crate::auth::authenticator::Authenticator;
use crate::config::Settings;

pub type LatchkeySchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema the server runs.
pub fn build_schema(settings: &Settings, auth: Arc<Authenticator>) -> LatchkeySchema {
    let mut builder = Schema::build(Query, Mutation::default(), EmptySubscription)
        .data(auth)
        .extension(errors::ErrorCodes)
        .extension(limits::OneCredentialField)
        .limit_depth(settings.max_query_depth)
        .limit_complexity(settings.max_query_complexity);
    if !settings.introspection {
        builder = builder
            .disable_introspection()
            .extension(introspection::NoIntrospection);
    }
    // Last, so innermost: it stands in for the parser only, and every extension above
    // still inspects each request's document.
    builder
        .extension(parsed_documents::ParsedDocuments::default())
        .finish()
}

/// The SDL the code defines: what `latchkey schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    Schema::build(Query, Mutation::default(), EmptySubscription)
        .finish()
        .sdl()
}
