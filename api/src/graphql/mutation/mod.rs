mod accounts;
mod auth_headers;
mod sessions;

use async_graphql::MergedObject;

/// Write operations.
#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::AccountMutations,
    sessions::SessionMutations,
    auth_headers::AuthHeaderMutations,
);
