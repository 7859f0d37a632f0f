//! The JSON body of a delivery: `{ "type", "timestamp", "data" }`, the envelope the
//! Standard Webhooks specification recommends. `data` is the event's row; the detail is
//! the event's own JSON, which never holds a secret (the event log's rule).

use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::store::webhooks::StoredEvent;

pub fn body(event: &StoredEvent) -> Vec<u8> {
    let detail = serde_json::from_str::<Value>(&event.detail).unwrap_or(Value::Null);
    let occurred_at = event
        .occurred_at
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let payload = json!({
        "type": event.kind,
        "timestamp": occurred_at,
        "data": {
            "id": event.id,
            "kind": event.kind,
            "occurredAt": occurred_at,
            "userId": event.user_id,
            "sessionId": event.session_id,
            "clientAddress": event.client_address,
            "userAgent": event.user_agent,
            "detail": detail,
        },
    });
    payload.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use chrono::DateTime;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn the_body_carries_the_type_the_time_and_the_event() {
        let user = Uuid::now_v7();
        let event = StoredEvent {
            id: 42,
            occurred_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            kind: "LOGIN_SUCCEEDED".into(),
            user_id: Some(user),
            session_id: None,
            client_address: Some("203.0.113.7".into()),
            user_agent: None,
            detail: r#"{"method":"password"}"#.into(),
        };
        let value: Value = serde_json::from_slice(&body(&event)).unwrap();
        assert_eq!(value["type"], "LOGIN_SUCCEEDED");
        assert_eq!(value["timestamp"], "2027-01-15T08:00:00.000Z");
        assert_eq!(value["data"]["id"], 42);
        assert_eq!(value["data"]["userId"], user.to_string());
        assert_eq!(value["data"]["detail"]["method"], "password");
        assert!(value["data"]["sessionId"].is_null());
    }
}
