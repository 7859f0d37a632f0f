//! Instances started together on an empty PostgreSQL database migrate it once (an
//! advisory lock around the migrator). SQLite needs no test of its own: its writers
//! already take turns on the file's lock (docs/operations.md).

use sea_orm::{ConnectionTrait as _, Database, Statement};

use crate::helpers::TestDatabase;
use crate::processes::ServerProcess;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_instances_started_at_once_on_an_empty_database_migrate_it_once() {
    if std::env::var("TEST_DATABASE_URL").map_or(true, |url| url.trim().is_empty()) {
        println!(
            "skipped: PostgreSQL only (set TEST_DATABASE_URL); SQLite migrates under its file lock"
        );
        return;
    }
    // Arrange: an empty database.
    let database = TestDatabase::create().await;

    // Act: four instances at once.
    let mut servers: Vec<ServerProcess> = (0..4)
        .map(|_| ServerProcess::start(&database.url, &[]))
        .collect();
    let started: Vec<Result<u16, String>> = servers
        .iter_mut()
        .map(ServerProcess::wait_listening)
        .collect();

    // Assert: every instance came up and is ready...
    for (i, outcome) in started.iter().enumerate() {
        assert!(outcome.is_ok(), "instance {i} did not start: {outcome:?}");
    }
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for server in &servers {
        let ready = client.get(server.url("/ready")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
    }
    // ...and each migration was applied by exactly one of them.
    for server in &mut servers {
        server.drain_log();
    }
    let applied: Vec<&String> = servers
        .iter()
        .flat_map(|s| s.log.iter())
        .filter(|line| line.contains("has been applied"))
        .collect();
    let db = Database::connect(&database.url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .unwrap();
    assert!(!rows.is_empty());
    assert_eq!(
        applied.len(),
        rows.len(),
        "migrations applied across the four instances: {applied:#?}"
    );
}
