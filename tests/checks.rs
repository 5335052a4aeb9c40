//! Checks from statuscast.toml against real local peers: an HTTP fixture server, a TCP
//! listener and a closed port, real commands, and heartbeats.

mod common;

use axum::extract::State;
use axum::routing::get;
use common::{eventually, Server, TOKEN};
use serde_json::Value;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// An HTTP server to check: fixed answers, a slow one, and one whose status the test sets.
async fn fixture() -> (String, Arc<AtomicU16>) {
    let flip = Arc::new(AtomicU16::new(200));
    let app = axum::Router::new()
        .route("/ok", get(|| async { "all good: ok" }))
        .route("/error", get(|| async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down") }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "ok, eventually"
            }),
        )
        .route(
            "/flip",
            get(|State(flip): State<Arc<AtomicU16>>| async move {
                (axum::http::StatusCode::from_u16(flip.load(Ordering::SeqCst)).unwrap(), "flip")
            }),
        )
        .with_state(flip.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), flip)
}

async fn components(server: &Server) -> Vec<Value> {
    let s: Value = reqwest::get(server.url("/api/v1/status")).await.unwrap().json().await.unwrap();
    s["components"].as_array().cloned().unwrap_or_default()
}

async fn component(server: &Server, id: &str) -> Value {
    components(server).await.into_iter().find(|c| c["id"] == id).unwrap_or(Value::Null)
}

/// Waits until component `id` has `level` and a reason containing `needle`.
async fn expect(server: &Server, id: &str, level: &str, needle: &str) {
    let ok = eventually(WAIT, || async {
        let c = component(server, id).await;
        c["level"] == level && c["reason"].as_str().is_some_and(|r| r.contains(needle))
    })
    .await;
    assert!(ok, "{id}: wanted {level} with {needle:?}, got {}", component(server, id).await);
}

fn write_config(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("statuscast.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn http_tcp_and_command_checks_decide_component_levels() {
    let (base, _) = fixture().await;
    let live = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            r#"
[[component]]
id = "web-ok"
name = "Web OK"
group = "Web"
[[component.check]]
kind = "http"
url = "{base}/ok"
interval = "200ms"
timeout = "150ms"
body_contains = "ok"

[[component]]
id = "web-503"
name = "Web 503"
group = "Web"
[[component.check]]
kind = "http"
url = "{base}/error"
interval = "200ms"
timeout = "150ms"

[[component]]
id = "web-slow"
name = "Web slow"
group = "Web"
[[component.check]]
kind = "http"
url = "{base}/slow"
interval = "1s"
timeout = "900ms"
slow = "100ms"

[[component]]
id = "web-body"
name = "Web body"
[[component.check]]
kind = "http"
url = "{base}/ok"
interval = "200ms"
timeout = "150ms"
body_regex = "^nothing like this$"

[[component]]
id = "web-timeout"
name = "Web timeout"
[[component.check]]
kind = "http"
url = "{base}/slow"
interval = "200ms"
timeout = "100ms"

[[component]]
id = "tcp-up"
name = "TCP up"
[[component.check]]
kind = "tcp"
address = "{live}"
interval = "200ms"
timeout = "150ms"

[[component]]
id = "tcp-down"
name = "TCP down"
[[component.check]]
kind = "tcp"
address = "{closed}"
interval = "200ms"
timeout = "150ms"
failure_level = "partial_outage"
"#,
            live = live.local_addr().unwrap()
        ),
    );
    let server = Server::start(&["--config", &config, "--detail-refresh", "100ms"]).await;
    expect(&server, "web-ok", "operational", "HTTP 200 in").await;
    expect(&server, "web-503", "major_outage", "HTTP 503 in").await;
    expect(&server, "web-slow", "degraded_performance", "slower than 100 ms").await;
    expect(&server, "web-body", "major_outage", "body does not match").await;
    expect(&server, "web-timeout", "major_outage", "timed out after 100 ms").await;
    expect(&server, "tcp-up", "operational", "connected in").await;
    expect(&server, "tcp-down", "partial_outage", "connection refused").await;
    let c = component(&server, "web-ok").await;
    assert!(c["latency_ms"].is_number() && c["checked_at_ms"].as_i64().unwrap() > 0, "{c}");
    let s: Value = reqwest::get(server.url("/api/v1/status")).await.unwrap().json().await.unwrap();
    assert_eq!(s["level"], "major_outage");

    // The page shows the reasons.
    let html = reqwest::get(server.url("/")).await.unwrap().text().await.unwrap();
    assert!(html.contains("HTTP 503 in") && html.contains("connection refused") && html.contains(">Web<"), "{html}");
}

