//! Prometheus metrics: the series Latchkey records, and the recorder that keeps them.
//!
//! Domain code records through `record`, in its own words (outcomes, kinds), into
//! handles registered with the recorder when it is installed (without one, recording does
//! nothing), so no layer below HTTP knows how the numbers leave the process. The recorder is global to
//! the process; `exporter` installs it when `/metrics` is served, and the HTTP layer
//! renders it (`http/metrics_endpoint.rs`). Gauges of things held elsewhere (database
//! pool, outboxes) are sampled at scrape time rather than tracked on every change.

pub mod exporter;
pub mod names;
pub mod record;
