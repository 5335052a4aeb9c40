//! The server's settings: `statuscast serve`'s flags (each with an environment variable and
//! a default, so `statuscast serve` with nothing else set runs the embedded defaults), and
//! the [`Settings`] the running server reads after start-up.

use crate::server::checks::kinds::host::HostThresholds;
use crate::server::http::client::TrustedProxies;
use crate::server::store::url::DatabaseUrl;
use crate::server::stream::admission::Limits;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (overrides site-addr in Leptos.toml). Port 0 picks a free port;
    /// the chosen address is printed as `listening on http://ADDR`.
    #[arg(long, env = "STATUSCAST_ADDR")]
    pub addr: Option<SocketAddr>,

    /// Let several processes listen on the same address and port (SO_REUSEPORT): the kernel
    /// spreads new connections over them. For several instances on one host (each has its
    /// own open-file limit); they share state through PostgreSQL (--database-url).
    #[arg(long, env = "STATUSCAST_REUSE_PORT", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub reuse_port: bool,

    /// Serve HTTPS with this certificate chain (PEM; with --tls-key): HTTP/2 and HTTP/1.1 by
    /// ALPN, so a browser's tabs share one connection. Both files are read again on SIGHUP.
    #[arg(long, env = "STATUSCAST_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "STATUSCAST_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Runtime site settings (site root, address, environment).
    #[arg(long, env = "STATUSCAST_LEPTOS_CONFIG", default_value = "Leptos.toml")]
    pub leptos_config: PathBuf,

    /// Components and checks (see statuscast.example.toml). Without this file, statuscast
    /// monitors the host it runs on.
    #[arg(long, env = "STATUSCAST_CONFIG", default_value = "statuscast.toml")]
    pub config: PathBuf,

    /// How often changes of detail (a check's reason, latency, time) are pushed; level
    /// changes are pushed at once.
    #[arg(long, env = "STATUSCAST_DETAIL_REFRESH", default_value = "10s", value_parser = parse_duration)]
    pub detail_refresh: Duration,

    /// Where statuscast keeps its state; also the disk whose free space is checked.
    #[arg(long, env = "STATUSCAST_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// The database: `postgres://USER:PASSWORD@HOST:PORT/DATABASE` for PostgreSQL (the
    /// shared engine), `sqlite://PATH` for a SQLite file. Unset: `statuscast.db` in the data
    /// directory.
    #[arg(long, env = "STATUSCAST_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Bearer token for the operator API. Unset: the operator API is disabled.
    #[arg(long, env = "STATUSCAST_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Password for the admin area (/admin). The admin token is accepted at login too;
    /// with neither set the admin area is disabled.
    #[arg(long, env = "STATUSCAST_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Reverse proxies whose `X-Forwarded-For` names the client (for login limits), as a
    /// comma-separated list of addresses or networks: `127.0.0.1`, `10.0.0.0/8`, `fd00::/8`.
    /// Unset: nobody's, and the client is the connection's peer.
    #[arg(long, env = "STATUSCAST_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,

    /// Bearer token for `/metrics`. Unset: `/metrics` is public.
    #[arg(long, env = "STATUSCAST_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Interval between SSE heartbeat comments.
    #[arg(long, env = "STATUSCAST_HEARTBEAT", default_value = "15s", value_parser = parse_duration)]
    pub heartbeat: Duration,

    /// Base reconnect delay sent to browsers (`retry:`), in milliseconds.
    #[arg(long, env = "STATUSCAST_SSE_RETRY_MS", default_value_t = 1000)]
    pub sse_retry_ms: u64,

    /// Random extra reconnect delay per client, up to this many milliseconds.
    #[arg(long, env = "STATUSCAST_SSE_RETRY_JITTER_MS", default_value_t = 2000)]
    pub sse_retry_jitter_ms: u64,

    /// Serve each SSE stream on a connection of its own: a stream requested on a keep-alive
    /// connection (one that already carried page requests) is told to reconnect at once and
    /// that connection is closed, so the stream costs a few hundred bytes instead of the
    /// ~25 KiB of buffers a general HTTP connection holds.
    #[arg(long, env = "STATUSCAST_SSE_OWN_CONNECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub sse_own_connection: bool,

    /// Most SSE streams held at once; more are told to retry later. Default: the open-file
    /// limit less the connection pool and a reserve for the process (at 20,000: 18,500).
    #[arg(long, env = "STATUSCAST_MAX_STREAMS")]
    pub max_streams: Option<usize>,

    /// Most connections that are not streams (pages, the API, files, connections yet to send
    /// a request); when full, the longest-idle one is closed for a new one, and if every one
    /// has a request in flight the new one gets 503. Default: 1/20 of the open-file limit
    /// (64 to 4096; at 20,000: 1,000).
    #[arg(long, env = "STATUSCAST_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// A request body that has not arrived whole this long after its head is refused (408)
    /// and its connection closed, so a client cannot hold a connection by stalling a body.
    #[arg(long, env = "STATUSCAST_BODY_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub body_timeout: Duration,

    /// A connection whose peer accepts no bytes for this long is closed (a stalled SSE
    /// reader, a dead client behind a full socket buffer).
    #[arg(long, env = "STATUSCAST_STALL_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub stall_timeout: Duration,

    /// Send buffer of each connection's socket, in bytes (the kernel doubles it); bounds what
    /// a stalled reader can hold. 0 leaves the kernel's autotuning.
    #[arg(long, env = "STATUSCAST_SEND_BUFFER", default_value_t = 128 * 1024)]
    pub send_buffer: usize,

    /// How often host health is sampled.
    #[arg(long, env = "STATUSCAST_HOST_INTERVAL", default_value = "10s", value_parser = parse_duration)]
    pub host_interval: Duration,

    #[arg(long, env = "STATUSCAST_DISK_DEGRADED_PCT", default_value_t = HostThresholds::default().disk_degraded_pct)]
    pub disk_degraded_pct: f64,
    #[arg(long, env = "STATUSCAST_DISK_OUTAGE_PCT", default_value_t = HostThresholds::default().disk_outage_pct)]
    pub disk_outage_pct: f64,
    #[arg(long, env = "STATUSCAST_MEMORY_DEGRADED_PCT", default_value_t = HostThresholds::default().memory_degraded_pct)]
    pub memory_degraded_pct: f64,
    #[arg(long, env = "STATUSCAST_MEMORY_OUTAGE_PCT", default_value_t = HostThresholds::default().memory_outage_pct)]
    pub memory_outage_pct: f64,
    /// 1-minute load per core above which the host is degraded.
    #[arg(long, env = "STATUSCAST_LOAD_DEGRADED", default_value_t = HostThresholds::default().load_degraded)]
    pub load_degraded: f64,
    #[arg(long, env = "STATUSCAST_LOAD_OUTAGE", default_value_t = HostThresholds::default().load_outage)]
    pub load_outage: f64,
    /// Show the host's sizes (GiB of disk and memory, cores) in its public reasons; by
    /// default only percentages and load per core are published.
    #[arg(long, env = "STATUSCAST_HOST_SHOW_SIZES", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub host_show_sizes: bool,

    /// Let viewers subscribe webhooks on loopback, private and link-local addresses (tests,
    /// private deployments). Off: such addresses are refused, when subscribing and when sending.
    #[arg(long, env = "STATUSCAST_ALLOW_PRIVATE_WEBHOOKS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allow_private_webhooks: bool,
}

