//! Who is making a request, once their credential has been checked.

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    /// The login session of the access token used (its `sid`).
    pub session_id: Uuid,
}
