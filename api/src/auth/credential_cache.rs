//! Verified credentials kept in memory, so a request with an access token or a personal
//! token that was checked a moment ago reads no database row (issue 18).
//!
//! What is kept: for a login session (the `sid` of a verified access token; the signature
//! check has its own cache, `tokens::verified_cache`) and for a personal token (by its
//! SHA-256, never the token), who it belongs to (the [`Principal`], with the account
//! fields `me` and the guards use) and until when it may be answered from here.
//!
//! Correctness comes before hits:
//! - **Changes made here** are forgotten synchronously: every change that ends a session
//!   or changes an account writes an event, and `Authenticator::publish` calls
//!   [`CredentialCache::forget_user`] for it before the request that made the change
//!   answers. The next request reads the database.
//! - **Changes made elsewhere** arrive as notifications (`crate::notify` on PostgreSQL)
//!   and are forgotten the same way. While those cannot be heard (the listening
//!   connection is down, or not yet up), the cache is not used at all
//!   ([`CredentialCache::set_heard`]); when hearing resumes, everything is forgotten.
//! - **Whatever is missed anyway** (a write by another process on SQLite, a notification
//!   lost before the loss of the connection was noticed) lives at most `session_cache_ttl`:
//!   every entry is dropped that long after the database read it came from began.
//! - **A read racing a change** cannot put the old answer back: a reader takes a
//!   [`Ticket`] before it reads the database, and its answer is kept only if nothing was
//!   forgotten since; an answer kept just before a change is stamped with its account's
//!   generation, which the change moves on.
//!
//! Forgetting an account does not search the cache: it bumps a counter in a fixed table
//! of generations (the account's slot), and entries stamped with an older value are
//! dead. Accounts sharing a slot lose their entries too, which costs a read, never a
//! wrong answer. Expiry (of the access token, the session, the personal token) is still
//! checked against the clock on every read.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::principal::Principal;

/// Generation slots accounts are spread over.
const SLOTS: usize = 4096;

/// What a cached answer is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// A login session, by id.
    Session(Uuid),
    /// A personal token, by the SHA-256 of its text: a lookup compares digests, whose
    /// timing tells nothing about any token.
    PersonalToken([u8; 32]),
}

impl CacheKey {
    pub fn personal_token(token: &str) -> CacheKey {
        CacheKey::PersonalToken(Sha256::digest(token.as_bytes()).into())
    }
}

/// What a credential was verified to be.
struct Entry {
    principal: Principal,
    /// When the credential stops working by itself (the earliest of the access token's
    /// and the session's ends, or the personal token's expiry).
    expires_at: Option<DateTime<Utc>>,
    /// When the database read behind it began: it is dropped `ttl` after that.
    read_at: DateTime<Utc>,
    era: u64,
    generation: u64,
}

/// Taken before a database read whose answer may be kept; see [`CredentialCache::keep`].
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    forgotten: u64,
    era: u64,
    at: DateTime<Utc>,
}

pub struct CredentialCache {
    /// `None` when `session_cache_size` is 0 (or the ttl is 0): the cache is off.
    entries: Option<quick_cache::sync::Cache<CacheKey, Arc<Entry>>>,
    ttl: chrono::Duration,
    /// Moves on every time anything is forgotten: a ticket taken before that is void.
    forgotten: AtomicU64,
    /// Moves on when everything is forgotten at once.
    era: AtomicU64,
    /// Per-slot generations of accounts.
    generations: Box<[AtomicU64]>,
    /// Whether changes made by other processes reach this one now.
    heard: AtomicBool,
}

