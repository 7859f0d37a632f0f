//! The session cache and the change feed (issue 18): a credential verified a moment ago is
//! answered from memory, a revocation still holds for the very next request, and on
//! PostgreSQL other instances hear changes (and events) within a second, catching up
//! after their listening connection was down.

use std::time::{Duration, Instant};

use latchkey_api::auth::events::AuthEvent;
use sea_orm::{ConnectionTrait as _, Database, Statement};
use serde_json::json;
use tokio::sync::broadcast;

use crate::helpers::{TestApp, jwt_part, str_field};

const REVOKE: &str = "mutation Revoke($id: ID!) { revokeSession(id: $id) }";
const ADD_TOKEN: &str =
    "mutation Add($name: String!) { addAuthHeader(name: $name) { token authHeader { id } } }";
const DELETE_TOKEN: &str = "mutation Delete($id: ID) { deleteAuthHeader(id: $id) }";

fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty())
}

fn sid(access_token: &str) -> String {
    jwt_part(access_token, 1)["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits until `app` hears other instances (PostgreSQL), so its cache is in use.
async fn listening(app: &TestApp) {
    if let Some(feed) = &app.change_feed {
        tokio::time::timeout(Duration::from_secs(10), feed.until_listening())
            .await
            .expect("the change feed listens");
    }
}

/// Asks `me` with `token` on `app` until it is refused; how long that took. Fails after
/// `limit`.
async fn until_refused(app: &TestApp, token: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let response = app.me(Some(token)).await;
        if response.body.get("errors").is_some() {
            response.assert_error("UNAUTHENTICATED", 401);
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "still accepted after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Removes a session behind the server's back: no event, no notification.
async fn delete_session_directly(app: &TestApp, session_id: &str) {
    let db = Database::connect(app.database_url()).await.unwrap();
    let id = uuid::Uuid::parse_str(session_id).unwrap();
    for sql in [
        "DELETE FROM refresh_tokens WHERE session_id = $1",
        "DELETE FROM sessions WHERE id = $1",
    ] {
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [id.into()],
        ))
        .await
        .unwrap();
    }
    db.close().await.unwrap();
}

/// The next event with this kind name heard on `rx`, within `limit`.
async fn heard(
    rx: &mut broadcast::Receiver<std::sync::Arc<AuthEvent>>,
    kind: &str,
    limit: Duration,
) -> std::sync::Arc<AuthEvent> {
    tokio::time::timeout(limit, async {
        loop {
            let event = rx.recv().await.expect("the bus is open");
            if event.kind_name == kind {
                return event;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} heard within {limit:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_session_is_answered_without_reading_its_row_for_at_most_the_ttl() {
    // Arrange: a long ttl, so only the clock ends the entry.
    let app = TestApp::spawn_with(|s| s.session_cache_ttl = Duration::from_secs(30)).await;
    listening(&app).await;
    let (_, login) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    app.me(Some(token)).await.assert_ok();

    // Act: the row goes without the server being told.
    delete_session_directly(&app, &sid(token)).await;
    let from_memory = app.me(Some(token)).await;
    app.clock.advance(Duration::from_secs(31));
    let after_ttl = app.me(Some(token)).await;

    // Assert
    from_memory.assert_ok();
    after_ttl.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_cache_off_every_request_reads_the_session() {
    // Arrange
    let app = TestApp::spawn_with(|s| {
        s.session_cache_ttl = Duration::from_secs(30);
        s.session_cache_size = 0;
    })
    .await;
    let (_, login) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    app.me(Some(token)).await.assert_ok();

    // Act
    delete_session_directly(&app, &sid(token)).await;

    // Assert
    app.me(Some(token))
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_a_cached_session_ends_holds_for_the_very_next_request() {
    let app = TestApp::spawn_with(|s| s.session_cache_ttl = Duration::from_secs(60)).await;
    listening(&app).await;

    // Logout.
    let (_, login) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    app.me(Some(token)).await.assert_ok();
    app.logout(str_field(&login, "refreshToken"))
        .await
        .assert_ok();
    app.me(Some(token))
        .await
        .assert_error("UNAUTHENTICATED", 401);

    // revokeSession, from another session of the same account.
    let (user, first) = app.signed_in_user().await;
    let second = app.login_username(&user).await;
    let (first_token, second_token) = (
        str_field(&first, "accessToken"),
        str_field(&second, "accessToken"),
    );
    app.me(Some(first_token)).await.assert_ok();
    let revoked = app
        .gql_with_token(second_token, REVOKE, json!({ "id": sid(first_token) }))
        .await;
    assert_eq!(revoked.assert_ok()["revokeSession"], json!(true));
    app.me(Some(first_token))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.me(Some(second_token)).await.assert_ok();

    // A refresh token presented again after its grace window ends the session.
    let (_, login) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    let refresh = str_field(&login, "refreshToken");
    app.refresh(refresh).await.assert_ok();
    app.me(Some(token)).await.assert_ok();
    app.clock.advance(Duration::from_secs(11));
    app.refresh(refresh)
        .await
        .assert_error("REFRESH_TOKEN_REUSED", 401);
    app.me(Some(token))
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_personal_token_is_refused_on_the_very_next_request() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.session_cache_ttl = Duration::from_secs(60)).await;
    listening(&app).await;
    let (_, login) = app.signed_in_user().await;
    let access = str_field(&login, "accessToken");
    let added = app
        .gql_with_token(access, ADD_TOKEN, json!({ "name": "ci" }))
        .await;
    let added = added.assert_ok()["addAuthHeader"].clone();
    let token = str_field(&added, "token");
    app.me(Some(token)).await.assert_ok();
    app.me(Some(token)).await.assert_ok();

    // Act
    let deleted = app
        .gql_with_token(
            access,
            DELETE_TOKEN,
            json!({ "id": added["authHeader"]["id"] }),
        )
        .await;

    // Assert
    assert_eq!(deleted.assert_ok()["deleteAuthHeader"], json!(true));
    app.me(Some(token))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.me(Some(access)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_instance_is_refused_on_another_within_a_second() {
    if !on_postgres() {
        eprintln!("skipped: PostgreSQL only (set TEST_DATABASE_URL); SQLite runs one process");
        return;
    }
    // Arrange: B would remember for a minute; only the notification can stop it sooner.
    let a = TestApp::spawn().await;
    let b = a
        .another_instance_with(|s| s.session_cache_ttl = Duration::from_secs(60))
        .await;
    listening(&a).await;
    listening(&b).await;
    let (_, login) = a.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    b.me(Some(token)).await.assert_ok();
    b.me(Some(token)).await.assert_ok();

    // Act
    a.logout(str_field(&login, "refreshToken"))
        .await
        .assert_ok();
    let took = until_refused(&b, token, Duration::from_secs(1)).await;

    // Assert
    println!("a logout on A was refused on B after {took:?}");
    assert!(took < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_token_deleted_on_one_instance_is_refused_on_another_within_a_second() {
    if !on_postgres() {
        eprintln!("skipped: PostgreSQL only (set TEST_DATABASE_URL); SQLite runs one process");
        return;
    }
    // Arrange
    let a = TestApp::spawn().await;
    let b = a
        .another_instance_with(|s| s.session_cache_ttl = Duration::from_secs(60))
        .await;
    listening(&a).await;
    listening(&b).await;
    let (_, login) = a.signed_in_user().await;
    let access = str_field(&login, "accessToken");
    let added = a
        .gql_with_token(access, ADD_TOKEN, json!({ "name": "ci" }))
        .await;
    let added = added.assert_ok()["addAuthHeader"].clone();
    let token = str_field(&added, "token");
    b.me(Some(token)).await.assert_ok();
    b.me(Some(token)).await.assert_ok();

    // Act
    let deleted = a
        .gql_with_token(
            access,
            DELETE_TOKEN,
            json!({ "id": added["authHeader"]["id"] }),
        )
        .await;
    assert_eq!(deleted.assert_ok()["deleteAuthHeader"], json!(true));
    let took = until_refused(&b, token, Duration::from_secs(1)).await;

    // Assert
    println!("a personal token deleted on A was refused on B after {took:?}");
    assert!(took < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_on_one_instance_is_heard_once_on_every_instance_within_a_second() {
    if !on_postgres() {
        eprintln!("skipped: PostgreSQL only (set TEST_DATABASE_URL); SQLite runs one process");
        return;
    }
    // Arrange
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    listening(&a).await;
    listening(&b).await;
    let (_, first) = a.signed_in_user().await;
    let (_, second) = b.signed_in_user().await;
    let mut on_a = a.event_bus.subscribe();
    let mut on_b = b.event_bus.subscribe();

    // Act
    let started = Instant::now();
    a.logout(str_field(&first, "refreshToken"))
        .await
        .assert_ok();
    let remote = heard(&mut on_b, "LOGGED_OUT", Duration::from_secs(1)).await;
    let took = started.elapsed();
    // Then one from B: A hears it after its own notification of the first came back
    // (one connection delivers in commit order).
    b.logout(str_field(&second, "refreshToken"))
        .await
        .assert_ok();
    let mut on_a_until_second = Vec::new();
    tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let event = on_a.recv().await.unwrap();
            on_a_until_second.push(event.clone());
            if event.kind_name == "LOGGED_OUT" && event.id != remote.id {
                return;
            }
        }
    })
    .await
    .expect("A hears B's event");

    // Assert
    println!("an event written on A was heard on B's bus after {took:?}");
    assert_eq!(
        remote.session_id.map(|s| s.to_string()),
        Some(sid(str_field(&first, "accessToken")))
    );
    let first_on_a = on_a_until_second
        .iter()
        .filter(|e| e.id == remote.id)
        .count();
    assert_eq!(first_on_a, 1, "A's own event announced {first_on_a} times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_feed_is_down_the_cache_is_bypassed_and_the_missed_events_are_caught_up() {
    if !on_postgres() {
        eprintln!("skipped: PostgreSQL only (set TEST_DATABASE_URL); SQLite runs one process");
        return;
    }
    // Arrange
    let a = TestApp::spawn().await;
    let b = a
        .another_instance_with(|s| s.session_cache_ttl = Duration::from_secs(60))
        .await;
    listening(&a).await;
    listening(&b).await;
    let (_, login) = a.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    b.me(Some(token)).await.assert_ok();
    let feed = b.change_feed.clone().unwrap();
    let mut on_b = b.event_bus.subscribe();

    // Act: B's listening connection goes down; A ends the session meanwhile.
    feed.suspend();
    tokio::time::timeout(Duration::from_secs(5), feed.until_deaf())
        .await
        .unwrap();
    a.logout(str_field(&login, "refreshToken"))
        .await
        .assert_ok();
    let while_down = b.me(Some(token)).await;
    let nothing_yet = on_b.try_recv();
    feed.resume();
    let caught_up = heard(&mut on_b, "LOGGED_OUT", Duration::from_secs(5)).await;

    // Assert
    while_down.assert_error("UNAUTHENTICATED", 401);
    assert!(nothing_yet.is_err(), "heard while deaf: {nothing_yet:?}");
    assert_eq!(
        caught_up.session_id.map(|s| s.to_string()),
        Some(sid(token))
    );
    assert!(feed.is_listening());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listening_connection_comes_back_and_hears_again() {
    if !on_postgres() {
        eprintln!("skipped: PostgreSQL only (set TEST_DATABASE_URL); SQLite runs one process");
        return;
    }
    // Arrange
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    listening(&a).await;
    listening(&b).await;
    let (_, login) = a.signed_in_user().await;
    let mut on_b = b.event_bus.subscribe();

    // Act: the database ends every listening connection, as a restart would.
    let db = Database::connect(a.database_url()).await.unwrap();
    let killed = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        ))
        .await
        .unwrap();
    a.logout(str_field(&login, "refreshToken"))
        .await
        .assert_ok();
    let event = heard(&mut on_b, "LOGGED_OUT", Duration::from_secs(10)).await;

    // Assert
    assert_eq!(killed.len(), 2, "one listening connection per instance");
    assert_eq!(
        event.session_id.map(|s| s.to_string()),
        Some(sid(str_field(&login, "accessToken")))
    );
    tokio::time::timeout(
        Duration::from_secs(10),
        b.change_feed.as_ref().unwrap().until_listening(),
    )
    .await
    .unwrap();
}
