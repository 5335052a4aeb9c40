//! `kind = "command"`: a program run without a shell, read the Nagios plugin way.

use crate::model::Level;
use crate::server::checks::config::{CheckSpec, ConfigError, Fields, Probe};
use crate::server::checks::probe::Outcome;
use serde::Deserialize;
use std::time::Instant;

/// `kind = "command"` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The program and its arguments (no shell).
    pub command: Option<Vec<String>>,
}

pub const FIELDS: &[&str] = &["command"];

pub fn validate(s: Settings, at: &Fields) -> Result<Probe, ConfigError> {
    let mut argv = s.command.ok_or_else(|| at.required("command"))?;
    if argv.is_empty() || argv[0].is_empty() {
        return Err(at.fail("command", "needs at least the program"));
    }
    let program = argv.remove(0);
    Ok(Probe::Command { program, args: argv })
}

/// Runs a program (no shell) and maps its exit code the Nagios way: 0 OK, 1 WARNING →
/// degraded, 2 CRITICAL → the failure level, 3 UNKNOWN → degraded. The first output line
/// (without performance data after `|`) is the reason.
pub async fn probe(spec: &CheckSpec, program: &str, args: &[String]) -> Outcome {
    let start = Instant::now();
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await;
    let out = match child {
        Ok(o) => o,
        Err(e) => return Outcome { level: spec.failure_level, reason: format!("cannot run {program}: {e}"), latency: None },
    };
    let latency = start.elapsed();
    let first_line = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .next()
            .map(|l| l.split('|').next().unwrap_or("").trim().to_string())
            .unwrap_or_default()
    };
    let mut line = first_line(&out.stdout);
    if line.is_empty() {
        line = first_line(&out.stderr);
    }
    let (level, code) = match out.status.code() {
        Some(0) => (Level::Operational, "OK".to_string()),
        Some(1) => (Level::DegradedPerformance, "warning".to_string()),
        Some(2) => (spec.failure_level, "critical".to_string()),
        Some(3) => (Level::DegradedPerformance, "unknown".to_string()),
        Some(n) => (spec.failure_level, format!("exit {n}")),
        None => (spec.failure_level, "killed by a signal".to_string()),
    };
    let reason = if line.is_empty() {
        code
    } else if level == Level::Operational {
        line
    } else {
        format!("{code}: {line}")
    };
    Outcome { level, reason, latency: Some(latency) }
}
