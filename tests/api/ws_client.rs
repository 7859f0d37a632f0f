//! A `graphql-transport-ws` client over a real WebSocket (tokio-tungstenite), as the
//! `graphql-ws` npm client speaks it: `connection_init`, `subscribe`, `next`, `complete`.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

/// How long a test waits for the server to say something.
const PATIENCE: Duration = Duration::from_secs(10);

pub const SESSION_EVENTS: &str = "subscription Events($after: ID) { sessionEvents(after: $after) { eventId kind occurredAt sessionId current reason totpEnabled } }";

/// What the server sent next.
#[derive(Debug)]
pub enum Received {
    Message(Value),
    /// A close frame: code and reason (1005 when the frame had none).
    Closed(u16, String),
}

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Opens `/graphql` as a WebSocket offering `graphql-transport-ws`, with extra
    /// request headers and a query string (`""` for none).
    pub async fn connect_with(
        app: &TestApp,
        headers: &[(&str, &str)],
        query: &str,
    ) -> Result<WsClient, tungstenite::Error> {
        let mut request = format!("ws://127.0.0.1:{}/graphql{query}", app.port)
            .into_client_request()
            .expect("a WebSocket request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        for (name, value) in headers {
            request.headers_mut().insert(
                tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        let (stream, response) = tokio_tungstenite::connect_async(request).await?;
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .map(|v| v.to_str().unwrap()),
            Some("graphql-transport-ws"),
            "the server speaks the offered sub-protocol"
        );
        Ok(WsClient { stream })
    }

    pub async fn connect(app: &TestApp) -> WsClient {
        Self::connect_with(app, &[], "").await.expect("the upgrade")
    }

    /// Opens a socket and sends `connection_init` with `Authorization: Bearer <token>` in
    /// its payload; asserts `connection_ack`.
    pub async fn authenticated(app: &TestApp, token: &str) -> WsClient {
        let mut client = Self::connect(app).await;
        client
            .init(json!({ "authorization": format!("Bearer {token}") }))
            .await;
        client.expect_ack().await;
        client
    }

    pub async fn send(&mut self, message: Message) {
        self.stream.send(message).await.expect("send a frame");
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send(Message::text(value.to_string())).await;
    }

    pub async fn init(&mut self, payload: Value) {
        self.send_json(json!({ "type": "connection_init", "payload": payload }))
            .await;
    }

    pub async fn expect_ack(&mut self) {
        match self.next().await {
            Received::Message(m) if m["type"] == "connection_ack" => {}
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str) {
        self.send_json(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
            .await;
    }

    /// `sessionEvents(after: <after>)`.
    pub async fn subscribe_after(&mut self, id: &str, after: &str) {
        self.send_json(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": SESSION_EVENTS, "variables": { "after": after } },
        }))
        .await;
    }

    /// The next protocol message or close frame (WebSocket pings skipped).
    pub async fn next(&mut self) -> Received {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("the server said something in time");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Received::Message(serde_json::from_str(&text).expect("JSON"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(f) => Received::Closed(u16::from(f.code), f.reason.to_string()),
                        None => Received::Closed(1005, String::new()),
                    };
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Binary(_))) => panic!("the server sent a binary message"),
                Some(Err(e)) => panic!("the socket failed instead of closing: {e}"),
                None => panic!("the socket ended without a close frame"),
            }
        }
    }

    /// The `payload.data.sessionEvents` of the next message, which must be a `next` for `id`.
    pub async fn next_event(&mut self, id: &str) -> Value {
        match self.next().await {
            Received::Message(m) if m["type"] == "next" && m["id"] == id => {
                assert!(
                    m["payload"]["errors"].is_null(),
                    "expected an event, got {m:#}"
                );
                m["payload"]["data"]["sessionEvents"].clone()
            }
            other => panic!("expected a next message for {id}, got {other:?}"),
        }
    }

    /// The close frame that must come next.
    pub async fn expect_close(&mut self) -> (u16, String) {
        match self.next().await {
            Received::Closed(code, reason) => (code, reason),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
