//! The HTTP client deliveries go out with: HTTP/1.1 over rustls (ring, the webpki roots),
//! bounded connect and total time, no redirects, no proxy from the environment, and
//! (unless `webhook_allow_private_targets`) a resolver that connects only to public
//! addresses, so a host name that resolves to the server's own network is refused at
//! every delivery, not only when it was registered.
//!
//! Only the status is read: a receiver's body is never read, stored or logged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue};

use crate::auth::webhooks::target::{EndpointUrl, is_public};
use crate::config::webhooks::WebhookSettings;

/// Connecting takes at most this long (or the whole timeout, if shorter).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One signed delivery.
pub struct Delivery<'a> {
    pub url: &'a EndpointUrl,
    pub id: &'a str,
    pub timestamp: i64,
    pub signature: &'a str,
    pub body: Vec<u8>,
}

/// How a delivery ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered,
    /// Any other answer, or none: why, for the endpoint's `last_error`.
    Failed(String),
}

/// Makes ring rustls's process-wide provider, if none is yet. reqwest is built without a
/// provider of its own (its default one, aws-lc, needs a C build); the delivery client is
/// given its TLS configuration, but any other reqwest client in the process (the test
/// suite's) takes the process default.
pub fn install_default_crypto_provider() {
    // An error means a provider is installed already: that one stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Clone)]
pub struct DeliveryClient {
    http: reqwest::Client,
}

impl DeliveryClient {
    pub fn new(settings: &WebhookSettings) -> anyhow::Result<DeliveryClient> {
        install_default_crypto_provider();
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("configuring TLS for webhooks")?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout))
            .timeout(settings.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("Latchkey-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(DeliveryClient {
            http: builder
                .build()
                .context("building the webhook HTTP client")?,
        })
    }

    pub async fn send(&self, delivery: Delivery<'_>) -> Outcome {
        let request = self
            .http
            .post(delivery.url.url().clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("webhook-id", delivery.id)
            .header("webhook-timestamp", delivery.timestamp.to_string())
            .header("webhook-signature", delivery.signature)
            .body(delivery.body);
        match request.send().await {
            // The body is dropped unread; the connection is not reused then, which is
            // the price of never reading what a receiver sends.
            Ok(response) if response.status().is_success() => Outcome::Delivered,
            Ok(response) => Outcome::Failed(format!("HTTP {}", response.status().as_u16())),
            // Without the URL: it may carry a token of the receiver's.
            Err(e) => Outcome::Failed(describe(&e.without_url())),
        }
    }
}

fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Resolves with the system resolver and keeps only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address (set \
                     `webhook_allow_private_targets` to allow private ones)"
                )
                .into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn the_resolver_refuses_a_name_with_only_loopback_addresses() {
        let error = PublicOnly
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .unwrap();
        assert!(error.to_string().contains("no public address"), "{error}");
    }
}
