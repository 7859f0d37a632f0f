//! `POST /graphql` and `GET /graphql`: the request-level rules of API.md, then the schema.

use std::time::Instant;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use async_graphql::parser::types::OperationType;

use super::client_info::client_meta;
use super::rejections::{bad_request, busy, payload_too_large, reject};
use super::state::AppState;
use super::{cookies, credentials};
use crate::auth::secret::ExposeSecret as _;
use crate::auth::sessions::token_mode::TokenMode;
use crate::graphql::errors::{self, code};
use crate::graphql::operation_kinds::{may_mutate, selected_type};
use crate::graphql::{LatchkeySchema, ObservedOperation, RequestContext, TokenDelivery};
use crate::series::record;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// Most operations one batched request may carry (when batching is on).
const MAX_BATCH: usize = 16;

pub async fn post(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    // The API-key gate comes first: a caller without a usable key, or calling from an
    // origin its app does not list, learns nothing from the other rules, and its body is
    // never read.
    if let Err(refused) = super::api_keys::check(&request, &state).await {
        return refused;
    }
    // Only JSON: a form or text/plain POST is a "simple" cross-site request that needs no
    // CORS preflight, so accepting one would open the door to CSRF.
    if !is_json(&request) {
        return bad_request("Content-Type must be application/json");
    }
    let limit = state.settings.max_body_bytes;
    let declared_too_large = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|len| len > limit);
    if declared_too_large {
        return payload_too_large(limit);
    }
    let body = match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return bad_request("could not read the request body"),
        Err(_) => return payload_too_large(limit),
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return bad_request("request body is empty: send {\"query\": \"...\"}");
    }
    let json: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(json) => json,
        Err(_) => return bad_request("request body is not valid JSON"),
    };
    if let serde_json::Value::Array(items) = json {
        // Batching multiplies the work one request can ask for; off unless configured.
        if !state.settings.batching {
            return bad_request("batched requests are not enabled");
        }
        if items.is_empty() || items.len() > MAX_BATCH {
            return bad_request(&format!("a batch holds 1 to {MAX_BATCH} requests"));
        }
        let Some(batch) = items
            .into_iter()
            .map(parse_request)
            .collect::<Option<Vec<_>>>()
        else {
            return bad_request("every request in a batch must be an object with a string `query`");
        };
        return execute(&request, batch, true, &state).await;
    }
    let graphql_request: async_graphql::Request = match parse_request(json) {
        Some(r) => r,
        None => return bad_request("request body must be an object with a string `query`"),
    };
    execute(&request, vec![graphql_request], false, &state).await
}

pub async fn get(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query_string = request.query_string();
    let has_query = serde_urlencoded::from_str::<Vec<(String, String)>>(query_string)
        .unwrap_or_default()
        .iter()
        .any(|(k, _)| k == "query");
    if !has_query {
        if accepts_html(&request) {
            return super::graphiql::page(&state);
        }
        return bad_request("GET /graphql needs a `query` parameter");
    }
    let Some(graphql_request) = super::get_request::parse(query_string) else {
        return bad_request("the query parameters are not a valid GraphQL request");
    };
    // GET is for reads only: a mutation over GET could be triggered by a link or an
    // <img> tag from another site.
    if may_mutate(&graphql_request.query)
        && is_mutation(&graphql_request, state.settings.max_query_tokens)
    {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "POST"))
            .json(serde_json::json!({
                "errors": [{
                    "message": "mutations must use POST",
                    "extensions": { "code": code::BAD_REQUEST, "status": 405 },
                }]
            }));
    }
    execute(&request, vec![graphql_request], false, &state).await
}

pub async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    if request.method() == Method::OPTIONS {
        return HttpResponse::NoContent()
            .insert_header((header::ALLOW, "GET, POST"))
            .finish();
    }
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, POST"))
        .finish()
}

/// Runs each operation with its own context (credentials are read once per HTTP request)
/// and writes the response: one object, or an array for a batch.
async fn execute(
    request: &HttpRequest,
    operations: Vec<async_graphql::Request>,
    batched: bool,
    state: &AppState,
) -> HttpResponse {
    let mut responses = Vec::with_capacity(operations.len());
    let mut delivery = None;
    for operation in operations {
        let mut context = RequestContext::new(client_meta(request));
        credentials::extract(request, &state.settings.cookies, &mut context);
        if state.settings.metrics {
            context.operation = ObservedOperation::named(operation.operation_name.clone());
        }
        if !batched && context.credential.is_none() && !may_mutate(&operation.query) {
            return execute_at_low_priority(request, operation, context, state).await;
        }
        // Shared with the resolvers, and read again below for what they asked to deliver.
        let context = std::sync::Arc::new(context);
        let response = run_on(
            &state.runtime,
            state.schema.clone(),
            operation,
            context.clone(),
            state.settings.metrics,
        )
        .await;
        delivery = context.take_delivery().or(delivery);
        responses.push(response);
    }

    let wants_graphql_response = prefers_graphql_response(request);
    // Under application/json every GraphQL error is HTTP 200 (the body says what went
    // wrong); under application/graphql-response+json a request that never executed is 400.
    let status = if wants_graphql_response && !batched && responses.iter().all(never_executed) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut http = response_head(status, wants_graphql_response);
    if let Some(delivery) = delivery {
        deliver(&mut http, &delivery, state);
    }
    let mut bodies: Vec<serde_json::Value> = responses.iter().map(body_of).collect();
    match bodies.pop() {
        Some(body) if !batched => http.json(body),
        last => {
            bodies.extend(last);
            http.json(bodies)
        }
    }
}