/// Settings the running server needs after start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub admin_token: Option<String>,
    pub admin_password: Option<String>,
    pub metrics_token: Option<String>,
    pub trusted_proxies: TrustedProxies,
    /// What admin sessions are tied to (changing the password or token ends them).
    pub session_key: std::sync::Arc<crate::server::http::admin::session::SessionKey>,
    pub heartbeat: Duration,
    pub sse_retry_ms: u64,
    pub sse_retry_jitter_ms: u64,
    pub max_streams: usize,
    pub max_connections: usize,
    pub sse_own_connection: bool,
    pub host_interval: Duration,
    pub stall_timeout: Duration,
    pub body_timeout: Duration,
    pub send_buffer: usize,
    pub thresholds: HostThresholds,
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub detail_refresh: Duration,
    pub allow_private_webhooks: bool,
}

impl ServeArgs {
    pub fn settings(&self) -> Result<Settings, SettingsError> {
        let t = HostThresholds {
            disk_degraded_pct: self.disk_degraded_pct,
            disk_outage_pct: self.disk_outage_pct,
            memory_degraded_pct: self.memory_degraded_pct,
            memory_outage_pct: self.memory_outage_pct,
            load_degraded: self.load_degraded,
            load_outage: self.load_outage,
            show_sizes: self.host_show_sizes,
        };
        if t.disk_outage_pct > t.disk_degraded_pct {
            return Err(SettingsError("--disk-outage-pct must not be above --disk-degraded-pct".into()));
        }
        if t.memory_outage_pct > t.memory_degraded_pct {
            return Err(SettingsError("--memory-outage-pct must not be above --memory-degraded-pct".into()));
        }
        if t.load_outage < t.load_degraded {
            return Err(SettingsError("--load-outage must not be below --load-degraded".into()));
        }
        let admin_token = token(&self.admin_token, "--admin-token / STATUSCAST_ADMIN_TOKEN")?;
        let admin_password = self.admin_password.clone().filter(|p| !p.is_empty());
        if admin_password.as_ref().is_some_and(|p| p.chars().count() < 12) {
            return Err(SettingsError("--admin-password / STATUSCAST_ADMIN_PASSWORD must be at least 12 characters".into()));
        }
        let database = DatabaseUrl::parse(self.database_url.as_deref())
            .map_err(|e| SettingsError(format!("--database-url / STATUSCAST_DATABASE_URL: {e}").into()))?;
        let session_key = crate::server::http::admin::session::SessionKey::of(admin_password.as_deref(), admin_token.as_deref());
        let metrics_token = token(&self.metrics_token, "--metrics-token / STATUSCAST_METRICS_TOKEN")?;
        let trusted_proxies = TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| SettingsError(format!("--trusted-proxies / STATUSCAST_TRUSTED_PROXIES: {e}").into()))?;
        let limits = Limits::for_open_files(Limits::open_file_limit());
        if self.max_connections == Some(0) {
            return Err(SettingsError("--max-connections / STATUSCAST_MAX_CONNECTIONS must be at least 1".into()));
        }
        Ok(Settings {
            database,
            metrics_token,
            trusted_proxies,
            session_key: std::sync::Arc::new(session_key),
            admin_token,
            admin_password,
            heartbeat: self.heartbeat,
            sse_retry_ms: self.sse_retry_ms,
            sse_retry_jitter_ms: self.sse_retry_jitter_ms,
            max_streams: self.max_streams.unwrap_or(limits.streams),
            max_connections: self.max_connections.unwrap_or(limits.connections),
            sse_own_connection: self.sse_own_connection,
            host_interval: self.host_interval,
            stall_timeout: self.stall_timeout,
            body_timeout: self.body_timeout,
            send_buffer: self.send_buffer,
            thresholds: t,
            data_dir: self.data_dir.clone(),
            detail_refresh: self.detail_refresh,
            allow_private_webhooks: self.allow_private_webhooks,
        })
    }
}