#[tokio::test]
async fn command_checks_follow_the_nagios_convention() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (id, script) in [
        ("ok", "echo 'DISK OK - 40% free|/=60%;80;90'; exit 0"),
        ("warning", "echo 'DISK WARNING - 15% free'; exit 1"),
        ("critical", "echo 'DISK CRITICAL - 2% free'; exit 2"),
        ("unknown", "echo 'cannot stat /data'; exit 3"),
        ("hang", "sleep 10"),
    ] {
        text += &format!(
            "[[component]]\nid = \"{id}\"\nname = \"{id}\"\n[[component.check]]\nkind = \"command\"\ncommand = [\"/bin/sh\", \"-c\", \"{script}\"]\ninterval = \"300ms\"\ntimeout = \"200ms\"\n\n"
        );
    }
    text += "[[component]]\nid = \"missing\"\nname = \"missing\"\n[[component.check]]\nkind = \"command\"\ncommand = [\"/no/such/program\"]\ninterval = \"300ms\"\ntimeout = \"200ms\"\n";
    let config = write_config(dir.path(), &text);
    let server = Server::start(&["--config", &config, "--detail-refresh", "100ms"]).await;
    expect(&server, "ok", "operational", "DISK OK - 40% free").await;
    let ok = component(&server, "ok").await;
    assert!(!ok["reason"].as_str().unwrap().contains('|'), "performance data is left out: {ok}");
    expect(&server, "warning", "degraded_performance", "warning: DISK WARNING").await;
    expect(&server, "critical", "major_outage", "critical: DISK CRITICAL - 2% free").await;
    expect(&server, "unknown", "degraded_performance", "unknown: cannot stat /data").await;
    expect(&server, "hang", "major_outage", "timed out after 200 ms").await;
    expect(&server, "missing", "major_outage", "cannot run /no/such/program").await;
}

#[tokio::test]
async fn damping_holds_a_level_until_results_repeat() {
    let (base, flip) = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[component]]\nid = \"flappy\"\nname = \"Flappy\"\n[[component.check]]\nkind = \"http\"\nurl = \"{base}/flip\"\ninterval = \"100ms\"\ntimeout = \"90ms\"\njitter = \"1ms\"\nfailure_threshold = 4\nsuccess_threshold = 3\n"
        ),
    );
    let server = Server::start(&["--config", &config, "--detail-refresh", "50ms"]).await;
    expect(&server, "flappy", "operational", "HTTP 200").await;
    flip.store(500, Ordering::SeqCst);
    // Three failures (~300 ms) are not enough; the fourth is.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(component(&server, "flappy").await["level"], "operational");
    expect(&server, "flappy", "major_outage", "HTTP 500").await;
    flip.store(200, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(component(&server, "flappy").await["level"], "major_outage", "one success is not recovery");
    expect(&server, "flappy", "operational", "HTTP 200").await;
}

