//! argon2id password hashing on threads of its own.
//!
//! Hashing is deliberately slow and memory-hungry (19 MiB each by default), so it never
//! runs on the async workers: it goes to a fixed set of `concurrency` hashing threads
//! (one per core by default), in arrival order. A login flood then queues instead of
//! starving requests that only carry a token. The threads live as long as the server,
//! each with its own argon2 memory reused by every hash it runs (see `argon2_phc`), so
//! hashing memory is exactly `concurrency x memory_kib`, allocated once.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use super::AuthError;
use super::argon2_phc::{self, HashMemory};
use super::values::Password;

/// argon2id cost parameters, and how many hashes may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashingParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub concurrency: usize,
}

impl Default for HashingParams {
    /// OWASP's argon2id recommendation (m = 19 MiB, t = 2, p = 1); one hash per core.
    fn default() -> Self {
        HashingParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            concurrency: std::thread::available_parallelism().map_or(2, usize::from),
        }
    }
}

impl HashingParams {
    fn argon2_params(&self) -> Result<Params, argon2::Error> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
    }

    /// Whether argon2 accepts these costs.
    pub fn check(&self) -> Result<(), String> {
        self.argon2_params()
            .map(drop)
            .map_err(|e| format!("argon2 refuses these parameters: {e}"))
    }
}

/// Hashes and verifies passwords without blocking the async runtime.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// Hashes handed to the threads and not yet finished: `QUEUED_PER_THREAD` per thread.
    permits: Arc<Semaphore>,
    threads: HashingThreads,
    /// Verified against when the user does not exist, so an unknown username costs the
    /// same time as a wrong password and timing does not reveal which names exist.
    dummy_hash: Arc<str>,
}

/// What a verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    Match,
    /// Right password, stored with weaker parameters than configured: rehash it.
    MatchNeedsRehash,
}

