//! The checks config parser (`server::checks::config::parse`).
//!
//! - Never panics.
//! - An error names the file, a line and column inside the text, and a field without serde's
//!   internals in it; its message is not empty.
//! - A config that parses holds what validation promises (valid unique ids, names, at least
//!   one check each, timeout <= interval, jitter < interval, thresholds >= 1, a failure is
//!   not operational, each kind's own rules) and re-validates: written back out as TOML it
//!   parses again, to an equal config. The same for `[page]`, `[[notify]]` entries (valid unique
//!   names, known components, a failing lowest level, http(s) addresses, valid mail addresses)
//!   and `[subscriptions]`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statuscast::model::Level;
use statuscast::server::checks::config::{parse, CheckSpec, ComponentSpec, Config, HostMeasure, Probe};
use statuscast::server::notify::config::{valid_email, Channel, Entry, Smtp, SmtpTls};
use std::time::Duration;
use toml::{Table, Value};

const FILE: &str = "statuscast.toml";

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn check_notify(config: &Config) {
    let mut names = std::collections::HashSet::new();
    let http = |u: &str| u.starts_with("http://") || u.starts_with("https://");
    for e in &config.notify.entries {
        assert!(valid_id(&e.name), "{:?}", e.name);
        assert!(names.insert(e.name.clone()), "duplicate entry {:?}", e.name);
        assert!(e.min_level > Level::UnderMaintenance, "{:?}", e.min_level);
        assert!(e.remind_every.is_none_or(|d| d >= Duration::from_secs(60)));
        if let Some(list) = &e.components {
            assert!(list.iter().all(|c| config.components.iter().any(|k| &k.id == c)), "{list:?}");
        }
        match &e.channel {
            Channel::Webhook { url, secret } => assert!(http(url) && secret.as_ref().is_none_or(|s| !s.is_empty())),
            Channel::Slack { url } | Channel::Discord { url } => assert!(http(url)),
            Channel::Ntfy { url, priority, .. } => assert!(http(url) && priority.is_none_or(|p| (1..=5).contains(&p))),
            Channel::Email { smtp, to } => {
                assert!(!to.is_empty() && to.iter().all(|a| valid_email(a)), "{to:?}");
                assert!(smtp.port >= 1 && !smtp.host.is_empty());
                assert!(smtp.ca_file.is_none() || smtp.tls != SmtpTls::None);
            }
        }
    }
    if config.notify.subscriptions.email.is_some() {
        assert!(config.page.url.is_some(), "email subscriptions need the page's address");
    }
}

