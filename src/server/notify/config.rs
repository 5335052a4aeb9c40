//! `[[notify]]` (operator alerts) and `[subscriptions]` (viewers' subscriptions) in
//! `statuscast.toml`, as written and validated. Read with the rest of the file
//! (`checks::config::parse`), so errors name file, line, column and field the same way.

use crate::model::Level;
use crate::server::checks::config::Dur;
use serde::Deserialize;
use std::collections::HashSet;
use std::time::Duration;

/// One `[[notify]]` entry as written: the fields every kind has, and the kind's own.
#[derive(Debug, Deserialize)]
pub struct EntryConfig {
    pub name: String,
    pub kind: KindName,
    /// Component ids (default: all).
    pub components: Option<Vec<String>>,
    /// The lowest level that alerts (default `degraded_performance`).
    pub min_level: Option<Level>,
    /// Also send when a component goes back below `min_level` (default true).
    pub recovery: Option<bool>,
    /// While a component stays at or above `min_level`, send again this often.
    pub remind_every: Option<Dur>,
    /// Incidents opened, updated and resolved (default true).
    pub incidents: Option<bool>,
    #[serde(flatten)]
    pub settings: toml::Table,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    Webhook,
    Slack,
    Discord,
    Ntfy,
    Email,
}

impl KindName {
    pub const ALL: [KindName; 5] = [KindName::Webhook, KindName::Slack, KindName::Discord, KindName::Ntfy, KindName::Email];

    pub fn name(self) -> &'static str {
        match self {
            KindName::Webhook => "webhook",
            KindName::Slack => "slack",
            KindName::Discord => "discord",
            KindName::Ntfy => "ntfy",
            KindName::Email => "email",
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            KindName::Webhook => &["url", "secret"],
            KindName::Slack | KindName::Discord => &["url"],
            KindName::Ntfy => &["url", "token", "priority"],
            KindName::Email => &["to", "host", "port", "tls", "username", "password", "from", "ca_file"],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookFields {
    url: String,
    secret: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlFields {
    url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NtfyFields {
    url: String,
    token: Option<String>,
    priority: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailFields {
    to: Vec<String>,
    #[serde(flatten)]
    smtp: SmtpFields,
}

/// An SMTP server as written (an email entry's fields; `[subscriptions] smtp`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFields {
    host: String,
    port: Option<u16>,
    tls: Option<SmtpTls>,
    username: Option<String>,
    password: Option<String>,
    from: String,
    /// PEM certificates to trust besides the web's roots (a private CA).
    ca_file: Option<String>,
}

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required); default port 587.
    Starttls,
    /// TLS from the first byte (SMTPS); default port 465.
    Implicit,
    /// No encryption (a relay on the same host or network); default port 25.
    None,
}

/// A validated SMTP server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Both or neither.
    pub credentials: Option<(String, String)>,
    /// `Status <status@example.com>` or `status@example.com`.
    pub from: String,
    /// PEM certificates trusted besides the web's roots (a private CA), read when connecting.
    pub ca_file: Option<String>,
}

/// What an entry sends to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Statuspage's webhook envelope, signed with `secret` (HMAC-SHA256) when given.
    Webhook {
        url: String,
        secret: Option<String>,
    },
    Slack {
        url: String,
    },
    Discord {
        url: String,
    },
    /// `url` is the topic's address (`https://ntfy.sh/my-topic`).
    Ntfy {
        url: String,
        token: Option<String>,
        priority: Option<u8>,
    },
    Email {
        smtp: Smtp,
        to: Vec<String>,
    },
}

impl Channel {
    pub fn kind(&self) -> KindName {
        match self {
            Channel::Webhook { .. } => KindName::Webhook,
            Channel::Slack { .. } => KindName::Slack,
            Channel::Discord { .. } => KindName::Discord,
            Channel::Ntfy { .. } => KindName::Ntfy,
            Channel::Email { .. } => KindName::Email,
        }
    }
}

