//! statuscast on PostgreSQL, as real processes against a real (throwaway) PostgreSQL
//! server: the same product as on SQLite, a clear refusal to start without its database,
//! `statuscast copy` from SQLite, PostgreSQL stopped and started under a running server,
//! and SIGKILL in a stream of writes.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use statuscast::server::store::postgres::throwaway::Throwaway;
use std::time::Duration;

async fn get_json(server: &Server, path: &str) -> Value {
    reqwest::get(server.url(path)).await.unwrap().json().await.unwrap()
}

async fn metric(server: &Server, name: &str) -> u64 {
    let text = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    let prefix = format!("{name} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok()).unwrap_or_else(|| panic!("{name}"))
}

/// Waits until the component's first check results are in the history (written in batches).
async fn until_recorded(server: &Server, component: &str) {
    let path = format!("/api/v1/history/{component}?span=minute&days=1");
    let recorded = eventually(Duration::from_secs(10), || async {
        !get_json(server, &path).await["buckets"].as_array().unwrap().is_empty()
    });
    assert!(recorded.await, "{component}: no check results stored");
}

#[tokio::test]
async fn the_product_on_postgres_keeps_incidents_versions_and_history_across_a_restart() {
    let url = Throwaway::shared().database().await;
    let dir = tempfile::tempdir().unwrap();
    let args = ["--database-url", url.as_str()];
    let mut server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &args).await;
    let mut stream = SseReader::new(connect(&server, "/connect_to_sse", &[]).await);
    let first = stream.next_event(Duration::from_secs(5)).await.expect("the current snapshot");
    let (code, incident) = post_json(
        &server,
        "/api/v1/incidents",
        json!({ "title": "Database <slow>", "impact": "major", "message": "Looking into it & more." }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{incident}");
    let id = incident["id"].as_i64().unwrap();
    let pushed = stream.next_event(Duration::from_secs(5)).await.expect("the incident, pushed");
    assert!(pushed.data.contains("Database <slow>"), "{}", pushed.data);
    assert!(pushed.id.unwrap().parse::<u64>().unwrap() > first.id.unwrap().parse::<u64>().unwrap());
    let page = reqwest::get(server.url("/")).await.unwrap().text().await.unwrap();
    assert!(page.contains("Database &lt;slow&gt;"), "the page shows it, escaped");
    let (code, _) =
        post_json(&server, &format!("/api/v1/incidents/{id}/updates"), json!({ "status": "resolved", "message": "Fixed." }))
            .await;
    assert_eq!(code, StatusCode::OK);
    let version = server.version().await;
    until_recorded(&server, "host.disk").await;
    let history = get_json(&server, "/api/v1/history/host.disk?span=minute&days=1").await;
    server.terminate().await;

    let again = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &args).await;
    assert!(again.version().await > version, "versions keep rising across a restart");
    let stored = get_json(&again, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(stored["status"], "resolved");
    assert_eq!(stored["updates"].as_array().unwrap().len(), 2);
    let resolved = reqwest::get(again.url("/history")).await.unwrap().text().await.unwrap();
    assert!(resolved.contains("Database &lt;slow&gt;"), "on the incident history page");
    let samples = |h: &Value| h["buckets"].as_array().unwrap().iter().map(|b| b["samples"].as_i64().unwrap()).sum::<i64>();
    let before = samples(&history);
    let added = eventually(Duration::from_secs(10), || async {
        samples(&get_json(&again, "/api/v1/history/host.disk?span=minute&days=1").await) > before
    });
    assert!(added.await, "history kept, and the restart's first results added");
}

/// Runs `statuscast ARGS` to its end; its exit status and what it printed.
fn statuscast(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
        .args(args)
        .env_remove("STATUSCAST_DATABASE_URL")
        .env("STATUSCAST_LOG", "off")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (out.status, String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test]
async fn a_bad_or_unreachable_database_stops_the_start_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let leptos = leptos_toml();
    let serve = |url: &str| {
        let url = url.to_string();
        let leptos = leptos.to_str().unwrap().to_string();
        let data = data.to_string();
        std::thread::spawn(move || {
            statuscast(&[
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--data-dir",
                &data,
                "--leptos-config",
                &leptos,
                "--database-url",
                &url,
            ])
        })
        .join()
        .unwrap()
    };
    // Nothing listens on port 1.
    let started = std::time::Instant::now();
    let (status, _, err) = serve("postgres://statuscast:hunter2@127.0.0.1:1/status");
    assert!(!status.success());
    assert!(started.elapsed() < Duration::from_secs(15), "refused in {:?}", started.elapsed());
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("postgres://statuscast:***@127.0.0.1:1/status: cannot open the database"), "{err}");
    assert!(!err.contains("hunter2"), "the password is never printed: {err}");
    // A server that is there, a database that is not.
    let (status, _, err) = serve(&Throwaway::shared().url("no_such_database"));
    assert!(!status.success());
    assert!(err.contains("no_such_database") && err.contains("does not exist"), "{err}");
    // Not a database URL at all.
    let (status, _, err) = serve("mysql://root@db/status");
    assert!(!status.success());
    assert!(err.contains("--database-url") && err.contains("expected postgres://"), "{err}");
}

#[tokio::test]
async fn copy_moves_a_sqlite_deployment_to_postgres_and_it_serves_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &[]).await;
    let (_, a) =
        post_json(&sqlite, "/api/v1/incidents", json!({ "title": "Old <outage>", "impact": "critical", "message": "Down." }))
            .await;
    let a = a["id"].as_i64().unwrap();
    post_json(&sqlite, &format!("/api/v1/incidents/{a}/updates"), json!({ "status": "resolved", "message": "Up." })).await;
    post_json(&sqlite, "/api/v1/incidents", json!({ "title": "Slow API", "impact": "minor", "message": "Watching." })).await;
    let (code, _) = post_json(
        &sqlite,
        "/api/v1/maintenance",
        json!({ "title": "Disk swap", "starts_at": rfc3339_in(3_600_000), "ends_at": rfc3339_in(7_200_000), "components": ["host.disk"] }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    until_recorded(&sqlite, "host.disk").await;
    let paths = [
        "/api/v1/incidents?state=all".to_string(),
        format!("/api/v1/incidents/{a}"),
        "/api/v1/maintenance".to_string(),
        "/api/v1/history/host.disk?span=minute&days=1".to_string(),
        "/api/v1/history/host.memory?span=day".to_string(),
    ];
    let mut served = Vec::new();
    for p in &paths {
        served.push(get_json(&sqlite, p).await);
    }
    let version = sqlite.version().await;
    sqlite.terminate().await;

    let db = format!("sqlite://{}", dir.path().join("statuscast.db").display());
    let pg = Throwaway::shared().database().await;
    let (status, out, err) = statuscast(&["copy", "--from", &db, "--to", &pg]);
    assert!(status.success(), "{out}{err}");
    assert!(out.contains("incidents: 2 rows") && out.contains("maintenance: 1 rows"), "{out}");
    assert!(out.contains("copied ") && out.contains(" rows from sqlite://"), "{out}");
    let (status, _, err) = statuscast(&["copy", "--from", &db, "--to", &pg]);
    assert!(!status.success(), "a second copy into a full database is refused");
    assert!(err.contains("the target is not empty") && err.contains("--force"), "{err}");
    let (status, _, err) = statuscast(&["copy", "--from", "sqlite:///nowhere/statuscast.db", "--to", &pg]);
    assert!(!status.success() && err.contains("no such database file"), "{err}");

    // Served from PostgreSQL (the copy's target; the data directory only for the disk check).
    let other = tempfile::tempdir().unwrap();
    let postgres = Server::start_in(other.path(), "127.0.0.1:0", Some(TOKEN), &["--database-url", &pg]).await;
    assert!(postgres.version().await > version, "versions go on from the copied reservation");
    for (p, before) in paths.iter().zip(&served) {
        let mut now = get_json(&postgres, p).await;
        if p.contains("span=minute") {
            // The new server's first check results may have joined the last minute since.
            let n = before["buckets"].as_array().unwrap().len();
            now["buckets"].as_array_mut().unwrap().truncate(n);
            let last = |v: &Value| v["buckets"][n - 1]["start_ms"].clone();
            assert_eq!(last(&now), last(before));
            continue;
        }
        assert_eq!(&now, before, "{p} serves the same");
    }
}

#[tokio::test]
async fn postgres_stopped_and_started_under_a_running_server() {
    let cluster = Throwaway::start();
    let url = cluster.database().await;
    let dir = tempfile::tempdir().unwrap();
    // Host checks every second, so results keep arriving while the database is away.
    let args = ["--database-url", url.as_str(), "--host-interval", "1s"];
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &args).await;
    let mut stream = SseReader::new(connect(&server, "/connect_to_sse?", &[]).await);
    let current = stream.next_event(Duration::from_secs(5)).await.expect("the current snapshot");
    assert!(eventually(Duration::from_secs(5), || async { metric(&server, "statuscast_history_written_total").await > 0 }).await);

    cluster.stop();
    let down_at = statuscast::server::clock::now_ms();
    // Pages and the stream go on with the last snapshot.
    let page = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(&format!("data-version=\"{}\"", current.id.as_deref().unwrap())));
    let (code, body) =
        post_json(&server, "/api/v1/incidents", json!({ "title": "While down", "impact": "minor", "message": "x" })).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("the database is unavailable, nothing was stored"), "{body}");
    // An override that cannot be committed is refused, and never shown, not even for a moment.
    let refused = server.set_override("major_outage", "Everything is down").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let status = get_json(&server, "/api/v1/status").await;
    assert!(status["override"].is_null(), "{status}");
    let asked = std::time::Instant::now();
    assert_eq!(reqwest::get(server.url("/readyz")).await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(asked.elapsed() < Duration::from_millis(1500), "readiness answers promptly: {:?}", asked.elapsed());
    let history = reqwest::get(server.url("/api/v1/history/host.disk")).await.unwrap();
    assert_eq!(history.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(history.headers()["retry-after"], "5");
    assert!(
        eventually(Duration::from_secs(10), || async { metric(&server, "statuscast_history_pending").await >= 3 }).await,
        "check results are held while the database is away"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!stream.ends_within(Duration::from_millis(100)).await, "the stream stays open");

    cluster.resume();
    let up_at = statuscast::server::clock::now_ms();
    // The server reconnects by itself: writes work again, the held results are written.
    assert!(
        eventually(Duration::from_secs(15), || async {
            let (code, _) =
                post_json(&server, "/api/v1/incidents", json!({ "title": "Back", "impact": "minor", "message": "y" })).await;
            code == StatusCode::CREATED
        })
        .await
    );
    // The new incident reaches the open stream (after the snapshot the server publishes on
    // leading again, when that comes first); the refused override never does.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let pushed = stream.next_event(left).await.expect("the new incident reaches the open stream");
        assert!(!pushed.data.contains("Everything is down"), "the refused override was never pushed: {}", pushed.data);
        if pushed.data.contains("\"Back\"") {
            break;
        }
    }
    assert!(eventually(Duration::from_secs(10), || async { metric(&server, "statuscast_history_pending").await == 0 }).await);
    assert_eq!(metric(&server, "statuscast_history_dropped_total").await, 0);
    assert_eq!(reqwest::get(server.url("/readyz")).await.unwrap().status(), StatusCode::OK, "ready again");
    let incidents = get_json(&server, "/api/v1/incidents?state=active").await;
    let titles: Vec<&str> = incidents["incidents"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Back"], "the refused write stored nothing");
    // The results checked while the database was down are in the history.
    let minutes = get_json(&server, "/api/v1/history/host.disk?span=minute&days=1").await;
    let during: i64 = minutes["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["start_ms"].as_i64().unwrap() + 60_000 > down_at && b["start_ms"].as_i64().unwrap() <= up_at)
        .map(|b| b["samples"].as_i64().unwrap())
        .sum();
    assert!(during >= 3, "results from the outage are stored: {minutes}");
    println!("postgres away for {} ms: the server kept serving and wrote its held results after", up_at - down_at);
}

#[tokio::test]
async fn sigkill_during_incident_updates_on_postgres_loses_no_acknowledged_update() {
    let url = Throwaway::shared().database().await;
    sigkill_during_incident_updates("postgres", &["--database-url", &url]).await;
}
