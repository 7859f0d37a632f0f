//! A thread that runs anonymous GraphQL queries only when the request workers leave a core
//! idle.
//!
//! Nothing an anonymous query can select touches the database (everything beyond
//! `authPolicy` and introspection needs a credential), yet the costliest documents the
//! limits still admit are anonymous ones: the full introspection query, a document of 250
//! aliased fields. Run on the request workers, a stream of them takes the cores from the
//! requests that carry a token. Here they run on one thread under Linux's `SCHED_IDLE`
//! policy, like the password hashes: a core gives them time only when no request worker
//! wants it. Mutations (`login`, `register`, `refresh` are anonymous too) stay on the
//! workers: they write to the database, and a transaction must never wait for an idle
//! core while it holds the writer.
//!
//! The queue is bounded: when it is full the request is answered at once with
//! `SERVICE_UNAVAILABLE`, so a flood of queries waits in neither memory nor time.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Anonymous queries waiting or running at once, beyond which they are refused.
const CAPACITY: usize = 64;

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Handle to the low-priority thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub struct LowPriorityLane {
    jobs: mpsc::UnboundedSender<Job>,
    room: Arc<Semaphore>,
}

/// The lane has no room: answer "busy" instead of waiting.
#[derive(Debug)]
pub struct LaneFull;

impl LowPriorityLane {
    pub fn start() -> anyhow::Result<LowPriorityLane> {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the low-priority runtime")?;
        std::thread::Builder::new()
            .name("latchkey-low-priority".into())
            .spawn(move || {
                lower_priority();
                runtime.block_on(async move {
                    while let Some(job) = queue.recv().await {
                        // Each on its own task, so one waiting on the database (should an
                        // anonymous query ever need it) holds up no other.
                        tokio::spawn(job);
                    }
                });
            })
            .context("starting the low-priority thread")?;
        Ok(LowPriorityLane {
            jobs,
            room: Arc::new(Semaphore::new(CAPACITY)),
        })
    }

    /// Runs `work` on the lane and hands back its output; `LaneFull` at once when
    /// `CAPACITY` documents are already waiting or running.
    pub async fn run<T, F>(&self, work: F) -> Result<T, LaneFull>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let permit = self
            .room
            .clone()
            .try_acquire_owned()
            .map_err(|_| LaneFull)?;
        let (done, answer) = oneshot::channel();
        let job: Job = Box::pin(async move {
            let _permit = permit;
            // The receiver is gone when the client went away: nothing to deliver.
            let _ = done.send(work.await);
        });
        self.jobs.send(job).map_err(|_| LaneFull)?;
        answer.await.map_err(|_| LaneFull)
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
    if let Err(e) = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle) {
        tracing::warn!(error = ?e, "could not lower the priority of the low-priority thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn work_runs_on_a_thread_that_gives_way_to_everything_else() {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let lane = LowPriorityLane::start().unwrap();
        let policy = lane
            .run(async { thread_priority::thread_schedule_policy().unwrap() })
            .await
            .unwrap();
        assert_eq!(
            policy,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
        );
    }

    #[tokio::test]
    async fn a_full_lane_refuses_at_once() {
        let lane = LowPriorityLane::start().unwrap();
        let (release, held) = tokio::sync::watch::channel(false);
        let mut waiting = Vec::new();
        for _ in 0..CAPACITY {
            let (lane, mut held) = (lane.clone(), held.clone());
            waiting.push(tokio::spawn(async move {
                lane.run(async move {
                    let _ = held.wait_for(|released| *released).await;
                })
                .await
            }));
        }
        tokio::task::yield_now().await;
        while lane.room.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(lane.run(async {}).await.is_err());
        release.send(true).unwrap();
        for task in waiting {
            task.await.unwrap().unwrap();
        }
        assert!(lane.run(async { 1 }).await.is_ok());
        drop(held);
    }
}
