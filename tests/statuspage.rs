//! The Statuspage-compatible API (`/api/v2/…`) against a real server: every document's
//! shape (each field present with its type) in the operational, degraded, incident and
//! maintenance states, the indicator words, and the caching and cross-origin headers.

mod common;

use common::{post_json, rfc3339_in, Server};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

async fn get(server: &Server, path: &str) -> Value {
    let res = reqwest::get(server.url(path)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert_eq!(res.headers()["access-control-allow-origin"], "*", "{path}");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{path}");
    res.json().await.unwrap()
}

/// Asserts every field in `fields` is in `v` with its type: s(tring), n(umber), b(ool),
/// a(rray), o(bject), S (string or null).
fn shape(v: &Value, what: &str, fields: &[(&str, char)]) {
    for (name, kind) in fields {
        let f = v.get(name).unwrap_or_else(|| panic!("{what}: no field {name} in {v}"));
        let ok = match kind {
            's' => f.is_string(),
            'S' => f.is_string() || f.is_null(),
            'n' => f.is_number(),
            'b' => f.is_boolean(),
            'a' => f.is_array(),
            'o' => f.is_object(),
            _ => unreachable!(),
        };
        assert!(ok, "{what}.{name} should be of kind {kind}: {f}");
        if (*kind == 's' || *kind == 'S') && name.ends_with("_at")
            || ["scheduled_for", "scheduled_until", "start_date"].contains(name)
        {
            if let Some(t) = f.as_str() {
                assert!(
                    t.len() == 24 && t.ends_with('Z') && t.as_bytes()[19] == b'.',
                    "{what}.{name}: RFC 3339 with ms, UTC: {t}"
                );
            }
        }
    }
}

const PAGE: &[(&str, char)] = &[("id", 's'), ("name", 's'), ("url", 's'), ("time_zone", 's'), ("updated_at", 's')];
const COMPONENT: &[(&str, char)] = &[
    ("id", 's'),
    ("name", 's'),
    ("status", 's'),
    ("created_at", 's'),
    ("updated_at", 's'),
    ("position", 'n'),
    ("description", 'S'),
    ("showcase", 'b'),
    ("start_date", 'S'),
    ("group_id", 'S'),
    ("page_id", 's'),
    ("group", 'b'),
    ("only_show_if_degraded", 'b'),
];
const INCIDENT: &[(&str, char)] = &[
    ("id", 's'),
    ("name", 's'),
    ("status", 's'),
    ("impact", 's'),
    ("shortlink", 's'),
    ("created_at", 's'),
    ("updated_at", 's'),
    ("monitoring_at", 'S'),
    ("resolved_at", 'S'),
    ("started_at", 's'),
    ("page_id", 's'),
    ("components", 'a'),
    ("incident_updates", 'a'),
];
const UPDATE: &[(&str, char)] = &[
    ("id", 's'),
    ("status", 's'),
    ("body", 's'),
    ("incident_id", 's'),
    ("created_at", 's'),
    ("updated_at", 's'),
    ("display_at", 's'),
];

/// Checks every document's shape; returns the summary.
async fn all_documents(server: &Server) -> Value {
    let summary = get(server, "/api/v2/summary.json").await;
    shape(
        &summary,
        "summary",
        &[("page", 'o'), ("components", 'a'), ("incidents", 'a'), ("scheduled_maintenances", 'a'), ("status", 'o')],
    );
    shape(&summary["page"], "page", PAGE);
    shape(&summary["status"], "status", &[("indicator", 's'), ("description", 's')]);
    for c in summary["components"].as_array().unwrap() {
        shape(c, "component", COMPONENT);
        if c["group"] == true {
            assert!(c["components"].as_array().is_some_and(|m| !m.is_empty()), "a group lists its members: {c}");
        }
        let status = c["status"].as_str().unwrap();
        assert!(
            ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"].contains(&status),
            "{status}"
        );
    }
    for path in ["/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"] {
        let doc = get(server, path).await;
        shape(&doc["page"], "page", PAGE);
        for i in doc["incidents"].as_array().unwrap() {
            shape(i, path, INCIDENT);
            for c in i["components"].as_array().unwrap() {
                shape(c, "incident component", &COMPONENT[..5]);
            }
            for u in i["incident_updates"].as_array().unwrap() {
                shape(u, "incident update", UPDATE);
            }
        }
    }
    for path in [
        "/api/v2/scheduled-maintenances.json",
        "/api/v2/scheduled-maintenances/upcoming.json",
        "/api/v2/scheduled-maintenances/active.json",
    ] {
        let doc = get(server, path).await;
        for m in doc["scheduled_maintenances"].as_array().unwrap() {
            shape(m, path, INCIDENT);
            shape(m, path, &[("scheduled_for", 's'), ("scheduled_until", 's')]);
            assert!(["scheduled", "in_progress", "verifying", "completed"].contains(&m["status"].as_str().unwrap()), "{m}");
        }
    }
    for path in ["/api/v2/status.json", "/api/v2/components.json"] {
        shape(&get(server, path).await["page"], "page", PAGE);
    }
    summary
}

fn indicator(summary: &Value) -> (String, String) {
    (summary["status"]["indicator"].as_str().unwrap().into(), summary["status"]["description"].as_str().unwrap().into())
}

#[tokio::test]
async fn every_document_has_statuspages_shape_in_every_state() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("statuscast.toml"),
        r#"[page]
name = "Example <Status>"
url = "https://status.example.com/"

[[component]]
id = "api"
name = "API"
group = "Core"
  [[component.check]]
  kind = "command"
  command = ["/bin/sh", "-c", "echo fine"]
  interval = "1h"

[[component]]
id = "web"
name = "Website"
group = "Core"
  [[component.check]]
  kind = "command"
  command = ["/bin/sh", "-c", "echo fine"]
  interval = "1h"
"#,
    )
    .unwrap();
    let config = dir.path().join("statuscast.toml");
    let server = Server::start(&["--config", config.to_str().unwrap()]).await;

    // Operational.
    let s = all_documents(&server).await;
    assert_eq!(indicator(&s), ("none".into(), "All Systems Operational".into()));
    assert_eq!(s["page"]["name"], "Example <Status>");
    assert_eq!(s["page"]["url"], "https://status.example.com");
    let group = &s["components"][0];
    assert_eq!((group["group"].clone(), group["components"].clone()), (json!(true), json!(["api", "web"])));
    assert_eq!(s["components"][1]["group_id"], group["id"]);

    // Degraded, partial and major, through the override.
    for (level, want) in [
        ("degraded_performance", ("minor", "Partially Degraded Service")),
        ("partial_outage", ("major", "Partial System Outage")),
        ("major_outage", ("critical", "Major System Outage")),
    ] {
        assert!(server.set_override(level, "checking").await.status().is_success());
        assert_eq!(indicator(&all_documents(&server).await), (want.0.into(), want.1.into()), "{level}");
    }
    let cleared = reqwest::Client::new().delete(server.url("/api/v1/status")).bearer_auth(common::TOKEN).send().await.unwrap();
    assert!(cleared.status().is_success());

    // An incident, with an update.
    let (code, incident) = post_json(
        &server,
        "/api/v1/incidents",
        json!({ "title": "Checkout <errors>", "impact": "minor", "components": ["api"], "message": "Looking into it." }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{incident}");
    let id = incident["id"].as_i64().unwrap();
    let (code, _) = post_json(
        &server,
        &format!("/api/v1/incidents/{id}/updates"),
        json!({ "status": "monitoring", "message": "Fix deployed." }),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let s = all_documents(&server).await;
    let open = &s["incidents"][0];
    assert_eq!(
        (open["name"].as_str(), open["status"].as_str(), open["impact"].as_str()),
        (Some("Checkout <errors>"), Some("monitoring"), Some("minor"))
    );
    assert_eq!(open["shortlink"], format!("https://status.example.com/history#incident-{id}"));
    assert_eq!(open["incident_updates"][0]["body"], "Fix deployed.", "newest first");
    assert_eq!(open["incident_updates"][1]["status"], "investigating");
    assert!(open["monitoring_at"].is_string() && open["resolved_at"].is_null());
    assert_eq!(open["components"][0]["id"], "api");
    assert_eq!(get(&server, "/api/v2/incidents/unresolved.json").await["incidents"].as_array().unwrap().len(), 1);
    let (code, _) =
        post_json(&server, &format!("/api/v1/incidents/{id}/updates"), json!({ "status": "resolved", "message": "All good." }))
            .await;
    assert_eq!(code, StatusCode::OK);
    let all = get(&server, "/api/v2/incidents.json").await;
    assert_eq!(all["incidents"][0]["status"], "resolved");
    assert!(all["incidents"][0]["resolved_at"].is_string());
    assert!(get(&server, "/api/v2/incidents/unresolved.json").await["incidents"].as_array().unwrap().is_empty());

    // Maintenance: one upcoming, one that starts within two seconds.
    let (code, _) = post_json(
        &server,
        "/api/v1/maintenance",
        json!({ "title": "Later", "starts_at": rfc3339_in(3_600_000), "ends_at": rfc3339_in(7_200_000), "components": ["web"] }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, _) = post_json(
        &server,
        "/api/v1/maintenance",
        json!({ "title": "Now", "starts_at": rfc3339_in(1_000), "ends_at": rfc3339_in(600_000), "components": ["api", "web"] }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let started = common::eventually(Duration::from_secs(5), || async {
        get(&server, "/api/v2/status.json").await["status"]["indicator"] == "maintenance"
    })
    .await;
    assert!(started);
    let s = all_documents(&server).await;
    assert_eq!(indicator(&s), ("maintenance".into(), "Service Under Maintenance".into()));
    let active = get(&server, "/api/v2/scheduled-maintenances/active.json").await;
    assert_eq!(
        (active["scheduled_maintenances"][0]["name"].as_str(), active["scheduled_maintenances"][0]["status"].as_str()),
        (Some("Now"), Some("in_progress"))
    );
    let upcoming = get(&server, "/api/v2/scheduled-maintenances/upcoming.json").await;
    assert_eq!(
        (upcoming["scheduled_maintenances"][0]["name"].as_str(), upcoming["scheduled_maintenances"][0]["status"].as_str()),
        (Some("Later"), Some("scheduled"))
    );
    assert_eq!(get(&server, "/api/v2/scheduled-maintenances.json").await["scheduled_maintenances"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn documents_carry_the_version_as_etag_and_unknown_api_paths_are_json_404s() {
    let server = Server::start(&[]).await;
    let res = reqwest::get(server.url("/api/v2/summary.json")).await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age="));
    let again =
        reqwest::Client::new().get(server.url("/api/v2/summary.json")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["access-control-allow-origin"], "*");
    server.set_override("partial_outage", "changed").await;
    let changed =
        reqwest::Client::new().get(server.url("/api/v2/summary.json")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK, "a new version, a new document");
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    // v1's public reads, badges and feeds: cross-origin, tagged, 304 when current.
    assert_eq!(reqwest::get(server.url("/api/v1/status")).await.unwrap().headers()["access-control-allow-origin"], "*");
    for path in ["/api/v1/incidents", "/badge.svg", "/badge/host.disk.json", "/history.atom", "/api/v2/incidents.json"] {
        let res = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(res.headers()["access-control-allow-origin"], "*", "{path}");
        let etag = res.headers()["etag"].to_str().unwrap().to_string();
        let again = reqwest::Client::new().get(server.url(path)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    let history = reqwest::get(server.url("/api/v1/history/host.disk")).await.unwrap();
    assert!(history.headers().get("etag").is_none(), "history changes every minute: no version tag");
    for path in ["/api/v2/nothing.json", "/api/v1/nope", "/api/x"] {
        let res = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = res.json().await.unwrap_or_else(|_| panic!("{path}: JSON, not the HTML page"));
        assert!(body["error"].as_str().unwrap().contains(path), "{body}");
    }
}

#[tokio::test]
async fn a_feed_reader_finds_each_incident_with_its_updates_in_both_feeds() {
    let server = Server::start(&[]).await;
    let page = reqwest::get(server.url("/")).await.unwrap().text().await.unwrap();
    assert!(
        page.contains(r#"type="application/atom+xml""#) && page.contains(r#"href="/history.rss""#),
        "linked from the page head"
    );
    let (_, first) = post_json(
        &server,
        "/api/v1/incidents",
        json!({ "title": "Checkout <b>errors</b> & co", "impact": "major", "components": [], "message": "Looking <script>alert(1)</script>" }),
    )
    .await;
    let id = first["id"].as_i64().unwrap();
    post_json(&server, &format!("/api/v1/incidents/{id}/updates"), json!({ "status": "resolved", "message": "Fixed." })).await;
    post_json(
        &server,
        "/api/v1/incidents",
        json!({ "title": "Search slow", "impact": "minor", "components": [], "message": "Investigating." }),
    )
    .await;
    for (path, content_type) in [("/history.atom", "application/atom+xml"), ("/history.rss", "application/rss+xml")] {
        let res = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with(content_type), "{path}");
        let body = res.bytes().await.unwrap();
        let feed = feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{path} parses: {e}"));
        let titles: Vec<String> = feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
        assert_eq!(titles, ["Search slow", "Checkout <b>errors</b> & co"], "{path}: newest first, titles as typed");
        let checkout = &feed.entries[1];
        let html = checkout
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| checkout.summary.as_ref().map(|s| s.content.clone()))
            .unwrap();
        assert!(html.contains("Fixed.") && html.contains("Resolved"), "{path}: the timeline: {html}");
        assert!(
            html.contains("Looking &lt;script&gt;") && !html.contains("<script>"),
            "{path}: operator text stays text: {html}"
        );
        assert!(checkout.links.iter().any(|l| l.href.ends_with(&format!("/history#incident-{id}"))), "{path}");
    }
}

#[tokio::test]
async fn badges_show_levels_and_uptime_and_refuse_what_they_do_not_know() {
    let server = Server::start(&[]).await;
    let svg = |path: &'static str| {
        let url = server.url(path);
        async move {
            let res = reqwest::get(url).await.unwrap();
            let status = res.status();
            let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
            (status, content_type, res.text().await.unwrap())
        }
    };
    let (code, content_type, body) = svg("/badge.svg").await;
    assert_eq!((code, content_type.as_deref()), (StatusCode::OK, Some("image/svg+xml; charset=utf-8")));
    assert!(body.contains(">status</text>") && body.contains(">Operational</text>") && body.contains("#4c1"), "{body}");
    server.set_override("major_outage", "down").await;
    let (_, _, body) = svg("/badge.svg?label=api%20%3Cstatus%3E&style=flat-square").await;
    assert!(
        body.contains(">api &lt;status&gt;</text>") && body.contains(">Major outage</text>") && body.contains("rx=\"0\""),
        "{body}"
    );
    let (_, _, body) = svg("/badge/host.disk.svg").await;
    assert!(body.contains(">Disk space</text>"), "{body}");
    let (_, _, body) = svg("/badge/host.disk/uptime/24h.svg").await;
    assert!(body.contains(">uptime 24h</text>"), "{body}");
    assert!(body.contains("%</text>") || body.contains(">no data</text>"), "{body}");
    let shields: Value = reqwest::get(server.url("/badge/host.disk.json")).await.unwrap().json().await.unwrap();
    assert_eq!(shields, json!({ "schemaVersion": 1, "label": "Disk space", "message": "Operational", "color": "brightgreen" }));
    for (path, want) in [
        ("/badge/nope.svg", StatusCode::NOT_FOUND),
        ("/badge/host.disk/uptime/1y.svg", StatusCode::NOT_FOUND),
        ("/badge.svg?style=3d", StatusCode::BAD_REQUEST),
        ("/badge.svg?colour=red", StatusCode::BAD_REQUEST),
    ] {
        let (code, _, body) = svg(path).await;
        assert_eq!(code, want, "{path}: {body}");
        assert!(serde_json::from_str::<Value>(&body).is_ok(), "{path}: a JSON error: {body}");
    }
}

#[tokio::test]
async fn every_operation_in_the_openapi_document_is_served() {
    let server = Server::start(&[]).await;
    let doc = get(&server, "/api/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    let client = reqwest::Client::new();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{component}", "host.disk")
            .replace("{id}", "1")
            .replace("{file}", "host.disk.svg")
            .replace("{window}", "24h.svg");
        for method in ops.as_object().unwrap().keys() {
            let req = client.request(method.to_uppercase().parse().unwrap(), server.url(&concrete));
            let res = req.header("content-type", "application/json").body("{}").send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(!text.contains("no such endpoint"), "{method} {path} is routed: {status} {text}");
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
}
