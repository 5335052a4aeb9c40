//! Running one check once: HTTP, TCP, a command (Nagios plugin conventions), host health.
//! Heartbeats are not probed: they are judged from the beats the API records.

use super::config::{CheckSpec, HostMeasure, Probe};
use crate::server::host;
use crate::status::Level;
use std::time::{Duration, Instant};

/// One result, before damping.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub level: Level,
    pub reason: String,
    pub latency: Option<Duration>,
}

/// Largest response body read for body checks.
const MAX_BODY: usize = 1 << 20;

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Runs the probe within the check's timeout.
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

pub async fn run(spec: &CheckSpec, http: &HttpClients, data_dir: &std::path::Path) -> Outcome {
    let fail = |reason: String| Outcome { level: spec.failure_level, reason, latency: None };
    let result = tokio::time::timeout(spec.timeout, async {
        match &spec.probe {
            Probe::Http { .. } => http_probe(spec, http).await,
            Probe::Tcp { address } => tcp_probe(spec, address).await,
            Probe::Command { program, args } => command_probe(spec, program, args).await,
            Probe::Host { thresholds, path, measure } => {
                let dir = path.as_deref().map(std::path::PathBuf::from).unwrap_or_else(|| data_dir.to_path_buf());
                let thresholds = thresholds.clone();
                match tokio::task::spawn_blocking(move || host::sample(&dir).map(|s| host::evaluate(&s, &thresholds))).await {
                    Ok(Ok(parts)) => host_outcome(parts, *measure),
                    Ok(Err(e)) => fail(format!("cannot read host health: {e}")),
                    Err(e) => fail(e.to_string()),
                }
            }
            Probe::Heartbeat { .. } => unreachable!("heartbeats are not probed"),
        }
    })
    .await;
    match result {
        Ok(outcome) => outcome,
        Err(_) => fail(format!("timed out after {}", ms(spec.timeout))),
    }
}

/// The level and reason of one host measure, or of the worst of them.
fn host_outcome(parts: Vec<crate::status::ComponentStatus>, measure: HostMeasure) -> Outcome {
    let id = match measure {
        HostMeasure::Disk => Some("host.disk"),
        HostMeasure::Memory => Some("host.memory"),
        HostMeasure::Load => Some("host.load"),
        HostMeasure::All => None,
    };
    if let Some(part) = id.and_then(|id| parts.iter().find(|c| c.id == id)) {
        return Outcome { level: part.level, reason: part.reason.clone(), latency: None };
    }
    let worst = parts.iter().map(|c| c.level).max().unwrap_or(Level::Operational);
    let reason = parts
        .iter()
        .filter(|c| c.level == worst)
        .map(|c| format!("{}: {}", c.name.to_lowercase(), c.reason))
        .collect::<Vec<_>>()
        .join("; ");
    Outcome { level: worst, reason, latency: None }
}

async fn http_probe(spec: &CheckSpec, clients: &HttpClients) -> Outcome {
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
        .and_then(super::cert::not_after);
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

async fn tcp_probe(spec: &CheckSpec, address: &str) -> Outcome {
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

/// Runs a program (no shell) and maps its exit code the Nagios way: 0 OK, 1 WARNING →
/// degraded, 2 CRITICAL → the failure level, 3 UNKNOWN → degraded. The first output line
/// (without performance data after `|`) is the reason.
async fn command_probe(spec: &CheckSpec, program: &str, args: &[String]) -> Outcome {
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
    let reason = if line.is_empty() { code } else if level == Level::Operational { line } else { format!("{code}: {line}") };
    Outcome { level, reason, latency: Some(latency) }
}