#[tokio::test]
async fn heartbeats_keep_a_component_up_and_their_absence_takes_it_down() {
    let dir = tempfile::tempdir().unwrap();
    let beat_token = "job-token-0123456789abcdef";
    let config = write_config(
        dir.path(),
        &format!("[[component]]\nid = \"backup\"\nname = \"Backup\"\n[[component.check]]\nkind = \"heartbeat\"\nperiod = \"600ms\"\ntoken = \"{beat_token}\"\n"),
    );
    let server = Server::start(&["--config", &config, "--detail-refresh", "50ms"]).await;
    expect(&server, "backup", "operational", "waiting for the first beat").await;
    let client = reqwest::Client::new();
    let beat = |token: &'static str, id: &'static str| {
        client.post(server.url(&format!("/api/v1/heartbeat/{id}"))).bearer_auth(token).send()
    };
    for _ in 0..4 {
        assert_eq!(beat(beat_token, "backup").await.unwrap().status(), 200);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    expect(&server, "backup", "operational", "last beat").await;
    assert_eq!(beat(TOKEN, "backup").await.unwrap().status(), 401, "the operator token is not the job's");
    // Which components take heartbeats is not told: an unknown one answers as a wrong token does.
    let unknown = beat(beat_token, "nothing").await.unwrap();
    assert_eq!(unknown.status(), 401);
    let wrong = beat(TOKEN, "backup").await.unwrap();
    assert_eq!(unknown.text().await.unwrap(), wrong.text().await.unwrap());
    expect(&server, "backup", "major_outage", "no beat for").await;
    assert_eq!(beat(beat_token, "backup").await.unwrap().status(), 200);
    expect(&server, "backup", "operational", "last beat").await;
}

#[tokio::test]
async fn check_config_reports_errors_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write_config(
        dir.path(),
        "[[component]]\nid = \"api\"\nname = \"API\"\n\n[[component.check]]\nkind = \"tcp\"\naddress = \"127.0.0.1:1\"\ntimeout = \"soon\"\n",
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
        .args(["check-config", "--config", &bad])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("statuscast.toml:8:11: component[0].check[0].timeout: expected a duration"), "{err}");

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/statuscast.example.toml");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
        .args(["check-config", "--config", example])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: 5 components, 5 checks"));

    // serve refuses to start on a bad file, with the same message.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
        .args(["serve", "--addr", "127.0.0.1:0", "--config", &bad, "--data-dir"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("statuscast.toml:8:11"));
}

#[tokio::test]
async fn the_config_reloads_on_change_and_sighup_without_dropping_streams() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = |id: &str, msg: &str| {
        format!("[[component]]\nid = \"{id}\"\nname = \"{id}\"\n[[component.check]]\nkind = \"command\"\ncommand = [\"/bin/echo\", \"{msg}\"]\ninterval = \"200ms\"\ntimeout = \"150ms\"\n\n")
    };
    let config = write_config(dir.path(), &cmd("alpha", "alpha fine"));
    let server = Server::start(&["--config", &config, "--detail-refresh", "50ms"]).await;
    expect(&server, "alpha", "operational", "alpha fine").await;
    let mut sse = common::SseReader::new(common::connect(&server, "/connect_to_sse", &[]).await);
    sse.next_event(WAIT).await.unwrap();

    // A changed file is picked up by itself.
    std::fs::write(&config, cmd("beta", "beta fine")).unwrap();
    expect(&server, "beta", "operational", "beta fine").await;
    assert!(component(&server, "alpha").await.is_null(), "removed components leave the page");
    let mut saw_beta = false;
    while let Some(e) = sse.next_event(Duration::from_secs(2)).await {
        if e.data.contains("\"beta\"") {
            saw_beta = true;
            break;
        }
    }
    assert!(saw_beta, "the same stream carried the new configuration");

    // An invalid file keeps the running configuration and is reported.
    std::fs::write(&config, "[[component]]\nid = \"gamma\"\n").unwrap();
    let refused = eventually(WAIT, || async {
        let m = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
        m.contains("statuscast_config_reload_errors_total 1")
    })
    .await;
    assert!(refused, "the bad file was noticed and refused");
    expect(&server, "beta", "operational", "beta fine").await;

    // SIGHUP reloads at once.
    std::fs::write(&config, cmd("delta", "delta fine")).unwrap();
    unsafe { libc::kill(server.pid(), libc::SIGHUP) };
    let start = std::time::Instant::now();
    expect(&server, "delta", "operational", "delta fine").await;
    println!("SIGHUP to new configuration shown: {:?}", start.elapsed());
    assert_eq!(server.open_streams().await, 1, "the stream stayed connected throughout");
}

/// `openssl s_server -www` with a fresh self-signed certificate valid for `days`.
async fn tls_peer(dir: &std::path::Path, days: u32) -> (tokio::process::Child, u16) {
    let (key, cert) = (dir.join(format!("k{days}.pem")), dir.join(format!("c{days}.pem")));
    let ok = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", &days.to_string(), "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept", &format!("127.0.0.1:{port}"), "-cert"])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    assert!(eventually(WAIT, || async { tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() }).await);
    (child, port)
}

#[tokio::test]
async fn a_certificate_expiring_soon_is_degraded() {
    let dir = tempfile::tempdir().unwrap();
    let (_soon, soon_port) = tls_peer(dir.path(), 3).await;
    let (_later, later_port) = tls_peer(dir.path(), 365).await;
    let check = |id: &str, port: u16, verify: bool| {
        format!("[[component]]\nid = \"{id}\"\nname = \"{id}\"\n[[component.check]]\nkind = \"http\"\nurl = \"https://127.0.0.1:{port}/\"\ninterval = \"300ms\"\ntimeout = \"250ms\"\ntls_expiry_days = 14\ntls_verify = {verify}\n\n")
    };
    let config = write_config(
        dir.path(),
        &(check("soon", soon_port, false) + &check("later", later_port, false) + &check("verified", later_port, true)),
    );
    let server = Server::start(&["--config", &config, "--detail-refresh", "100ms"]).await;
    expect(&server, "soon", "degraded_performance", "certificate expires in 2 days").await;
    expect(&server, "later", "operational", "HTTP 200 in").await;
    // A self-signed certificate fails verification when it is asked for.
    expect(&server, "verified", "major_outage", "certificate").await;
}