/// A validated `[[notify]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub channel: Channel,
    /// None: every component.
    pub components: Option<Vec<String>>,
    pub min_level: Level,
    pub recovery: bool,
    pub remind_every: Option<Duration>,
    pub incidents: bool,
}

impl Entry {
    /// The outbox's name for it.
    pub fn target(&self) -> String {
        format!("notify:{}", self.name)
    }

    pub fn covers(&self, component: &str) -> bool {
        self.components.as_ref().is_none_or(|c| c.iter().any(|id| id == component))
    }

    /// Whether a component at `level` is failing for this entry.
    pub fn alerting(&self, level: Level) -> bool {
        level != Level::UnderMaintenance && level >= self.min_level
    }

    /// Whether a change of a component from `old` to `new` is sent: a change to a failing
    /// level, or back from one (with `recovery`).
    pub fn wants_change(&self, component: &str, old: Level, new: Level) -> bool {
        self.covers(component)
            && old != new
            && (self.alerting(new) || (self.recovery && self.alerting(old) && !self.alerting(new)))
    }

    /// Whether an incident on `components` (none: the whole page) is sent.
    pub fn wants_incident(&self, components: &[String]) -> bool {
        self.incidents && (components.is_empty() || self.components.is_none() || components.iter().any(|c| self.covers(c)))
    }
}

/// `[subscriptions]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsConfig {
    /// Viewers may subscribe by email (double opt-in); needs `smtp` and `[page] url`.
    pub email: Option<bool>,
    /// Viewers may subscribe a webhook URL.
    pub webhook: Option<bool>,
    pub smtp: Option<SmtpFields>,
}

/// Validated `[subscriptions]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subscriptions {
    /// Some: viewers may subscribe by email, sent through this server.
    pub email: Option<Smtp>,
    pub webhook: bool,
}

impl Subscriptions {
    pub fn any(&self) -> bool {
        self.email.is_some() || self.webhook
    }
}

/// Everything the notifier is configured with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifyConfig {
    pub entries: Vec<Entry>,
    pub subscriptions: Subscriptions,
}

/// An http(s) address, written out (`https:host/x` parses, as `https://host/x`, but is a typo).
fn http_url(u: &str) -> bool {
    (u.starts_with("http://") || u.starts_with("https://"))
        && url::Url::parse(u).is_ok_and(|p| p.host_str().is_some_and(|h| !h.is_empty()))
}

/// A plain `local@domain` address, no display name, nothing that could break a header.
pub fn valid_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else { return false };
    address.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// `Name <address>` or `address`.
fn valid_mailbox(from: &str) -> bool {
    match from.rsplit_once('<') {
        Some((name, rest)) => rest.strip_suffix('>').is_some_and(valid_email) && !name.contains(['"', '\r', '\n', '<', '>']),
        None => valid_email(from),
    }
}

fn smtp(fields: SmtpFields, fail: &dyn Fn(&str, String) -> String) -> Result<Smtp, String> {
    let host = fields.host.trim().to_string();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(fail("host", "must be a host name or address".into()));
    }
    let tls = fields.tls.unwrap_or(SmtpTls::Starttls);
    let port = fields.port.unwrap_or(match tls {
        SmtpTls::Starttls => 587,
        SmtpTls::Implicit => 465,
        SmtpTls::None => 25,
    });
    if port == 0 {
        return Err(fail("port", "must be 1 to 65535".into()));
    }
    let credentials = match (fields.username, fields.password) {
        (None, None) => None,
        (Some(u), Some(p)) => Some((u, p)),
        (Some(_), None) => return Err(fail("password", "is required with username".into())),
        (None, Some(_)) => return Err(fail("username", "is required with password".into())),
    };
    if fields.ca_file.is_some() && tls == SmtpTls::None {
        return Err(fail("ca_file", "applies with tls = \"starttls\" or \"implicit\" only".into()));
    }
    if !valid_mailbox(fields.from.trim()) {
        return Err(fail("from", format!("{:?} is not an address like \"Status <status@example.com>\"", fields.from)));
    }
    Ok(Smtp { host, port, tls, credentials, from: fields.from.trim().to_string(), ca_file: fields.ca_file })
}

