//! The one table from errors to `extensions.code` and `extensions.status`.
//!
//! Resolvers return [`ApiError`], built from an [`AuthError`]. `ApiError` deliberately has
//! no `Display`: async-graphql turns any `Display` type into an error *without* a code, so
//! keeping it out makes a code-less resolver error impossible to write by accident.
//! Errors async-graphql raises itself (parse, validation, variable coercion) get their
//! codes from [`ErrorCodes`] and [`finish`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    ErrorExtensionValues, Pos, Response, ServerError, ServerResult, ValidationResult, Variables,
};

use super::RequestContext;
use crate::auth::AuthError;

/// Stable error codes of the contract (API.md "Errors").
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const TOKEN_EXPIRED: &str = "TOKEN_EXPIRED";
    pub const OTP_REQUIRED: &str = "OTP_REQUIRED";
    pub const INVALID_OTP: &str = "INVALID_OTP";
    pub const REFRESH_TOKEN_REUSED: &str = "REFRESH_TOKEN_REUSED";
    pub const PASSWORD_EXPIRED: &str = "PASSWORD_EXPIRED";
    pub const EMAIL_NOT_VERIFIED: &str = "EMAIL_NOT_VERIFIED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const REAUTH_REQUIRED: &str = "REAUTH_REQUIRED";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
}

/// The status a REST client of the seeds would have seen for each code.
pub fn status_of(code: &str) -> u16 {
    match code {
        code::UNAUTHENTICATED
        | code::TOKEN_EXPIRED
        | code::OTP_REQUIRED
        | code::INVALID_OTP
        | code::REFRESH_TOKEN_REUSED
        | code::REAUTH_REQUIRED => 401,
        code::PASSWORD_EXPIRED | code::EMAIL_NOT_VERIFIED | code::FORBIDDEN => 403,
        code::CONFLICT => 409,
        code::RATE_LIMITED => 429,
        code::INTERNAL_SERVER_ERROR => 500,
        code::SERVICE_UNAVAILABLE => 503,
        _ => 400,
    }
}

/// A client-facing error: a code from the table and a short human message.
#[derive(Debug)]
pub struct ApiError {
    code: &'static str,
    message: String,
    /// The input field at fault, so a form can point at it.
    field: Option<&'static str>,
    retry_after_secs: Option<u64>,
    /// For `REAUTH_REQUIRED`: how recent, in seconds, the authentication must be.
    reauth_within_secs: Option<u64>,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message the client sees.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> ApiError {
        ApiError::from(&err)
    }
}

