//! Finds the credential a request carries, without touching the database.
//!
//! Order (API.md): the `Authorization` header, then the `access_token` query parameter,
//! then the access cookie. The first source present is the one used; a malformed header
//! is an error rather than a reason to fall back to a cookie, so a client never silently
//! acts as someone else.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::config::CookieSettings;
use crate::graphql::{Credential, CredentialSource, RequestContext};

/// Fills the credential, refresh and device cookies and `identityId` of a request's context.
pub fn extract(request: &HttpRequest, cookies: &CookieSettings, context: &mut RequestContext) {
    let query = query_pairs(request.query_string());
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };

    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        match value.to_str().ok().and_then(bearer_token) {
            Some(token) => {
                context.credential = Some(Credential {
                    token: token.into(),
                    source: CredentialSource::AuthorizationHeader,
                });
            }
            None => context.malformed_authorization = true,
        }
    } else if let Some(token) = param("access_token").filter(|t| !t.is_empty()) {
        context.credential = Some(Credential {
            token: token.into(),
            source: CredentialSource::QueryParameter,
        });
    } else if let Some(cookie) = request.cookie(&cookies.access_name) {
        context.credential = Some(Credential {
            token: cookie.value().into(),
            source: CredentialSource::Cookie,
        });
    }

    context.refresh_cookie = request
        .cookie(&cookies.refresh_name)
        .filter(|c| !c.value().is_empty())
        .map(|c| c.value().into());
    context.device_cookie = request
        .cookie(&cookies.device_name)
        .filter(|c| !c.value().is_empty())
        .map(|c| c.value().into());
    context.identity_id = request
        .headers()
        .get("identityid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| param("identityId"));
}

/// `Bearer <token>` (scheme in any case). A bare token with no scheme is accepted too, as
/// the seed clients send `Authorization: <token>`.
pub(super) fn bearer_token(value: &str) -> Option<String> {
    let value = value.trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None if value.eq_ignore_ascii_case("bearer") => return None,
        None => value,
    };
    (!token.is_empty() && !token.contains(char::is_whitespace)).then(|| token.to_owned())
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_tokens_are_read_with_or_without_the_scheme() {
        assert_eq!(bearer_token("Bearer abc.def"), Some("abc.def".into()));
        assert_eq!(bearer_token("bearer   abc"), Some("abc".into()));
        assert_eq!(bearer_token("abc.def"), Some("abc.def".into()));
        assert_eq!(bearer_token("Basic dXNlcjpwdw=="), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer a b"), None);
    }
}
