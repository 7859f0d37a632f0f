//! A JWS forger and checker that shares no code with the server: `ring` for Ed25519 and
//! HMAC, `base64` for the encoding, `serde_json` for the JSON. The server signs with
//! `jsonwebtoken` and generates keys with `ed25519-dalek`; a bug there cannot hide here.
//!
//! It reads the server's signing key straight out of the test database, so a test can sign
//! a token exactly as the server would and then change one thing.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::Value;

pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[track_caller]
pub fn b64url_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_else(|e| panic!("`{text}` is not unpadded base64url: {e}"))
}

/// The three dot-separated parts of a compact JWS, still encoded.
#[track_caller]
pub fn parts(token: &str) -> [&str; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    match parts.as_slice() {
        [header, payload, signature] => [header, payload, signature],
        _ => panic!("a compact JWS has three parts: {token}"),
    }
}

/// The decoded JOSE header of a token.
#[track_caller]
pub fn header(token: &str) -> Value {
    decode_json(parts(token)[0])
}

/// The decoded claims of a token.
#[track_caller]
pub fn claims(token: &str) -> Value {
    decode_json(parts(token)[1])
}

#[track_caller]
fn decode_json(part: &str) -> Value {
    let bytes = b64url_decode(part);
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("`{part}` is not base64url JSON: {e}"))
}

/// `base64url(header) || '.' || base64url(claims)`: the bytes a JWS signature covers.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string()),
        b64url(claims.to_string())
    )
}

/// An `alg: none`-style token: the header and claims as given, and an empty signature.
pub fn unsigned(header: &Value, claims: &Value) -> String {
    format!("{}.", signing_input(header, claims))
}

/// The base64url HMAC-SHA256 of `signing_input` under `secret` (the JWS `HS256` signature).
pub fn hs256_signature(secret: &[u8], signing_input: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    b64url(hmac::sign(&key, signing_input.as_bytes()))
}

/// A complete HS256 token over this header and these claims.
pub fn sign_hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = signing_input(header, claims);
    let signature = hs256_signature(secret, &input);
    format!("{input}.{signature}")
}

/// Whether `token`'s signature is a valid Ed25519 signature by the public key of `jwk`
/// (`{"kty":"OKP","crv":"Ed25519","x":...}`) over its first two parts.
#[track_caller]
pub fn verifies_with_jwk(token: &str, jwk: &Value) -> bool {
    let x = jwk["x"]
        .as_str()
        .unwrap_or_else(|| panic!("a JWK without a string `x`: {jwk:#}"));
    let [header, payload, signature] = parts(token);
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, b64url_decode(x))
        .verify(format!("{header}.{payload}").as_bytes(), &signature)
        .is_ok()
}

/// The same token with one bit of one signature byte flipped (the signature stays valid
/// base64url of the right length, so only the cryptography can tell).
#[track_caller]
pub fn with_signature_bit_flipped(token: &str) -> String {
    let [header, payload, signature] = parts(token);
    let mut bytes = b64url_decode(signature);
    assert_eq!(bytes.len(), 64, "an Ed25519 signature is 64 bytes");
    bytes[17] ^= 0x01;
    format!("{header}.{payload}.{}", b64url(bytes))
}

/// The same header and signature, with the claims replaced (a payload changed after signing).
#[track_caller]
pub fn with_claims_replaced(token: &str, claims: &Value) -> String {
    let [header, _, signature] = parts(token);
    format!("{header}.{}.{signature}", b64url(claims.to_string()))
}

/// An Ed25519 private key in the server's stored form: the server's own, read back from its
/// database, or an impostor's made up by a test.
pub struct SigningKey {
    pub kid: String,
    /// The JWK `x`: the raw public key, base64url.
    pub public_x: String,
    /// As stored: PKCS#8 DER, standard base64. Kept to check that it never leaks.
    pub private_pkcs8_b64: String,
    key_pair: Ed25519KeyPair,
}

impl SigningKey {
    /// The key that signs new tokens now: the newest unretired row of `signing_keys`.
    pub async fn current(database_url: &str) -> SigningKey {
        let db = Database::connect(database_url)
            .await
            .expect("connect to the test database");
        let statement = Statement::from_string(
            db.get_database_backend(),
            "SELECT kid, private_key, public_key FROM signing_keys \
             WHERE retired_at IS NULL ORDER BY created_at DESC",
        );
        let rows = db
            .query_all_raw(statement)
            .await
            .expect("read signing_keys");
        db.close().await.expect("close the test connection");
        let row = rows.first().expect("the server stored a signing key");
        let column = |name: &str| -> String {
            row.try_get("", name)
                .unwrap_or_else(|e| panic!("signing_keys.{name}: {e}"))
        };
        SigningKey::from_stored(column("kid"), &column("private_key"), column("public_key"))
    }

