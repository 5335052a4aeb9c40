//! `kind = "http"`: a request (method, headers), then the status, the body (contains /
//! regex), the time (`slow` → degraded) and the certificate's expiry (`tls_expiry_days`).

use crate::model::Level;
use crate::server::checks::config::{CheckSpec, ConfigError, Dur, Fields, Probe};
use crate::server::checks::probe::{ms, Outcome};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// `kind = "http"` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub url: Option<String>,
    pub method: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub expect_status: Option<Vec<u16>>,
    pub body_contains: Option<String>,
    pub body_regex: Option<String>,
    /// Slower answers are degraded.
    pub slow: Option<Dur>,
    /// https: a certificate expiring within this many days is degraded.
    pub tls_expiry_days: Option<u32>,
    /// https: verify the certificate chain and name (default true).
    pub tls_verify: Option<bool>,
}

pub const FIELDS: &[&str] =
    &["url", "method", "headers", "expect_status", "body_contains", "body_regex", "slow", "tls_expiry_days", "tls_verify"];

pub fn validate(s: Settings, at: &Fields) -> Result<Probe, ConfigError> {
    let url = s.url.ok_or_else(|| at.required("url"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(at.fail("url", format!("{url:?} is not an http:// or https:// URL")));
    }
    let method = s.method.unwrap_or_else(|| "GET".into()).to_uppercase();
    if !["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"].contains(&method.as_str()) {
        return Err(at.fail("method", format!("unknown HTTP method {method:?}")));
    }
    let expect_status = s.expect_status.unwrap_or_default();
    if let Some(bad) = expect_status.iter().find(|s| !(100..=599).contains(*s)) {
        return Err(at.fail("expect_status", format!("{bad} is not an HTTP status")));
    }
    if (s.tls_expiry_days.is_some() || s.tls_verify.is_some()) && !url.starts_with("https://") {
        return Err(at.fail("tls_expiry_days", "applies to https:// URLs only"));
    }
    if let Some(re) = &s.body_regex {
        if let Err(e) = regex::Regex::new(re) {
            return Err(at.fail("body_regex", format!("invalid regular expression: {e}")));
        }
    }
    Ok(Probe::Http {
        url,
        method,
        headers: s.headers.into_iter().collect(),
        expect_status,
        body_contains: s.body_contains,
        body_regex: s.body_regex,
        slow: s.slow.map(|d| d.0),
        tls_expiry_days: s.tls_expiry_days,
        tls_verify: s.tls_verify.unwrap_or(true),
    })
}

/// Largest response body read for body checks.
const MAX_BODY: usize = 1 << 20;

/// The HTTP clients checks share: one verifying certificates, one not (`tls_verify = false`).
pub struct HttpClients {
    pub verified: reqwest::Client,
    pub unverified: reqwest::Client,
}

impl HttpClients {
    pub fn new() -> HttpClients {
        let build = |verify: bool| {
            reqwest::Client::builder()
                .user_agent(concat!("statuscast/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::limited(5))
                .tls_info(true)
                .danger_accept_invalid_certs(!verify)
                .build()
                .expect("HTTP client")
        };
        HttpClients { verified: build(true), unverified: build(false) }
    }
}

impl Default for HttpClients {
    fn default() -> Self {
        Self::new()
    }
}

pub async fn probe(spec: &CheckSpec, clients: &HttpClients) -> Outcome {
    let Probe::Http { url, method, headers, expect_status, body_contains, body_regex, slow, tls_expiry_days, tls_verify } =
        &spec.probe
    else {
        unreachable!()
    };
    let client = if *tls_verify { &clients.verified } else { &clients.unverified };
    let fail = |reason: String, latency| Outcome { level: spec.failure_level, reason, latency };
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut req = client.request(method, url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let start = Instant::now();
    let mut res = match req.send().await {
        Ok(r) => r,
        Err(e) => return fail(describe_reqwest_error(&e), None),
    };
    let status = res.status().as_u16();
    let cert_expiry = res
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .and_then(crate::server::checks::cert::not_after);
    let mut body = Vec::new();
    if body_contains.is_some() || body_regex.is_some() {
        loop {
            match res.chunk().await {
                Ok(Some(chunk)) => {
                    body.extend_from_slice(&chunk[..chunk.len().min(MAX_BODY - body.len())]);
                    if body.len() >= MAX_BODY {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return fail(format!("HTTP {status}, body unreadable: {}", describe_reqwest_error(&e)), None),
            }
        }
    }
    let latency = start.elapsed();
    let status_ok = if expect_status.is_empty() { (200..400).contains(&status) } else { expect_status.contains(&status) };
    if !status_ok {
        return fail(format!("HTTP {status} in {}", ms(latency)), Some(latency));
    }
    let text = String::from_utf8_lossy(&body);
    if let Some(needle) = body_contains {
        if !text.contains(needle.as_str()) {
            return fail(format!("HTTP {status}, body does not contain {needle:?}"), Some(latency));
        }
    }
    if let Some(re) = body_regex {
        match regex::Regex::new(re) {
            Ok(re) if re.is_match(&text) => {}
            _ => return fail(format!("HTTP {status}, body does not match /{re}/"), Some(latency)),
        }
    }
    if let (Some(days), Some(expiry)) = (tls_expiry_days, cert_expiry) {
        let left = expiry - std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        if left < *days as i64 * 86_400 {
            let reason = if left <= 0 {
                "certificate expired".to_string()
            } else {
                format!("certificate expires in {} days", left / 86_400)
            };
            return Outcome {
                level: Level::DegradedPerformance,
                reason: format!("HTTP {status} in {}, {reason}", ms(latency)),
                latency: Some(latency),
            };
        }
    }
    if let Some(limit) = slow {
        if latency > *limit {
            return Outcome {
                level: Level::DegradedPerformance,
                reason: format!("HTTP {status} in {} (slower than {})", ms(latency), ms(*limit)),
                latency: Some(latency),
            };
        }
    }
    Outcome { level: Level::Operational, reason: format!("HTTP {status} in {}", ms(latency)), latency: Some(latency) }
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => "connection reset".into(),
                _ => io.to_string(),
            };
        }
        source = s.source();
    }
    if e.is_connect() {
        "cannot connect".into()
    } else if e.is_timeout() {
        "timed out".into()
    } else {
        e.to_string()
    }
}
