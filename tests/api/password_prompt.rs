//! `latchkey user add` at a terminal asks for the password twice and never echoes it.
//! `script` (util-linux) gives the command a real pseudo-terminal.

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::{TestApp, TestDatabase, TestUser};

/// Reads the terminal's output until `text` has appeared; returns everything read.
fn wait_for(output: &mpsc::Receiver<Vec<u8>>, seen: &mut Vec<u8>, text: &str) {
    while !String::from_utf8_lossy(seen).contains(text) {
        let chunk = output
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no {text:?} in {:?}", String::from_utf8_lossy(seen)));
        seen.extend(chunk);
    }
}

/// How long after a prompt the test types its answer.
const HUMAN_PAUSE: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_at_a_terminal_prompts_without_echo() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` (util-linux) to provide a terminal");
        return;
    }
    let database = TestDatabase::create().await;
    let workdir = tempfile::tempdir().unwrap();
    let user = TestUser::generate();
    let command = format!(
        "{} user add --username {}",
        env!("CARGO_BIN_EXE_latchkey"),
        user.username
    );
    let mut script = Command::new("script");
    script
        .args(["-qefc", &command, "/dev/null"])
        .current_dir(workdir.path())
        .env("DATABASE_URL", &database.url);
    for (key, _) in std::env::vars() {
        if key.starts_with("LATCHKEY_") {
            script.env_remove(key);
        }
    }
    script
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut running = script.spawn().unwrap();
    let mut stdout = running.stdout.take().unwrap();
    let (sender, output) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 256];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 || sender.send(buffer[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let mut stdin = running.stdin.take().unwrap();
    let mut seen = Vec::new();

    // Act: answer each prompt the way a person does, a moment after it is shown.
    // rpassword prints the prompt and only then turns the terminal's echo off, so a
    // reply written in the same instant as the prompt appears can be echoed by the
    // terminal itself (not by us): the pause keeps the test about our code, not that race.
    wait_for(&output, &mut seen, "Password: ");
    std::thread::sleep(HUMAN_PAUSE);
    writeln!(stdin, "{}", user.password).unwrap();
    wait_for(&output, &mut seen, "Password again: ");
    std::thread::sleep(HUMAN_PAUSE);
    writeln!(stdin, "{}", user.password).unwrap();
    wait_for(&output, &mut seen, "created");
    drop(stdin);
    let status = running.wait().unwrap();
    while let Ok(chunk) = output.recv_timeout(Duration::from_millis(200)) {
        seen.extend(chunk);
    }

    // Assert: created, the password never shown, and it logs in.
    let shown = String::from_utf8_lossy(&seen).into_owned();
    assert!(status.success(), "{shown}");
    assert!(
        !shown.contains(&user.password),
        "the password was echoed: {shown}"
    );
    let app = TestApp::spawn_on(database, |_| {}).await;
    app.login_username(&user).await;
}
