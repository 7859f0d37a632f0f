//! Parsed documents, kept by their text.
//!
//! A client sends the same few documents again and again (a frontend asks `{ me { .. } }`
//! on every page), and async-graphql's parser was the largest fixed cost of a request
//! (`bench/profile.sh`). A document that parsed is kept, and the next request with the
//! same text gets a copy. Only parsing is skipped: this extension sits just outside the
//! parser, so the introspection switch, the document limits and validation look at every
//! request's document as before. A text that does not parse is never kept: it fails the
//! same way every time.
//!
//! The kept texts are bounded in bytes; when a new one would not fit, everything is
//! dropped and the cache refills with what clients send. A client sending endless
//! distinct documents therefore costs parsing, as it did without the cache, never memory.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};

/// Bytes of document text kept at most. A parsed document takes some ten times its text,
/// so this bounds the cache near 2.5 MiB, and holds a few hundred typical documents.
const CAPACITY_BYTES: usize = 256 * 1024;

#[derive(Clone, Default)]
pub struct ParsedDocuments {
    kept: Arc<RwLock<Kept>>,
}

#[derive(Default)]
struct Kept {
    documents: HashMap<Box<str>, ExecutableDocument>,
    bytes: usize,
}

impl ParsedDocuments {
    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        let kept = self.kept.read().unwrap_or_else(PoisonError::into_inner);
        kept.documents.get(query).cloned()
    }

    fn keep(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > CAPACITY_BYTES {
            return;
        }
        // Every operation leaves the map whole; a panic elsewhere means nothing here.
        let mut kept = self.kept.write().unwrap_or_else(PoisonError::into_inner);
        if kept.documents.contains_key(query) {
            return;
        }
        if kept.bytes + query.len() > CAPACITY_BYTES {
            kept.documents.clear();
            kept.bytes = 0;
        }
        kept.bytes += query.len();
        kept.documents.insert(query.into(), document.clone());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.kept
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .documents
            .len()
    }
}

impl ExtensionFactory for ParsedDocuments {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ParsedDocuments {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.get(query) {
            return Ok(document);
        }
        let document = next.run(ctx, query, variables).await?;
        self.keep(query, &document);
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use async_graphql::parser::parse_query;

    use super::*;

    fn keep_parsed(cache: &ParsedDocuments, query: &str) {
        cache.keep(query, &parse_query(query).unwrap());
    }

    #[test]
    fn a_kept_document_comes_back_as_parsed() {
        let cache = ParsedDocuments::default();
        let query = "query Me($x: Int) { me { id username } }";
        keep_parsed(&cache, query);
        let kept = cache.get(query).unwrap();
        assert_eq!(
            format!("{kept:?}"),
            format!("{:?}", parse_query(query).unwrap())
        );
        assert!(cache.get("{ me { id } }").is_none());
    }

    #[test]
    fn when_the_bytes_run_out_everything_kept_is_dropped() {
        let cache = ParsedDocuments::default();
        let padding = " ".repeat(1000);
        let documents: Vec<String> = (0..CAPACITY_BYTES / 1000 + 1)
            .map(|i| format!("{{ a{i}: me {{ id }} }}{padding}"))
            .collect();
        for query in &documents {
            keep_parsed(&cache, query);
        }
        let fit = CAPACITY_BYTES / documents[0].len();
        assert_eq!(cache.len(), documents.len() - fit);
        assert!(cache.get(documents.last().unwrap()).is_some());
        assert!(cache.get(&documents[0]).is_none());
    }

    #[test]
    fn a_document_larger_than_the_cache_is_not_kept() {
        let cache = ParsedDocuments::default();
        let query = format!("{{ me {{ id }} }}{}", " ".repeat(CAPACITY_BYTES));
        keep_parsed(&cache, &query);
        assert_eq!(cache.len(), 0);
    }
}