#[tokio::test]
async fn check_results_are_kept_as_history_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[[component]]\nid = \"job\"\nname = \"Job\"\n[[component.check]]\nkind = \"command\"\ncommand = [\"/bin/sh\", \"-c\", \"echo fine\"]\ninterval = \"100ms\"\ntimeout = \"90ms\"\njitter = \"1ms\"\n",
    );
    let data = dir.path().join("data");
    let args = ["--config", config.as_str(), "--detail-refresh", "100ms"];
    let mut server = Server::start_in(&data, "127.0.0.1:0", Some(TOKEN), &args).await;
    let minutes = |server: &Server| {
        let url = server.url("/api/v1/history/job?span=minute&days=1");
        async move { reqwest::get(url).await.unwrap().json::<Value>().await.unwrap() }
    };
    let recorded = eventually(WAIT, || async {
        let h = minutes(&server).await;
        h["buckets"].as_array().is_some_and(|b| b.iter().map(|x| x["samples"].as_i64().unwrap()).sum::<i64>() >= 5)
    })
    .await;
    assert!(recorded, "{}", minutes(&server).await);
    let before: i64 = minutes(&server).await["buckets"].as_array().unwrap().iter().map(|x| x["samples"].as_i64().unwrap()).sum();
    server.terminate().await;

    let server = Server::start_in(&data, "127.0.0.1:0", Some(TOKEN), &args).await;
    let h = minutes(&server).await;
    let after: i64 = h["buckets"].as_array().unwrap().iter().map(|x| x["samples"].as_i64().unwrap()).sum();
    assert!(after >= before, "history kept across the restart: {before} then {after}");
    let b = &h["buckets"][0];
    assert_eq!(b["worst_level"], "operational");
    assert!(b["operational"].as_i64().unwrap() > 0);
    let days: Value = reqwest::get(server.url("/api/v1/history/job")).await.unwrap().json().await.unwrap();
    assert_eq!(days["span"], "day");
    assert_eq!(days["buckets"].as_array().unwrap().len(), 1);
    assert_eq!(reqwest::get(server.url("/api/v1/history/job?span=week")).await.unwrap().status(), 400);
    assert_eq!(reqwest::get(server.url("/api/v1/history/job?days=0")).await.unwrap().status(), 400);
    assert_eq!(reqwest::get(server.url("/api/v1/history/nope")).await.unwrap().status(), 404);
}

#[tokio::test]
async fn failures_during_a_maintenance_window_are_not_downtime() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[[component]]\nid = \"db\"\nname = \"Database\"\n[[component.check]]\nkind = \"command\"\ncommand = [\"/bin/sh\", \"-c\", \"echo down; exit 2\"]\ninterval = \"100ms\"\ntimeout = \"90ms\"\njitter = \"1ms\"\n",
    );
    let server = Server::start(&["--config", &config, "--detail-refresh", "100ms"]).await;
    expect(&server, "db", "major_outage", "critical: down").await;
    let res = reqwest::Client::new()
        .post(server.url("/api/v1/maintenance"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "title": "Failover", "starts_at": common::rfc3339_in(-1000), "ends_at": common::rfc3339_in(3_600_000), "components": ["db"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    expect(&server, "db", "under_maintenance", "Failover").await;
    // Totals over the day's minutes: (samples, operational).
    let totals = || async {
        let h: Value = reqwest::get(server.url("/api/v1/history/db?span=minute&days=1")).await.unwrap().json().await.unwrap();
        let b = h["buckets"].as_array().unwrap().clone();
        (
            b.iter().map(|x| x["samples"].as_i64().unwrap()).sum::<i64>(),
            b.iter().map(|x| x["operational"].as_i64().unwrap()).sum::<i64>(),
        )
    };
    tokio::time::sleep(Duration::from_millis(600)).await; // results from before the window are written
    let (s0, o0) = totals().await;
    assert!(s0 > o0, "failures before the window count as down");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (s1, o1) = totals().await;
    assert!(s1 - s0 >= 5, "checks kept running: {s0} → {s1}");
    assert_eq!(o1 - o0, s1 - s0, "every failure inside the window counted as maintenance, not downtime");
}

#[tokio::test]
async fn a_failing_checks_public_reason_never_shows_its_secrets() {
    // A peer that answers HTTP with garbage: the HTTP client's error names the URL it asked.
    let peer = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = peer.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = peer.accept().await else { return };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"NONSENSE\r\n\r\n").await;
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            r#"
[[component]]
id = "api"
name = "API"
[[component.check]]
kind = "http"
url = "http://monitor:pa55word-x@127.0.0.1:{port}/health?api_key=QUERYSECRET42&verbose=1"
headers = {{ Authorization = "Bearer HEADERSECRET99" }}
interval = "300ms"
timeout = "250ms"
"#
        ),
    );
    let server = Server::start(&["--config", &config]).await;
    expect(&server, "api", "major_outage", &format!("127.0.0.1:{port}/health")).await;
    let reason = component(&server, "api").await["reason"].as_str().unwrap().to_string();
    let page = reqwest::get(server.url("/")).await.unwrap().text().await.unwrap();
    for secret in ["QUERYSECRET42", "pa55word-x", "monitor:", "HEADERSECRET99", "api_key"] {
        assert!(!reason.contains(secret), "{secret} in the public reason {reason:?}");
        assert!(!page.contains(secret), "{secret} on the page");
    }
    println!("public reason: {reason}");
}
