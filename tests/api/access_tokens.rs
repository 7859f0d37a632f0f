//! Access tokens are what API.md says (an Ed25519 `at+jwt` with the documented claims,
//! verifiable against the JWKS), and forged ones are refused.
//!
//! Tokens are checked and forged with `forge`, which shares no code with the server. Each
//! forgery is signed with the server's real key (read from its database) wherever that makes
//! sense, so the one thing a test gets wrong is the only reason it can be refused; and every
//! test first shows that the same forger, getting nothing wrong, is accepted.

use std::time::{SystemTime, UNIX_EPOCH};

use latchkey_api::config::Settings;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::forge::{self, SigningKey};
use crate::helpers::{GqlResponse, TestApp, str_field};

/// Words that would mean an error message is leaking internals.
const LEAKY_WORDS: &[&str] = &[
    "jsonwebtoken",
    "sql",
    "panic",
    "backtrace",
    "dberr",
    "errorkind",
    "invalidsignature",
];

/// Seconds since the Unix epoch, by the test's own clock (the server runs on the same one).
fn now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit in i64")
}

/// A server with one signed-in user, its signing key, and what the forger needs.
struct Scene {
    app: TestApp,
    settings: Settings,
    key: SigningKey,
    user_id: String,
    /// The access token `login` returned.
    token: String,
    /// The login session of `token` (its `sid`).
    session_id: String,
}

impl Scene {
    /// Arrange: spawn, register and log in, read the signing key out of the database, and
    /// check that a token the forger signs with nothing wrong is accepted (the control).
    async fn new() -> Scene {
        let app = TestApp::spawn().await;
        let (_, payload) = app.signed_in_user().await;
        let token = str_field(&payload, "accessToken").to_owned();
        let user_id = str_field(&payload["user"], "id").to_owned();
        let session_id = str_field(&forge::claims(&token), "sid").to_owned();
        let settings = Settings::for_tests(app.database_url());
        let key = SigningKey::current(app.database_url()).await;
        let scene = Scene {
            app,
            settings,
            key,
            user_id,
            token,
            session_id,
        };

        let control = scene.key.sign(&scene.header(), &scene.claims());
        let me = scene.app.me(Some(&control)).await;
        assert_eq!(
            me.assert_ok()["me"]["id"],
            json!(scene.user_id),
            "control: a correct token signed by the forger must be accepted"
        );
        scene
    }

    fn ttl_secs(&self) -> i64 {
        i64::try_from(self.settings.access_token_ttl.as_secs()).expect("the TTL fits in i64")
    }

    /// The header the server writes: `alg: EdDSA`, `typ: at+jwt`, the signing key's `kid`.
    fn header(&self) -> Value {
        json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": self.key.kid })
    }

    /// Claims the server accepts: the logged-in user and their session, issued now.
    fn claims(&self) -> Value {
        self.claims_issued_at(now())
    }

    /// Valid claims, but issued at `iat` (so they expire one TTL later).
    fn claims_issued_at(&self, iat: i64) -> Value {
        json!({
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "sub": self.user_id,
            "sid": self.session_id,
            "iat": iat,
            "exp": iat + self.ttl_secs(),
            "jti": Uuid::new_v4(),
        })
    }

    /// Valid claims with one member replaced.
    fn claims_with(&self, member: &str, value: Value) -> Value {
        let mut claims = self.claims();
        claims[member] = value;
        claims
    }

    /// Valid header with one member replaced (or removed, for `Value::Null`).
    fn header_with(&self, member: &str, value: Value) -> Value {
        let mut header = self.header();
        let map = header.as_object_mut().expect("the header is an object");
        if value.is_null() {
            map.remove(member);
        } else {
            map.insert(member.to_owned(), value);
        }
        header
    }

    /// Assert: the answer is this error (401), and says nothing it should not.
    #[track_caller]
    fn assert_refused(&self, response: &GqlResponse, code: &str, token: &str) {
        response.assert_error(code, 401);
        self.assert_nothing_leaks(response, token);
    }

