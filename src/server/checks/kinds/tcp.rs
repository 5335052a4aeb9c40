//! `kind = "tcp"`: a connection to `address`, timed.

use crate::model::Level;
use crate::server::checks::config::{CheckSpec, ConfigError, Fields, Probe};
use crate::server::checks::probe::{ms, Outcome};
use serde::Deserialize;
use std::time::Instant;

/// `kind = "tcp"` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `host:port`.
    pub address: Option<String>,
}

pub const FIELDS: &[&str] = &["address"];

pub fn validate(s: Settings, at: &Fields) -> Result<Probe, ConfigError> {
    let address = s.address.ok_or_else(|| at.required("address"))?;
    match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(Probe::Tcp { address }),
        _ => Err(at.fail("address", format!("{address:?} is not host:port"))),
    }
}

pub async fn probe(spec: &CheckSpec, address: &str) -> Outcome {
    let start = Instant::now();
    match tokio::net::TcpStream::connect(address).await {
        Ok(_) => {
            let latency = start.elapsed();
            Outcome { level: Level::Operational, reason: format!("connected in {}", ms(latency)), latency: Some(latency) }
        }
        Err(e) => Outcome {
            level: spec.failure_level,
            reason: match e.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                _ => e.to_string(),
            },
            latency: None,
        },
    }
}
