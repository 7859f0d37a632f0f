//! `signing_keys`: the Ed25519 keys that sign access tokens.
//!
//! The newest unretired key signs; every key that can still verify a live token is
//! published in the JWKS.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// JWS algorithm name, `EdDSA`.
    pub algorithm: String,
    /// PKCS#8 DER of the private key, base64; or that, sealed (`sealed:v1:...`, see the
    /// API's `store::sealing`) when `secret_key_file` is set.
    pub private_key: SensitiveText,
    /// Raw public key, base64url: the JWK `x`.
    pub public_key: String,
    pub created_at: DateTimeUtc,
    /// When a newer key took over signing; it verifies for one more access-token lifetime.
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
