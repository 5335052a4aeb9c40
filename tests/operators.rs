//! Operators against a real server process: incidents through the JSON API and the CLI,
//! the admin area's login, session, CSRF and throttling, and the pages that show the
//! results (incident history, uptime bars).

mod common;

use common::{post_json as post, sigkill_during_incident_updates, Server, SseReader, TOKEN};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery staple";

async fn status(server: &Server) -> Value {
    reqwest::get(server.url("/api/v1/status")).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn an_incident_reaches_a_stream_at_once_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    let before = status(&server).await;
    assert_eq!(before["level"], "operational");
    let mut stream = SseReader::new(common::connect(&server, "/connect_to_sse", &[]).await);
    stream.next_event(Duration::from_secs(2)).await.expect("the current status first");

    let started = std::time::Instant::now();
    let (code, incident) = post(
        &server,
        "/api/v1/incidents",
        json!({ "title": "Checkout <errors>", "impact": "major", "components": ["host.disk"], "message": "Looking into it." }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{incident}");
    let event = stream.next_event(Duration::from_secs(1)).await.expect("pushed within a second");
    let pushed: Value = serde_json::from_str(&event.data).unwrap();
    println!("incident → SSE event in {:?}", started.elapsed());
    assert_eq!(pushed["incidents"][0]["title"], "Checkout <errors>");
    assert_eq!(pushed["level"], "partial_outage", "a major incident raises the overall level");
    assert_eq!(pushed["message"], "Checkout <errors>");

    let id = incident["id"].as_i64().unwrap();
    let (code, updated) = post(
        &server,
        &format!("/api/v1/incidents/{id}/updates"),
        json!({ "status": "monitoring", "message": "Fix deployed.", "impact": "minor" }),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    assert_eq!(updated["updates"].as_array().unwrap().len(), 2);
    assert_eq!(status(&server).await["level"], "degraded_performance", "impact lowered to minor");
    let version = status(&server).await["version"].as_u64().unwrap();
    let history_url = server.url("/api/v1/history/host.disk?span=minute&days=1");
    let recorded = common::eventually(Duration::from_secs(3), || async {
        let h: Value = reqwest::get(&history_url).await.unwrap().json().await.unwrap();
        !h["buckets"].as_array().unwrap().is_empty()
    })
    .await;
    assert!(recorded, "the first check results are in the history");
    drop(stream);
    drop(server);

    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    let history: Value =
        reqwest::get(server.url("/api/v1/history/host.disk?span=minute&days=1")).await.unwrap().json().await.unwrap();
    assert!(history["buckets"][0]["samples"].as_i64().unwrap() >= 1, "check history kept: {history}");
    let after = status(&server).await;
    assert_eq!(after["incidents"][0]["status"], "monitoring", "{after}");
    assert_eq!(after["incidents"][0]["updates"][1]["message"], "Looking into it.");
    assert!(after["version"].as_u64().unwrap() > version, "versions never go back");
    let (code, _) =
        post(&server, &format!("/api/v1/incidents/{id}/updates"), json!({ "status": "resolved", "message": "All good." })).await;
    assert_eq!(code, StatusCode::OK);
    let now = status(&server).await;
    assert!(now["incidents"].is_null(), "resolved incidents leave the snapshot: {now}");
    assert_eq!(now["level"], "operational");
    let history = reqwest::get(server.url("/history")).await.unwrap().text().await.unwrap();
    assert!(history.contains("Checkout &lt;errors&gt;") && !history.contains("Checkout <errors>"), "escaped in the history page");
    assert!(history.contains("All good."));
    let (code, err) =
        post(&server, &format!("/api/v1/incidents/{id}/updates"), json!({ "status": "monitoring", "message": "again" })).await;
    assert_eq!(
        (code, err["error"].as_str().unwrap()),
        (StatusCode::CONFLICT, format!("incident {id} is resolved; it takes no more updates").as_str())
    );
}

#[tokio::test]
async fn bad_incident_requests_name_the_field_and_store_nothing() {
    let server = Server::start(&[]).await;
    let base = json!({ "title": "API down", "impact": "critical", "components": ["host.load"], "message": "Investigating" });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("title", json!("")), "title"),
        (with("title", json!("x".repeat(201))), "title"),
        (with("impact", json!("apocalyptic")), "impact"),
        (with("status", json!("fixed")), "status"),
        (with("components", json!(["host.load", "mainframe"])), "components"),
        (with("message", json!("  ")), "message"),
        (with("message", json!("x".repeat(5001))), "message"),
    ];
    for (body, field) in cases {
        let (code, err) = post(&server, "/api/v1/incidents", body.clone()).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {err}");
        assert_eq!(err["field"], field, "{err}");
        assert!(err["error"].as_str().unwrap().starts_with(&format!("{field}: ")), "{err}");
    }
    let (code, err) = post(&server, "/api/v1/incidents", with("extra", json!(1))).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{err}");
    let (code, _) = post(&server, "/api/v1/incidents/77/updates", json!({ "status": "resolved", "message": "x" })).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = post(&server, "/api/v1/incidents/abc/updates", json!({ "status": "resolved", "message": "x" })).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let res = reqwest::Client::new().post(server.url("/api/v1/incidents")).json(&base).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = reqwest::Client::new()
        .post(server.url("/api/v1/incidents"))
        .bearer_auth("wrong-token-0123456789")
        .json(&base)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let all: Value = reqwest::get(server.url("/api/v1/incidents")).await.unwrap().json().await.unwrap();
    assert!(all["incidents"].as_array().unwrap().is_empty(), "nothing was stored: {all}");
    assert!(status(&server).await["incidents"].is_null());
}

#[tokio::test]
async fn the_incident_cli_opens_updates_resolves_and_lists() {
    let server = Server::start(&[]).await;
    let cli = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast"));
        cmd.arg("incident").args(args).arg("--url").arg(&server.base).env("STATUSCAST_ADMIN_TOKEN", TOKEN);
        async move { cmd.output().await.unwrap() }
    };
    let text = |o: &std::process::Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let out =
        cli(&["open", "--title", "Slow logins", "--impact", "minor", "--component", "host.memory", "--message", "Looking"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("#1 [investigating] Slow logins (impact minor; host.memory)"), "{}", text(&out));
    assert_eq!(status(&server).await["incidents"][0]["title"], "Slow logins");
    let out = cli(&["update", "1", "--status", "identified", "--message", "Cache node lost"]).await;
    assert!(text(&out).contains("#1 [identified]"), "{}", text(&out));
    let out = cli(&["update", "1", "--status", "done", "--message", "x"]).await;
    assert!(!out.status.success());
    assert!(text(&out).contains("status: unknown status \"done\""), "{}", text(&out));
    let out = cli(&["resolve", "1", "--message", "Replaced the node"]).await;
    assert!(text(&out).contains("#1 [resolved]"), "{}", text(&out));
    let out = cli(&["list"]).await;
    assert!(text(&out).contains("no incidents"), "{}", text(&out));
    let out = cli(&["list", "--resolved"]).await;
    assert!(text(&out).contains("Replaced the node"), "{}", text(&out));
}

/// A browser-like client of the admin area: no redirects followed, cookies by hand.
struct Admin {
    http: reqwest::Client,
    cookie: Option<String>,
}

impl Admin {
    fn new() -> Admin {
        Admin { http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(), cookie: None }
    }

    async fn post(&self, server: &Server, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.http.post(server.url(path)).form(form);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        req.send().await.unwrap()
    }

    async fn login(&mut self, server: &Server, secret: &str) -> reqwest::Response {
        let res = self.post(server, "/admin/login", &[("secret", secret)]).await;
        if let Some(set) = res.headers().get(header::SET_COOKIE) {
            self.cookie = Some(set.to_str().unwrap().split(';').next().unwrap().to_string());
        }
        res
    }

    async fn page(&self, server: &Server) -> String {
        let mut req = self.http.get(server.url("/admin"));
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        req.send().await.unwrap().text().await.unwrap()
    }

    async fn csrf(&self, server: &Server) -> String {
        let page = self.page(server).await;
        let at = page.find("name=\"csrf\" value=\"").expect("the dashboard has forms") + 19;
        page[at..at + 64].to_string()
    }
}

#[tokio::test]
async fn the_admin_area_needs_a_session_a_csrf_token_and_the_same_origin() {
    let server = Server::start(&["--admin-password", PASSWORD]).await;
    let mut admin = Admin::new();
    let incident = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("title", "From the form".into()),
            ("impact", "minor".into()),
            ("status", "investigating".into()),
            ("components", "host.load".into()),
            ("message", "Typed <b>in</b> a browser".into()),
        ]
    };

    // Without a session: the login form (never cached, never framed), and posts are refused.
    assert!(admin.page(&server).await.contains("action=\"/admin/login\""));
    let res = reqwest::get(server.url("/admin")).await.unwrap();
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    let reloaded = admin.http.get(server.url("/admin/incidents")).send().await.unwrap();
    assert_eq!((reloaded.status(), reloaded.headers()[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/admin"));
    let forged = incident(&"0".repeat(64));
    assert_eq!(admin.post(&server, "/admin/incidents", &refs_of(&forged)).await.status(), StatusCode::UNAUTHORIZED);

    // Wrong secret, then the right one: an HttpOnly, SameSite=Strict session cookie.
    assert_eq!(admin.login(&server, "guess").await.status(), StatusCode::UNAUTHORIZED);
    assert!(admin.cookie.is_none());
    let res = admin.login(&server, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = res.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"), "{set}");
    let csrf = admin.csrf(&server).await;

    // A wrong CSRF token, or a post from another origin, is refused and writes nothing.
    let bad = incident(&"f".repeat(64));
    assert_eq!(admin.post(&server, "/admin/incidents", &refs_of(&bad)).await.status(), StatusCode::FORBIDDEN);
    let good = incident(&csrf);
    let cross = admin
        .http
        .post(server.url("/admin/incidents"))
        .header(header::COOKIE, admin.cookie.clone().unwrap())
        .header(header::ORIGIN, "http://evil.example")
        .form(&refs_of(&good))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(status(&server).await["incidents"].is_null(), "nothing was written");

    // An invalid form is shown again with the field named and the typed values kept.
    let mut invalid = good.clone();
    invalid.retain(|(k, _)| *k != "title");
    invalid.push(("title", "   ".into()));
    let res = admin.post(&server, "/admin/incidents", &refs_of(&invalid)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("title: is required"), "the error names the field");
    assert!(page.contains("Typed &lt;b&gt;in&lt;/b&gt; a browser"), "typed text kept, escaped");
    assert!(status(&server).await["incidents"].is_null(), "nothing was written");

    // The real thing: posted, redirected, live in the snapshot.
    let res = admin.post(&server, "/admin/incidents", &refs_of(&good)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/admin?done=opened");
    let s = status(&server).await;
    assert_eq!(s["incidents"][0]["title"], "From the form");
    assert_eq!(s["incidents"][0]["updates"][0]["message"], "Typed <b>in</b> a browser");

    // Logging out ends the session: its cookie no longer works.
    let old = admin.cookie.clone();
    assert_eq!(admin.post(&server, "/admin/logout", &[("csrf", &csrf)]).await.status(), StatusCode::SEE_OTHER);
    admin.cookie = old;
    assert_eq!(admin.post(&server, "/admin/incidents", &refs_of(&good)).await.status(), StatusCode::UNAUTHORIZED);
}

fn refs_of<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn failed_logins_are_throttled_and_the_area_is_off_without_secrets() {
    let server = Server::start(&["--admin-password", PASSWORD]).await;
    let mut admin = Admin::new();
    for _ in 0..5 {
        assert_eq!(admin.login(&server, "wrong").await.status(), StatusCode::UNAUTHORIZED);
    }
    let res = admin.login(&server, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let wait: u64 = res.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((800..=900).contains(&wait), "{wait}");
    // The admin token is accepted too (from another address it would not be throttled).
    let off = Server::start_without_token(&[]).await;
    let page = reqwest::get(off.url("/admin")).await.unwrap().text().await.unwrap();
    assert!(page.contains("The admin area is disabled"));
    assert_eq!(Admin::new().login(&off, "anything").await.status(), StatusCode::FORBIDDEN);
    let token_server = Server::start(&[]).await;
    assert_eq!(Admin::new().login(&token_server, TOKEN).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_status_page_shows_90_day_bars_and_upcoming_maintenance() {
    let server = Server::start(&[]).await;
    let (starts_at, ends_at) = (common::rfc3339_in(7_200_000), common::rfc3339_in(10_800_000));
    let (code, _) = post(
        &server,
        "/api/v1/maintenance",
        json!({ "title": "Kernel <update>", "starts_at": starts_at, "ends_at": ends_at, "components": ["host.load"] }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    // The history is rendered two seconds after start (the first results written by then).
    let ready = common::eventually(Duration::from_secs(5), || async {
        let page = reqwest::get(server.url("/")).await.unwrap().text().await.unwrap();
        page.contains("uptime-row") && !page.contains("no data yet")
    })
    .await;
    assert!(ready, "today's checks appear in the bars");
    let page = reqwest::get(server.url("/")).await.unwrap().text().await.unwrap();
    assert_eq!(page.matches("<rect").count(), 3 * 90, "90 bars for each of the 3 host components");
    assert_eq!(page.matches("class=\"day level-unknown\"").count(), 3 * 89, "days before the first run are unknown");
    assert!(page.contains("100 % uptime · checked for "), "unknown days are not counted; coverage is said");
    assert!(page.contains("Kernel &lt;update&gt;") && !page.contains("Kernel <update>"));
    assert!(page.contains("Scheduled maintenance, starts in"), "shown in advance");
}

#[tokio::test]
async fn a_restart_keeps_operators_logged_in() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--admin-password", PASSWORD];
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &args).await;
    let mut admin = Admin::new();
    assert_eq!(admin.login(&server, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let csrf = admin.csrf(&server).await;
    drop(server);
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &args).await;
    assert_eq!(admin.csrf(&server).await, csrf, "the same session, with its CSRF token");
    let mut db = std::fs::read(dir.path().join("statuscast.db")).unwrap();
    db.extend(std::fs::read(dir.path().join("statuscast.db-wal")).unwrap_or_default());
    let id = admin.cookie.as_ref().unwrap().split('=').nth(1).unwrap().to_string();
    assert!(!db.windows(id.len()).any(|w| w == id.as_bytes()), "the session id itself is not stored");
}

#[tokio::test]
async fn changing_the_admin_password_ends_the_sessions_opened_with_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &["--admin-password", PASSWORD]).await;
    let mut admin = Admin::new();
    assert_eq!(admin.login(&server, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let csrf = admin.csrf(&server).await;
    drop(server);
    let changed = "a-new-password-after-a-leak";
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &["--admin-password", changed]).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("title", "With an old cookie"),
        ("impact", "minor"),
        ("status", "investigating"),
        ("message", "x"),
    ];
    let res = admin.post(&server, "/admin/incidents", &form).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the old session no longer posts forms");
    assert!(!admin.page(&server).await.contains("name=\"csrf\""), "nor sees the dashboard");
    let status: serde_json::Value = reqwest::get(server.url("/api/v1/status")).await.unwrap().json().await.unwrap();
    assert!(status["incidents"].as_array().is_none_or(|a| a.is_empty()), "nothing was opened: {status}");
    let mut again = Admin::new();
    assert_eq!(again.login(&server, changed).await.status(), StatusCode::SEE_OTHER, "the new password opens a new one");
    assert_eq!(again.csrf(&server).await.len(), 64);
}

#[tokio::test]
async fn sigkill_during_incident_updates_loses_no_acknowledged_update() {
    sigkill_during_incident_updates("sqlite", &[]).await;
}

#[tokio::test]
async fn concurrent_incidents_all_reach_the_snapshot() {
    let server = Server::start(&[]).await;
    let posts = (0..20).map(|i| {
        let url = server.url("/api/v1/incidents");
        async move {
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(TOKEN)
                .json(&json!({ "title": format!("incident {i}"), "impact": "minor", "message": "m" }))
                .send()
                .await
                .unwrap();
            res.status()
        }
    });
    let codes = futures_util::future::join_all(posts).await;
    assert!(codes.iter().all(|c| *c == StatusCode::CREATED), "{codes:?}");
    let s = status(&server).await;
    assert_eq!(s["incidents"].as_array().unwrap().len(), 20, "no publish overtook another");
}

#[tokio::test]
async fn the_incident_history_pages_back_25_at_a_time() {
    let server = Server::start(&[]).await;
    for i in 0..27 {
        let (code, _) = post(
            &server,
            "/api/v1/incidents",
            json!({ "title": format!("old {i}"), "impact": "none", "status": "resolved", "message": "done" }),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
    }
    let first = reqwest::get(server.url("/history")).await.unwrap().text().await.unwrap();
    assert_eq!(first.matches("class=\"incident impact-").count(), 25);
    assert!(first.contains(">old 26<") && !first.contains(">old 1<"), "newest first");
    let at = first.find("/history?before=").expect("a link to older incidents");
    let href: String = first[at..].chars().take_while(|c| *c != '"').collect::<String>().replace("&amp;", "&");
    let older = reqwest::get(server.url(&href)).await.unwrap().text().await.unwrap();
    assert_eq!(older.matches("class=\"incident impact-").count(), 2, "{href}");
    assert!(older.contains(">old 1<") && older.contains(">old 0<") && !older.contains("/history?before="));
}

/// A login posted as if through a proxy that says the client is `forwarded_for`.
async fn login_from(server: &Server, forwarded_for: &str, device: Option<&str>, secret: &str) -> reqwest::Response {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut req = http.post(server.url("/admin/login")).form(&[("secret", secret)]).header("x-forwarded-for", forwarded_for);
    if let Some(d) = device {
        req = req.header(header::COOKIE, d);
    }
    req.send().await.unwrap()
}

fn device_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("statuscast_device="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

#[tokio::test]
async fn login_limits_count_the_real_client_behind_trusted_proxies_only() {
    let behind = Server::start(&["--admin-password", PASSWORD, "--trusted-proxies", "127.0.0.1, ::1"]).await;
    for _ in 0..5 {
        assert_eq!(login_from(&behind, "198.51.100.1", None, "wrong").await.status(), StatusCode::UNAUTHORIZED);
    }
    // That client is held back, even with an address of its own choosing in front...
    assert_eq!(login_from(&behind, "9.9.9.9, 198.51.100.1", None, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...but another client behind the same proxy is not.
    assert_eq!(login_from(&behind, "198.51.100.2", None, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    // Without trusted proxies the header is the client's own words: ignored.
    let direct = Server::start(&["--admin-password", PASSWORD]).await;
    for i in 0..5 {
        assert_eq!(login_from(&direct, &format!("198.51.100.{i}"), None, "wrong").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_from(&direct, "198.51.100.99", None, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
        .args(["serve", "--trusted-proxies", "10.0.0.0/8, proxy.local"])
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--trusted-proxies") && err.contains("\"proxy.local\""), "{err}");
}

#[tokio::test]
async fn a_flood_of_guesses_from_many_addresses_is_limited_overall_and_cannot_keep_operators_out() {
    let server = Server::start(&["--admin-password", PASSWORD, "--trusted-proxies", "127.0.0.1, ::1"]).await;
    // An operator's browser that logged in before carries a device cookie.
    let first = login_from(&server, "192.0.2.10", None, PASSWORD).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let device = device_cookie(&first).expect("a device cookie at login");
    // 200 wrong guesses from 40 addresses (the attack that once got all 200 checked).
    let (mut checked, mut held_back) = (0, 0);
    for i in 0..200 {
        match login_from(&server, &format!("203.0.113.{}", i % 40), None, "wrong guess").await.status() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => held_back += 1,
            other => panic!("{other}"),
        }
    }
    assert_eq!((checked, held_back), (30, 170), "30 guesses a minute checked, from all addresses together");
    // A new browser waits at most a minute, and is told so.
    let res = login_from(&server, "192.0.2.20", None, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(wait <= 61, "{wait}");
    assert!(res.text().await.unwrap().contains("many addresses"));
    // The operator's browser gets in at once, whatever address it now comes from.
    let res = login_from(&server, "203.0.113.5", Some(&device), PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the right secret is not kept out");
    assert!(device_cookie(&res).is_none(), "a known device keeps its cookie");
    // A made-up device cookie is nobody's.
    let forged = login_from(
        &server,
        "203.0.113.6",
        Some("statuscast_device=00000000000000000000000000000000000000000000000000000000000000aa"),
        PASSWORD,
    )
    .await;
    assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS, "an unknown device cookie counts for nothing");
}