/// An anonymous query, run and written out on the low-priority thread (see
/// `low_priority.rs`): it can neither deliver tokens nor touch the database, so only its
/// bytes come back. `SERVICE_UNAVAILABLE` when that thread's queue is full.
async fn execute_at_low_priority(
    request: &HttpRequest,
    operation: async_graphql::Request,
    context: RequestContext,
    state: &AppState,
) -> HttpResponse {
    let schema = state.schema.clone();
    let metrics = state.settings.metrics;
    let work = async move {
        let response = run(schema, operation, std::sync::Arc::new(context), metrics).await;
        (
            never_executed(&response),
            serde_json::to_vec(&body_of(&response)),
        )
    };
    let Ok((never_executed, body)) = state.low_priority.run(work).await else {
        return busy("the server is busy with other queries; retry shortly", "1");
    };
    let Ok(body) = body else {
        return reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL_SERVER_ERROR,
            "could not write the response",
        );
    };
    let wants_graphql_response = prefers_graphql_response(request);
    let status = if wants_graphql_response && never_executed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    response_head(status, wants_graphql_response).body(body)
}

/// One operation through the schema, with error codes on everything it answers; counted
/// and timed by its kind when `metrics` is on.
async fn run(
    schema: LatchkeySchema,
    operation: async_graphql::Request,
    context: std::sync::Arc<RequestContext>,
    metrics: bool,
) -> async_graphql::Response {
    let started = metrics.then(Instant::now);
    let mut response = schema.execute(operation.data(context.clone())).await;
    errors::finish(&mut response);
    if let Some(started) = started {
        record::graphql_request(context.operation.kind(), started.elapsed());
    }
    response
}

/// `run` on the application's runtime (`AppState::runtime` says why), to its end even if
/// the client goes away meanwhile.
async fn run_on(
    runtime: &tokio::runtime::Handle,
    schema: LatchkeySchema,
    operation: async_graphql::Request,
    context: std::sync::Arc<RequestContext>,
    metrics: bool,
) -> async_graphql::Response {
    // The task carries the request's span, so what the operation logs names the request.
    let executed = runtime.spawn(tracing::Instrument::in_current_span(run(
        schema, operation, context, metrics,
    )));
    match executed.await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "the operation's task failed");
            async_graphql::Response::from_errors(vec![errors::with_code(
                async_graphql::ServerError::new("internal server error", None),
                code::INTERNAL_SERVER_ERROR,
            )])
        }
    }
}

/// Status, `Cache-Control` and the content type the client asked for.
fn response_head(status: StatusCode, wants_graphql_response: bool) -> HttpResponseBuilder {
    let mut http = HttpResponse::build(status);
    http.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    http.content_type(if wants_graphql_response {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    });
    http
}

/// Whether a response failed before execution (parse, validation, variable coercion).
fn never_executed(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && response.errors.iter().any(errors::is_request_error)
}

/// The JSON of a response. One that never executed carries no `data` entry at all, as
/// the GraphQL spec says ("If an error was raised before execution begins, the data entry
/// should not be present"); async-graphql always writes one.
fn body_of(response: &async_graphql::Response) -> serde_json::Value {
    let mut body = serde_json::to_value(response).unwrap_or_else(|_| {
        serde_json::json!({ "errors": [{
            "message": "could not write the response",
            "extensions": { "code": code::INTERNAL_SERVER_ERROR, "status": 500 },
        }] })
    });
    if never_executed(response)
        && let Some(object) = body.as_object_mut()
    {
        object.remove("data");
    }
    body
}

/// Writes the tokens a resolver issued: the `Authorization` header in `JSON` mode, and the
/// cookies its mode calls for (or their removal, for `logout`).
fn deliver(http: &mut actix_web::HttpResponseBuilder, delivery: &TokenDelivery, state: &AppState) {
    if let TokenDelivery::Issue(tokens) = delivery
        && tokens.mode == TokenMode::Json
        && let Ok(value) =
            HeaderValue::from_str(&format!("Bearer {}", tokens.access_token.expose_secret()))
    {
        http.insert_header((header::AUTHORIZATION, value));
    }
    for cookie in cookies::for_delivery(delivery, &state.settings.cookies) {
        http.cookie(cookie);
    }
}

fn parse_request(json: serde_json::Value) -> Option<async_graphql::Request> {
    let object = json.as_object()?;
    if !object
        .get("query")
        .is_some_and(serde_json::Value::is_string)
    {
        return None;
    }
    serde_json::from_value(json).ok()
}

fn is_json(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn accept_header(request: &HttpRequest) -> &str {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn accepts_html(request: &HttpRequest) -> bool {
    accept_header(request).contains("text/html")
}

/// Whether the client ranks `application/graphql-response+json` above `application/json`.
fn prefers_graphql_response(request: &HttpRequest) -> bool {
    let mut best: Option<(&str, f32)> = None;
    for item in accept_header(request).split(',') {
        let mut parts = item.split(';');
        let mime = parts.next().unwrap_or("").trim();
        if mime != GRAPHQL_RESPONSE_JSON && mime != "application/json" {
            continue;
        }
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((mime, q));
        }
    }
    best.is_some_and(|(mime, q)| mime == GRAPHQL_RESPONSE_JSON && q > 0.0)
}

/// Whether the operation the request would run is a mutation. A query that does not parse
/// (within the same bounds as the schema's parser) is left to the executor, which reports
/// the parse error.
fn is_mutation(request: &async_graphql::Request, max_tokens: usize) -> bool {
    let Ok(document) = crate::graphql::parse_bounded(&request.query, max_tokens) else {
        return false;
    };
    let selected = selected_type(&document, request.operation_name.as_deref());
    selected == Some(OperationType::Mutation)
}