fn check_invariants(config: &Config) {
    check_notify(config);
    assert!(config.concurrency >= 1);
    let mut ids = std::collections::HashSet::new();
    for c in &config.components {
        assert!(valid_id(&c.id), "{:?}", c.id);
        assert!(ids.insert(c.id.clone()), "duplicate id {:?}", c.id);
        assert!(!c.name.trim().is_empty());
        assert!(!c.checks.is_empty());
        for (i, k) in c.checks.iter().enumerate() {
            assert_eq!(k.id, format!("{}/{i}", c.id));
            assert!(k.timeout <= k.interval && k.jitter < k.interval, "{k:?}");
            assert!(k.failure_threshold >= 1 && k.success_threshold >= 1);
            assert_ne!(k.failure_level, Level::Operational);
            match &k.probe {
                Probe::Http { url, method, expect_status, tls_expiry_days, tls_verify, .. } => {
                    assert!(url.starts_with("http://") || url.starts_with("https://"));
                    assert!(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"].contains(&method.as_str()));
                    assert!(expect_status.iter().all(|s| (100..=599).contains(s)));
                    if tls_expiry_days.is_some() || !tls_verify {
                        assert!(url.starts_with("https://"));
                    }
                }
                Probe::Tcp { address } => {
                    let (host, port) = address.rsplit_once(':').expect("host:port");
                    assert!(!host.is_empty() && port.parse::<u16>().is_ok());
                }
                Probe::Command { program, .. } => assert!(!program.is_empty()),
                Probe::Host { thresholds: t, .. } => {
                    assert!(t.disk_outage_pct <= t.disk_degraded_pct, "{t:?}");
                    assert!(t.memory_outage_pct <= t.memory_degraded_pct, "{t:?}");
                    assert!(t.load_outage >= t.load_degraded, "{t:?}");
                }
                Probe::Heartbeat { token, .. } => assert!(token.len() >= 16),
            }
        }
    }
}

/// Exactly (`secs.nanos` parses back to the same nanoseconds).
fn dur(d: Duration) -> Value {
    Value::String(format!("{}.{:09}s", d.as_secs(), d.subsec_nanos()))
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn check_table(k: &CheckSpec) -> Table {
    let mut t = Table::new();
    let kind = match &k.probe {
        Probe::Http { .. } => "http",
        Probe::Tcp { .. } => "tcp",
        Probe::Command { .. } => "command",
        Probe::Host { .. } => "host",
        Probe::Heartbeat { .. } => "heartbeat",
    };
    t.insert("kind".into(), text(kind));
    t.insert("interval".into(), dur(k.interval));
    t.insert("timeout".into(), dur(k.timeout));
    // No jitter cannot be written (durations start at 1 ms): it is the default's value then.
    if !k.jitter.is_zero() {
        t.insert("jitter".into(), dur(k.jitter));
    }
    t.insert("failure_threshold".into(), Value::Integer(k.failure_threshold.into()));
    t.insert("success_threshold".into(), Value::Integer(k.success_threshold.into()));
    t.insert("failure_level".into(), text(k.failure_level.as_str()));
    match &k.probe {
        Probe::Http { url, method, headers, expect_status, body_contains, body_regex, slow, tls_expiry_days, tls_verify } => {
            t.insert("url".into(), text(url));
            t.insert("method".into(), text(method));
            t.insert("headers".into(), Value::Table(headers.iter().map(|(k, v)| (k.clone(), text(v))).collect()));
            t.insert("expect_status".into(), Value::Array(expect_status.iter().map(|s| Value::Integer((*s).into())).collect()));
            if let Some(b) = body_contains {
                t.insert("body_contains".into(), text(b));
            }
            if let Some(r) = body_regex {
                t.insert("body_regex".into(), text(r));
            }
            if let Some(s) = slow {
                t.insert("slow".into(), dur(*s));
            }
            if let Some(d) = tls_expiry_days {
                t.insert("tls_expiry_days".into(), Value::Integer((*d).into()));
            }
            if !tls_verify {
                t.insert("tls_verify".into(), Value::Boolean(false));
            }
        }
        Probe::Tcp { address } => {
            t.insert("address".into(), text(address));
        }
        Probe::Command { program, args } => {
            let argv = std::iter::once(program).chain(args).map(|a| text(a)).collect();
            t.insert("command".into(), Value::Array(argv));
        }
        Probe::Host { thresholds: h, path, measure } => {
            for (name, v) in [
                ("disk_degraded_pct", h.disk_degraded_pct),
                ("disk_outage_pct", h.disk_outage_pct),
                ("memory_degraded_pct", h.memory_degraded_pct),
                ("memory_outage_pct", h.memory_outage_pct),
                ("load_degraded", h.load_degraded),
                ("load_outage", h.load_outage),
            ] {
                t.insert(name.into(), Value::Float(v));
            }
            if let Some(p) = path {
                t.insert("path".into(), text(p));
            }
            let measure = match measure {
                HostMeasure::All => "all",
                HostMeasure::Disk => "disk",
                HostMeasure::Memory => "memory",
                HostMeasure::Load => "load",
            };
            t.insert("measure".into(), text(measure));
        }
        Probe::Heartbeat { period, token } => {
            t.insert("period".into(), dur(*period));
            t.insert("token".into(), text(token));
        }
    }
    t
}

fn component_table(c: &ComponentSpec) -> Table {
    let mut t = Table::new();
    t.insert("id".into(), text(&c.id));
    t.insert("name".into(), text(&c.name));
    if let Some(g) = &c.group {
        t.insert("group".into(), text(g));
    }
    t.insert("check".into(), Value::Array(c.checks.iter().map(|k| Value::Table(check_table(k))).collect()));
    t
}

fn smtp_fields(t: &mut Table, smtp: &Smtp) {
    t.insert("host".into(), text(&smtp.host));
    t.insert("port".into(), Value::Integer(smtp.port.into()));
    let tls = match smtp.tls {
        SmtpTls::Starttls => "starttls",
        SmtpTls::Implicit => "implicit",
        SmtpTls::None => "none",
    };
    t.insert("tls".into(), text(tls));
    if let Some((user, password)) = &smtp.credentials {
        t.insert("username".into(), text(user));
        t.insert("password".into(), text(password));
    }
    t.insert("from".into(), text(&smtp.from));
    if let Some(ca) = &smtp.ca_file {
        t.insert("ca_file".into(), text(ca));
    }
}

fn entry_table(e: &Entry) -> Table {
    let mut t = Table::new();
    t.insert("name".into(), text(&e.name));
    t.insert("kind".into(), text(e.channel.kind().name()));
    if let Some(list) = &e.components {
        t.insert("components".into(), Value::Array(list.iter().map(|c| text(c)).collect()));
    }
    t.insert("min_level".into(), text(e.min_level.as_str()));
    t.insert("recovery".into(), Value::Boolean(e.recovery));
    t.insert("incidents".into(), Value::Boolean(e.incidents));
    if let Some(d) = e.remind_every {
        t.insert("remind_every".into(), text(&format!("{}ms", d.as_millis())));
    }
    match &e.channel {
        Channel::Webhook { url, secret } => {
            t.insert("url".into(), text(url));
            if let Some(s) = secret {
                t.insert("secret".into(), text(s));
            }
        }
        Channel::Slack { url } | Channel::Discord { url } => {
            t.insert("url".into(), text(url));
        }
        Channel::Ntfy { url, token, priority } => {
            t.insert("url".into(), text(url));
            if let Some(token) = token {
                t.insert("token".into(), text(token));
            }
            if let Some(p) = priority {
                t.insert("priority".into(), Value::Integer((*p).into()));
            }
        }
        Channel::Email { smtp, to } => {
            t.insert("to".into(), Value::Array(to.iter().map(|a| text(a)).collect()));
            smtp_fields(&mut t, smtp);
        }
    }
    t
}

fn write_back(config: &Config) -> String {
    let mut doc = Table::new();
    let mut page = Table::new();
    page.insert("name".into(), text(&config.page.name));
    if let Some(url) = &config.page.url {
        page.insert("url".into(), text(url));
    }
    doc.insert("page".into(), Value::Table(page));
    doc.insert("notify".into(), Value::Array(config.notify.entries.iter().map(|e| Value::Table(entry_table(e))).collect()));
    let subscriptions = &config.notify.subscriptions;
    let mut subs = Table::new();
    subs.insert("webhook".into(), Value::Boolean(subscriptions.webhook));
    subs.insert("email".into(), Value::Boolean(subscriptions.email.is_some()));
    if let Some(smtp) = &subscriptions.email {
        let mut t = Table::new();
        smtp_fields(&mut t, smtp);
        subs.insert("smtp".into(), Value::Table(t));
    }
    doc.insert("subscriptions".into(), Value::Table(subs));
    let mut checks = Table::new();
    checks.insert("concurrency".into(), Value::Integer(config.concurrency as i64));
    doc.insert("checks".into(), Value::Table(checks));
    doc.insert("component".into(), Value::Array(config.components.iter().map(|c| Value::Table(component_table(c))).collect()));
    toml::to_string(&doc).expect("a table serialises")
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    match parse(FILE, text) {
        Ok(config) => {
            check_invariants(&config);
            let again = write_back(&config);
            match parse(FILE, &again) {
                Ok(back) => assert_eq!(back, config, "written back as\n{again}"),
                Err(e) => panic!("a valid config written back does not parse: {e}\n{again}"),
            }
        }
        Err(e) => {
            assert!(!e.message.trim().is_empty(), "{e:?}");
            assert_eq!(e.file, FILE);
            let lines = text.split('\n').count();
            assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
            assert!(e.column >= 1, "{e:?}");
            // A field is named as written: serde's internals (Spanned's private field) never show.
            assert!(text.contains("__serde") || !e.field.contains("__serde"), "field {:?}", e.field);
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("{FILE}:{}:{}: ", e.line, e.column)), "{shown}");
        }
    }
});
