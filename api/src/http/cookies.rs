//! Token cookies: `HttpOnly`, `Path=/`, `SameSite` as configured, `Secure` (with the
//! `__Host-` name prefix) unless turned off for local development, and `Max-Age` equal to
//! the token's remaining life. The known-device cookie (set by `login` in every mode) lives
//! as long as the device is remembered, and `logout` leaves it: it names the browser, not
//! a session.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite as CookieSameSite};
use chrono::{DateTime, Utc};

use crate::auth::secret::ExposeSecret as _;
use crate::auth::sessions::token_mode::TokenMode;
use crate::config::{CookieSettings, SameSite};
use crate::graphql::{IssuedTokens, TokenDelivery};

/// The `Set-Cookie` values a delivery needs.
pub fn for_delivery(delivery: &TokenDelivery, settings: &CookieSettings) -> Vec<Cookie<'static>> {
    match delivery {
        TokenDelivery::Issue(tokens) => issued(tokens, settings),
        TokenDelivery::ClearCookies => vec![
            expired(settings.access_name.clone(), settings),
            expired(settings.refresh_name.clone(), settings),
        ],
    }
}

fn issued(tokens: &IssuedTokens, settings: &CookieSettings) -> Vec<Cookie<'static>> {
    let now = tokens.issued_at;
    let access = || {
        cookie(
            settings.access_name.clone(),
            tokens.access_token.expose_secret().to_owned(),
            tokens.access_expires_at,
            now,
            settings,
        )
    };
    let refresh = || {
        cookie(
            settings.refresh_name.clone(),
            tokens.refresh_token.expose_secret().to_owned(),
            tokens.session_expires_at,
            now,
            settings,
        )
    };
    let mut cookies = match tokens.mode {
        TokenMode::Json => Vec::new(),
        TokenMode::Cookie => vec![refresh()],
        TokenMode::Session => vec![access(), refresh()],
    };
    // In every mode: a browser that logs in is a device, whatever it does with the tokens.
    if let Some(device) = &tokens.device {
        cookies.push(cookie(
            settings.device_name.clone(),
            device.token.expose_secret().to_owned(),
            device.expires_at,
            now,
            settings,
        ));
    }
    cookies
}

fn cookie(
    name: String,
    value: String,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &CookieSettings,
) -> Cookie<'static> {
    let max_age = until.signed_duration_since(now).num_seconds().max(0);
    base(name, value, settings)
        .max_age(CookieDuration::seconds(max_age))
        .finish()
}

fn expired(name: String, settings: &CookieSettings) -> Cookie<'static> {
    base(name, String::new(), settings)
        .max_age(CookieDuration::ZERO)
        .expires(actix_web::cookie::time::OffsetDateTime::UNIX_EPOCH)
        .finish()
}

fn base(
    name: String,
    value: String,
    settings: &CookieSettings,
) -> actix_web::cookie::CookieBuilder<'static> {
    Cookie::build(name, value)
        .http_only(true)
        .secure(settings.secure)
        .path("/")
        .same_site(match settings.same_site {
            SameSite::Lax => CookieSameSite::Lax,
            SameSite::Strict => CookieSameSite::Strict,
            SameSite::None => CookieSameSite::None,
        })
}
