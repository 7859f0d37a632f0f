//! Concurrent requests that race on the same row: the database, not luck, decides.

use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};

const RACERS: usize = 8;

async fn all_at_once<F, Fut>(make: F) -> Vec<GqlResponse>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = GqlResponse> + Send + 'static,
{
    let tasks: Vec<_> = (0..RACERS).map(|i| tokio::spawn(make(i))).collect();
    let mut responses = Vec::with_capacity(RACERS);
    for task in tasks {
        responses.push(task.await.expect("the request task did not panic"));
    }
    responses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_refreshes_of_one_token_within_the_grace_window_all_get_the_same_successor() {
    // Arrange: tabs of one browser refreshing at the same moment (default 10 s grace).
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let (_, login) = app.signed_in_user().await;
    let token = str_field(&login, "refreshToken").to_owned();

    // Act
    let responses = all_at_once(|_| {
        let (app, token) = (app.clone(), token.clone());
        async move { app.refresh(&token).await }
    })
    .await;

    // Assert: every racer got the one successor, so the session stays a single chain.
    let successors: HashSet<String> = responses
        .iter()
        .map(|r| str_field(&r.assert_ok()["refresh"], "refreshToken").to_owned())
        .collect();
    assert_eq!(successors.len(), 1, "{successors:?}");
    let successor = successors.into_iter().next().expect("one successor");
    app.refresh(&successor).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_refreshes_of_one_token_on_two_instances_get_the_same_successor() {
    // Arrange: two instances on one database, a token sent to both at once.
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let other = std::sync::Arc::new(app.another_instance().await);
    let (_, login) = app.signed_in_user().await;
    let token = str_field(&login, "refreshToken").to_owned();

    // Act
    let responses = all_at_once(|i| {
        let (app, other, token) = (app.clone(), other.clone(), token.clone());
        async move {
            if i % 2 == 0 {
                app.refresh(&token).await
            } else {
                other.refresh(&token).await
            }
        }
    })
    .await;

    // Assert
    let successors: HashSet<String> = responses
        .iter()
        .map(|r| str_field(&r.assert_ok()["refresh"], "refreshToken").to_owned())
        .collect();
    assert_eq!(successors.len(), 1, "{successors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_registrations_of_one_username_admit_exactly_one() {
    // Arrange
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let name = TestUser::generate().username;

    // Act: the same name in different letter cases, each with its own email.
    let responses = all_at_once(|i| {
        let app = app.clone();
        let username = if i % 2 == 0 {
            name.to_uppercase()
        } else {
            name.clone()
        };
        let mut user = TestUser::generate();
        user.username = username;
        async move { app.register_response(&user).await }
    })
    .await;

    // Assert: one account; every other answer is CONFLICT, never a server error.
    let created = responses
        .iter()
        .filter(|r| r.body["data"]["register"].is_object())
        .count();
    assert_eq!(
        created,
        1,
        "{:#?}",
        responses.iter().map(|r| &r.body).collect::<Vec<&Value>>()
    );
    for response in responses
        .iter()
        .filter(|r| !r.body["data"]["register"].is_object())
    {
        response.assert_error("CONFLICT", 409);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_refreshes_of_one_token_without_a_grace_window_let_one_win_then_revoke() {
    // Arrange: no grace window, so a second use of a token, however close, is a reuse.
    let app = std::sync::Arc::new(
        TestApp::spawn_with(|s| s.refresh_reuse_grace = std::time::Duration::ZERO).await,
    );
    let (_, login) = app.signed_in_user().await;
    let token = str_field(&login, "refreshToken").to_owned();

    // Act
    let responses = all_at_once(|_| {
        let (app, token) = (app.clone(), token.clone());
        async move { app.refresh(&token).await }
    })
    .await;

    // Assert: exactly one racer won the rotation; the first loser was judged a reuse and
    // revoked the session, so later ones found it ended. Never a server error.
    let bodies = responses.iter().map(|r| &r.body).collect::<Vec<&Value>>();
    let winners: Vec<&GqlResponse> = responses
        .iter()
        .filter(|r| r.body["data"]["refresh"].is_object())
        .collect();
    assert_eq!(winners.len(), 1, "{bodies:#?}");
    let mut reuses = 0;
    for loser in responses
        .iter()
        .filter(|r| !r.body["data"]["refresh"].is_object())
    {
        if loser.body["errors"][0]["extensions"]["code"] == "REFRESH_TOKEN_REUSED" {
            reuses += 1;
            loser.assert_error("REFRESH_TOKEN_REUSED", 401);
        } else {
            loser.assert_error("UNAUTHENTICATED", 401);
        }
    }
    assert!(reuses >= 1, "{bodies:#?}");
    let won = &winners[0].body["data"]["refresh"];
    app.refresh(str_field(won, "refreshToken"))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.me(Some(str_field(won, "accessToken")))
        .await
        .assert_error("UNAUTHENTICATED", 401);
}
