//! Signing a JWT (compact JWS) with an Ed25519 key that is already parsed.
//!
//! `jsonwebtoken::encode` takes the key as PKCS#8 bytes and parses it on every call,
//! which derives the public key again: a scalar multiplication as costly as the
//! signature itself (the profile in bench/README.md shows it as the largest part of a
//! login outside the hash). The key ring parses the key once and this signs with it. Ed25519 signatures are deterministic, so the result is byte for byte
//! what `jsonwebtoken::encode` writes (tested below); verifying stays with jsonwebtoken.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey};
use jsonwebtoken::Header;
use serde::Serialize;

/// `base64url(header) . base64url(claims) . base64url(signature)`, the header and claims
/// as JSON. The header's `alg` must be `EdDSA`: this signs with nothing else.
pub fn sign_ed25519(
    header: &Header,
    claims: &impl Serialize,
    key: &SigningKey,
) -> serde_json::Result<String> {
    let mut token = String::with_capacity(512);
    URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(header)?, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims)?, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
    Ok(token)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Claims {
        sub: String,
        exp: i64,
        note: String,
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn claims() -> Claims {
        Claims {
            sub: "someone".into(),
            exp: 4_000_000_000,
            note: "ünïcode / and + survive base64url".into(),
        }
    }

    fn header() -> Header {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some("at+jwt".into());
        header.kid = Some("the-kid".into());
        header
    }

    #[test]
    fn the_token_is_byte_for_byte_what_jsonwebtoken_signs() {
        let der = key().to_pkcs8_der().unwrap();
        let theirs = jsonwebtoken::encode(
            &header(),
            &claims(),
            &EncodingKey::from_ed_der(der.as_bytes()),
        )
        .unwrap();
        assert_eq!(sign_ed25519(&header(), &claims(), &key()).unwrap(), theirs);
    }

    #[test]
    fn jsonwebtoken_verifies_the_token_and_refuses_it_altered() {
        let token = sign_ed25519(&header(), &claims(), &key()).unwrap();
        let public = key().verifying_key();
        let decoding =
            DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(public.as_bytes())).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_aud = false;
        let decoded = jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).unwrap();
        assert_eq!(decoded.claims, claims());

        let mut tampered = token.clone().into_bytes();
        let at = token.find('.').unwrap() + 3;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(jsonwebtoken::decode::<Claims>(&tampered, &decoding, &validation).is_err());
    }
}