impl PasswordHasher {
    pub fn new(params: HashingParams) -> anyhow::Result<PasswordHasher> {
        let argon2_params = params
            .argon2_params()
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params);
        let dummy_hash = argon2_phc::hash(
            &argon2,
            &mut HashMemory::for_params(argon2.params()),
            b"latchkey-timing-equaliser",
        )?;
        let concurrency = params.concurrency.max(1);
        let threads = HashingThreads::start(concurrency, argon2.params())?;
        Ok(PasswordHasher {
            argon2,
            permits: Arc::new(Semaphore::new(concurrency * QUEUED_PER_THREAD)),
            threads,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// A PHC string for a new password.
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let argon2 = self.argon2.clone();
        let password = password.clone();
        self.run(move |memory| argon2_phc::hash(&argon2, memory, password.expose().as_bytes()))
            .await?
            .map_err(AuthError::Internal)
    }

    /// Checks a password against a stored PHC string, or against the dummy hash when there
    /// is no account (the answer is then always `Mismatch`, after the same work).
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<Verification, AuthError> {
        let argon2 = self.argon2.clone();
        let password = password.clone();
        let (phc, real) = match stored {
            Some(phc) => (phc.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let outcome = self
            .run(move |memory| verify_blocking(&argon2, memory, password.expose(), &phc))
            .await?
            .map_err(AuthError::Internal)?;
        Ok(if real {
            outcome
        } else {
            Verification::Mismatch
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .context("password hashing pool closed")?;
        let span = tracing::Span::current();
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.threads.submit(Box::new(move |memory| {
            let _permit = permit;
            // The caller may have gone while the hash waited (a dropped request): then
            // there is nobody to hash for, or to tell.
            if !reply.is_closed() {
                let _ = reply.send(span.in_scope(|| work(memory)));
            }
        }))?;
        answer
            .instrument(tracing::Span::current())
            .await
            .context("password hashing thread failed")
            .map_err(AuthError::Internal)
    }
}

/// The hashing threads run under Linux's `SCHED_IDLE` policy: whenever a thread that
/// serves requests can run, it runs first, preempting a hash at once. A login flood keeps
/// every core hashing; at the same priority a request that only carries a token waits for
/// time slices behind the hashes (bench: `me` p99 2.8x its idle p99). At nice +10 such
/// requests were served first only most of the time (2.2x to 2.8x, nice +15 no better);
/// under `SCHED_IDLE` it was 1.9x, with a third more `me` requests served. Logins alone
/// run as fast as before: they give way only to real request load. The cost: while
/// cheap requests keep every core busy, hashes get only what is left over (bench: logins
/// fell from about 50/s to about 40/s while `me` was saturating the server), which is
/// the order an auth server in front of every request should choose.
#[cfg(target_os = "linux")]
fn lower_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id, thread_schedule_policy,
    };
    let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
    // The call also sets the thread's nice value to 0, which a server started niced may
    // not be allowed to do; the policy is set first and is what counts.
    let set = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle);
    if let Err(e) = set
        && thread_schedule_policy().ok() != Some(idle)
    {
        tracing::warn!(error = ?e, "could not lower the priority of a hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// Hashes handed to the hashing threads at once, per thread: the one running and the
/// next. With only the running one, a thread that finishes waits, idle, until an async
/// worker is scheduled to hand it the next hash, and on a machine whose cores are busy
/// hashing that can be a scheduler time slice (bench: 113 -> 118 logins/s with two).
/// More would only hold waiting hashes where a dropped request cannot withdraw them.
const QUEUED_PER_THREAD: usize = 2;

type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// The hashing threads and the queue they take work from. The threads end when the last
/// `PasswordHasher` clone is dropped (the queue closes).
#[derive(Clone)]
struct HashingThreads {
    queue: mpsc::Sender<Job>,
}

impl HashingThreads {
    fn start(count: usize, params: &Params) -> anyhow::Result<HashingThreads> {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for index in 0..count {
            let jobs = jobs.clone();
            let mut memory = HashMemory::for_params(params);
            std::thread::Builder::new()
                .name(format!("latchkey-hash-{index}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // Hold the lock only to take a job, never while running one.
                        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match next {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                })
                .context("starting a password hashing thread")?;
        }
        Ok(HashingThreads { queue })
    }

    fn submit(&self, job: Job) -> Result<(), AuthError> {
        self.queue
            .send(job)
            .map_err(|_| AuthError::Internal(anyhow::anyhow!("password hashing threads stopped")))
    }
}

fn verify_blocking(
    argon2: &Argon2<'_>,
    memory: &mut HashMemory,
    password: &str,
    phc: &str,
) -> anyhow::Result<Verification> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| anyhow::anyhow!("stored hash is not a PHC string: {e}"))?;
    // Verification uses the parameters recorded in the stored hash, so old hashes keep
    // working after the configured cost is raised.
    Ok(
        if !argon2_phc::verify(memory, password.as_bytes(), &parsed)? {
            Verification::Mismatch
        } else if is_current(argon2, &parsed) {
            Verification::Match
        } else {
            Verification::MatchNeedsRehash
        },
    )
}

fn is_current(argon2: &Argon2<'_>, hash: &PasswordHash<'_>) -> bool {
    let current = argon2.params();
    hash.algorithm == Algorithm::Argon2id.ident()
        && Params::try_from(hash).is_ok_and(|p| {
            p.m_cost() == current.m_cost()
                && p.t_cost() == current.t_cost()
                && p.p_cost() == current.p_cost()
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cheap() -> HashingParams {
        HashingParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            concurrency: 2,
        }
    }

    fn pw(s: &str) -> Password {
        Password::presented(s.into(), "password").unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = PasswordHasher::new(cheap()).unwrap();
        let phc = hasher.hash(&pw("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{phc}");
        assert_eq!(
            hasher
                .verify(&pw("correct horse"), Some(&phc))
                .await
                .unwrap(),
            Verification::Match
        );
        assert_eq!(
            hasher
                .verify(&pw("correct horsf"), Some(&phc))
                .await
                .unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_matches_even_the_dummy_password() {
        let hasher = PasswordHasher::new(cheap()).unwrap();
        let outcome = hasher
            .verify(&pw("latchkey-timing-equaliser"), None)
            .await
            .unwrap();
        assert_eq!(outcome, Verification::Mismatch);
    }

    #[tokio::test]
    async fn a_hash_with_older_parameters_asks_for_a_rehash() {
        let old = PasswordHasher::new(cheap()).unwrap();
        let phc = old.hash(&pw("correct horse")).await.unwrap();
        let stronger = PasswordHasher::new(HashingParams {
            iterations: 2,
            ..cheap()
        })
        .unwrap();
        let outcome = stronger
            .verify(&pw("correct horse"), Some(&phc))
            .await
            .unwrap();
        assert_eq!(outcome, Verification::MatchNeedsRehash);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashes_run_on_threads_that_give_way_to_everything_else() {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let hasher = PasswordHasher::new(cheap()).unwrap();
        let policy = hasher
            .run(|_| thread_priority::thread_schedule_policy().unwrap())
            .await
            .unwrap();
        assert_eq!(
            policy,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
        );
        assert_ne!(thread_priority::thread_schedule_policy().unwrap(), policy);
    }

    #[test]
    fn the_default_parameters_are_owasps() {
        let p = HashingParams::default();
        assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19456, 2, 1));
        assert!(p.check().is_ok());
    }
}