impl From<&AuthError> for ApiError {
    fn from(err: &AuthError) -> ApiError {
        let (code, message) = match err {
            AuthError::InvalidCredentials => (
                code::UNAUTHENTICATED,
                "invalid username, email or password".to_owned(),
            ),
            AuthError::Unauthenticated(why) => (code::UNAUTHENTICATED, (*why).to_owned()),
            AuthError::TokenExpired => (
                code::TOKEN_EXPIRED,
                "access token expired: call refresh".to_owned(),
            ),
            AuthError::OtpRequired => (
                code::OTP_REQUIRED,
                "a one-time password is required".to_owned(),
            ),
            AuthError::InvalidOtp => (code::INVALID_OTP, "invalid one-time password".to_owned()),
            AuthError::RefreshTokenReused => (
                code::REFRESH_TOKEN_REUSED,
                "refresh token was already used: the session has been revoked".to_owned(),
            ),
            AuthError::PasswordExpired => (
                code::PASSWORD_EXPIRED,
                "password expired: use changePassword".to_owned(),
            ),
            AuthError::EmailNotVerified => (
                code::EMAIL_NOT_VERIFIED,
                "the email address is not verified yet: follow the link in the verification mail, or ask for a new one".to_owned(),
            ),
            AuthError::Forbidden(why) => (code::FORBIDDEN, (*why).to_owned()),
            AuthError::Conflict(field) => (code::CONFLICT, format!("{field} is already taken")),
            AuthError::BadInput { field, reason } => {
                return ApiError {
                    code: code::BAD_USER_INPUT,
                    message: format!("{field}: {reason}"),
                    field: Some(field),
                    retry_after_secs: None,
                    reauth_within_secs: None,
                };
            }
            AuthError::RateLimited { retry_after_secs } => {
                return ApiError {
                    code: code::RATE_LIMITED,
                    message: "too many attempts: try again later".to_owned(),
                    field: None,
                    retry_after_secs: Some(*retry_after_secs),
                    reauth_within_secs: None,
                };
            }
            AuthError::ReauthRequired { within_secs } => {
                return ApiError {
                    code: code::REAUTH_REQUIRED,
                    message: format!(
                        "this operation needs a login from the last {within_secs} seconds: call \
                         reauthenticate, or give password (and otp) in the same call"
                    ),
                    field: None,
                    retry_after_secs: None,
                    reauth_within_secs: Some(*within_secs),
                };
            }
            AuthError::Unavailable => (
                code::SERVICE_UNAVAILABLE,
                "the service is unavailable: try again in a few seconds".to_owned(),
            ),
            AuthError::Internal(_) if err.is_unavailable() => {
                tracing::warn!(error = format!("{err:#}"), "database unavailable");
                (
                    code::SERVICE_UNAVAILABLE,
                    "the service is unavailable: try again in a few seconds".to_owned(),
                )
            }
            AuthError::Internal(cause) => {
                // The cause chain goes to the log only; the client learns nothing of it.
                tracing::error!(error = format!("{cause:#}"), "internal error");
                (
                    code::INTERNAL_SERVER_ERROR,
                    "internal server error".to_owned(),
                )
            }
        };
        ApiError {
            code,
            message,
            field: None,
            retry_after_secs: None,
            reauth_within_secs: None,
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> async_graphql::Error {
        let mut error = async_graphql::Error::new(err.message);
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        set_code(extensions, err.code);
        if let Some(field) = err.field {
            extensions.set("field", field);
        }
        if let Some(secs) = err.retry_after_secs {
            extensions.set("retryAfter", secs);
        }
        if let Some(secs) = err.reauth_within_secs {
            extensions.set("reauthWithin", secs);
        }
        error
    }
}

fn set_code(extensions: &mut ErrorExtensionValues, code: &'static str) {
    extensions.set("code", code);
    extensions.set("status", status_of(code));
}

pub(crate) fn with_code(mut error: ServerError, code: &'static str) -> ServerError {
    set_code(
        error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default),
        code,
    );
    error
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

/// Codes for the errors async-graphql raises before any resolver runs. One per request:
/// it remembers, from the parsed document, which arguments carry a variable, so that a
/// wrongly typed argument is told apart as a literal (validation) or a variable (input).
/// Being the outermost parse stage, it also notes the operation's kind for the metrics.
#[derive(Default)]
pub struct ErrorCodes {
    variable_arguments: Mutex<HashSet<Pos>>,
}

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes::default())
    }
}

impl ErrorCodes {
    fn points_at_a_variable(&self, error: &ServerError) -> bool {
        let positions = self
            .variable_arguments
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        error.locations.iter().any(|pos| positions.contains(pos))
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await.map_err(|e| {
            // An inner extension (limits, introspection off) may already have said why.
            if has_code(&e) {
                e
            } else {
                with_code(e, code::GRAPHQL_PARSE_FAILED)
            }
        })?;
        *self
            .variable_arguments
            .lock()
            .unwrap_or_else(PoisonError::into_inner) =
            super::variable_arguments::positions(&document);
        // The metrics' operation kind, here rather than in an extension of its own (see
        // `operation_metrics`).
        if let Some(request) = ctx.data_opt::<Arc<RequestContext>>() {
            request.operation.note(&document);
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    // A variable of the wrong type is bad input; a literal of the wrong
                    // type is a document that does not validate.
                    let code = if e.message.starts_with("Invalid value for argument")
                        && self.points_at_a_variable(&e)
                    {
                        code::BAD_USER_INPUT
                    } else {
                        code::GRAPHQL_VALIDATION_FAILED
                    };
                    with_code(e, code)
                })
                .collect()
        })
    }
}

/// Whether an error was raised before execution (parse, validation, coercion), which the
/// GraphQL-over-HTTP spec answers with HTTP 400 under `application/graphql-response+json`.
pub fn is_request_error(error: &ServerError) -> bool {
    let code = error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.as_str()),
            _ => None,
        });
    matches!(
        code,
        Some(code::GRAPHQL_PARSE_FAILED | code::GRAPHQL_VALIDATION_FAILED)
    ) || (code == Some(code::BAD_USER_INPUT) && error.path.is_empty())
}

