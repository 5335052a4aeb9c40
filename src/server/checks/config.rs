//! `statuscast.toml`: components and their checks.
//!
//! Errors name the file, line, column and field, as in
//! `statuscast.toml:14:9: component[0].check[2].timeout: expected a duration like "5s"`.

use super::kinds;
use crate::model::Level;
use crate::server::notify::config as notify;
use crate::server::settings::parse_duration;
use serde::{Deserialize, Deserializer};
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

/// A duration written as `"250ms"`, `"5s"`, `"2m"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d).map_err(|_| serde::de::Error::custom("expected a duration like \"5s\""))?;
        parse_duration(&s).map(Dur).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(default)]
    pub page: Option<toml::Spanned<PageConfig>>,
    #[serde(default)]
    pub checks: Option<ChecksSettings>,
    #[serde(default, rename = "component")]
    pub components: Vec<toml::Spanned<ComponentConfig>>,
    /// Operator alerts (see `server::notify::config`).
    #[serde(default)]
    pub notify: Vec<toml::Spanned<notify::EntryConfig>>,
    #[serde(default)]
    pub subscriptions: Option<toml::Spanned<notify::SubscriptionsConfig>>,
}

/// `[page]`: what the status page is called and where it is published (for the
/// Statuspage-compatible API, feeds and the embed widget).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageConfig {
    pub name: Option<String>,
    pub url: Option<String>,
}

/// The page's name and public address, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub name: String,
    /// `https://status.example.com`, no trailing slash; None: not configured.
    pub url: Option<String>,
}

impl Default for Page {
    fn default() -> Self {
        Page { name: "Status".into(), url: None }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksSettings {
    /// Most checks running at once.
    pub concurrency: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default, rename = "check")]
    pub checks: Vec<toml::Spanned<CheckConfig>>,
}

pub use super::kinds::host::HostMeasure;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Http,
    Tcp,
    Command,
    Host,
    Heartbeat,
}

/// One check as written: the fields every kind has, and the rest, which the kind reads
/// (its `Settings` in [`super::kinds`]; a field of another kind "does not apply").
#[derive(Debug, Deserialize)]
pub struct CheckConfig {
    pub kind: Kind,
    pub interval: Option<Dur>,
    pub timeout: Option<Dur>,
    /// Random extra delay before each run, up to this.
    pub jitter: Option<Dur>,
    pub failure_threshold: Option<u32>,
    pub success_threshold: Option<u32>,
    /// The level a failing check puts its component in (default `major_outage`).
    pub failure_level: Option<Level>,
    /// The kind's own fields.
    #[serde(flatten)]
    pub settings: toml::Table,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Tcp => "tcp",
            Kind::Command => "command",
            Kind::Host => "host",
            Kind::Heartbeat => "heartbeat",
        }
    }

    const ALL: [Kind; 5] = [Kind::Http, Kind::Tcp, Kind::Command, Kind::Host, Kind::Heartbeat];

    /// The fields this kind reads.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Http => kinds::http::FIELDS,
            Kind::Tcp => kinds::tcp::FIELDS,
            Kind::Command => kinds::command::FIELDS,
            Kind::Host => kinds::host::FIELDS,
            Kind::Heartbeat => kinds::heartbeat::FIELDS,
        }
    }

    /// Reads and validates this kind's fields into its probe.
    fn probe(self, settings: toml::Table, at: &Fields) -> Result<Probe, ConfigError> {
        match self {
            Kind::Http => kinds::http::validate(at.read(settings)?, at),
            Kind::Tcp => kinds::tcp::validate(at.read(settings)?, at),
            Kind::Command => kinds::command::validate(at.read(settings)?, at),
            Kind::Host => kinds::host::validate(at.read(settings)?, at),
            Kind::Heartbeat => kinds::heartbeat::validate(at.read(settings)?, at),
        }
    }
}

/// Where a kind's fields are, for its errors: `fail("url", ...)` names
/// `component[0].check[1].url` at the check's line.
pub struct Fields<'a> {
    pub kind: Kind,
    fail: &'a dyn Fn(&str, String) -> ConfigError,
}

