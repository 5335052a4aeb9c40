//! The JSON API, the operator override, persistence and the server-rendered page, against a
//! real server.

mod common;

use common::{rfc3339_in, Server, TOKEN};
use reqwest::StatusCode;
use serde_json::Value;

async fn status(server: &Server) -> Value {
    reqwest::get(server.url("/api/v1/status")).await.unwrap().json().await.unwrap()
}

async fn post_raw(server: &Server, auth: Option<&str>, content_type: &str, body: &str) -> (StatusCode, Value) {
    let mut req =
        reqwest::Client::new().post(server.url("/api/v1/status")).header("content-type", content_type).body(body.to_string());
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let res = req.send().await.unwrap();
    let code = res.status();
    (code, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn get_status_has_an_etag_equal_to_the_version() {
    let server = Server::start(&[]).await;
    let res = reqwest::get(server.url("/api/v1/status")).await.unwrap();
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    assert_eq!(etag, format!("\"{}\"", body["version"]));
    assert!(body["version"].as_u64().unwrap() >= 1);
    let ids: Vec<&str> = body["components"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["host.disk", "host.memory", "host.load"]);

    let res = reqwest::Client::new().get(server.url("/api/v1/status")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn the_override_sets_and_clears_with_new_versions() {
    let server = Server::start(&[]).await;
    let before = status(&server).await;
    let v0 = before["version"].as_u64().unwrap();

    let res = server.set_override("major_outage", "  Database unreachable  ").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["version"], v0 + 1);
    assert_eq!(body["level"], "major_outage");
    assert_eq!(body["message"], "Database unreachable");
    assert_eq!(body["override"]["level"], "major_outage");
    assert_eq!(status(&server).await, body);

    // The same override again is not a change.
    let again: Value = server.set_override("major_outage", "Database unreachable").await.json().await.unwrap();
    assert_eq!(again["version"], v0 + 1);

    let res = reqwest::Client::new().delete(server.url("/api/v1/status")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cleared: Value = res.json().await.unwrap();
    assert_eq!(cleared["version"], v0 + 2);
    assert!(cleared.get("override").is_none());
    assert_eq!(cleared["level"], before["level"]);
}

#[tokio::test]
async fn rejected_requests_say_why_and_change_nothing() {
    let server = Server::start(&[]).await;
    let before = status(&server).await;
    let bearer = format!("Bearer {TOKEN}");
    let json = "application/json";
    let cases: Vec<(Option<&str>, &str, String, StatusCode, &str)> = vec![
        (None, json, r#"{"level":"major_outage","message":"x"}"#.into(), StatusCode::UNAUTHORIZED, "missing Authorization"),
        (
            Some("Bearer wrong-token-wrong-token!"),
            json,
            r#"{"level":"major_outage","message":"x"}"#.into(),
            StatusCode::UNAUTHORIZED,
            "invalid token",
        ),
        (
            Some("Basic abc"),
            json,
            r#"{"level":"major_outage","message":"x"}"#.into(),
            StatusCode::UNAUTHORIZED,
            "missing Authorization",
        ),
        (Some(&bearer), json, "{\"level\": ".into(), StatusCode::BAD_REQUEST, "invalid JSON body"),
        (Some(&bearer), json, r#"{"level":"major_outage"}"#.into(), StatusCode::BAD_REQUEST, "missing field `message`"),
        (
            Some(&bearer),
            json,
            r#"{"level":"major_outage","message":"x","colour":"red"}"#.into(),
            StatusCode::BAD_REQUEST,
            "unknown field",
        ),
        (
            Some(&bearer),
            json,
            r#"{"level":"on_fire","message":"x"}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown level \"on_fire\"",
        ),
        (
            Some(&bearer),
            json,
            r#"{"level":"major_outage","message":"   "}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "message: is required",
        ),
        (
            Some(&bearer),
            json,
            format!(r#"{{"level":"major_outage","message":"{}"}}"#, "a".repeat(501)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "at most 500",
        ),
        (
            Some(&bearer),
            "text/plain",
            r#"{"level":"major_outage","message":"x"}"#.into(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
    ];
    for (auth, ct, body, code, needle) in cases {
        let (got, err) = post_raw(&server, auth, ct, &body).await;
        assert_eq!(got, code, "{body} → {err}");
        let msg = err["error"].as_str().unwrap_or_else(|| panic!("JSON error for {body}: {err}"));
        assert!(msg.contains(needle), "{msg:?} should contain {needle:?}");
    }
    let res = reqwest::Client::new().delete(server.url("/api/v1/status")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(status(&server).await, before, "nothing changed");
}

#[tokio::test]
async fn without_a_token_the_operator_api_is_disabled() {
    let server = Server::start_without_token(&[]).await;
    let before = status(&server).await;
    let (code, err) =
        post_raw(&server, Some("Bearer anything-at-all-here"), "application/json", r#"{"level":"major_outage","message":"x"}"#)
            .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(err["error"].as_str().unwrap().contains("disabled"), "{err}");
    assert_eq!(status(&server).await, before);
}

#[tokio::test]
async fn a_restart_keeps_the_override_and_never_reuses_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    first.set_override("partial_outage", "Replication lag").await;
    let v1 = first.version().await;
    first.terminate().await;

    let second = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    let s = status(&second).await;
    assert!(s["version"].as_u64().unwrap() > v1, "{} after {v1}", s["version"]);
    assert_eq!(s["message"], "Replication lag");
    assert_eq!(s["level"], "partial_outage");
}

#[tokio::test]
async fn a_corrupt_state_file_stops_start_up_with_its_name_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, "{\"version\": 12,").unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("state.json:1:"), "{err}");
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "{\"version\": 12,");
}

#[tokio::test]
async fn bad_flags_are_refused_with_a_message() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
        .args(["serve", "--heartbeat", "soon"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--heartbeat") && err.contains("expected a duration"), "{err}");
    let help = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast")).arg("--help").output().await.unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("serve"));
}

#[tokio::test]
async fn host_thresholds_decide_component_levels() {
    // Every disk has less than 100% free, so this threshold makes the disk degraded.
    let server = Server::start(&["--disk-degraded-pct", "100", "--disk-outage-pct", "0"]).await;
    let s = status(&server).await;
    let disk = s["components"].as_array().unwrap().iter().find(|c| c["id"] == "host.disk").unwrap().clone();
    assert_eq!(disk["level"], "degraded_performance", "{disk}");
    assert!(disk["reason"].as_str().unwrap().contains("% free"), "{disk}");
    assert_eq!(s["level"], "degraded_performance");
    assert_eq!(s["message"], "Degraded performance: Disk space");
}

#[tokio::test]
async fn the_host_publishes_its_sizes_only_when_asked() {
    let reasons = |s: Value| {
        s["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["reason"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let quiet = Server::start(&[]).await;
    let text = reasons(status(&quiet).await);
    let page = reqwest::get(quiet.url("/")).await.unwrap().text().await.unwrap();
    assert!(text.contains("% free") && text.contains("% available") && text.contains("per core"), "{text}");
    assert!(!text.contains("GiB") && !text.contains("cores") && !page.contains("GiB"), "{text}");
    let sized = Server::start(&["--host-show-sizes"]).await;
    let text = reasons(status(&sized).await);
    assert!(text.contains("GiB") && text.contains("cores)"), "{text}");
}

#[tokio::test]
async fn the_page_carries_the_status_without_javascript_and_escapes_text() {
    let server = Server::start(&[]).await;
    let hostile = "<script>alert('x')</script> & \"quotes\"";
    server.set_override("partial_outage", hostile).await;
    let version = server.version().await;
    let res = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"system-status\""), "{html}");
    assert!(html.contains(&format!("data-version=\"{version}\"")), "{html}");
    assert!(html.contains("data-level=\"partial_outage\""));
    assert!(html.contains(">Partial outage<"));
    assert!(html.contains("<title>Partial outage · statuscast</title>"), "the title carries the level");
    assert!(html.contains("&lt;script&gt;alert("), "the message is escaped");
    assert!(!html.contains("<script>alert("), "no raw script from the message");
    assert!(html.contains("aria-live=\"polite\""));
    assert!(html.contains("Disk space") && html.contains("Memory") && html.contains("CPU load"));

    // Every page carries the partial, the 404 page too.
    let res = reqwest::get(server.url("/no/such/page")).await.unwrap();
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"system-status\"") && html.contains("Page not found"), "{html}");
}

#[tokio::test]
async fn sigkill_in_a_stream_of_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    let pid = server.pid();
    let writer = {
        let url = server.url("/api/v1/status");
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut acked: Option<(u64, u64)> = None; // (index, version)
            for i in 0u64.. {
                let level = if i % 2 == 0 { "major_outage" } else { "partial_outage" };
                let res = client
                    .post(&url)
                    .bearer_auth(TOKEN)
                    .json(&serde_json::json!({ "level": level, "message": format!("write {i}") }))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        if let Some(version) = v["version"].as_u64() {
                            acked = Some((i, version));
                        }
                    }
                    _ => return acked,
                }
            }
            acked
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let (last_index, last_version) = writer.await.unwrap().expect("some writes were acknowledged");
    drop(server);

    let again = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    let s = status(&again).await;
    let message = s["message"].as_str().unwrap();
    let index: u64 = message.trim_start_matches("write ").parse().unwrap();
    assert!(index >= last_index, "acknowledged write {last_index} lost: the restart shows {message:?}");
    assert!(s["version"].as_u64().unwrap() > last_version, "versions never go back");
    println!("{last_index} writes acknowledged before SIGKILL; the restart shows write {index}");
}

async fn schedule(server: &Server, body: Value) -> (StatusCode, Value) {
    common::post_json(server, "/api/v1/maintenance", body).await
}

#[tokio::test]
async fn maintenance_windows_start_and_end_on_time_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    let level_of =
        |s: &Value, id: &str| s["components"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["level"].clone();
    // Starts within two seconds (whole seconds), lasts two seconds.
    let (code, w) = schedule(
        &server,
        serde_json::json!({ "title": "Disk swap", "starts_at": rfc3339_in(1500), "ends_at": rfc3339_in(3500), "components": ["host.disk"] }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{w}");
    assert_eq!(level_of(&status(&server).await, "host.disk"), "operational", "shown in advance, not yet applied");
    let listed: Value = reqwest::get(server.url("/api/v1/maintenance")).await.unwrap().json().await.unwrap();
    assert_eq!(listed["maintenance"][0]["title"], "Disk swap");
    assert_eq!(listed["maintenance"][0]["active"], false);

    let started = common::eventually(std::time::Duration::from_secs(4), || async {
        level_of(&status(&server).await, "host.disk") == "under_maintenance"
    })
    .await;
    assert!(started, "the window started by itself");
    let s = status(&server).await;
    assert_eq!(s["level"], "under_maintenance");
    let ended = common::eventually(std::time::Duration::from_secs(4), || async {
        level_of(&status(&server).await, "host.disk") == "operational"
    })
    .await;
    assert!(ended, "the window ended by itself");

    // A later window survives a restart, and can be cancelled.
    let (_, later) = schedule(
        &server,
        serde_json::json!({ "title": "Later", "starts_at": rfc3339_in(3_600_000), "ends_at": rfc3339_in(7_200_000), "components": ["host.memory", "host.load"] }),
    )
    .await;
    drop(server);
    let again = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    let listed: Value = reqwest::get(again.url("/api/v1/maintenance")).await.unwrap().json().await.unwrap();
    assert_eq!(listed["maintenance"][0]["title"], "Later");
    let id = later["id"].as_i64().unwrap();
    let res =
        reqwest::Client::new().delete(again.url(&format!("/api/v1/maintenance/{id}"))).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res =
        reqwest::Client::new().delete(again.url(&format!("/api/v1/maintenance/{id}"))).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let listed: Value = reqwest::get(again.url("/api/v1/maintenance")).await.unwrap().json().await.unwrap();
    assert!(listed["maintenance"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_maintenance_requests_name_the_field_and_store_nothing() {
    let server = Server::start(&[]).await;
    let ok = |k: &str, v: Value| {
        let mut b = serde_json::json!({ "title": "x", "starts_at": rfc3339_in(60_000), "ends_at": rfc3339_in(120_000), "components": ["host.disk"] });
        b[k] = v;
        b
    };
    let cases = [
        (ok("title", Value::from("  ")), "title"),
        (ok("starts_at", Value::from("tomorrow")), "starts_at"),
        (ok("ends_at", Value::from(rfc3339_in(30_000))), "ends_at"),
        (ok("components", serde_json::json!([])), "components"),
        (ok("components", serde_json::json!(["host.disk", "mainframe"])), "components"),
    ];
    for (body, field) in cases {
        let (code, err) = schedule(&server, body.clone()).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {err}");
        assert_eq!(err["field"], field, "{err}");
    }
    let (_, err) = schedule(&server, ok("components", serde_json::json!(["mainframe"]))).await;
    assert!(err["error"].as_str().unwrap().contains("unknown components: mainframe"), "{err}");
    let res =
        reqwest::Client::new().post(server.url("/api/v1/maintenance")).json(&ok("title", Value::from("y"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let listed: Value = reqwest::get(server.url("/api/v1/maintenance")).await.unwrap().json().await.unwrap();
    assert!(listed["maintenance"].as_array().unwrap().is_empty(), "nothing was stored");
}

#[tokio::test]
async fn the_maintenance_cli_schedules_lists_and_cancels() {
    let server = Server::start(&[]).await;
    let cli = |args: &[&str], token: Option<&str>| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast"));
        cmd.arg("maintenance").args(args).arg("--url").arg(&server.base).env_remove("STATUSCAST_ADMIN_TOKEN");
        if let Some(t) = token {
            cmd.env("STATUSCAST_ADMIN_TOKEN", t);
        }
        async move { cmd.output().await.unwrap() }
    };
    let (starts, ends) = (rfc3339_in(3_600_000), rfc3339_in(7_200_000));
    let out =
        cli(&["add", "--title", "Kernel update", "--starts", &starts, "--ends", &ends, "--component", "host.load"], Some(TOKEN))
            .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("scheduled #1: Kernel update"));
    let out = cli(&["list"], None).await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("#1 scheduled: Kernel update"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = cli(&["add", "--title", "x", "--starts", "soon", "--ends", &ends, "--component", "host.load"], Some(TOKEN)).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("starts_at: \"soon\" is not a time"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&["cancel", "1"], None).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("STATUSCAST_ADMIN_TOKEN"));
    let out = cli(&["cancel", "1"], Some(TOKEN)).await;
    assert!(out.status.success());
    let out = cli(&["list"], None).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("no maintenance scheduled"));
}

#[tokio::test]
async fn a_database_file_deleted_under_the_server_fails_writes_loudly_and_readiness() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    assert_eq!(reqwest::get(server.url("/readyz")).await.unwrap().status(), StatusCode::OK);
    let (code, _) = common::post_json(
        &server,
        "/api/v1/incidents",
        serde_json::json!({"title": "Before", "impact": "minor", "message": "x"}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);

    std::fs::remove_file(dir.path().join("statuscast.db")).unwrap();
    let (code, body) =
        common::post_json(&server, "/api/v1/incidents", serde_json::json!({"title": "Lost", "impact": "minor", "message": "y"}))
            .await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "a write into a deleted file is refused, not acknowledged: {body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("the database is unavailable"), "{error}");
    assert!(!error.contains(dir.path().to_str().unwrap()), "no internal paths for clients: {error}");
    let res = server.set_override("major_outage", "lost").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "readiness reflects the storage");
    assert_eq!(reqwest::get(server.url("/healthz")).await.unwrap().status(), StatusCode::OK, "the process still serves");
    assert_eq!(reqwest::get(server.url("/")).await.unwrap().status(), StatusCode::OK, "pages go on");
}

#[tokio::test]
async fn operator_text_cannot_reorder_what_viewers_read() {
    let server = Server::start(&[]).await;
    let (code, body) = common::post_json(
        &server,
        "/api/v1/incidents",
        serde_json::json!({"title": "All fine \u{202E}egatuo rojam", "impact": "minor", "message": "x"}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "title");
    assert!(body["error"].as_str().unwrap().contains("U+202E"), "{body}");
    let list: Value = reqwest::get(server.url("/api/v1/incidents")).await.unwrap().json().await.unwrap();
    assert!(list["incidents"].as_array().unwrap().is_empty(), "nothing stored");
}

#[tokio::test]
async fn metrics_can_be_restricted_to_a_token() {
    let metrics_token = "metrics-token-0123456789";
    let server = Server::start(&["--metrics-token", metrics_token]).await;
    let anonymous = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let operator = reqwest::Client::new().get(server.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(operator.status(), StatusCode::UNAUTHORIZED, "only the metrics token");
    let scraper = reqwest::Client::new().get(server.url("/metrics")).bearer_auth(metrics_token).send().await.unwrap();
    assert_eq!(scraper.status(), StatusCode::OK);
    assert!(scraper.text().await.unwrap().contains("statuscast_sse_streams "));
    let open = Server::start(&[]).await;
    assert_eq!(reqwest::get(open.url("/metrics")).await.unwrap().status(), StatusCode::OK, "public without one");
}

/// Writes `head` (and `body`) on a raw connection and reads what comes back within `wait`:
/// the answer, and whether the server closed the connection after it.
async fn raw_exchange(server: &Server, head: String, body: &[u8], wait: std::time::Duration) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into(), false),
        }
    }
}

#[tokio::test]
async fn operator_bodies_are_checked_by_their_head_bounded_and_timed() {
    let server = Server::start(&["--body-timeout", "1s"]).await;
    let started = std::time::Instant::now();
    // No token: refused from the head, the 1.99 MB body never read.
    let head = "POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1990000\r\n\r\n";
    let (answer, _) = raw_exchange(&server, head.into(), b"", std::time::Duration::from_millis(800)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "refused before the body: {answer:?}");
    assert!(started.elapsed() < std::time::Duration::from_millis(800));
    // A token and a body that stops half way: refused when the body timeout passes, and the
    // connection closed, so a stalled body holds nothing.
    let head = format!(
        "POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    let stalled = std::time::Instant::now();
    let (answer, closed) = raw_exchange(&server, head, b"{\"title\":", std::time::Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer:?}");
    assert!(closed, "the connection is closed after a stalled body");
    let waited = stalled.elapsed();
    assert!(waited >= std::time::Duration::from_millis(900) && waited < std::time::Duration::from_secs(3), "{waited:?}");
    // A body over the JSON API's limit: 413.
    let big = vec![b' '; 70 * 1024];
    let head = format!(
        "POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        big.len()
    );
    let (answer, _) = raw_exchange(&server, head, &big, std::time::Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    let list: Value = reqwest::get(server.url("/api/v1/incidents")).await.unwrap().json().await.unwrap();
    assert!(list["incidents"].as_array().unwrap().is_empty(), "nothing stored");
}

#[tokio::test]
async fn every_response_carries_security_headers_and_pages_a_policy_naming_their_nonce() {
    let server = Server::start(&[]).await;
    let page = reqwest::get(server.url("/")).await.unwrap();
    let h = page.headers().clone();
    let html = page.text().await.unwrap();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    let policy = h["content-security-policy"].to_str().unwrap().to_string();
    let nonce = policy.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce in the policy").to_string();
    assert!(nonce.len() >= 16, "{policy}");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"), "{policy}");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the page's scripts carry the policy's nonce");
    // Each render draws its own nonce (a cached page shares its render's for that second; a
    // query renders afresh, see tests/render_cache.rs).
    let again = reqwest::get(server.url("/?again")).await.unwrap();
    assert!(!again.headers()["content-security-policy"].to_str().unwrap().contains(&nonce), "a fresh nonce per render");
    // The 404 page is a page too; JSON gets the strict default.
    let missing = reqwest::get(server.url("/no/such/page")).await.unwrap();
    assert!(missing.headers()["content-security-policy"].to_str().unwrap().contains("'nonce-"));
    let json = reqwest::get(server.url("/api/v1/status")).await.unwrap();
    assert_eq!(json.headers()["x-content-type-options"], "nosniff");
    assert!(json.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
    assert!(json.headers().get("strict-transport-security").is_none(), "not over plain HTTP");
    let https = reqwest::Client::new().get(server.url("/healthz")).header("X-Forwarded-Proto", "https").send().await.unwrap();
    assert!(https.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
}

#[tokio::test]
async fn an_overlong_path_is_a_quiet_404() {
    // Its own process, to read what it logs.
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", dir.path().to_str().unwrap(), "--config"])
        .arg(dir.path().join("none.toml"))
        .arg("--leptos-config")
        .arg(common::leptos_toml())
        .args(common::STEADY_HOST)
        .env("STATUSCAST_LOG", "warn")
        .env_remove("STATUSCAST_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = out.next_line().await.unwrap().unwrap().strip_prefix("listening on ").unwrap().to_string();
    for path in [format!("/{}", "a".repeat(5000)), format!("/pkg/{}.js", "b".repeat(300)), format!("/x/{}", "c/".repeat(1500))] {
        let res = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.text().await.unwrap().contains("Page not found"), "the 404 page");
    }
    child.start_kill().unwrap();
    let mut logged = String::new();
    let mut err = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    while let Ok(Ok(Some(line))) = tokio::time::timeout(std::time::Duration::from_secs(2), err.next_line()).await {
        logged.push_str(&line);
        logged.push('\n');
    }
    assert!(!logged.contains("ERROR") && !logged.contains("too long"), "logged: {logged}");
}
