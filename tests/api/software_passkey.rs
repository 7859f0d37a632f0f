//! A software passkey authenticator and WebAuthn client (1Password's passkey-rs), standing
//! in for a browser with a platform authenticator: it takes the options JSON the server
//! hands out and answers with the `toJSON()` a browser would send back.

use async_trait::async_trait;
use passkey_authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey_client::{Client, DefaultClientData};
use passkey_crypto::AvailableBackend;
use passkey_types::Passkey;
use passkey_types::ctap2::{Aaguid, Ctap2Error};
use passkey_types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use serde_json::{Value, json};
use url::Url;

/// The AAGUID this authenticator reports: Bitwarden's, so the model name shows.
pub const AAGUID: &str = "d548826e-79b4-db40-a3d8-11116f7e8349";

/// Verifies its user (a PIN or biometric) when asked, or never.
struct User {
    verifies: bool,
}

#[async_trait]
impl UserValidationMethod for User {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        _presence: bool,
        _verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence: true,
            verification: self.verifies,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(self.verifies)
    }
}

/// One authenticator holding (at most) one discoverable credential.
pub struct SoftwarePasskey {
    store: Option<Passkey>,
    pub origin: Url,
    verifies: bool,
}

impl SoftwarePasskey {
    /// An authenticator in a browser showing a page of `origin`.
    pub fn new(origin: &str) -> Self {
        Self {
            store: None,
            origin: Url::parse(origin).expect("an origin"),
            verifies: true,
        }
    }

    fn client(
        &mut self,
    ) -> Client<Option<Passkey>, User, AvailableBackend, public_suffix::PublicSuffixList, ()> {
        let aaguid = Aaguid::from(*uuid::Uuid::parse_str(AAGUID).expect("uuid").as_bytes());
        let mut authenticator = Authenticator::new(
            aaguid,
            self.store.take(),
            User {
                verifies: self.verifies,
            },
            AvailableBackend,
        );
        // A counter, so the server's check of it is exercised.
        authenticator.set_make_credentials_with_signature_counter(true);
        Client::new(authenticator).allows_insecure_localhost(true)
    }

    /// `navigator.credentials.create({publicKey: options})`, then `toJSON()`.
    pub async fn create(&mut self, options: &Value) -> Value {
        let options: CredentialCreationOptions =
            serde_json::from_value(json!({ "publicKey": options })).expect("creation options");
        let origin = self.origin.clone();
        let mut client = self.client();
        let created = client
            .register(&origin, options, DefaultClientData)
            .await
            .expect("the authenticator creates a credential");
        self.store = client.authenticator().store().clone();
        serde_json::to_value(&created).expect("JSON")
    }

    /// `navigator.credentials.get({publicKey: options})`, then `toJSON()`.
    pub async fn get(&mut self, options: &Value) -> Value {
        let options: CredentialRequestOptions =
            serde_json::from_value(json!({ "publicKey": options })).expect("request options");
        let origin = self.origin.clone();
        let mut client = self.client();
        let asserted = client
            .authenticate(&origin, options, DefaultClientData)
            .await
            .expect("the authenticator signs");
        self.store = client.authenticator().store().clone();
        serde_json::to_value(&asserted).expect("JSON")
    }
}