impl Fields<'_> {
    pub fn fail(&self, field: &str, message: impl Into<String>) -> ConfigError {
        (self.fail)(field, message.into())
    }

    pub fn required(&self, field: &str) -> ConfigError {
        self.fail(field, format!("is required for kind = \"{}\"", self.kind.name()))
    }

    /// The kind's settings from the check's remaining fields. A field of another kind does
    /// not apply; one of no kind is unknown.
    fn read<T: serde::de::DeserializeOwned>(&self, settings: toml::Table) -> Result<T, ConfigError> {
        let own = self.kind.fields();
        if let Some(key) = settings.keys().find(|k| !own.contains(&k.as_str())) {
            let elsewhere = Kind::ALL.iter().any(|k| k.fields().contains(&key.as_str()));
            return Err(if elsewhere {
                self.fail(key, format!("does not apply to kind = \"{}\"", self.kind.name()))
            } else {
                self.fail(key, format!("unknown field `{key}`"))
            });
        }
        serde_path_to_error::deserialize(toml::Value::Table(settings)).map_err(|e| {
            let field = e.path().to_string();
            self.fail(&field, e.into_inner().message().to_string())
        })
    }
}

/// A configuration error with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub page: Page,
    /// Most checks running at once.
    pub concurrency: usize,
    pub components: Vec<ComponentSpec>,
    /// Alerts and subscriptions.
    pub notify: notify::NotifyConfig,
}

impl Config {
    pub fn check_count(&self) -> usize {
        self.components.iter().map(|c| c.checks.len()).sum()
    }
}

/// The embedded default, without a config file: the host statuscast runs on, as three
/// components (disk space of the data directory, memory, CPU load).
pub fn embedded_default(interval: Duration, thresholds: &crate::server::checks::kinds::host::HostThresholds) -> Config {
    let component = |id: &str, name: &str, measure| ComponentSpec {
        id: id.into(),
        name: name.into(),
        group: Some(crate::server::checks::kinds::host::GROUP.into()),
        checks: vec![CheckSpec {
            id: format!("{id}/0"),
            interval,
            timeout: Duration::from_secs(10).min(interval),
            jitter: Duration::ZERO,
            failure_threshold: 1,
            success_threshold: 1,
            failure_level: Level::MajorOutage,
            probe: Probe::Host { thresholds: thresholds.clone(), path: None, measure },
        }],
    };
    Config {
        page: Page::default(),
        notify: notify::NotifyConfig::default(),
        concurrency: 4,
        components: vec![
            component("host.disk", "Disk space", HostMeasure::Disk),
            component("host.memory", "Memory", HostMeasure::Memory),
            component("host.load", "CPU load", HostMeasure::Load),
        ],
    }
}

/// Parses and validates a configuration text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
    let at = |span: Option<Range<usize>>, field: String, message: String| {
        let (line, column) = line_col(text, span.map_or(0, |s| s.start));
        ConfigError { file: file.to_string(), line, column, field, message }
    };
    let de = toml::Deserializer::parse(text).map_err(|e| at(e.span(), String::new(), e.message().to_string()))?;
    let parsed: File = serde_path_to_error::deserialize(de).map_err(|e| {
        // Spanned<T> shows up in the path as a private field: leave it out.
        let field = e.path().to_string().replace(".$__serde_spanned_private_value", "");
        let inner = e.into_inner();
        at(inner.span(), if field == "." { String::new() } else { field }, inner.message().to_string())
    })?;
    let concurrency = parsed.checks.as_ref().and_then(|c| c.concurrency).unwrap_or(64);
    if concurrency == 0 {
        return Err(at(None, "checks.concurrency".into(), "must be at least 1".into()));
    }
    let page = match &parsed.page {
        None => Page::default(),
        Some(spanned) => {
            let span = spanned.span();
            let p = spanned.get_ref();
            let name = p.name.as_deref().map(str::trim).unwrap_or("Status").to_string();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                return Err(at(Some(span), "page.name".into(), "must be 1 to 100 characters, no control characters".into()));
            }
            let url = match p.url.as_deref().map(|u| u.trim().trim_end_matches('/')) {
                None => None,
                Some(u)
                    if (u.starts_with("https://") || u.starts_with("http://"))
                        && u.len() > 8
                        && !u.contains(char::is_whitespace) =>
                {
                    Some(u.to_string())
                }
                Some(u) => return Err(at(Some(span), "page.url".into(), format!("{u:?} is not an http:// or https:// address"))),
            };
            Page { name, url }
        }
    };
    let mut parsed = parsed;
    let entries = std::mem::take(&mut parsed.notify);
    let subscriptions = parsed.subscriptions.take();
    let components = validate(parsed, &|span, field, message| at(Some(span), field, message))?;
    let ids: Vec<String> = components.iter().map(|c| c.id.clone()).collect();
    let mut names = HashSet::new();
    let mut notify_entries = Vec::new();
    for (i, spanned) in entries.into_iter().enumerate() {
        let span = spanned.span();
        // The place is added below; the message carries the field.
        let fail = |field: &str, message: String| format!("notify[{i}].{field}\u{0}{message}");
        let entry = notify::entry(spanned.into_inner(), &mut names, &ids, &fail).map_err(|e| placed(&at, span, e))?;
        notify_entries.push(entry);
    }
    let subscriptions = match subscriptions {
        None => notify::Subscriptions::default(),
        Some(spanned) => {
            let span = spanned.span();
            let fail = |field: &str, message: String| format!("subscriptions.{field}\u{0}{message}");
            notify::subscriptions(spanned.into_inner(), page.url.is_some(), &fail).map_err(|e| placed(&at, span, e))?
        }
    };
    let notify = notify::NotifyConfig { entries: notify_entries, subscriptions };
    Ok(Config { page, concurrency, components, notify })
}

