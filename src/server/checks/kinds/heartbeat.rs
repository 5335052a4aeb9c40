//! `kind = "heartbeat"`: a dead man's switch. Nothing is probed: a job posts
//! `/api/v1/heartbeat/<component>` with the check's token at least once per `period`, and
//! the runner judges the check from the beats it records (no beat within the period is a
//! failure).

use crate::server::checks::config::{ConfigError, Dur, Fields, Probe};
use serde::Deserialize;

/// `kind = "heartbeat"` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub period: Option<Dur>,
    pub token: Option<String>,
}

pub const FIELDS: &[&str] = &["period", "token"];

pub fn validate(s: Settings, at: &Fields) -> Result<Probe, ConfigError> {
    let period = s.period.ok_or_else(|| at.required("period"))?.0;
    let token = s.token.ok_or_else(|| at.required("token"))?;
    if token.len() < 16 {
        return Err(at.fail("token", "must be at least 16 characters"));
    }
    Ok(Probe::Heartbeat { period, token })
}
