//! The bodies of the HTTP channels, each a pure function of a [`Notice`]: Statuspage's
//! webhook envelope, a Slack message, a Discord message, an ntfy message.
//!
//! Everything a person typed (incident titles and updates, component and page names) is
//! escaped for where it goes: JSON by serde, Slack's `&`, `<`, `>`, ntfy's headers kept on one
//! ASCII line; Discord is told to ping nobody.

use super::event::Notice;
use crate::model::{duration_text, utc_minute, IncidentStatus, Level};
use crate::server::http::statuspage::{indicator, shortlink, time, PAGE_ID};
use crate::server::notify::deliver::one_line;
use serde_json::{json, Value};

/// Statuspage's webhook body; `unsubscribe`: the subscriber's unsubscribe address.
pub fn webhook(notice: &Notice, unsubscribe: Option<&str>) -> Value {
    let open = notice.incident.as_ref().is_some_and(|_| notice.incident_status() != Some(IncidentStatus::Resolved));
    let (status_indicator, _) = indicator(notice.page.level, open);
    let mut body = json!({
        "meta": {
            "unsubscribe": unsubscribe,
            "documentation": "https://www.atlassian.com/software/statuspage",
            "generated_at": time(notice.at_ms),
            "event": notice.kind.as_str(),
            "event_id": notice.event_id,
        },
        "page": {
            "id": PAGE_ID,
            "status_indicator": status_indicator,
            "status_description": notice.page.description,
        },
    });
    if let Some(c) = &notice.component {
        body["component_update"] = json!({
            "created_at": time(notice.at_ms),
            "new_status": c.new.as_str(),
            "old_status": c.old.as_str(),
            "id": notice.event_id.to_string(),
            "component_id": c.id,
        });
        body["component"] = json!({
            "created_at": time(c.since_ms),
            "id": c.id,
            "name": c.name,
            "status": c.new.as_str(),
        });
    } else if let Some(i) = &notice.incident {
        let updates = crate::server::http::statuspage::incident_updates(i);
        let updated = i.updates.iter().map(|u| u.at_ms).max().unwrap_or(i.started_ms);
        body["incident"] = json!({
            "id": i.id.to_string(),
            "name": i.title,
            "status": i.status.as_str(),
            "impact": i.impact.as_str(),
            "created_at": time(i.started_ms),
            "updated_at": time(updated),
            "resolved_at": i.resolved_ms.map(time),
            "shortlink": notice.page.url.as_deref().map(|base| shortlink(base, i.id)),
            "components": i.components,
            "incident_updates": updates,
        });
    }
    body
}

/// Where a notice points: the incident on the page, or the page.
pub(crate) fn link(notice: &Notice) -> Option<String> {
    let base = notice.page.url.as_deref()?;
    Some(match &notice.incident {
        Some(i) => shortlink(base, i.id),
        None => base.to_string(),
    })
}

/// The headline on one line.
pub(crate) fn headline(notice: &Notice) -> String {
    one_line(&notice.headline())
}

/// What a message says under its headline, as plain text (may span lines).
pub(crate) fn detail(notice: &Notice) -> String {
    if let Some(c) = &notice.component {
        let since = format!("since {} ({})", utc_minute(c.since_ms), duration_text(notice.at_ms - c.since_ms));
        return if notice.kind == super::event::EventKind::ComponentReminder {
            format!("{} has been {} {since}.", c.name, c.new.label().to_lowercase())
        } else {
            format!("{} is now {} (was {}).", c.name, c.new.label().to_lowercase(), c.old.label().to_lowercase())
        };
    }
    if let Some(i) = &notice.incident {
        let message = notice.update.as_ref().or(i.updates.first()).map(|u| u.message.as_str()).unwrap_or("");
        let mut out = message.trim().to_string();
        let mut facts = vec![format!("Impact: {}", i.impact.as_str())];
        if !notice.component_names.is_empty() {
            facts.push(format!("Affects: {}", notice.component_names.join(", ")));
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&facts.join(" · "));
        return out;
    }
    notice.page.description.clone()
}