/// Reads a kind's own fields: one of another kind "does not apply", one of no kind is unknown.
fn read<T: serde::de::DeserializeOwned>(
    kind: KindName,
    settings: toml::Table,
    fail: &dyn Fn(&str, String) -> String,
) -> Result<T, String> {
    let own = kind.fields();
    if let Some(key) = settings.keys().find(|k| !own.contains(&k.as_str())) {
        let elsewhere = KindName::ALL.iter().any(|k| k.fields().contains(&key.as_str()));
        return Err(if elsewhere {
            fail(key, format!("does not apply to kind = \"{}\"", kind.name()))
        } else {
            fail(key, format!("unknown field `{key}`"))
        });
    }
    serde_path_to_error::deserialize(toml::Value::Table(settings)).map_err(|e| {
        let field = e.path().to_string();
        fail(&field, e.into_inner().message().to_string())
    })
}

/// Validates one entry; `fail(field, message)` makes the error (the caller adds the place).
pub fn entry(
    written: EntryConfig,
    names: &mut HashSet<String>,
    components: &[String],
    fail: &dyn Fn(&str, String) -> String,
) -> Result<Entry, String> {
    let name = written.name.trim().to_string();
    if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)) {
        return Err(fail("name", format!("{name:?} is not a valid name: use letters, digits, '-', '_' and '.'")));
    }
    if !names.insert(name.clone()) {
        return Err(fail("name", format!("{name:?} is used by another [[notify]] entry")));
    }
    if let Some(list) = &written.components {
        if let Some(unknown) = list.iter().find(|c| !components.contains(c)) {
            return Err(fail("components", format!("{unknown:?} is not a component of this file")));
        }
    }
    let min_level = written.min_level.unwrap_or(Level::DegradedPerformance);
    if matches!(min_level, Level::Operational | Level::UnderMaintenance) {
        return Err(fail("min_level", "must be degraded_performance, partial_outage or major_outage".into()));
    }
    let remind_every = written.remind_every.map(|d| d.0);
    if remind_every.is_some_and(|d| d < Duration::from_secs(60)) {
        return Err(fail("remind_every", "must be at least 1m".into()));
    }
    let url = |u: String| {
        let u = u.trim().to_string();
        if http_url(&u) {
            Ok(u)
        } else {
            Err(fail("url", format!("{u:?} is not an http:// or https:// address")))
        }
    };
    let kind = written.kind;
    let channel = match kind {
        KindName::Webhook => {
            let f: WebhookFields = read(kind, written.settings, fail)?;
            if f.secret.as_deref().is_some_and(str::is_empty) {
                return Err(fail("secret", "must not be empty (leave it out for unsigned bodies)".into()));
            }
            Channel::Webhook { url: url(f.url)?, secret: f.secret }
        }
        KindName::Slack => Channel::Slack { url: url(read::<UrlFields>(kind, written.settings, fail)?.url)? },
        KindName::Discord => Channel::Discord { url: url(read::<UrlFields>(kind, written.settings, fail)?.url)? },
        KindName::Ntfy => {
            let f: NtfyFields = read(kind, written.settings, fail)?;
            if f.priority.is_some_and(|p| !(1..=5).contains(&p)) {
                return Err(fail("priority", "must be 1 (min) to 5 (max)".into()));
            }
            Channel::Ntfy { url: url(f.url)?, token: f.token, priority: f.priority }
        }
        KindName::Email => {
            let f: EmailFields = read(kind, written.settings, fail)?;
            if f.to.is_empty() {
                return Err(fail("to", "needs at least one address".into()));
            }
            if let Some(bad) = f.to.iter().find(|a| !valid_email(a.trim())) {
                return Err(fail("to", format!("{bad:?} is not an email address")));
            }
            let to = f.to.iter().map(|a| a.trim().to_string()).collect();
            Channel::Email { smtp: smtp(f.smtp, fail)?, to }
        }
    };
    Ok(Entry {
        name,
        channel,
        components: written.components,
        min_level,
        recovery: written.recovery.unwrap_or(true),
        remind_every,
        incidents: written.incidents.unwrap_or(true),
    })
}

