//! `latchkey hash-timing`: how long one argon2id hash takes here, and what the hashing threads deliver together.

use anyhow::Context as _;

use crate::auth::AuthError;
use crate::auth::passwords::hasher::PasswordHasher;
use crate::auth::passwords::password::Password;
use crate::config::Settings;

pub(super) async fn run(settings: &Settings, count: u32) -> anyhow::Result<()> {
    let params = settings.hashing;
    let hasher = PasswordHasher::new(&params)?;
    let password = Password::presented("a benchmark passphrase 42".into(), "password")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let count = count.max(1);
    // Unmeasured hashes first, one per hashing thread: each thread's first hash touches
    // fresh memory and pays its page faults.
    hash_all(&hasher, &password, params.concurrency.max(1), 1).await?;
    let mut millis = Vec::new();
    for _ in 0..count {
        let started = std::time::Instant::now();
        hash_all(&hasher, &password, 1, 1).await?;
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    millis.sort_by(f64::total_cmp);
    let median = millis.get(millis.len() / 2).copied().unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let limit = cores as f64 * 1000.0 / median;
    // About as many hashes again, two callers per hashing thread as under a login flood:
    // what the threads deliver when every core hashes (memory bandwidth is shared).
    let threads = params.concurrency.max(1);
    let callers = threads * 2;
    let each = count.div_ceil(callers as u32);
    let started = std::time::Instant::now();
    hash_all(&hasher, &password, callers, each).await?;
    let parallel = f64::from(each) * callers as f64 / started.elapsed().as_secs_f64();
    println!(
        "argon2id m={} KiB t={} p={}: {threads} hashing threads deliver {parallel:.1} hashes/s \
         ({:.0}% of the limit)",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        100.0 * parallel / limit,
    );
    println!(
        "argon2id m={} KiB t={} p={}: median {median:.2} ms over {} hashes; \
         {cores} cores -> at most {limit:.1} logins/s",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        millis.len(),
    );
    Ok(())
}

/// Runs `tasks` concurrent loops of `each` hashes and waits for all of them.
async fn hash_all(
    hasher: &PasswordHasher,
    password: &Password,
    tasks: usize,
    each: u32,
) -> anyhow::Result<()> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let (hasher, password) = (hasher.clone(), password.clone());
        set.spawn(async move {
            for _ in 0..each {
                hasher.hash(&password).await?;
            }
            Ok::<(), AuthError>(())
        });
    }
    while let Some(done) = set.join_next().await {
        done.context("a hashing task failed")?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}
