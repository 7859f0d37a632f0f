//! Which events an endpoint receives: every kind, or the kinds listed. Stored as `*` or
//! as the kinds joined by commas.

use std::collections::BTreeSet;

use super::WebhookError;

/// Kinds an endpoint may name at most (a few dozen exist).
const MAX_KINDS: usize = 64;
/// The longest kind name accepted.
const MAX_KIND_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    All,
    /// Sorted and without repeats.
    Kinds(BTreeSet<String>),
}

impl EventFilter {
    /// `all` (or `*`), or a comma-separated list of event kinds like
    /// `LOGIN_SUCCEEDED,SESSION_REVOKED`. `known` tells a kind that exists.
    pub fn parse(raw: &str, known: impl Fn(&str) -> bool) -> Result<EventFilter, WebhookError> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("all") || raw == "*" {
            return Ok(EventFilter::All);
        }
        let mut kinds = BTreeSet::new();
        for kind in raw.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            let kind = kind.to_ascii_uppercase();
            let well_formed = kind.len() <= MAX_KIND_LEN
                && kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
            if !well_formed || !known(&kind) {
                let shown: String = kind.chars().take(MAX_KIND_LEN).collect();
                return Err(WebhookError::InvalidFilter(format!(
                    "unknown event kind `{shown}`"
                )));
            }
            kinds.insert(kind);
        }
        if kinds.is_empty() {
            return Err(WebhookError::InvalidFilter(
                "name at least one event kind, or `all`".into(),
            ));
        }
        if kinds.len() > MAX_KINDS {
            return Err(WebhookError::InvalidFilter("too many event kinds".into()));
        }
        Ok(EventFilter::Kinds(kinds))
    }

    /// The stored form.
    pub fn stored(&self) -> String {
        match self {
            EventFilter::All => "*".into(),
            EventFilter::Kinds(kinds) => kinds.iter().cloned().collect::<Vec<_>>().join(","),
        }
    }

    /// From the stored form; an empty list (a damaged row) receives nothing.
    pub fn from_stored(stored: &str) -> EventFilter {
        if stored == "*" {
            return EventFilter::All;
        }
        EventFilter::Kinds(
            stored
                .split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// The kinds listed, or `None` for every kind.
    pub fn kinds(&self) -> Option<&BTreeSet<String>> {
        match self {
            EventFilter::All => None,
            EventFilter::Kinds(kinds) => Some(kinds),
        }
    }

    pub fn matches(&self, kind: &str) -> bool {
        match self {
            EventFilter::All => true,
            EventFilter::Kinds(kinds) => kinds.contains(kind),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn known(kind: &str) -> bool {
        matches!(kind, "LOGIN_SUCCEEDED" | "LOGOUT" | "SESSION_REVOKED")
    }

    #[test]
    fn all_or_a_list_of_known_kinds_round_trips_through_its_stored_form() {
        assert_eq!(EventFilter::parse("all", known).unwrap(), EventFilter::All);
        assert_eq!(EventFilter::parse("*", known).unwrap().stored(), "*");
        let filter = EventFilter::parse(" logout, LOGIN_SUCCEEDED,LOGOUT ", known).unwrap();
        assert_eq!(filter.stored(), "LOGIN_SUCCEEDED,LOGOUT");
        assert_eq!(EventFilter::from_stored(&filter.stored()), filter);
        assert!(filter.matches("LOGOUT") && !filter.matches("SESSION_REVOKED"));
    }

    #[test]
    fn unknown_empty_or_malformed_kinds_are_refused() {
        for raw in [
            "",
            ",",
            "LOGIN",
            "LOGOUT,NOPE",
            "LOG-OUT",
            "LOGOUT;DROP TABLE",
        ] {
            assert!(EventFilter::parse(raw, known).is_err(), "{raw}");
        }
    }
}