/// At most `max` bytes of `s` (cut at a character, with `…` when cut).
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Slack's escaping for text: `&`, `<` and `>` (everything else is literal).
fn slack_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A URL inside `<url|label>`: the characters that would end it, percent-encoded.
fn slack_url(u: &str) -> String {
    u.replace('|', "%7C").replace('<', "%3C").replace('>', "%3E").replace(' ', "%20")
}

/// A Slack incoming-webhook message.
pub fn slack(notice: &Notice) -> Value {
    let page = slack_text(&one_line(&notice.page.name));
    let headline = slack_text(&clip(&headline(notice), 300));
    let title = match link(notice) {
        Some(u) => format!("*<{}|{headline}>*", slack_url(&u)),
        None => format!("*{headline}*"),
    };
    let text = format!("{title}\n{}", slack_text(&clip(&detail(notice), 2500)));
    json!({
        "text": format!("[{page}] {headline}"),
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": text } },
            { "type": "context", "elements": [
                { "type": "mrkdwn", "text": format!("{page} · {}", utc_minute(notice.at_ms)) }
            ] },
        ],
    })
}

/// The colour of a level (the page's own).
fn color(level: Level) -> u32 {
    match level {
        Level::Operational => 0x1f8a4c,
        Level::UnderMaintenance => 0x2f6fdb,
        Level::DegradedPerformance => 0xb7791f,
        Level::PartialOutage => 0xd4631c,
        Level::MajorOutage => 0xc0262d,
    }
}

/// A Discord webhook message: one embed, and no mentions parsed (no `@everyone` from text).
pub fn discord(notice: &Notice) -> Value {
    let mut embed = json!({
        "title": clip(&headline(notice), 256),
        "description": clip(&detail(notice), 4000),
        "color": color(notice.level()),
        "timestamp": time(notice.at_ms),
        "footer": { "text": clip(&one_line(&notice.page.name), 2000) },
    });
    if let Some(u) = link(notice) {
        embed["url"] = Value::String(u);
    }
    json!({ "content": null, "embeds": [embed], "allowed_mentions": { "parse": [] } })
}

/// An ntfy message: published by POSTing `body` as plain text to the topic's URL with
/// [`NtfyMessage::headers`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NtfyMessage {
    pub title: String,
    pub body: String,
    /// 1 (min) to 5 (max).
    pub priority: u8,
    /// ntfy tags; those naming an emoji show as one (`rotating_light`).
    pub tags: Vec<String>,
    pub click: Option<String>,
}

impl NtfyMessage {
    /// `Title`, `Priority`, `Tags` and `Click`, each one line of ASCII: a title with other
    /// characters is RFC 2047-encoded (`=?UTF-8?B?…?=`, which ntfy decodes).
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("Title".to_string(), header_text(&self.title)),
            ("Priority".to_string(), self.priority.clamp(1, 5).to_string()),
        ];
        let tags: Vec<String> =
            self.tags.iter().map(|t| t.chars().filter(|c| c.is_ascii_alphanumeric() || "_-+".contains(*c)).collect()).collect();
        if !tags.is_empty() {
            out.push(("Tags".to_string(), tags.join(",")));
        }
        if let Some(click) = self.click.as_deref().filter(|u| u.chars().all(|c| c.is_ascii_graphic())) {
            out.push(("Click".to_string(), click.to_string()));
        }
        out
    }
}

