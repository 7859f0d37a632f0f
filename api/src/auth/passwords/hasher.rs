//! argon2id password hashing, never on the async workers.
//!
//! Hashing is deliberately slow and memory-hungry, so it goes to a fixed set of
//! `concurrency` hashing threads (`hashing_threads`), in arrival order: a login flood
//! then queues instead of starving requests that only carry a token. Each thread keeps
//! its own argon2 memory for its life (`argon2_memory`), so hashing memory is exactly
//! `concurrency x memory_kib`, allocated once.

use std::sync::Arc;

use anyhow::Context as _;
use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use super::argon2_memory::{self, HashMemory};
use super::hashing_threads::{HashingThreads, QUEUED_PER_THREAD};
use super::password::Password;
use crate::auth::error::AuthError;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::config::HashingSettings;

/// The argon2 costs of the settings, or why argon2 refuses them (naming the setting).
fn argon2_params(settings: &HashingSettings) -> anyhow::Result<Params> {
    Params::new(
        settings.memory_kib,
        settings.iterations,
        settings.parallelism,
        None,
    )
    .map_err(|e| {
        anyhow::anyhow!("invalid setting `hash_memory_kib`: argon2 refuses these parameters: {e}")
    })
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
    pub fn new(settings: &HashingSettings) -> anyhow::Result<PasswordHasher> {
        let argon2 = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            argon2_params(settings)?,
        );
        let dummy_hash = argon2_memory::hash(
            &argon2,
            &mut HashMemory::for_params(argon2.params()),
            b"latchkey-timing-equaliser",
        )?;
        let concurrency = settings.concurrency.max(1);
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
        self.run(move |memory| argon2_memory::hash(&argon2, memory, password.expose().as_bytes()))
            .await?
            .map_err(AuthError::Internal)
    }

    /// Checks a password against a stored PHC string, or against the dummy hash when there
    /// is no account (the answer is then always `Mismatch`, after the same work).
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verification, AuthError> {
        let argon2 = self.argon2.clone();
        let password = SecretString::from(password);
        let (phc, real) = match stored {
            Some(phc) => (phc.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let outcome = self
            .run(move |memory| verify_blocking(&argon2, memory, password.expose_secret(), &phc))
            .await?
            .map_err(AuthError::Internal)?;
        Ok(if real {
            outcome
        } else {
            Verification::Mismatch
        })
    }

    /// Runs `work` on a hashing thread, with that thread's argon2 memory.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let queued = crate::series::record::QueuedHash::enter();
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
            queued.started();
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
        if !argon2_memory::verify(memory, password.as_bytes(), &parsed)? {
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

    fn cheap() -> HashingSettings {
        HashingSettings {
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
        let hasher = PasswordHasher::new(&cheap()).unwrap();
        let phc = hasher.hash(&pw("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{phc}");
        assert_eq!(
            hasher
                .verify(pw("correct horse").expose(), Some(&phc))
                .await
                .unwrap(),
            Verification::Match
        );
        assert_eq!(
            hasher
                .verify(pw("correct horsf").expose(), Some(&phc))
                .await
                .unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_matches_even_the_dummy_password() {
        let hasher = PasswordHasher::new(&cheap()).unwrap();
        let outcome = hasher
            .verify(pw("latchkey-timing-equaliser").expose(), None)
            .await
            .unwrap();
        assert_eq!(outcome, Verification::Mismatch);
    }

    #[tokio::test]
    async fn a_hash_with_older_parameters_asks_for_a_rehash() {
        let old = PasswordHasher::new(&cheap()).unwrap();
        let phc = old.hash(&pw("correct horse")).await.unwrap();
        let stronger = PasswordHasher::new(&HashingSettings {
            iterations: 2,
            ..cheap()
        })
        .unwrap();
        let outcome = stronger
            .verify(pw("correct horse").expose(), Some(&phc))
            .await
            .unwrap();
        assert_eq!(outcome, Verification::MatchNeedsRehash);
    }

    #[test]
    fn parameters_argon2_refuses_name_the_setting() {
        let err = PasswordHasher::new(&HashingSettings {
            memory_kib: 1,
            ..cheap()
        })
        .err()
        .unwrap();
        assert!(err.to_string().contains("hash_memory_kib"), "{err}");
    }
}
