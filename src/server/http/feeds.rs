//! `/history.atom` (RFC 4287) and `/history.rss` (RSS 2.0): incidents and maintenance,
//! newest first, each entry's content its timeline as escaped HTML, as Statuspage's feeds
//! carry it. Every piece of text is escaped twice where it is HTML inside XML, once where it
//! is plain XML text, so nothing an operator types can add markup to a reader.

use crate::model::{Incident, MaintenanceWindow};
use crate::server::http::error::ApiError;
use crate::server::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

/// XML text: `&`, `<`, `>`, `"` and `'` as entities; characters XML 1.0 cannot carry are dropped.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// One feed entry, whichever format it is written in.
struct Entry {
    id: String,
    title: String,
    link: String,
    published_ms: i64,
    updated_ms: i64,
    /// The timeline as HTML (its text already escaped for HTML).
    html: String,
}

fn when(ms: i64) -> String {
    let (y, m, d, rem) = crate::model::civil(ms);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

fn incident_entry(base: &str, i: &Incident) -> Entry {
    let mut html = String::new();
    for u in &i.updates {
        html.push_str(&format!(
            "<p><small>{}</small><br><strong>{}</strong> - {}</p>",
            when(u.at_ms),
            xml_escape(u.status.label()),
            xml_escape(&u.message).replace('\n', "<br>")
        ));
    }
    Entry {
        id: format!("{base}/history#incident-{}", i.id),
        title: i.title.clone(),
        link: format!("{base}/history#incident-{}", i.id),
        published_ms: i.started_ms,
        updated_ms: i.updates.iter().map(|u| u.at_ms).max().unwrap_or(i.started_ms),
        html,
    }
}

fn maintenance_entry(base: &str, w: &MaintenanceWindow) -> Entry {
    Entry {
        id: format!("{base}/#maintenance-{}", w.id),
        title: format!("Maintenance: {}", w.title),
        link: format!("{base}/#maintenance-{}", w.id),
        published_ms: w.starts_ms,
        updated_ms: w.starts_ms,
        html: format!("<p><strong>Scheduled</strong> - from {} to {}</p>", when(w.starts_ms), when(w.ends_ms)),
    }
}

async fn entries(state: &AppState) -> Result<Vec<Entry>, ApiError> {
    let base = base_url(state);
    let store = state.engine.store();
    let mut incidents = store.active_incidents().await?;
    incidents.extend(store.resolved_incidents((i64::MAX, 0), 50).await?);
    let mut list: Vec<Entry> = incidents.iter().map(|i| incident_entry(&base, i)).collect();
    list.extend(store.recent_maintenance(50).await?.iter().map(|w| maintenance_entry(&base, w)));
    list.sort_by_key(|e| std::cmp::Reverse(e.updated_ms));
    list.truncate(50);
    Ok(list)
}

fn base_url(state: &AppState) -> String {
    state.checks.page().url.unwrap_or_else(|| format!("http://{}", state.leptos_options.site_addr))
}

fn feed_response(content_type: &'static str, body: String) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    res
}

pub async fn atom(State(state): State<AppState>, _headers: HeaderMap) -> Result<Response, ApiError> {
    let list = entries(&state).await?;
    let page = state.checks.page();
    let base = base_url(&state);
    let updated = list.first().map(|e| e.updated_ms).unwrap_or_else(|| state.hub.current().snapshot.updated_at_ms);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n\
         <id>{base}/history.atom</id>\n<title>{} status history</title>\n<updated>{}</updated>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        xml_escape(&page.name),
        crate::server::clock::rfc3339(updated),
        xml_escape(&base),
        xml_escape(&format!("{base}/history.atom")),
    );
    for e in &list {
        xml.push_str(&format!(
            "<entry>\n<id>{}</id>\n<published>{}</published>\n<updated>{}</updated>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n\
             <title>{}</title>\n<content type=\"html\">{}</content>\n</entry>\n",
            xml_escape(&e.id),
            crate::server::clock::rfc3339(e.published_ms),
            crate::server::clock::rfc3339(e.updated_ms),
            xml_escape(&e.link),
            xml_escape(&e.title),
            xml_escape(&e.html),
        ));
    }
    xml.push_str("</feed>\n");
    Ok(feed_response("application/atom+xml; charset=utf-8", xml))
}

/// RFC 822 dates, as RSS 2.0 wants them: `Wed, 02 Dec 2026 06:43:34 +0000`.
fn rfc822(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (y, m, d, rem) = crate::model::civil(ms);
    let weekday = DAYS[ms.div_euclid(86_400_000).rem_euclid(7) as usize];
    format!(
        "{weekday}, {d:02} {} {y:04} {:02}:{:02}:{:02} +0000",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub async fn rss(State(state): State<AppState>, _headers: HeaderMap) -> Result<Response, ApiError> {
    let list = entries(&state).await?;
    let page = state.checks.page();
    let base = base_url(&state);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n\
         <title>{} status history</title>\n<link>{}</link>\n<description>Incidents and maintenance</description>\n\
         <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        xml_escape(&page.name),
        xml_escape(&base),
        xml_escape(&format!("{base}/history.rss")),
    );
    for e in &list {
        xml.push_str(&format!(
            "<item>\n<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"false\">{}</guid>\n<pubDate>{}</pubDate>\n<description>{}</description>\n</item>\n",
            xml_escape(&e.title),
            xml_escape(&e.link),
            xml_escape(&e.id),
            rfc822(e.published_ms),
            xml_escape(&e.html),
        ));
    }
    xml.push_str("</channel>\n</rss>\n");
    Ok(feed_response("application/rss+xml; charset=utf-8", xml))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_characters_xml_cannot_carry_are_dropped() {
        assert_eq!(xml_escape("<b>&\"'</b>"), "&lt;b&gt;&amp;&quot;&apos;&lt;/b&gt;");
        assert_eq!(xml_escape("a\u{1}b\u{FFFE}c\nd"), "abc\nd");
    }

    #[test]
    fn rss_dates_are_rfc_822() {
        assert_eq!(rfc822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc822(1_796_194_230_169), "Wed, 02 Dec 2026 06:50:30 +0000");
    }
}