/// Text for a header: one line; non-ASCII as RFC 2047 encoded words (of at most 75 characters).
fn header_text(s: &str) -> String {
    let line = one_line(s);
    if line.is_ascii() {
        return line;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in line.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words.iter().map(|w| format!("=?UTF-8?B?{}?=", base64(w.as_bytes()))).collect::<Vec<_>>().join(" ")
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= group.len() { ABC[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// An ntfy message; `priority`: the entry's, else 5 for a major outage (a critical
/// incident), 4 for a partial one (major incident), 3 otherwise and for recoveries.
pub fn ntfy(notice: &Notice, priority: Option<u8>) -> NtfyMessage {
    let level = notice.level();
    let default = match level {
        _ if notice.is_recovery() => 3,
        Level::MajorOutage => 5,
        Level::PartialOutage => 4,
        _ => 3,
    };
    let tag = match level {
        _ if notice.is_recovery() => "white_check_mark",
        Level::MajorOutage | Level::PartialOutage => "rotating_light",
        Level::DegradedPerformance => "warning",
        Level::UnderMaintenance => "hammer_and_wrench",
        Level::Operational => "information_source",
    };
    NtfyMessage {
        title: clip(&format!("[{}] {}", one_line(&notice.page.name), headline(notice)), 250),
        body: clip(&detail(notice), 3900),
        priority: priority.unwrap_or(default).clamp(1, 5),
        tags: vec![tag.to_string()],
        click: link(notice),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{Impact, Incident, IncidentUpdate};
    use crate::server::notify::event::{ComponentNotice, EventKind, PageInfo};

    const AT: i64 = 1_764_657_814_120; // 2025-12-02T06:43:34.120Z

    pub(crate) fn page() -> PageInfo {
        PageInfo {
            name: "Acme <Status>".into(),
            url: Some("https://status.example.com".into()),
            level: Level::MajorOutage,
            description: "Major outage".into(),
        }
    }

    pub(crate) fn component_notice(kind: EventKind, old: Level, new: Level) -> Notice {
        Notice {
            event_id: 41,
            kind,
            at_ms: AT,
            page: page(),
            component: Some(ComponentNotice {
                id: "api".into(),
                name: "API & <Edge>".into(),
                old,
                new,
                since_ms: AT - 90 * 60_000,
            }),
            incident: None,
            update: None,
            component_names: vec![],
        }
    }

    /// An incident whose title and messages are hostile.
    pub(crate) fn incident_notice(kind: EventKind) -> Notice {
        let updates = vec![
            IncidentUpdate {
                at_ms: AT,
                status: IncidentStatus::Identified,
                message: "@everyone <script>alert(1)</script>\nline two & more".into(),
            },
            IncidentUpdate { at_ms: AT - 600_000, status: IncidentStatus::Investigating, message: "Looking <b>".into() },
        ];
        let incident = Incident {
            id: 7,
            title: "DB <script>x</script> @everyone\r\nBcc: evil@example.com".into(),
            impact: Impact::Critical,
            components: vec!["db".into()],
            status: IncidentStatus::Identified,
            started_ms: AT - 600_000,
            resolved_ms: None,
            updates: updates.clone(),
        };
        Notice {
            event_id: 42,
            kind,
            at_ms: AT,
            page: page(),
            component: None,
            update: Some(updates[0].clone()),
            incident: Some(incident),
            component_names: vec!["Data<base>".into()],
        }
    }

    #[test]
    fn webhook_component_envelope() {
        let n = component_notice(EventKind::ComponentChanged, Level::Operational, Level::MajorOutage);
        let v = webhook(&n, Some("https://status.example.com/unsubscribe?t=x"));
        assert_eq!(v["meta"]["unsubscribe"], "https://status.example.com/unsubscribe?t=x");
        assert_eq!(v["meta"]["documentation"], "https://www.atlassian.com/software/statuspage");
        assert_eq!(v["meta"]["generated_at"], "2025-12-02T06:43:34.120Z");
        assert_eq!(v["meta"]["event"], "component.changed");
        assert_eq!(v["meta"]["event_id"], 41);
        assert_eq!(v["page"], json!({"id": "statuscast", "status_indicator": "critical", "status_description": "Major outage"}));
        assert_eq!(v["component_update"]["old_status"], "operational");
        assert_eq!(v["component_update"]["new_status"], "major_outage");
        assert_eq!(v["component_update"]["component_id"], "api");
        assert_eq!(v["component"]["name"], "API & <Edge>");
        assert_eq!(v["component"]["status"], "major_outage");
        assert_eq!(v["component"]["created_at"], "2025-12-02T05:13:34.120Z");
        assert!(v.get("incident").is_none());
        assert_eq!(webhook(&n, None)["meta"]["unsubscribe"], Value::Null);
    }

    #[test]
    fn webhook_incident_envelope() {
        let mut n = incident_notice(EventKind::IncidentUpdated);
        n.page.level = Level::Operational;
        let v = webhook(&n, None);
        assert_eq!(v["page"]["status_indicator"], "minor", "an open incident on an operational page");
        let i = &v["incident"];
        assert_eq!(i["id"], "7");
        assert_eq!(i["name"], "DB <script>x</script> @everyone\r\nBcc: evil@example.com");
        assert_eq!(i["status"], "identified");
        assert_eq!(i["impact"], "critical");
        assert_eq!(i["resolved_at"], Value::Null);
        assert_eq!(i["shortlink"], "https://status.example.com/history#incident-7");
        assert_eq!(i["components"], json!(["db"]));
        assert_eq!(i["created_at"], "2025-12-02T06:33:34.120Z");
        assert_eq!(i["updated_at"], "2025-12-02T06:43:34.120Z");
        let u = i["incident_updates"].as_array().unwrap();
        assert_eq!(u.len(), 2);
        assert_eq!(u[0]["id"], "7-2", "newest first");
        assert_eq!(u[0]["status"], "identified");
        assert_eq!(u[1]["body"], "Looking <b>");
        assert_eq!(u[1]["incident_id"], "7");
        assert!(v.get("component").is_none());
        n.page.url = None;
        assert_eq!(webhook(&n, None)["incident"]["shortlink"], Value::Null);
    }

    #[test]
    fn slack_escapes_what_people_typed() {
        let v = slack(&incident_notice(EventKind::IncidentOpened));
        let all = v.to_string();
        assert!(!all.contains("<script>") && !all.contains("<b>") && !all.contains("<Status>"), "{all}");
        let text = v["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(text.starts_with("*<https://status.example.com/history#incident-7|New incident: DB &lt;script&gt;x&lt;/script&gt; @everyone Bcc: evil@example.com (Identified)>*\n"), "{text}");
        assert!(text.contains("@everyone &lt;script&gt;alert(1)&lt;/script&gt;\nline two &amp; more"), "{text}");
        assert!(text.contains("Affects: Data&lt;base&gt;"), "{text}");
        assert_eq!(v["text"].as_str().unwrap().lines().count(), 1);
        assert!(v["text"].as_str().unwrap().starts_with("[Acme &lt;Status&gt;] New incident: "));
        assert_eq!(v["blocks"][0]["text"]["type"], "mrkdwn");
    }

    #[test]
    fn slack_component_change() {
        let v = slack(&component_notice(EventKind::ComponentChanged, Level::Operational, Level::PartialOutage));
        let text = v["blocks"][0]["text"]["text"].as_str().unwrap();
        assert_eq!(
            text,
            "*<https://status.example.com|API &amp; &lt;Edge&gt;: Operational → Partial outage>*\nAPI &amp; &lt;Edge&gt; is now partial outage (was operational)."
        );
        assert_eq!(v["blocks"][1]["elements"][0]["text"], "Acme &lt;Status&gt; · 2025-12-02 06:43 UTC");
    }

    #[test]
    fn discord_pings_nobody() {
        let v = discord(&incident_notice(EventKind::IncidentOpened));
        assert_eq!(v["content"], Value::Null);
        assert_eq!(v["allowed_mentions"], json!({"parse": []}));
        let e = &v["embeds"][0];
        assert_eq!(e["title"], "New incident: DB <script>x</script> @everyone Bcc: evil@example.com (Identified)");
        assert!(e["description"].as_str().unwrap().starts_with("@everyone <script>alert(1)</script>\nline two & more"));
        assert_eq!(e["color"], 0xc0262d);
        assert_eq!(e["url"], "https://status.example.com/history#incident-7");
        assert_eq!(e["timestamp"], "2025-12-02T06:43:34.120Z");

        let mut n = component_notice(EventKind::ComponentChanged, Level::MajorOutage, Level::Operational);
        n.page.url = None;
        let v = discord(&n);
        assert_eq!(v["embeds"][0]["color"], 0x1f8a4c);
        assert!(v["embeds"][0].get("url").is_none());
    }

    #[test]
    fn ntfy_priorities_and_tags() {
        let major = ntfy(&component_notice(EventKind::ComponentChanged, Level::Operational, Level::MajorOutage), None);
        assert_eq!((major.priority, major.tags.as_slice()), (5, &["rotating_light".to_string()][..]));
        let partial = ntfy(&component_notice(EventKind::ComponentChanged, Level::Operational, Level::PartialOutage), None);
        assert_eq!(partial.priority, 4);
        let degraded = ntfy(&component_notice(EventKind::ComponentChanged, Level::Operational, Level::DegradedPerformance), None);
        assert_eq!((degraded.priority, degraded.tags[0].as_str()), (3, "warning"));
        let back = ntfy(&component_notice(EventKind::ComponentChanged, Level::MajorOutage, Level::Operational), None);
        assert_eq!((back.priority, back.tags[0].as_str()), (3, "white_check_mark"));
        let reminder = ntfy(&component_notice(EventKind::ComponentReminder, Level::MajorOutage, Level::MajorOutage), None);
        assert_eq!(reminder.priority, 5);
        assert!(reminder.body.contains("has been major outage since 2025-12-02 05:13 UTC (1 h 30 min)"), "{}", reminder.body);
        assert_eq!(ntfy(&incident_notice(EventKind::IncidentOpened), None).priority, 5, "critical impact");
        let mut resolved = incident_notice(EventKind::IncidentResolved);
        resolved.update.as_mut().unwrap().status = IncidentStatus::Resolved;
        let r = ntfy(&resolved, None);
        assert_eq!((r.priority, r.tags[0].as_str()), (3, "white_check_mark"));
        assert_eq!(ntfy(&resolved, Some(1)).priority, 1, "the entry's priority wins");
        assert_eq!(major.click.as_deref(), Some("https://status.example.com"));
    }

    fn unbase64(s: &str) -> Vec<u8> {
        const ABC: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.chars().filter(|c| *c != '=') {
            bits = bits << 6 | ABC.find(c).unwrap() as u32;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }

    #[test]
    fn ntfy_headers_are_one_ascii_line() {
        let m = ntfy(&incident_notice(EventKind::IncidentOpened), None);
        let headers = m.headers();
        for (name, value) in &headers {
            assert!(value.chars().all(|c| c.is_ascii() && !c.is_control()), "{name}: {value:?}");
        }
        let title = &headers.iter().find(|(n, _)| n == "Title").unwrap().1;
        assert_eq!(title, "[Acme <Status>] New incident: DB <script>x</script> @everyone Bcc: evil@example.com (Identified)");
        assert!(m.body.contains("line two & more"), "the body keeps its lines: {}", m.body);
        assert!(headers.contains(&("Priority".into(), "5".into())));
        assert!(headers.contains(&("Tags".into(), "rotating_light".into())));
        assert!(headers.contains(&("Click".into(), "https://status.example.com/history#incident-7".into())));

        // A component change says "→", and names may be in any script: RFC 2047.
        let mut n = component_notice(EventKind::ComponentChanged, Level::Operational, Level::MajorOutage);
        n.component.as_mut().unwrap().name = "Zahlungsdienst für Übersee-Kunden — 東京\nzwei".into();
        let m = ntfy(&n, None);
        let title = &m.headers()[0].1;
        assert!(title.starts_with("=?UTF-8?B?") && title.ends_with("?="), "{title}");
        let mut decoded = Vec::new();
        for word in title.split(' ') {
            assert!(word.len() <= 75, "{word}");
            decoded.extend(unbase64(word.strip_prefix("=?UTF-8?B?").unwrap().strip_suffix("?=").unwrap()));
        }
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "[Acme <Status>] Zahlungsdienst für Übersee-Kunden — 東京 zwei: Operational → Major outage"
        );
    }

    #[test]
    fn base64_and_clip() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcdef", 5), "ab…");
        assert_eq!(clip("ééé", 5), "é…");
    }
}