    /// A fresh key nobody else has, under whatever `kid` the test wants to claim.
    pub fn generate(kid: &str) -> SigningKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .expect("generate an Ed25519 key");
        let public_x = b64url(
            Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                .expect("ring reads its own PKCS#8")
                .public_key(),
        );
        SigningKey::from_stored(kid.to_owned(), &STANDARD.encode(pkcs8.as_ref()), public_x)
    }

    /// A key from its stored form; panics unless the private part matches the public part.
    #[track_caller]
    pub fn from_stored(kid: String, private_pkcs8_b64: &str, public_x: String) -> SigningKey {
        let der = STANDARD
            .decode(private_pkcs8_b64)
            .expect("signing_keys.private_key is standard base64");
        // The server stores PKCS#8 v1 (no public key inside), which only this accepts.
        let key_pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .expect("signing_keys.private_key is an Ed25519 PKCS#8 key");
        assert_eq!(
            b64url(key_pair.public_key()),
            public_x,
            "signing_keys.public_key is the public half of private_key"
        );
        SigningKey {
            kid,
            public_x,
            private_pkcs8_b64: private_pkcs8_b64.to_owned(),
            key_pair,
        }
    }

    /// The raw 32-byte public key.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        self.key_pair.public_key().as_ref().to_vec()
    }

    /// This key as a public JWK (for `verifies_with_jwk`).
    pub fn public_jwk(&self) -> Value {
        serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "kid": self.kid, "x": self.public_x })
    }

    /// A complete token over exactly this header and these claims, signed with this key.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        sign_ed25519(&self.key_pair, header, claims)
    }
}

fn sign_ed25519(key_pair: &Ed25519KeyPair, header: &Value, claims: &Value) -> String {
    let input = signing_input(header, claims);
    let signature = key_pair.sign(input.as_bytes());
    format!("{input}.{}", b64url(signature))
}

/// The forger itself can fail: it is checked against the RFC examples, not against the server.
#[cfg(test)]
mod can_fail {
    use super::*;
    use serde_json::json;

    /// RFC 8037 appendix A: the Ed25519 key (A.1, A.2) and the JWS it signs (A.4).
    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.\
        hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    /// RFC 7515 appendix A.1: the HS256 key and the JWS it signs.
    const RFC7515_K: &str =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    const RFC7515_JWS: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
        eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.\
        dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn rfc8037_jwk() -> Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "x": RFC8037_X })
    }

    #[test]
    fn the_ed25519_signer_reproduces_the_rfc_8037_example() {
        let key_pair = Ed25519KeyPair::from_seed_and_public_key(
            &b64url_decode(RFC8037_D),
            &b64url_decode(RFC8037_X),
        )
        .unwrap();
        let [header, payload, expected] = parts(RFC8037_JWS);
        let signature = key_pair.sign(format!("{header}.{payload}").as_bytes());
        assert_eq!(b64url(signature), expected);
    }

    #[test]
    fn the_ed25519_checker_accepts_the_rfc_8037_example_and_refuses_a_flipped_bit() {
        assert!(verifies_with_jwk(RFC8037_JWS, &rfc8037_jwk()));
        assert!(!verifies_with_jwk(
            &with_signature_bit_flipped(RFC8037_JWS),
            &rfc8037_jwk()
        ));
        let [header, _, signature] = parts(RFC8037_JWS);
        let other_payload = format!(
            "{header}.{}.{signature}",
            b64url("Example of Ed25519 signinG")
        );
        assert!(!verifies_with_jwk(&other_payload, &rfc8037_jwk()));
    }

    #[test]
    fn the_hs256_signer_reproduces_the_rfc_7515_example() {
        let [header, payload, expected] = parts(RFC7515_JWS);
        let signature = hs256_signature(&b64url_decode(RFC7515_K), &format!("{header}.{payload}"));
        assert_eq!(signature, expected);
    }

    #[test]
    fn a_generated_key_signs_tokens_only_its_own_jwk_verifies() {
        let key = SigningKey::generate("k1");
        let other = SigningKey::generate("k1");
        let token = key.sign(
            &json!({ "alg": "EdDSA", "kid": "k1" }),
            &json!({ "sub": "a" }),
        );

        assert!(verifies_with_jwk(&token, &key.public_jwk()));
        assert_eq!(header(&token)["kid"], json!("k1"));
        assert_eq!(claims(&token)["sub"], json!("a"));
        let changed = with_claims_replaced(&token, &json!({ "sub": "b" }));
        assert!(!verifies_with_jwk(&changed, &key.public_jwk()));
        assert!(!verifies_with_jwk(&token, &other.public_jwk()));
    }

    #[test]
    fn an_unsigned_token_has_an_empty_signature() {
        let token = unsigned(&json!({ "alg": "none" }), &json!({}));
        assert!(token.ends_with('.'));
        assert_eq!(parts(&token)[2], "");
        assert_eq!(header(&token)["alg"], json!("none"));
    }
}
