//! `GET /graphql` with `Upgrade: websocket`: GraphQL subscriptions over the
//! `graphql-transport-ws` protocol (the one the `graphql-ws` npm client speaks).
//!
//! Built on `actix-ws` for the socket and async-graphql's protocol engine
//! (`async_graphql::http::WebSocket`) for the messages, rather than
//! `async-graphql-actix-web`'s `GraphQLSubscription`: that one runs the whole connection
//! on its own actor, with no place to refuse a cookie from a foreign origin, to bound
//! message sizes, subscriptions and sockets, to check the credential with this server's
//! guard before the acknowledgement, or to close with our own code when the subscriber's
//! session ends. Here every client message is read and judged first, and only then
//! handed to the engine.
//!
//! The rules:
//! - The API-key gate applies to the upgrade as to `POST` (the key in `?key=`, as
//!   browsers cannot set headers on a WebSocket).
//! - Credential: `connection_init`'s payload `{"authorization": "Bearer <token>"}` if
//!   given, else the upgrade request's, in the guard's order (`Authorization` header,
//!   `access_token` parameter, access cookie). Browsers apply no CORS to WebSockets, so a
//!   cookie sent with an upgrade from an origin that is neither this server's own nor
//!   allowed (the CORS rule, `cors.rs`) is refused: that would be cross-site WebSocket
//!   hijacking. A refused credential closes with 4403.
//! - Bounds on what a client controls: `connection_init` within [`INIT_TIMEOUT`] (else
//!   4408), one `connection_init` (else 4429), messages up to `max_body_bytes` (else
//!   1009), [`MAX_SUBSCRIPTIONS`] at once per socket (more get an `error` message),
//!   [`MAX_SOCKETS_PER_ACCOUNT`] per account (else 1008), [`MAX_SOCKETS`] per instance
//!   (else HTTP 503 before the upgrade). A message that is not JSON of the protocol
//!   closes with 4400; a `subscribe` before the acknowledgement with 4401; a reused id
//!   with 4409. Only subscriptions run over the socket: queries and mutations use `POST`.
//! - The subscriber's own session ending closes with 4401 and `session ended: <REASON>`;
//!   a stopping server closes with 1001.
//!
//! The socket's frames are read on the HTTP worker that accepted it (the payload belongs
//! there); everything else runs on the application's runtime, like other GraphQL work.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError, Session};
use async_graphql::Data;
use async_graphql::http::{ClientMessage, WebSocket, WebSocketProtocols, WsMessage};
use async_graphql::parser::types::OperationType;
use futures_util::{Stream, StreamExt as _};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use uuid::Uuid;

use super::client_info::client_meta;
use super::credentials;
use super::rejections::{busy, reject};
use super::state::AppState;
use crate::auth::apps::origin::Origin;
use crate::auth::events::notice::EndReason;
use crate::graphql::errors::code;
use crate::graphql::operation_kinds::selected_type;
use crate::graphql::{Credential, CredentialSource, RequestContext, SocketEnd};

/// The sub-protocol spoken.
const PROTOCOL: &str = "graphql-transport-ws";
/// How long a socket may stay open without `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Subscriptions one socket may run at once.
pub const MAX_SUBSCRIPTIONS: usize = 8;
/// Open sockets one account may hold on one instance (tabs, devices).
pub const MAX_SOCKETS_PER_ACCOUNT: usize = 32;
/// Open sockets one instance serves.
pub const MAX_SOCKETS: usize = 10_000;
/// Client frames buffered between the reader and the protocol.
const INBOX: usize = 16;

/// What bounds the sockets of one instance.
pub struct SocketLimits {
    open: Arc<Semaphore>,
    per_account: Arc<Mutex<HashMap<Uuid, usize>>>,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            open: Arc::new(Semaphore::new(MAX_SOCKETS)),
            per_account: Arc::default(),
        }
    }
}

/// One account's share of the sockets, given back on drop.
struct AccountSlot {
    account: Uuid,
    counts: Arc<Mutex<HashMap<Uuid, usize>>>,
}