/// Validates `[subscriptions]`; `has_page_url`: whether `[page] url` is set (mail links need it).
pub fn subscriptions(
    written: SubscriptionsConfig,
    has_page_url: bool,
    fail: &dyn Fn(&str, String) -> String,
) -> Result<Subscriptions, String> {
    let email = match (written.email.unwrap_or(false), written.smtp) {
        (false, _) => None,
        (true, None) => return Err(fail("smtp", "is required with email = true".into())),
        (true, Some(_)) if !has_page_url => {
            return Err(fail("email", "needs [page] url: the mails link back to the page".into()))
        }
        (true, Some(f)) => Some(smtp(f, &|field, m| fail(&format!("smtp.{field}"), m))?),
    };
    Ok(Subscriptions { email, webhook: written.webhook.unwrap_or(false) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::checks::config::parse;

    const COMPONENT: &str = r#"
[page]
url = "https://status.example.com"

[[component]]
id = "api"
name = "API"

[[component.check]]
kind = "tcp"
address = "127.0.0.1:9"
"#;

    fn err(text: &str) -> String {
        parse("statuscast.toml", &format!("{COMPONENT}{text}")).unwrap_err().to_string()
    }

    #[test]
    fn every_kind_reads_with_its_defaults() {
        let text = format!(
            r#"{COMPONENT}
[[notify]]
name = "ops-hook"
kind = "webhook"
url = "https://hooks.example.com/statuscast"
secret = "abc"

[[notify]]
name = "chat"
kind = "slack"
url = "https://hooks.slack.com/services/T/B/X"
components = ["api"]
min_level = "major_outage"
recovery = false
remind_every = "30m"
incidents = false

[[notify]]
name = "discord"
kind = "discord"
url = "https://discord.com/api/webhooks/1/x"

[[notify]]
name = "phone"
kind = "ntfy"
url = "https://ntfy.sh/acme-status"
priority = 4

[[notify]]
name = "oncall"
kind = "email"
to = ["oncall@example.com"]
host = "smtp.example.com"
tls = "implicit"
username = "status"
password = "pw"
from = "Acme Status <status@example.com>"

[subscriptions]
email = true
webhook = true
smtp = {{ host = "smtp.example.com", from = "status@example.com" }}
"#
        );
        let config = parse("statuscast.toml", &text).unwrap().notify;
        assert_eq!(config.entries.len(), 5);
        let chat = &config.entries[1];
        assert_eq!(
            (chat.min_level, chat.recovery, chat.remind_every, chat.incidents),
            (Level::MajorOutage, false, Some(Duration::from_secs(1800)), false)
        );
        let hook = &config.entries[0];
        assert_eq!(
            (hook.min_level, hook.recovery, hook.incidents, hook.components.is_none()),
            (Level::DegradedPerformance, true, true, true)
        );
        let Channel::Email { smtp, to } = &config.entries[4].channel else { panic!("email") };
        assert_eq!((smtp.port, smtp.tls, to.len()), (465, SmtpTls::Implicit, 1));
        assert_eq!(smtp.credentials, Some(("status".into(), "pw".into())));
        let mail = config.subscriptions.email.as_ref().unwrap();
        assert_eq!((mail.port, mail.tls, mail.credentials.is_none()), (587, SmtpTls::Starttls, true));
        assert!(config.subscriptions.webhook);
    }

    #[test]
    fn errors_name_the_place_and_the_field() {
        // The entry starts on line 13 (its [[notify]] line; the page and the component take 11).
        let e = err("\n[[notify]]\nname = \"x\"\nkind = \"slack\"\nurl = \"ftp://x\"\n");
        assert_eq!(e, r#"statuscast.toml:13:1: notify[0].url: "ftp://x" is not an http:// or https:// address"#);
        assert!(err("\n[[notify]]\nname = \"x\"\nkind = \"ntfy\"\nurl = \"https:oup//ntfy.sh/t\"\n")
            .contains("is not an http:// or https:// address"));
        assert!(err("\n[[notify]]\nname = \"x\"\nkind = \"pager\"\nurl = \"https://x\"\n")
            .contains("notify[0].kind: unknown variant `pager`"));
        assert!(err("\n[[notify]]\nname = \"x\"\nkind = \"slack\"\nurl = \"https://x\"\nsecret = \"s\"\n")
            .ends_with(r#"notify[0].secret: does not apply to kind = "slack""#));
        assert!(err("\n[[notify]]\nname = \"x\"\nkind = \"slack\"\nurl = \"https://x\"\nsecrt = \"s\"\n")
            .ends_with("notify[0].secrt: unknown field `secrt`"));
        assert!(err("\n[[notify]]\nname = \"x\"\nkind = \"slack\"\nurl = \"https://x\"\ncomponents = [\"db\"]\n")
            .ends_with(r#"notify[0].components: "db" is not a component of this file"#));
        assert!(err("\n[[notify]]\nname = \"x\"\nkind = \"slack\"\nurl = \"https://x\"\nmin_level = \"operational\"\n")
            .contains("notify[0].min_level"));
        assert!(err("\n[[notify]]\nname = \"x\"\nkind = \"slack\"\nurl = \"https://x\"\nremind_every = \"10s\"\n")
            .contains("at least 1m"));
        let twice = "\n[[notify]]\nname = \"x\"\nkind = \"slack\"\nurl = \"https://x\"\n";
        assert!(err(&format!("{twice}{twice}")).ends_with(r#"notify[1].name: "x" is used by another [[notify]] entry"#));
        assert!(err("\n[[notify]]\nname = \"m\"\nkind = \"email\"\nto = [\"a@b.c\"]\nhost = \"h\"\nfrom = \"nope\"\n")
            .contains("notify[0].from: \"nope\" is not an address"));
        assert!(err(
            "\n[[notify]]\nname = \"m\"\nkind = \"email\"\nto = [\"a@b.c\"]\nhost = \"h\"\nfrom = \"a@b.c\"\nusername = \"u\"\n"
        )
        .contains("notify[0].password: is required with username"));
        assert!(err("\n[[notify]]\nname = \"n\"\nkind = \"ntfy\"\nurl = \"https://ntfy.sh/x\"\npriority = 9\n")
            .contains("notify[0].priority"));
        assert!(err("\n[[notify]]\nname = \"m\"\nkind = \"email\"\nto = [\"a@b.c\"]\nhost = \"h\"\nfrom = \"a@b.c\"\ntls = \"none\"\nca_file = \"/ca.pem\"\n")
            .contains("notify[0].ca_file: applies with tls"));
        assert!(err("\n[subscriptions]\nemail = true\n").ends_with("subscriptions.smtp: is required with email = true"));
        assert!(
            err("\n[subscriptions]\nemail = true\nsmtp = { host = \"h\", from = \"x\" }\n").contains("subscriptions.smtp.from")
        );
    }

    #[test]
    fn email_subscriptions_need_the_pages_address() {
        let text = r#"
[subscriptions]
email = true
smtp = { host = "h", from = "a@b.c" }
"#;
        let e = parse("statuscast.toml", text).unwrap_err().to_string();
        assert_eq!(e, "statuscast.toml:2:1: subscriptions.email: needs [page] url: the mails link back to the page");
    }

    #[test]
    fn addresses_that_could_break_a_header_are_not_addresses() {
        for good in ["a@example.com", "first.last+tag@mail.example.org"] {
            assert!(valid_email(good), "{good}");
        }
        for bad in
            ["", "a", "@example.com", "a@", "a@b", "a b@example.com", "a@example.com\r\nBcc: x@y.z", "a@exa mple.com", "<a@b.c>"]
        {
            assert!(!valid_email(bad), "{bad:?}");
        }
    }
}
