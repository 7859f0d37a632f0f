//! Delivery that survives: the outbox, the worker's retries and backoff, restarts, and
//! several instances sharing one database; and the `.eml` files of a laptop run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, TestUser};
use crate::password_reset::request_reset;
use crate::smtp_sink::{SmtpSink, outbox_rows, unused_port};

#[tokio::test]
async fn a_mail_committed_while_no_worker_ran_is_delivered_after_restart() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let deliver = Arc::new(AtomicBool::new(false));
    let switch = deliver.clone();
    let mut app = TestApp::spawn_with(move |s| {
        SmtpSink::configure(port, s);
        // The first server commits mail and stops before any of it is sent.
        s.mail.worker = switch.load(Ordering::SeqCst);
    })
    .await;
    let user = TestUser::generate();
    app.register(&user).await;
    request_reset(&app, &user.email).await.assert_ok();
    let waiting = outbox_rows(&app).await;
    assert_eq!(waiting.len(), 2, "{waiting:#?}");
    assert!(
        waiting.iter().all(|row| row.status == "requested"),
        "{waiting:#?}"
    );
    let kinds: Vec<&str> = waiting.iter().map(|row| row.kind.as_str()).collect();
    assert_eq!(kinds, ["verify_email", "password_reset"]);
    assert!(sink.received().is_empty());

    deliver.store(true, Ordering::SeqCst);
    app.restart().await;
    let mails = sink.wait_for(&user.email, 2).await;
    assert_eq!(mails.len(), 2);
    let rows = outbox_rows(&app).await;
    assert!(rows.iter().all(|row| row.status == "sent"), "{rows:#?}");
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_mail_once() {
    let sink = SmtpSink::start();
    let port = sink.port;
    // One instance writes the mail and delivers none of it...
    let writer = TestApp::spawn_with(move |s| {
        SmtpSink::configure(port, s);
        s.mail.worker = false;
    })
    .await;
    let users: Vec<TestUser> = (0..12).map(|_| TestUser::generate()).collect();
    for user in &users {
        writer.register(user).await;
        request_reset(&writer, &user.email).await.assert_ok();
    }
    // ...then two workers start together and race for the same 24 rows.
    let (first, second) = tokio::join!(
        writer.another_instance_with(move |s| SmtpSink::configure(port, s)),
        writer.another_instance_with(move |s| SmtpSink::configure(port, s)),
    );
    for user in &users {
        sink.wait_for(&user.email, 2).await;
    }
    // Every row is finished: nothing is left that could still arrive twice.
    let rows = outbox_rows(&first).await;
    assert_eq!(rows.len(), 24);
    assert!(rows.iter().all(|row| row.status == "sent"), "{rows:#?}");
    for user in &users {
        assert_eq!(sink.to(&user.email).len(), 2, "{}", user.email);
    }
    assert_eq!(sink.received().len(), 24);
    drop(second);
}

#[tokio::test]
async fn smtp_down_for_thirty_seconds_delays_mail_and_loses_none() {
    let port = unused_port();
    let app = TestApp::spawn_with(move |s| SmtpSink::configure(port, s)).await;
    app.clock.stop();
    let user = TestUser::generate();
    app.register(&user).await;

    // While nothing listens, every attempt fails and the next waits longer (1 s, 2 s,
    // 4 s, ...): move time on by the backoff each time, 30 s in all.
    let mut waited = Duration::ZERO;
    let mut attempts_seen = 0;
    while waited < Duration::from_secs(30) {
        let attempts = wait_for_attempts(&app, attempts_seen + 1).await;
        assert!(attempts > attempts_seen);
        attempts_seen = attempts;
        let backoff = Duration::from_secs(1 << (attempts - 1).min(5));
        app.clock.advance(backoff);
        waited += backoff;
    }
    let rows = outbox_rows(&app).await;
    assert_eq!(rows[0].status, "pending", "{rows:#?}");
    assert!(rows[0].attempts >= 4, "{rows:#?}");

    let sink = SmtpSink::start_on_port(port);
    app.clock.advance(Duration::from_secs(60));
    let mails = sink.wait_for(&user.email, 1).await;
    assert_eq!(mails.len(), 1);
    let rows = outbox_rows(&app).await;
    assert_eq!(rows[0].status, "sent", "{rows:#?}");
    // The last advance may have let one more attempt fail before the server came up.
    assert!(rows[0].attempts > attempts_seen, "{rows:#?}");
}

/// Polls the outbox until its one row has at least `count` attempts; returns them.
async fn wait_for_attempts(app: &TestApp, count: i32) -> i32 {
    for _ in 0..400 {
        if let Some(row) = outbox_rows(app).await.first()
            && row.attempts >= count
        {
            return row.attempts;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the worker made fewer than {count} attempts: {:#?}",
        outbox_rows(app).await
    );
}

#[tokio::test]
async fn without_smtp_url_each_mail_is_an_eml_file_in_mail_dir() {
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("latchkey-mail");
    let configured = mail_dir.clone();
    let app = TestApp::spawn_with(move |s| {
        s.mail.transport = latchkey_api::config::mail::MailTransportSettings::Files {
            dir: configured.clone(),
        };
        s.mail.poll_interval = Duration::from_millis(50);
    })
    .await;
    let user = TestUser::generate();
    app.register(&user).await;
    request_reset(&app, &user.email).await.assert_ok();
    let mut files = Vec::new();
    for _ in 0..400 {
        files = std::fs::read_dir(&mail_dir)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        // The worker makes each file private just after lettre writes it.
        if files.len() >= 2 && files.iter().all(|file| is_private(file)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(files.len(), 2, "{files:?}");
    let mut reset_token = None;
    for file in &files {
        assert_eq!(file.extension().unwrap(), "eml");
        let raw = std::fs::read_to_string(file).unwrap();
        let received = crate::smtp_sink::Received {
            to: vec![user.email.clone()],
            raw,
        };
        if received.subject().contains("Reset your") {
            reset_token = Some(received.link_token());
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&mail_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the mail directory is the owner's alone");
    }
    for file in &files {
        assert!(is_private(file), "{} is the owner's alone", file.display());
    }
    let token = reset_token.expect("a reset mail among the files");
    app.gql(
        crate::password_reset::RESET,
        json!({ "token": token, "newPassword": "From-a-file-pass-1" }),
    )
    .await
    .assert_ok();
}

/// Whether no one but the owner may read or write `file`.
fn is_private(file: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(file).is_ok_and(|meta| meta.permissions().mode() & 0o077 == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        true
    }
}

#[tokio::test]
async fn mail_status_counts_sent_failed_and_pending() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| SmtpSink::configure(port, s)).await;
    let user = TestUser::generate();
    app.register(&user).await;
    sink.wait_for(&user.email, 1).await;
    request_reset(
        &app,
        &format!("nobody-{}@example.com", uuid::Uuid::new_v4().simple()),
    )
    .await
    .assert_ok();
    for _ in 0..400 {
        if outbox_rows(&app)
            .await
            .iter()
            .all(|r| r.status != "requested")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let workdir = tempfile::tempdir().unwrap();
    let output = crate::cli::latchkey(app.database_url(), workdir.path())
        .args(["mail", "status"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", crate::cli::stderr(&output));
    assert_eq!(
        crate::cli::stdout(&output),
        "sent 1\nfailed 0\npending 0\ndropped 1\n"
    );
}