/// A notifier error (`field\0message`) at `span`.
fn placed(at: &dyn Fn(Option<Range<usize>>, String, String) -> ConfigError, span: Range<usize>, e: String) -> ConfigError {
    let (field, message) = e.split_once('\0').unwrap_or(("", &e));
    at(Some(span), field.to_string(), message.to_string())
}

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: name.clone(),
        line: 0,
        column: 0,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    parse(&name, &text)
}

/// A validated component and its checks.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentSpec {
    pub id: String,
    pub name: String,
    pub group: Option<String>,
    pub checks: Vec<CheckSpec>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CheckSpec {
    /// `component-id/index`, unique.
    pub id: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub jitter: Duration,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub failure_level: Level,
    pub probe: Probe,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    Http {
        url: String,
        method: String,
        headers: Vec<(String, String)>,
        expect_status: Vec<u16>,
        body_contains: Option<String>,
        body_regex: Option<String>,
        slow: Option<Duration>,
        tls_expiry_days: Option<u32>,
        tls_verify: bool,
    },
    Tcp {
        address: String,
    },
    Command {
        program: String,
        args: Vec<String>,
    },
    Host {
        thresholds: crate::server::checks::kinds::host::HostThresholds,
        path: Option<String>,
        measure: HostMeasure,
    },
    Heartbeat {
        period: Duration,
        token: String,
    },
}

fn validate(file: File, err: &dyn Fn(Range<usize>, String, String) -> ConfigError) -> Result<Vec<ComponentSpec>, ConfigError> {
    let mut ids = HashSet::new();
    let mut out = Vec::new();
    for (ci, spanned) in file.components.into_iter().enumerate() {
        let span = spanned.span();
        let c = spanned.into_inner();
        let here = |field: &str, msg: String| err(span.clone(), format!("component[{ci}].{field}"), msg);
        if c.id.is_empty() || !c.id.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)) {
            return Err(here("id", format!("{:?} is not a valid id: use letters, digits, '-', '_' and '.'", c.id)));
        }
        if !ids.insert(c.id.clone()) {
            return Err(here("id", format!("{:?} is used by another component", c.id)));
        }
        if c.name.trim().is_empty() {
            return Err(here("name", "must not be empty".into()));
        }
        if c.checks.is_empty() {
            return Err(here("check", "a component needs at least one [[component.check]]".into()));
        }
        let mut checks = Vec::new();
        for (ki, spanned) in c.checks.into_iter().enumerate() {
            let span = spanned.span();
            let k = spanned.into_inner();
            let field = |f: &str| format!("component[{ci}].check[{ki}].{f}");
            let fail = |f: &str, msg: String| err(span.clone(), field(f), msg);
            checks.push(validate_check(&c.id, ki, k, &fail)?);
        }
        out.push(ComponentSpec { id: c.id, name: c.name, group: c.group, checks });
    }
    Ok(out)
}