impl SocketLimits {
    fn account_slot(&self, account: Uuid) -> Option<AccountSlot> {
        let mut counts = self
            .per_account
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(account).or_insert(0);
        if *count >= MAX_SOCKETS_PER_ACCOUNT {
            return None;
        }
        *count += 1;
        Some(AccountSlot {
            account,
            counts: self.per_account.clone(),
        })
    }
}

impl Drop for AccountSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.account) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.account);
            }
        }
    }
}

/// Whether a `GET` asks to become a WebSocket.
pub fn is_upgrade(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

pub async fn upgrade(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Err(refused) = super::api_keys::check(&request, &state).await {
        return refused;
    }
    let offers_protocol = request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    if !offers_protocol {
        return reject(
            StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            "WebSocket clients must offer the graphql-transport-ws sub-protocol",
        );
    }
    let Ok(permit) = state.sockets.open.clone().try_acquire_owned() else {
        return busy(
            "this instance has all the WebSockets it serves open; retry shortly",
            "5",
        );
    };
    let upgrade = UpgradeRequest::read(&request, &state);
    let (response, session, frames) =
        match actix_ws::handle_with_protocols(&request, payload, &[PROTOCOL]) {
            Ok(parts) => parts,
            Err(e) => return e.error_response(),
        };
    let limit = state.settings.max_body_bytes;
    let mut frames = frames
        .max_frame_size(limit)
        .aggregate_continuations()
        .max_continuation_size(limit);
    let (inbox, inbox_rx) = mpsc::channel(INBOX);
    // The reader stays on this worker; it ends when the protocol side hangs up.
    actix_web::rt::spawn(async move {
        while let Some(frame) = frames.recv().await {
            let stop = !matches!(
                frame,
                Ok(AggregatedMessage::Text(_)
                    | AggregatedMessage::Ping(_)
                    | AggregatedMessage::Pong(_)
                    | AggregatedMessage::Binary(_))
            );
            if inbox.send(frame).await.is_err() || stop {
                break;
            }
        }
    });
    let connection = Connection {
        session,
        inbox: inbox_rx,
        state: state.clone(),
        upgrade,
        _permit: permit,
    };
    state
        .runtime
        .spawn(tracing::Instrument::in_current_span(connection.run()));
    response
}

/// What the upgrade request brought, read before it is gone.
struct UpgradeRequest {
    context: RequestContext,
    /// Whether a cookie may authenticate this socket: no `Origin` (not a browser), this
    /// server's own origin, or an allowed one.
    cookie_allowed: bool,
}

impl UpgradeRequest {
    fn read(request: &HttpRequest, state: &AppState) -> UpgradeRequest {
        let mut context = RequestContext::new(client_meta(request));
        credentials::extract(request, &state.settings.cookies, &mut context);
        let cookie_allowed = match request.headers().get(header::ORIGIN) {
            None => true,
            Some(origin) => origin
                .to_str()
                .ok()
                .and_then(|o| Origin::parse(o).ok())
                .is_some_and(|origin| {
                    is_own_origin(request, &origin) || super::cors::allows(state, &origin)
                }),
        };
        UpgradeRequest {
            context,
            cookie_allowed,
        }
    }
}

/// Whether `origin` is the one the request was addressed to (its `Host`).
fn is_own_origin(request: &HttpRequest, origin: &Origin) -> bool {
    let Some(host) = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    ["http", "https"]
        .iter()
        .any(|scheme| Origin::parse(&format!("{scheme}://{host}")).is_ok_and(|own| &own == origin))
}

/// A close frame: code and reason.
struct Close(u16, String);

impl Close {
    fn new(code: u16, reason: impl Into<String>) -> Close {
        Close(code, reason.into())
    }
}

type Engine = Pin<Box<dyn Stream<Item = WsMessage> + Send>>;

/// One socket's protocol side.
struct Connection {
    session: Session,
    inbox: mpsc::Receiver<Result<AggregatedMessage, ProtocolError>>,
    state: web::Data<AppState>,
    upgrade: UpgradeRequest,
    _permit: OwnedSemaphorePermit,
}

/// What the socket holds once `connection_init` was accepted.
struct Acknowledged {
    engine: Engine,
    to_engine: mpsc::UnboundedSender<ClientMessage>,
    ended: mpsc::Receiver<EndReason>,
    active: HashSet<String>,
    _slot: AccountSlot,
}

impl Connection {
    async fn run(mut self) {
        let close = self.serve().await.err();
        let reason = close.map(|Close(code, reason)| CloseReason {
            code: CloseCode::Other(code),
            description: Some(reason),
        });
        // Already closed by the client, if this fails: nothing to tell.
        let _ = self.session.clone().close(reason).await;
    }

    /// Serves until the socket ends; `Err` is the close frame to send.
    async fn serve(&mut self) -> Result<(), Close> {
        let mut stopping = self.state.stopping.watch();
        if *stopping.borrow() {
            return Err(Close::new(1001, "server stopping"));
        }
        let deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(deadline);
        // Before `connection_init`: only pings are answered.
        let mut acked = loop {
            let frame = tokio::select! {
                () = &mut deadline => return Err(Close::new(4408, "Connection initialisation timeout")),
                _ = stopping.changed() => return Err(Close::new(1001, "server stopping")),
                frame = self.inbox.recv() => frame,
            };
            match self.read(frame).await? {
                None => {}
                Some(ClientMessage::ConnectionInit { payload }) => {
                    break self.acknowledge(payload).await?;
                }
                Some(ClientMessage::Ping { .. }) => {
                    self.send(r#"{"type":"pong"}"#.to_owned()).await?;
                }
                Some(ClientMessage::Pong { .. }) => {}
                Some(ClientMessage::ConnectionTerminate) => return Ok(()),
                Some(ClientMessage::Start { .. } | ClientMessage::Stop { .. }) => {
                    return Err(Close::new(4401, "Unauthorized"));
                }
            }
        };
        loop {
            tokio::select! {
                biased;
                _ = stopping.changed() => return Err(Close::new(1001, "server stopping")),
                out = acked.engine.next() => match out {
                    Some(WsMessage::Text(text)) => {
                        note_completion(&text, &mut acked.active);
                        self.send(text).await?;
                    }
                    Some(WsMessage::Close(code, reason)) => return Err(Close(code, reason)),
                    None => return Ok(()),
                },
                Some(reason) = acked.ended.recv() => {
                    return Err(Close(4401, format!("session ended: {}", reason.as_str())));
                }
                frame = self.inbox.recv() => {
                    let Some(message) = self.read(frame).await? else { continue };
                    self.admit(message, &mut acked).await?;
                }
            }
        }
    }

    /// The protocol message a frame holds; `None` for a frame that is not one (a
    /// WebSocket ping, answered here).
    async fn read(
        &mut self,
        frame: Option<Result<AggregatedMessage, ProtocolError>>,
    ) -> Result<Option<ClientMessage>, Close> {
        match frame {
            // The client went away.
            None | Some(Ok(AggregatedMessage::Close(_))) => Err(Close::new(1000, "")),
            Some(Ok(AggregatedMessage::Text(text))) => ClientMessage::from_bytes(text.as_bytes())
                .map(Some)
                .map_err(|_| Close::new(4400, "Invalid message received")),
            Some(Ok(AggregatedMessage::Binary(_))) => {
                Err(Close::new(4400, "graphql-transport-ws messages are text"))
            }
            Some(Ok(AggregatedMessage::Ping(bytes))) => {
                self.session
                    .pong(&bytes)
                    .await
                    .map_err(|_| Close::new(1000, ""))?;
                Ok(None)
            }
            Some(Ok(AggregatedMessage::Pong(_))) => Ok(None),
            Some(Err(ProtocolError::Overflow | ProtocolError::Io(_))) => Err(Close::new(
                1009,
                format!(
                    "messages are limited to {} bytes",
                    self.state.settings.max_body_bytes
                ),
            )),
            Some(Err(_)) => Err(Close::new(1002, "WebSocket protocol error")),
        }
    }

    /// Checks the credential of `connection_init` and starts the engine, which
    /// acknowledges.
    async fn acknowledge(
        &mut self,
        payload: Option<serde_json::Value>,
    ) -> Result<Acknowledged, Close> {
        let mut context = std::mem::take(&mut self.upgrade.context);
        if let Some(given) = payload_authorization(payload.as_ref())? {
            context.credential = Some(Credential {
                token: given.into(),
                source: CredentialSource::AuthorizationHeader,
            });
            context.malformed_authorization = false;
        } else if context
            .credential
            .as_ref()
            .is_some_and(|c| c.source == CredentialSource::Cookie)
            && !self.upgrade.cookie_allowed
        {
            return Err(Close::new(
                4403,
                "Forbidden: cookies are not accepted from this origin; send the token in connection_init",
            ));
        }
        let principal = context
            .authenticate(&self.state.auth)
            .await
            .map_err(|refused| match refused.code() {
                code::INTERNAL_SERVER_ERROR => Close::new(1011, "internal error"),
                code::SERVICE_UNAVAILABLE => {
                    Close::new(1013, "service unavailable: try again later")
                }
                other => Close(4403, format!("Forbidden: {other}: {}", refused.message())),
            })?;
        let slot = self
            .state
            .sockets
            .account_slot(principal.user_id)
            .ok_or_else(|| Close::new(1008, "too many open sockets for this account"))?;
        let (socket_end, ended) = SocketEnd::channel();
        let mut data = Data::default();
        data.insert(Arc::new(context));
        data.insert(socket_end);
        let (to_engine, mut from_socket) = mpsc::unbounded_channel();
        let input = futures_util::stream::poll_fn(move |cx| {
            from_socket
                .poll_recv(cx)
                .map(|m| m.map(Ok::<_, serde_json::Error>))
        });
        let engine = WebSocket::from_message_stream(
            self.state.schema.clone(),
            input,
            WebSocketProtocols::GraphQLWS,
        )
        .connection_data(data);
        let _ = to_engine.send(ClientMessage::ConnectionInit { payload: None });
        Ok(Acknowledged {
            engine: Box::pin(engine),
            to_engine,
            ended,
            active: HashSet::new(),
            _slot: slot,
        })
    }

    /// Judges a message after the acknowledgement and hands it on if it passes.
    async fn admit(
        &mut self,
        message: ClientMessage,
        acked: &mut Acknowledged,
    ) -> Result<(), Close> {
        match &message {
            ClientMessage::ConnectionInit { .. } => {
                return Err(Close::new(4429, "Too many initialisation requests"));
            }
            ClientMessage::ConnectionTerminate => return Err(Close::new(1000, "")),
            ClientMessage::Start { id, payload } => {
                if acked.active.contains(id) {
                    return Err(Close(
                        4409,
                        bounded(format!("Subscriber for {id} already exists")),
                    ));
                }
                let refusal = if acked.active.len() >= MAX_SUBSCRIPTIONS {
                    Some(format!(
                        "at most {MAX_SUBSCRIPTIONS} subscriptions run at once on one socket"
                    ))
                } else if !is_subscription(payload, self.state.settings.max_query_tokens) {
                    Some("only subscriptions run over WebSocket: send queries and mutations with POST /graphql".to_owned())
                } else {
                    None
                };
                if let Some(refusal) = refusal {
                    let error = serde_json::json!({
                        "id": id,
                        "type": "error",
                        "payload": [{ "message": refusal, "extensions": { "code": code::BAD_REQUEST } }],
                    });
                    return self.send(error.to_string()).await;
                }
                acked.active.insert(id.clone());
            }
            ClientMessage::Stop { id } => {
                acked.active.remove(id);
            }
            ClientMessage::Ping { .. } | ClientMessage::Pong { .. } => {}
        }
        acked
            .to_engine
            .send(message)
            .map_err(|_| Close::new(1011, "internal error"))
    }

    async fn send(&mut self, text: String) -> Result<(), Close> {
        // A socket the client closed needs no close frame.
        self.session
            .text(text)
            .await
            .map_err(|_| Close::new(1000, ""))
    }
}

/// The token in `connection_init`'s payload (`authorization`, or `Authorization` as
/// copied from a header): `Bearer <token>`, or the bare token. `None` when there is none;
/// a value that is not a token closes with 4403.
fn payload_authorization(payload: Option<&serde_json::Value>) -> Result<Option<String>, Close> {
    let Some(value) =
        payload.and_then(|p| p.get("authorization").or_else(|| p.get("Authorization")))
    else {
        return Ok(None);
    };
    value
        .as_str()
        .and_then(credentials::bearer_token)
        .map(Some)
        .ok_or_else(|| Close::new(4403, "Forbidden: authorization must be \"Bearer <token>\""))
}

/// Whether the operation a `subscribe` would run is a subscription. One that does not
/// parse goes on, for the engine to report its error.
fn is_subscription(request: &async_graphql::Request, max_tokens: usize) -> bool {
    let Ok(document) = crate::graphql::parse_bounded(&request.query, max_tokens) else {
        return true;
    };
    let selected = selected_type(&document, request.operation_name.as_deref());
    // An unknown or ambiguous operation name is the engine's to report.
    selected.is_none_or(|ty| ty == OperationType::Subscription)
}

/// Forgets the subscription a `complete` from the engine ends.
fn note_completion(text: &str, active: &mut HashSet<String>) {
    if !text.starts_with(r#"{"type":"complete""#) {
        return;
    }
    if let Ok(message) = serde_json::from_str::<serde_json::Value>(text)
        && let Some(id) = message.get("id").and_then(|id| id.as_str())
    {
        active.remove(id);
    }
}

/// A close reason fits in 123 bytes.
fn bounded(mut reason: String) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.truncate(end);
    reason
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_payload_token_is_read_with_or_without_its_scheme() {
        let read = |v: serde_json::Value| payload_authorization(Some(&v)).ok().flatten();
        assert_eq!(
            read(serde_json::json!({"authorization": "Bearer abc"})),
            Some("abc".into())
        );
        assert_eq!(
            read(serde_json::json!({"Authorization": "abc"})),
            Some("abc".into())
        );
        assert_eq!(read(serde_json::json!({})), None);
        assert!(payload_authorization(Some(&serde_json::json!({"authorization": 5}))).is_err());
        assert!(
            payload_authorization(Some(&serde_json::json!({"authorization": "Basic x y"})))
                .is_err()
        );
    }

    #[test]
    fn only_subscriptions_pass() {
        let request = |q: &str| async_graphql::Request::new(q);
        assert!(is_subscription(
            &request("subscription { sessionEvents { kind } }"),
            1000
        ));
        assert!(!is_subscription(&request("{ me { id } }"), 1000));
        assert!(!is_subscription(&request("mutation { logout }"), 1000));
        assert!(is_subscription(&request("not graphql"), 1000));
    }

    #[test]
    fn close_reasons_are_cut_at_a_character() {
        let long = "é".repeat(100);
        let cut = bounded(long);
        assert!(cut.len() <= 123);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn an_account_holds_a_bounded_number_of_sockets() {
        let limits = SocketLimits::default();
        let account = Uuid::new_v4();
        let slots: Vec<_> = (0..MAX_SOCKETS_PER_ACCOUNT)
            .map(|_| limits.account_slot(account).unwrap())
            .collect();
        assert!(limits.account_slot(account).is_none());
        assert!(limits.account_slot(Uuid::new_v4()).is_some());
        drop(slots);
        assert!(limits.account_slot(account).is_some());
    }
}
