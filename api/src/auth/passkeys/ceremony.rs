//! A ceremony's server half: written at its start, taken once at its finish.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration,
};

use super::relying_party::CEREMONY_TTL;
use crate::auth::error::AuthError;
use crate::store::webauthn_challenges::{NewChallenge, WebauthnChallenges};

/// Which ceremony a challenge was issued for: one issued for registration never finishes
/// a login, and the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    Register,
    /// Registration of a new account's first passkey (passwordless sign-up).
    Signup,
    Login,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Ceremony::Register => "register",
            Ceremony::Signup => "signup",
            Ceremony::Login => "login",
        }
    }
}

/// webauthn-rs's state for a ceremony under way (it holds the challenge).
#[derive(Serialize, Deserialize)]
pub(super) enum State {
    Register(PasskeyRegistration),
    /// A login that named its account: only that account's credentials are allowed.
    Login(PasskeyAuthentication),
    /// A login that named no account: the credential's user handle names it.
    Discoverable(DiscoverableAuthentication),
}

/// A ceremony taken for its finish.
pub(super) struct Taken {
    pub state: State,
    /// The account the ceremony was started for; `None` for a discoverable login.
    pub account_id: Option<Uuid>,
    pub payload: Option<String>,
}

/// Why the response's challenge was not accepted; all the same to the client.
pub(super) const UNKNOWN_CHALLENGE: &str =
    "passkey response refused: its challenge is unknown, used or expired";

pub(super) struct Ceremonies {
    rows: WebauthnChallenges,
}

impl Ceremonies {
    pub fn new(rows: WebauthnChallenges) -> Ceremonies {
        Ceremonies { rows }
    }

    /// Keeps `state` until the finish, for at most [`CEREMONY_TTL`].
    pub async fn begin(
        &self,
        challenge: &[u8],
        ceremony: Ceremony,
        account_id: Option<Uuid>,
        state: &State,
        payload: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let state = serde_json::to_string(state)
            .map_err(|e| AuthError::Internal(anyhow::Error::new(e).context("ceremony state")))?;
        let ttl = chrono::Duration::from_std(CEREMONY_TTL).unwrap_or(chrono::Duration::MAX);
        self.rows
            .insert(NewChallenge {
                challenge_hash: challenge_hash(challenge),
                ceremony: ceremony.as_str(),
                account_id,
                state,
                payload,
                now,
                expires_at: now + ttl,
            })
            .await?;
        Ok(())
    }

    /// Takes the unexpired `ceremony` whose challenge the browser signed in
    /// `client_data_json`; `None` when there is none (never issued, another ceremony's,
    /// expired, or already taken: a replay, or the loser of a race).
    pub async fn take(
        &self,
        client_data_json: &[u8],
        ceremony: Ceremony,
        now: DateTime<Utc>,
    ) -> Result<Option<Taken>, AuthError> {
        let Some(challenge) = signed_challenge(client_data_json) else {
            return Ok(None);
        };
        let Some(row) = self
            .rows
            .consume(&challenge_hash(&challenge), ceremony.as_str(), now)
            .await?
        else {
            return Ok(None);
        };
        let state = serde_json::from_str(row.state.expose())
            .map_err(|e| AuthError::Internal(anyhow::Error::new(e).context("ceremony state")))?;
        Ok(Some(Taken {
            state,
            account_id: row.account_id,
            payload: row.payload,
        }))
    }
}

/// The challenge in the client data the browser signed. Only its `challenge` member is
/// read here, to find the ceremony; webauthn-rs checks the whole of it (type, origin,
/// challenge) against the ceremony's state.
fn signed_challenge(client_data_json: &[u8]) -> Option<Vec<u8>> {
    #[derive(Deserialize)]
    struct ClientData {
        challenge: String,
    }
    let data: ClientData = serde_json::from_slice(client_data_json).ok()?;
    URL_SAFE_NO_PAD
        .decode(data.challenge.trim_end_matches('='))
        .ok()
}

fn challenge_hash(challenge: &[u8]) -> String {
    Sha256::digest(challenge)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_challenge_is_read_from_the_client_data() {
        let json = br#"{"type":"webauthn.get","challenge":"AAEC_w","origin":"http://localhost"}"#;
        assert_eq!(signed_challenge(json).unwrap(), vec![0, 1, 2, 255]);
    }

    #[test]
    fn client_data_without_a_readable_challenge_finds_nothing() {
        assert!(signed_challenge(b"not json").is_none());
        assert!(signed_challenge(br#"{"type":"webauthn.get"}"#).is_none());
        assert!(signed_challenge(br#"{"challenge":"***"}"#).is_none());
    }

    #[test]
    fn challenges_are_kept_as_their_sha256() {
        assert_eq!(
            challenge_hash(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
