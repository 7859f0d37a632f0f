mod accounts;
mod sessions;

use async_graphql::MergedObject;

/// Write operations.
#[derive(MergedObject, Default)]
pub struct Mutation(accounts::AccountMutations, sessions::SessionMutations);