/// Gives every error still without a code one: request-level problems async-graphql
/// reports after validation (an unknown `operationName`) are validation failures;
/// anything raised while resolving arguments is bad input.
pub fn finish(response: &mut Response) {
    for error in &mut response.errors {
        if !has_code(error) {
            let code = if error.path.is_empty() {
                code::GRAPHQL_VALIDATION_FAILED
            } else {
                code::BAD_USER_INPUT
            };
            set_code(
                error
                    .extensions
                    .get_or_insert_with(ErrorExtensionValues::default),
                code,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_the_status_the_contract_gives() {
        let table = [
            (code::BAD_USER_INPUT, 400),
            (code::UNAUTHENTICATED, 401),
            (code::TOKEN_EXPIRED, 401),
            (code::OTP_REQUIRED, 401),
            (code::INVALID_OTP, 401),
            (code::REFRESH_TOKEN_REUSED, 401),
            (code::PASSWORD_EXPIRED, 403),
            (code::FORBIDDEN, 403),
            (code::CONFLICT, 409),
            (code::RATE_LIMITED, 429),
            (code::REAUTH_REQUIRED, 401),
            (code::GRAPHQL_PARSE_FAILED, 400),
            (code::GRAPHQL_VALIDATION_FAILED, 400),
            (code::BAD_REQUEST, 400),
            (code::SERVICE_UNAVAILABLE, 503),
            (code::INTERNAL_SERVER_ERROR, 500),
        ];
        for (code, status) in table {
            assert_eq!(status_of(code), status, "{code}");
        }
    }

    #[test]
    fn bad_input_names_its_field_in_the_message_and_the_extensions() {
        let err = ApiError::from(AuthError::bad_input(
            "password",
            "must be at least 8 characters",
        ));
        assert_eq!(err.message, "password: must be at least 8 characters");
        let gql = async_graphql::Error::from(err);
        let field = gql
            .extensions
            .as_ref()
            .and_then(|e| e.get("field"))
            .cloned();
        assert_eq!(field, Some(async_graphql::Value::from("password")));
    }

    #[test]
    fn reauth_required_says_within_how_many_seconds() {
        let gql = async_graphql::Error::from(ApiError::from(AuthError::ReauthRequired {
            within_secs: 300,
        }));
        let extensions = gql.extensions.unwrap();
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from("REAUTH_REQUIRED"))
        );
        assert_eq!(
            extensions.get("status"),
            Some(&async_graphql::Value::from(401))
        );
        assert_eq!(
            extensions.get("reauthWithin"),
            Some(&async_graphql::Value::from(300))
        );
    }

    #[test]
    fn internal_errors_say_nothing_of_their_cause() {
        let err = ApiError::from(AuthError::Internal(anyhow::anyhow!(
            "SELECT * FROM users failed"
        )));
        assert_eq!(err.code(), code::INTERNAL_SERVER_ERROR);
        assert!(!err.message.contains("SELECT"));
    }

    #[test]
    fn an_unreachable_database_is_service_unavailable_even_under_context() {
        use sea_orm::{ConnAcquireErr, DbErr};
        let direct = ApiError::from(AuthError::from(crate::store::StoreError::from(
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        )));
        assert_eq!(direct.code(), code::SERVICE_UNAVAILABLE);
        let wrapped = ApiError::from(AuthError::Internal(
            anyhow::Error::new(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
                .context("reading the session"),
        ));
        assert_eq!(wrapped.code(), code::SERVICE_UNAVAILABLE);
        assert!(!wrapped.message.contains("pool"), "{}", wrapped.message);
        let broken = ApiError::from(AuthError::Internal(anyhow::Error::new(DbErr::Custom(
            "syntax".into(),
        ))));
        assert_eq!(broken.code(), code::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn unknown_user_and_wrong_password_are_one_message() {
        // Both paths produce `InvalidCredentials`; this pins its wording to one string.
        let err = ApiError::from(AuthError::InvalidCredentials);
        assert_eq!(err.code(), code::UNAUTHENTICATED);
        assert_eq!(err.message, "invalid username, email or password");
    }
}
