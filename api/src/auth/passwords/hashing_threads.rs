//! The threads that run password hashes, and the queue they take work from.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use argon2::Params;

use super::argon2_memory::HashMemory;
use crate::auth::error::AuthError;

/// The hashing threads run under Linux's `SCHED_IDLE` policy: whenever a thread that
/// serves requests can run, it runs first, preempting a hash at once. A login flood keeps
/// every core hashing; at the same priority a request that only carries a token would
/// wait for time slices behind the hashes, and a raised nice value only made that less
/// likely (bench/README.md has the comparison). Logins alone run as fast as before: they
/// give way only to real request load. The cost: while cheap requests keep every core
/// busy, hashes get only what is left over, which is the order an auth server in front of
/// every request should choose.
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
/// hashing that can be a scheduler time slice. More would only hold waiting hashes where a dropped request cannot withdraw them.
pub(super) const QUEUED_PER_THREAD: usize = 2;

pub(super) type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// The hashing threads and the queue they take work from. The threads end when the last
/// `PasswordHasher` clone is dropped (the queue closes).
#[derive(Clone)]
pub(super) struct HashingThreads {
    queue: mpsc::Sender<Job>,
}

impl HashingThreads {
    pub(super) fn start(count: usize, params: &Params) -> anyhow::Result<HashingThreads> {
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

    pub(super) fn submit(&self, job: Job) -> Result<(), AuthError> {
        self.queue
            .send(job)
            .map_err(|_| AuthError::Internal(anyhow::anyhow!("password hashing threads stopped")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::hasher::PasswordHasher;
    use crate::config::HashingSettings;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashes_run_on_threads_that_give_way_to_everything_else() {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let hasher = PasswordHasher::new(&HashingSettings {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            concurrency: 2,
        })
        .unwrap();
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
}
