//! Running one check once, within its timeout: dispatches to the check's kind
//! ([`super::kinds`]); the reason it gives is made public-safe ([`super::redact`]). Heartbeats are not probed: they are judged from the beats the API
//! records.

use super::config::{CheckSpec, Probe};
pub use super::kinds::http::HttpClients;
use super::kinds::{command, host, http, tcp};
use crate::model::Level;
use std::time::Duration;

/// One result, before damping.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub level: Level,
    pub reason: String,
    pub latency: Option<Duration>,
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Runs the probe within the check's timeout.
pub async fn run(spec: &CheckSpec, clients: &HttpClients, data_dir: &std::path::Path) -> Outcome {
    let fail = |reason: String| Outcome { level: spec.failure_level, reason, latency: None };
    let result = tokio::time::timeout(spec.timeout, async {
        match &spec.probe {
            Probe::Http { .. } => http::probe(spec, clients).await,
            Probe::Tcp { address } => tcp::probe(spec, address).await,
            Probe::Command { program, args } => command::probe(spec, program, args).await,
            Probe::Host { thresholds, path, measure } => {
                let dir = path.as_deref().map(std::path::PathBuf::from).unwrap_or_else(|| data_dir.to_path_buf());
                let thresholds = thresholds.clone();
                match tokio::task::spawn_blocking(move || host::sample(&dir).map(|s| host::evaluate(&s, &thresholds))).await {
                    Ok(Ok(parts)) => host::outcome(parts, *measure),
                    Ok(Err(e)) => fail(format!("cannot read host health: {e}")),
                    Err(e) => fail(e.to_string()),
                }
            }
            Probe::Heartbeat { .. } => unreachable!("heartbeats are not probed"),
        }
    })
    .await;
    let mut outcome = match result {
        Ok(outcome) => outcome,
        Err(_) => fail(format!("timed out after {}", ms(spec.timeout))),
    };
    outcome.reason = super::redact::public_reason(&outcome.reason, &spec.probe);
    outcome
}