impl CredentialCache {
    /// A cache of at most `size` credentials, each answered for at most `ttl`. `heard`:
    /// whether changes from other processes reach it from the start (true where there
    /// are none to hear, on SQLite).
    pub fn new(size: u64, ttl: Duration, heard: bool) -> CredentialCache {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::zero());
        let on = size > 0 && ttl > chrono::Duration::zero();
        CredentialCache {
            entries: on.then(|| {
                quick_cache::sync::Cache::new(usize::try_from(size).unwrap_or(usize::MAX))
            }),
            ttl,
            forgotten: AtomicU64::new(0),
            era: AtomicU64::new(0),
            generations: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            heard: AtomicBool::new(heard),
        }
    }

    /// The principal `key` was verified to be, if it is kept, still trusted, and neither
    /// it nor its entry has expired by `now`.
    pub fn get(&self, key: &CacheKey, now: DateTime<Utc>) -> Option<Principal> {
        let entries = self.entries.as_ref()?;
        if !self.heard.load(SeqCst) {
            return None;
        }
        let entry = entries.get(key)?;
        let alive = entry.era == self.era.load(SeqCst)
            && entry.generation == self.generation(entry.principal.user_id)
            && now < entry.read_at + self.ttl
            && now >= entry.read_at
            && entry.expires_at.is_none_or(|at| now < at);
        if alive {
            Some(entry.principal.clone())
        } else {
            // Only this entry: another request may have just kept a fresh one.
            entries.remove_if(key, |kept| Arc::ptr_eq(kept, &entry));
            None
        }
    }

    /// Taken before reading a credential from the database, if the answer may be kept.
    pub fn ticket(&self, now: DateTime<Utc>) -> Option<Ticket> {
        self.entries.as_ref()?;
        if !self.heard.load(SeqCst) {
            return None;
        }
        Some(Ticket {
            forgotten: self.forgotten.load(SeqCst),
            era: self.era.load(SeqCst),
            at: now,
        })
    }

    /// Keeps what the database said about `key`, read under `ticket`, unless anything was
    /// forgotten since the ticket was taken.
    pub fn keep(
        &self,
        ticket: Ticket,
        key: CacheKey,
        principal: &Principal,
        expires_at: Option<DateTime<Utc>>,
    ) {
        let Some(entries) = self.entries.as_ref() else {
            return;
        };
        // The generation first, then the check: `forget_user` moves `forgotten` before the
        // generation, so either the check fails or the stamp is already outdated.
        let generation = self.generation(principal.user_id);
        if self.forgotten.load(SeqCst) != ticket.forgotten {
            return;
        }
        entries.insert(
            key,
            Arc::new(Entry {
                principal: principal.clone(),
                expires_at,
                read_at: ticket.at,
                era: ticket.era,
                generation,
            }),
        );
    }

    /// Forgets every credential of `user_id`: after a change to the account, or to any of
    /// its sessions or personal tokens.
    pub fn forget_user(&self, user_id: Uuid) {
        self.forgotten.fetch_add(1, SeqCst);
        self.slot(user_id).fetch_add(1, SeqCst);
    }

    /// Forgets everything (changes may have been missed, or the signing keys changed).
    pub fn forget_all(&self) {
        self.forgotten.fetch_add(1, SeqCst);
        self.era.fetch_add(1, SeqCst);
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }

    /// Whether changes made by other processes are heard from now on. Either way what is
    /// kept is forgotten: it may have missed a change.
    pub fn set_heard(&self, heard: bool) {
        if !heard {
            self.heard.store(false, SeqCst);
        }
        self.forget_all();
        if heard {
            self.heard.store(true, SeqCst);
        }
    }

    /// Whether the cache is in use now.
    pub fn is_active(&self) -> bool {
        self.entries.is_some() && self.heard.load(SeqCst)
    }

    fn slot(&self, user_id: Uuid) -> &AtomicU64 {
        // The low bits of a UUIDv7 (and v4) are random.
        let index = usize::try_from(user_id.as_u128() % SLOTS as u128).unwrap_or(0);
        // Always in bounds; were it not, `forgotten` moves on every change, so entries
        // stamped with it would only ever miss.
        self.generations.get(index).unwrap_or(&self.forgotten)
    }

    fn generation(&self, user_id: Uuid) -> u64 {
        self.slot(user_id).load(SeqCst)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    use super::{CacheKey, CredentialCache};
    use crate::auth::accounts::account::{Account, Role};
    use crate::auth::principal::{CredentialKind, Principal};

    fn principal(user_id: Uuid) -> Principal {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        Principal {
            user_id,
            credential: CredentialKind::Session(Uuid::now_v7()),
            account: Arc::new(Account {
                id: user_id,
                username: "ada".into(),
                email: None,
                firstname: None,
                lastname: None,
                role: Role::User,
                created_at: epoch,
                password_changed_at: epoch,
                password_expires_at: None,
                totp_enabled: false,
                email_verified: false,
            }),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn cache() -> CredentialCache {
        CredentialCache::new(100, Duration::from_secs(1), true)
    }

    #[test]
    fn a_kept_credential_is_answered_until_its_ttl_or_its_expiry() {
        let cache = cache();
        let user = Uuid::now_v7();
        let key = CacheKey::personal_token("lk_a");
        let ticket = cache.ticket(now()).unwrap();
        cache.keep(
            ticket,
            key,
            &principal(user),
            Some(now() + chrono::Duration::milliseconds(500)),
        );
        assert!(cache.get(&key, now()).is_some());
        assert!(
            cache
                .get(&key, now() + chrono::Duration::milliseconds(500))
                .is_none(),
            "expired"
        );
        let ticket = cache.ticket(now()).unwrap();
        cache.keep(ticket, key, &principal(user), None);
        assert!(
            cache
                .get(&key, now() + chrono::Duration::milliseconds(999))
                .is_some()
        );
        assert!(
            cache
                .get(&key, now() + chrono::Duration::seconds(1))
                .is_none(),
            "past the ttl"
        );
    }

    #[test]
    fn forgetting_an_account_drops_its_credentials_and_spares_others() {
        let cache = cache();
        // In different generation slots.
        let (ada, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let (a, b) = (
            CacheKey::personal_token("lk_a"),
            CacheKey::personal_token("lk_b"),
        );
        let ticket = cache.ticket(now()).unwrap();
        cache.keep(ticket, a, &principal(ada), None);
        cache.keep(ticket, b, &principal(bob), None);
        cache.forget_user(ada);
        assert!(cache.get(&a, now()).is_none());
        assert!(cache.get(&b, now()).is_some());
    }

    #[test]
    fn an_answer_read_before_a_change_is_not_kept_after_it() {
        let cache = cache();
        let user = Uuid::now_v7();
        let key = CacheKey::personal_token("lk_a");
        let ticket = cache.ticket(now()).unwrap();
        // The database was read here; then the change committed and was forgotten.
        cache.forget_user(Uuid::now_v7());
        cache.keep(ticket, key, &principal(user), None);
        assert!(cache.get(&key, now()).is_none());
    }

    #[test]
    fn while_changes_are_not_heard_nothing_is_answered_or_kept() {
        let cache = cache();
        let key = CacheKey::personal_token("lk_a");
        let ticket = cache.ticket(now()).unwrap();
        cache.keep(ticket, key, &principal(Uuid::now_v7()), None);
        cache.set_heard(false);
        assert!(cache.get(&key, now()).is_none());
        assert!(cache.ticket(now()).is_none());
        cache.set_heard(true);
        assert!(
            cache.get(&key, now()).is_none(),
            "forgotten when hearing resumed"
        );
        let ticket = cache.ticket(now()).unwrap();
        cache.keep(ticket, key, &principal(Uuid::now_v7()), None);
        assert!(cache.get(&key, now()).is_some());
    }

    #[test]
    fn a_cache_of_size_zero_is_off() {
        let cache = CredentialCache::new(0, Duration::from_secs(1), true);
        assert!(cache.ticket(now()).is_none());
        assert!(!cache.is_active());
    }
}
