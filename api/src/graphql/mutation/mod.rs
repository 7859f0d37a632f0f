mod accounts;
mod auth_headers;
mod email;
mod passkeys;
mod sessions;
mod totp;

use async_graphql::MergedObject;

/// Write operations.
#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::AccountMutations,
    sessions::SessionMutations,
    auth_headers::AuthHeaderMutations,
    totp::TotpMutations,
    email::EmailMutations,
    passkeys::PasskeyMutations,
);
