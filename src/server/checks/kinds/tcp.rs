//! `kind = "tcp"`: a connection to `address`, timed.

use crate::model::Level;
use crate::server::checks::config::CheckSpec;
use crate::server::checks::probe::{ms, Outcome};
use std::time::Instant;

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