    #[track_caller]
    fn assert_nothing_leaks(&self, response: &GqlResponse, token: &str) {
        let [_, payload, signature] = forge::parts(token);
        let secrets = [
            ("the token", token),
            ("the token's payload", payload),
            ("the token's signature", signature),
            ("the real token", self.token.as_str()),
            ("the private key", self.key.private_pkcs8_b64.as_str()),
            ("the public key", self.key.public_x.as_str()),
        ];
        for (what, secret) in secrets {
            assert!(
                secret.is_empty() || !response.text.contains(secret),
                "the answer contains {what}: {}",
                response.text
            );
        }
        let text = response.text.to_lowercase();
        for word in LEAKY_WORDS {
            assert!(
                !text.contains(word),
                "the answer mentions `{word}`: {}",
                response.text
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_access_token_is_an_ed25519_at_jwt_with_the_documented_claims() {
    // Arrange
    let app = TestApp::spawn().await;
    let settings = Settings::for_tests(app.database_url());
    let ttl = i64::try_from(settings.access_token_ttl.as_secs()).unwrap();
    let before = now();

    // Act
    let (user, payload) = app.signed_in_user().await;
    let second = app.login_username(&user).await;
    let after = now();
    let jwks = app.get("/.well-known/jwks.json", &[]).await;

    // Assert
    let token = str_field(&payload, "accessToken");
    let header = forge::header(token);
    assert_eq!(header["alg"], json!("EdDSA"), "header {header:#}");
    assert_eq!(header["typ"], json!("at+jwt"), "header {header:#}");
    let kid = str_field(&header, "kid");
    let published: Vec<&Value> = jwks.body["keys"].as_array().unwrap().iter().collect();
    assert!(
        published.iter().any(|k| k["kid"] == json!(kid)),
        "kid {kid} is not in the JWKS {:#}",
        jwks.body
    );

    let claims = forge::claims(token);
    assert_eq!(claims["iss"], json!("latchkey"), "claims {claims:#}");
    assert_eq!(claims["aud"], json!("latchkey"), "claims {claims:#}");
    assert_eq!(claims["iss"], json!(settings.issuer));
    assert_eq!(claims["aud"], json!(settings.audience));
    assert_eq!(claims["sub"], payload["user"]["id"], "claims {claims:#}");
    let sid = str_field(&claims, "sid");
    assert!(Uuid::parse_str(sid).is_ok(), "sid {sid} is not a uuid");
    let iat = claims["iat"].as_i64().expect("iat is an integer");
    assert!(
        (before - 1..=after + 1).contains(&iat),
        "iat {iat} is not between {before} and {after}"
    );
    assert_eq!(claims["exp"].as_i64(), Some(iat + ttl), "claims {claims:#}");
    assert_eq!(ttl, 15 * 60, "the test settings keep the 15-minute default");
    let jti = str_field(&claims, "jti");
    assert!(!jti.is_empty());

    let other = forge::claims(str_field(&second, "accessToken"));
    assert_ne!(other["jti"], claims["jti"], "every token has its own jti");
    assert_ne!(
        other["sid"], claims["sid"],
        "every login opens its own session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_access_token_verifies_against_the_jwks_with_an_independent_ed25519_verifier() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, payload) = app.signed_in_user().await;
    let token = str_field(&payload, "accessToken");
    let kid = str_field(&forge::header(token), "kid").to_owned();

    // Act
    let jwks = app.get("/.well-known/jwks.json", &[]).await;
    let stored = SigningKey::current(app.database_url()).await;

    // Assert
    let keys = jwks.body["keys"].as_array().unwrap();
    let jwk = keys
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS {:#}", jwks.body));
    assert!(
        forge::verifies_with_jwk(token, jwk),
        "ring does not accept the server's signature"
    );
    assert!(
        !forge::verifies_with_jwk(&forge::with_signature_bit_flipped(token), jwk),
        "ring accepts a flipped bit: the check above proves nothing"
    );
    assert_eq!(stored.kid, kid, "the stored signer signed the login token");
    assert_eq!(
        jwk["x"],
        json!(stored.public_x),
        "the JWKS publishes the stored key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwks_is_a_jwk_set_of_public_ed25519_signing_keys() {
    // Arrange
    let app = TestApp::spawn().await;
    let stored = SigningKey::current(app.database_url()).await;

    // Act
    let response = app.get("/.well-known/jwks.json", &[]).await;

    // Assert
    assert_eq!(response.status.as_u16(), 200, "{response:#?}");
    let content_type = response
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/jwk-set+json"),
        "content type is {content_type:?}"
    );
    let keys = response.body["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no `keys` array in {:#}", response.body));
    assert!(!keys.is_empty(), "the JWKS publishes no key");
    let mut kids = Vec::new();
    for key in keys {
        assert_eq!(key["kty"], json!("OKP"), "key {key:#}");
        assert_eq!(key["crv"], json!("Ed25519"), "key {key:#}");
        assert_eq!(key["use"], json!("sig"), "key {key:#}");
        assert_eq!(key["alg"], json!("EdDSA"), "key {key:#}");
        assert_eq!(
            forge::b64url_decode(str_field(key, "x")).len(),
            32,
            "key {key:#}"
        );
        for private_member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                key.get(private_member).is_none(),
                "key has a private member `{private_member}`: {key:#}"
            );
        }
        kids.push(str_field(key, "kid").to_owned());
    }
    let count = kids.len();
    kids.sort();
    kids.dedup();
    assert_eq!(kids.len(), count, "kids are unique: {:#}", response.body);
    assert!(kids.contains(&stored.kid), "the signer is published");
    assert!(
        !response.text.contains(&stored.private_pkcs8_b64),
        "the JWKS carries the private key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_with_the_server_key_and_valid_claims_is_accepted() {
    // Arrange
    let scene = Scene::new().await;
    let token = scene.key.sign(&scene.header(), &scene.claims());
    assert_ne!(token, scene.token, "a new token, not the login's");

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], json!(scene.user_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alg_none_token_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    for alg in ["none", "None", "NONE"] {
        let token = forge::unsigned(&scene.header_with("alg", json!(alg)), &scene.claims());

        // Act
        let response = scene.app.me(Some(&token)).await;

        // Assert
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"],
            json!("UNAUTHENTICATED"),
            "alg {alg}: {:#}",
            response.body
        );
        scene.assert_refused(&response, "UNAUTHENTICATED", &token);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hs256_token_keyed_with_the_raw_public_key_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let secret = scene.key.public_key_bytes();
    assert_eq!(secret.len(), 32);
    let token = forge::sign_hs256(
        &secret,
        &scene.header_with("alg", json!("HS256")),
        &scene.claims(),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hs256_token_keyed_with_the_public_key_text_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let token = forge::sign_hs256(
        scene.key.public_x.as_bytes(),
        &scene.header_with("alg", json!("HS256")),
        &scene.claims(),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_token_with_one_signature_bit_flipped_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let token = forge::with_signature_bit_flipped(&scene.token);
    assert!(!forge::verifies_with_jwk(&token, &scene.key.public_jwk()));

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_by_another_key_under_the_server_kid_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let impostor = SigningKey::generate(&scene.key.kid);
    let token = impostor.sign(&scene.header(), &scene.claims());

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_another_issuer_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let token = scene.key.sign(
        &scene.header(),
        &scene.claims_with("iss", json!("latchkey-evil")),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_audience_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let token = scene.key.sign(
        &scene.header(),
        &scene.claims_with("aud", json!("another-api")),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_an_unknown_kid_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let unknown_kid = forge::b64url(Uuid::new_v4().as_bytes());
    let token = scene.key.sign(
        &scene.header_with("kid", json!(unknown_kid)),
        &scene.claims(),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_a_kid_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let token = scene
        .key
        .sign(&scene.header_with("kid", Value::Null), &scene.claims());

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_another_type_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    for typ in [json!("JWT"), Value::Null] {
        let token = scene
            .key
            .sign(&scene.header_with("typ", typ.clone()), &scene.claims());

        // Act
        let response = scene.app.me(Some(&token)).await;

        // Assert
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"],
            json!("UNAUTHENTICATED"),
            "typ {typ} (null: no typ): {:#}",
            response.body
        );
        scene.assert_refused(&response, "UNAUTHENTICATED", &token);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_whose_sub_is_not_the_sessions_user_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let (_, other) = scene.app.signed_in_user().await;
    let other_id = str_field(&other["user"], "id");
    assert_ne!(other_id, scene.user_id);
    let token = scene
        .key
        .sign(&scene.header(), &scene.claims_with("sub", json!(other_id)));

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_a_session_that_does_not_exist_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let token = scene.key.sign(
        &scene.header(),
        &scene.claims_with("sid", json!(Uuid::new_v4())),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_token_whose_sub_was_swapped_after_signing_is_unauthenticated() {
    // Arrange
    let scene = Scene::new().await;
    let (_, other) = scene.app.signed_in_user().await;
    let mut claims = forge::claims(&scene.token);
    claims["sub"] = other["user"]["id"].clone();
    let token = forge::with_claims_replaced(&scene.token, &claims);
    assert_ne!(token, scene.token);
    assert!(!forge::verifies_with_jwk(&token, &scene.key.public_jwk()));

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_token_whose_exp_was_extended_after_signing_is_unauthenticated() {
    // Arrange: a day more of life, and nothing else changed, so only the signature can tell
    let scene = Scene::new().await;
    let mut claims = forge::claims(&scene.token);
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 24 * 60 * 60);
    let token = forge::with_claims_replaced(&scene.token, &claims);
    assert!(!forge::verifies_with_jwk(&token, &scene.key.public_jwk()));

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expired_a_minute_ago_is_token_expired() {
    // Arrange
    let scene = Scene::new().await;
    let expired_at = now() - 60;
    let token = scene.key.sign(
        &scene.header(),
        &scene.claims_issued_at(expired_at - scene.ttl_secs()),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "TOKEN_EXPIRED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expired_beyond_the_five_second_leeway_is_token_expired() {
    // Arrange: 8 s, so a slow test cannot make it look like 5
    let scene = Scene::new().await;
    let expired_at = now() - 8;
    let token = scene.key.sign(
        &scene.header(),
        &scene.claims_issued_at(expired_at - scene.ttl_secs()),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "TOKEN_EXPIRED", &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expired_two_seconds_ago_is_still_accepted() {
    // Arrange
    let scene = Scene::new().await;
    let expired_at = now() - 2;
    let token = scene.key.sign(
        &scene.header(),
        &scene.claims_issued_at(expired_at - scene.ttl_secs()),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], json!(scene.user_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_with_a_bad_signature_is_unauthenticated_not_expired() {
    // Arrange
    let scene = Scene::new().await;
    let impostor = SigningKey::generate(&scene.key.kid);
    let token = impostor.sign(
        &scene.header(),
        &scene.claims_issued_at(now() - 60 - scene.ttl_secs()),
    );

    // Act
    let response = scene.app.me(Some(&token)).await;

    // Assert
    scene.assert_refused(&response, "UNAUTHENTICATED", &token);
}