/// A Bearer token setting: empty is unset; a set one has at least 16 characters.
fn token(value: &Option<String>, flag: &str) -> Result<Option<String>, SettingsError> {
    let value = value.clone().filter(|t| !t.is_empty());
    if value.as_ref().is_some_and(|t| t.len() < 16) {
        return Err(SettingsError(format!("{flag} must be at least 16 characters").into()));
    }
    Ok(value)
}

/// Flags that do not make sense together; the message names them.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(std::borrow::Cow<'static, str>);

/// A duration that is not one; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadDuration(String);

const MAX_DURATION_S: f64 = 365.0 * 86_400.0;

/// `250ms`, `15s`, `2m`, `1h`, or a bare number of seconds; from 1 ms to 365 days.
pub fn parse_duration(s: &str) -> Result<Duration, BadDuration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| BadDuration(format!("expected a duration like \"15s\" or \"500ms\", got {s:?}")))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(BadDuration(format!("unknown duration unit {other:?} in {s:?} (use ms, s, m or h)"))),
    };
    // At least a millisecond (shorter rounds to nothing a timer can wait) and at most a year.
    if !(0.001..=MAX_DURATION_S).contains(&secs) {
        return Err(BadDuration(format!("duration {s:?} must be from 1ms to 365 days")));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("15s").unwrap(), Duration::from_secs(15));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("5 fortnights").unwrap_err().to_string().contains("unknown duration unit"));
        assert!(parse_duration("soon").unwrap_err().to_string().contains("expected a duration"));
        assert!(parse_duration("0s").is_err());
        // Found by fuzzing: these once panicked (too long for a Duration) or rounded to 0 ns.
        for s in ["100000000000000000000s", "6000000000000000h", "0.0000000001s", "366d", "8761h"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
        assert_eq!(parse_duration("1ms").unwrap(), Duration::from_millis(1));
        assert_eq!(parse_duration("8760h").unwrap(), Duration::from_secs(365 * 86_400));
    }

    #[test]
    fn defaults_are_valid_and_the_token_must_be_long_enough() {
        let Command::Serve(args) = Cli::try_parse_from(["statuscast"]).unwrap().command() else { panic!() };
        let s = args.settings().unwrap();
        assert_eq!(s.heartbeat, Duration::from_secs(15));
        assert!(s.max_streams >= 16);
        let cli = Cli::try_parse_from(["statuscast", "serve", "--admin-token", "short"]).unwrap();
        let Command::Serve(args) = cli.command() else { panic!() };
        assert!(args.settings().unwrap_err().to_string().contains("at least 16"));
    }

    #[test]
    fn a_later_flag_overrides_an_earlier_one() {
        let cli = Cli::try_parse_from(["statuscast", "serve", "--heartbeat", "1s", "--heartbeat", "2s"]).unwrap();
        let Command::Serve(args) = cli.command() else { panic!() };
        assert_eq!(args.heartbeat, Duration::from_secs(2));
    }

    #[test]
    fn thresholds_must_be_ordered() {
        let cli = Cli::try_parse_from(["statuscast", "serve", "--disk-outage-pct", "50"]).unwrap();
        let Command::Serve(args) = cli.command() else { panic!() };
        assert!(args.settings().unwrap_err().to_string().contains("--disk-outage-pct"));
    }
}