fn validate_check(
    component: &str,
    index: usize,
    k: CheckConfig,
    fail: &dyn Fn(&str, String) -> ConfigError,
) -> Result<CheckSpec, ConfigError> {
    let interval = k.interval.map_or(Duration::from_secs(30), |d| d.0);
    let timeout = k.timeout.map_or(Duration::from_secs(10).min(interval), |d| d.0);
    if timeout > interval {
        return Err(fail("timeout", format!("{timeout:?} is longer than the interval {interval:?}")));
    }
    // By default a tenth of the interval, in whole milliseconds (none below 10 ms).
    let jitter = k.jitter.map_or(Duration::from_millis((interval / 10).as_millis() as u64), |d| d.0);
    if jitter >= interval {
        return Err(fail("jitter", "must be shorter than the interval".into()));
    }
    let threshold = |v: Option<u32>, name: &str| match v {
        None => Ok(1),
        Some(0) => Err(fail(name, "must be at least 1".into())),
        Some(n) => Ok(n),
    };
    let failure_threshold = threshold(k.failure_threshold, "failure_threshold")?;
    let success_threshold = threshold(k.success_threshold, "success_threshold")?;
    let failure_level = k.failure_level.unwrap_or(Level::MajorOutage);
    if failure_level == Level::Operational {
        return Err(fail("failure_level", "a failure cannot be operational".into()));
    }
    let probe = k.kind.probe(k.settings, &Fields { kind: k.kind, fail })?;
    Ok(CheckSpec {
        id: format!("{component}/{index}"),
        interval,
        timeout,
        jitter,
        failure_threshold,
        success_threshold,
        failure_level,
        probe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse("statuscast.toml", text).unwrap_err().to_string()
    }

    const GOOD: &str = r#"
[checks]
concurrency = 8

[[component]]
id = "api"
name = "Public API"
group = "Web"

[[component.check]]
kind = "http"
url = "http://127.0.0.1:8080/health"
interval = "10s"
timeout = "2s"
expect_status = [200, 204]
body_contains = "ok"
slow = "500ms"
failure_threshold = 3

[[component.check]]
kind = "tcp"
address = "127.0.0.1:5432"

[[component]]
id = "backup"
name = "Nightly backup"

[[component.check]]
kind = "heartbeat"
period = "26h"
token = "0123456789abcdef-backup"
"#;

    #[test]
    fn a_good_file_parses_with_defaults() {
        let config = parse("statuscast.toml", GOOD).unwrap();
        assert_eq!((config.concurrency, config.check_count()), (8, 3));
        let cs = config.components;
        assert_eq!(cs.len(), 2);
        let http = &cs[0].checks[0];
        assert_eq!(http.id, "api/0");
        assert_eq!((http.interval, http.timeout), (Duration::from_secs(10), Duration::from_secs(2)));
        assert_eq!((http.failure_threshold, http.success_threshold), (3, 1));
        assert_eq!(http.jitter, Duration::from_secs(1));
        assert!(
            matches!(&http.probe, Probe::Http { method, expect_status, .. } if method == "GET" && expect_status == &[200, 204])
        );
        let tcp = &cs[0].checks[1];
        assert_eq!((tcp.interval, tcp.timeout), (Duration::from_secs(30), Duration::from_secs(10)));
        assert!(matches!(&cs[1].checks[0].probe, Probe::Heartbeat { period, .. } if *period == Duration::from_secs(26 * 3600)));
    }

    #[test]
    fn a_bad_duration_names_file_line_column_and_field() {
        let text = GOOD.replace("timeout = \"2s\"", "timeout = \"soon\"");
        let e = parse("statuscast.toml", &text).unwrap_err();
        assert_eq!((e.line, e.column), (14, 11), "{e}");
        assert_eq!(e.field, "component[0].check[0].timeout");
        assert_eq!(
            e.to_string(),
            "statuscast.toml:14:11: component[0].check[0].timeout: expected a duration like \"15s\" or \"500ms\", got \"soon\""
        );
        let e = err(&GOOD.replace("timeout = \"2s\"", "timeout = 5"));
        assert!(e.contains("component[0].check[0].timeout: expected a duration like \"5s\""), "{e}");
    }

    #[test]
    fn mistakes_are_named() {
        assert!(err(&GOOD.replace("kind = \"tcp\"", "kind = \"ping\""))
            .contains("component[0].check[1].kind: unknown variant `ping`"));
        assert!(err(&GOOD.replace("body_contains", "body_contain")).contains("unknown field `body_contain`"));
        assert!(err(&GOOD.replace("address = \"127.0.0.1:5432\"", "address = \"db\""))
            .contains("component[0].check[1].address: \"db\" is not host:port"));
        assert!(err(&GOOD.replace("address = \"127.0.0.1:5432\"", ""))
            .contains("component[0].check[1].address: is required for kind = \"tcp\""));
        assert!(err(&GOOD.replace("address = \"127.0.0.1:5432\"", "address = \"a:1\"\nurl = \"http://x.example/\""))
            .contains("url: does not apply to kind = \"tcp\""));
        assert!(err(&GOOD.replace("id = \"backup\"", "id = \"api\""))
            .contains("component[1].id: \"api\" is used by another component"));
        assert!(err(&GOOD.replace("timeout = \"2s\"", "timeout = \"20s\"")).contains("longer than the interval"));
        assert!(err(&GOOD.replace("failure_threshold = 3", "failure_threshold = 0"))
            .contains("failure_threshold: must be at least 1"));
        assert!(
            err(&GOOD.replace("body_contains = \"ok\"", "body_regex = \"(\"")).contains("body_regex: invalid regular expression")
        );
        assert!(err("[[component]]\nid = \"x\"\nname = \"X\"\n").contains("component[0].check: a component needs at least one"));
        assert!(err(&GOOD.replace("address = \"127.0.0.1:5432\"", "address = \"a:1\"\nmeasure = \"disk\""))
            .contains("measure: does not apply to kind = \"tcp\""));
        assert!(err(&GOOD.replace("kind = \"tcp\"\naddress = \"127.0.0.1:5432\"", "kind = \"host\"\nmeasure = \"cpu\""))
            .contains("unknown variant `cpu`"));
        let e = err("[[component]\n");
        assert!(e.starts_with("statuscast.toml:1:"), "{e}");
    }

    #[test]
    fn host_thresholds_are_numbers_in_range() {
        // Found while writing the fuzz target `config` (its properties refuse it; the fuzzer
        // had not reached it yet): `nan` was taken as a threshold, and compares false with
        // everything, so the check never left operational.
        let host =
            |line: &str| format!("[[component]]\nid = \"h\"\nname = \"H\"\n[[component.check]]\nkind = \"host\"\n{line}\n");
        for (line, field) in [
            ("disk_degraded_pct = nan", "disk_degraded_pct"),
            ("disk_outage_pct = -1", "disk_outage_pct"),
            ("memory_degraded_pct = 101", "memory_degraded_pct"),
            ("memory_outage_pct = -nan", "memory_outage_pct"),
            ("load_degraded = -0.5", "load_degraded"),
            ("load_outage = inf", "load_outage"),
        ] {
            let e = parse("statuscast.toml", &host(line)).unwrap_err();
            assert_eq!(e.field, format!("component[0].check[0].{field}"), "{line}: {e}");
        }
        assert!(parse("statuscast.toml", &host("disk_degraded_pct = 100\ndisk_outage_pct = 0\nload_outage = 64")).is_ok());
    }

    #[test]
    fn the_embedded_default_watches_the_host_as_three_components() {
        let c = embedded_default(Duration::from_secs(10), &crate::server::checks::kinds::host::HostThresholds::default());
        let ids: Vec<&str> = c.components.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["host.disk", "host.memory", "host.load"]);
        assert!(matches!(c.components[0].checks[0].probe, Probe::Host { measure: HostMeasure::Disk, .. }));
    }

    #[test]
    fn the_page_table_names_the_page_and_its_address() {
        let c =
            parse("statuscast.toml", &format!("[page]\nname = \" Acme \"\nurl = \"https://status.acme.test/\"\n{GOOD}")).unwrap();
        assert_eq!(c.page, Page { name: "Acme".into(), url: Some("https://status.acme.test".into()) });
        assert_eq!(parse("statuscast.toml", GOOD).unwrap().page, Page::default());
        let e = err(&format!("[page]\nurl = \"status.acme.test\"\n{GOOD}"));
        assert!(e.starts_with("statuscast.toml:1:") && e.contains("page.url") && e.contains("\"status.acme.test\""), "{e}");
        assert!(err(&format!("[page]\nname = \"\"\n{GOOD}")).contains("page.name"));
        assert!(err(&format!("[page]\ntitle = \"x\"\n{GOOD}")).contains("unknown field `title`"));
    }

    #[test]
    fn the_example_file_in_the_repo_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("statuscast.example.toml");
        let config = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!config.components.is_empty());
    }
}
