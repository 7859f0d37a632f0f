//! A login reserves its attempt before its password is hashed: failures plus attempts under
//! way never exceed the free failures, however many arrive at once, on however many
//! instances share the database; and a reservation left by an instance that died expires.

use std::sync::Arc;
use std::time::Duration;

use latchkey_api::auth::clock::Clock as _;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait as _, Database};
use serde_json::{Value, json};

use crate::helpers::{GqlResponse, TestApp, TestUser};

const AT_ONCE: usize = 30;
/// The contract's default `login_free_failures`.
const FREE_FAILURES: usize = 5;

fn wrong_password(user: &TestUser) -> Value {
    json!({ "username": user.username, "password": "not-the-password" })
}

fn right_password(user: &TestUser) -> Value {
    json!({ "username": user.username, "password": user.password })
}

/// An app whose address budget is out of the way: only the account's limits answer. The
/// clock stands still, so no lock runs out however slow the machine.
async fn app_limited_by_account_only() -> TestApp {
    let app = TestApp::spawn_with(|s| s.ip_failures_per_minute = 10_000).await;
    app.clock.stop();
    app
}

/// How many answers were judged (wrong credentials) and how many refused unjudged.
#[track_caller]
fn judged_and_refused(answers: &[GqlResponse]) -> (usize, usize) {
    let mut judged = 0;
    let mut refused = 0;
    for answer in answers {
        match answer.body["errors"][0]["extensions"]["code"].as_str() {
            Some("UNAUTHENTICATED") => {
                answer.assert_error("UNAUTHENTICATED", 401);
                judged += 1;
            }
            Some("RATE_LIMITED") => {
                answer.assert_error("RATE_LIMITED", 429);
                let wait = answer.body["errors"][0]["extensions"]["retryAfter"].as_u64();
                assert!(wait.is_some_and(|s| s > 0), "{:#}", answer.body);
                refused += 1;
            }
            _ => panic!("expected a failure, got {:#}", answer.body),
        }
    }
    (judged, refused)
}

/// `AT_ONCE` wrong-password logins, sent together, spread over `apps` in turn.
async fn wrong_passwords_at_once(apps: &[Arc<TestApp>], user: &TestUser) -> Vec<GqlResponse> {
    let tasks: Vec<_> = (0..AT_ONCE)
        .map(|i| {
            let app = apps[i % apps.len()].clone();
            let input = wrong_password(user);
            tokio::spawn(async move { app.login(input).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_wrong_passwords_at_once_are_judged_at_most_free_failures_times() {
    // Arrange
    let app = Arc::new(app_limited_by_account_only().await);
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let answers = wrong_passwords_at_once(std::slice::from_ref(&app), &user).await;

    // Assert: the rest were refused as locked, without hashing.
    let (judged, refused) = judged_and_refused(&answers);
    assert!(
        (1..=FREE_FAILURES).contains(&judged),
        "{judged} judged, {refused} refused"
    );
    assert_eq!(judged + refused, AT_ONCE);
    // And the account is locked now, even for the right password.
    app.login(right_password(&user))
        .await
        .assert_error("RATE_LIMITED", 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_share_the_reservations() {
    // Arrange: two instances of one deployment.
    let first = Arc::new(app_limited_by_account_only().await);
    let second = Arc::new(
        first
            .another_instance_with(|s| s.ip_failures_per_minute = 10_000)
            .await,
    );
    let user = TestUser::generate();
    first.register(&user).await;

    // Act: half on each instance.
    let answers = wrong_passwords_at_once(&[first.clone(), second.clone()], &user).await;

    // Assert
    let (judged, refused) = judged_and_refused(&answers);
    assert!(
        (1..=FREE_FAILURES).contains(&judged),
        "{judged} judged, {refused} refused"
    );
    assert_eq!(judged + refused, AT_ONCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_under_way_are_counted_but_a_finished_one_frees_its_place() {
    // Arrange
    let app = app_limited_by_account_only().await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act + Assert: one after another, every login is judged: a released reservation
    // leaves nothing behind, and a success still resets the count.
    for _ in 0..FREE_FAILURES - 1 {
        app.login(wrong_password(&user))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
    app.login(right_password(&user)).await.assert_ok();
    for _ in 0..FREE_FAILURES {
        app.login(wrong_password(&user))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
    app.login(right_password(&user))
        .await
        .assert_error("RATE_LIMITED", 429);
}

/// Leaves `login_throttle` as an instance that died with `in_flight` attempts under way on
/// `account` would: places held until `until`, never released.
async fn abandon_reservations(
    app: &TestApp,
    account: &str,
    in_flight: i32,
    until: chrono::DateTime<chrono::Utc>,
) {
    let db = Database::connect(app.database_url()).await.unwrap();
    let account = uuid::Uuid::parse_str(account).unwrap();
    let insert = Query::insert()
        .into_table(Alias::new("login_throttle"))
        .columns([
            Alias::new("account_id"),
            Alias::new("failures"),
            Alias::new("last_failure_at"),
            Alias::new("in_flight"),
            Alias::new("reserved_until"),
        ])
        .values_panic([
            account.into(),
            0.into(),
            chrono::DateTime::<chrono::Utc>::UNIX_EPOCH.into(),
            in_flight.into(),
            until.into(),
        ])
        .to_owned();
    db.execute(&insert).await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_held_by_an_instance_that_died_expire_on_their_own() {
    // Arrange: an instance died with every free attempt of the account under way.
    let app = app_limited_by_account_only().await;
    let user = TestUser::generate();
    let id = app.register(&user).await["id"].as_str().unwrap().to_owned();
    let now = app.clock.now();
    abandon_reservations(
        &app,
        &id,
        FREE_FAILURES as i32,
        now + Duration::from_secs(30),
    )
    .await;

    // Act + Assert: meanwhile the account answers as locked...
    let refused = app.login(right_password(&user)).await;
    refused.assert_error("RATE_LIMITED", 429);
    // ...and once the hold has lapsed, the owner gets in with no one releasing anything.
    app.clock.advance(Duration::from_secs(31));
    app.login(right_password(&user)).await.assert_ok();
}
