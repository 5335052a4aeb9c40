//! HTTPS and HTTP/2 against a real server: certificates made with `openssl` here, pages and
//! streams over HTTP/2 (ALPN) and HTTP/1.1 over TLS, h2c with prior knowledge on the plain
//! port, a renewed certificate picked up on SIGHUP, and unusable files refused at start with
//! the file named.

mod common;

use common::{Event, Server, SseReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Pair {
    cert: PathBuf,
    key: PathBuf,
}

impl Pair {
    /// A self-signed certificate for localhost and 127.0.0.1.
    fn new(dir: &Path, name: &str) -> Pair {
        let pair = Pair { cert: dir.join(format!("{name}.crt")), key: dir.join(format!("{name}.key")) };
        let out = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
            .args(["-subj", &format!("/CN={name}"), "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            // A server certificate, not a CA (which rustls refuses as an end entity).
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&pair.key)
            .arg("-out")
            .arg(&pair.cert)
            .output()
            .expect("openssl runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        pair
    }

    fn client(&self) -> reqwest::ClientBuilder {
        let pem = std::fs::read(&self.cert).unwrap();
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .use_rustls_tls()
    }
}

async fn start_https(pair: &Pair) -> Server {
    Server::start(&["--tls-cert", pair.cert.to_str().unwrap(), "--tls-key", pair.key.to_str().unwrap()]).await
}

/// Reads events from a stream response until `until` says stop (each within 10 s).
async fn read_events(res: reqwest::Response, until: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let mut reader = SseReader::new(res);
    let mut events = Vec::new();
    while !until(&events) {
        events.push(reader.next_event(Duration::from_secs(10)).await.expect("an event in time"));
    }
    events
}

#[tokio::test]
async fn pages_and_streams_share_one_http2_connection_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let pair = Pair::new(dir.path(), "localhost");
    let server = start_https(&pair).await;
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let client = pair.client().build().unwrap();
    let page = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.version(), reqwest::Version::HTTP_2);
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("id=\"system-status\""));
    // Three streams on the client's one connection, each served in place (not sent away).
    let mut streams = Vec::new();
    for _ in 0..3 {
        let res = client.get(server.url("/connect_to_sse")).send().await.unwrap();
        assert_eq!(res.version(), reqwest::Version::HTTP_2);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        streams.push(res);
    }
    let metrics = client.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("statuscast_sse_streams 3"), "{metrics}");
    let changed = client
        .post(server.url("/api/v1/status"))
        .bearer_auth(common::TOKEN)
        .json(&serde_json::json!({ "level": "major_outage", "message": "over h2" }))
        .send()
        .await
        .unwrap();
    let version = changed.json::<serde_json::Value>().await.unwrap()["version"].as_u64().unwrap().to_string();
    for res in streams {
        let events = read_events(res, |e| e.iter().any(|e| e.id.as_deref() == Some(&version))).await;
        assert!(events.last().unwrap().data.contains("over h2"));
    }
}

#[tokio::test]
async fn http1_over_tls_serves_the_stream_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let pair = Pair::new(dir.path(), "localhost");
    let server = start_https(&pair).await;
    let client = pair.client().http1_only().build().unwrap();
    let page = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.version(), reqwest::Version::HTTP_11);
    page.bytes().await.unwrap();
    // The same keep-alive connection: over TLS a stream is not sent to a connection of its own.
    let res = client.get(server.url("/connect_to_sse")).send().await.unwrap();
    let version = server_version(&client, &server).await.to_string();
    let events = read_events(res, |e| !e.is_empty()).await;
    assert_eq!(events[0].id.as_deref(), Some(version.as_str()));
}

async fn server_version(client: &reqwest::Client, server: &Server) -> u64 {
    let v: serde_json::Value = client.get(server.url("/api/v1/status")).send().await.unwrap().json().await.unwrap();
    v["version"].as_u64().unwrap()
}

#[tokio::test]
async fn h2c_with_prior_knowledge_on_the_plain_port() {
    let server = Server::start(&[]).await;
    let client = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let page = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.version(), reqwest::Version::HTTP_2);
    assert!(page.text().await.unwrap().contains("id=\"system-status\""));
    let res = client.get(server.url("/connect_to_sse")).send().await.unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    let events = read_events(res, |e| !e.is_empty()).await;
    assert!(events[0].data.contains("\"version\""));
    // Plain HTTP/1.1 is served beside it as before.
    assert_eq!(reqwest::get(server.url("/healthz")).await.unwrap().version(), reqwest::Version::HTTP_11);
}

#[tokio::test]
async fn a_renewed_certificate_is_used_after_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let old = Pair::new(dir.path(), "old");
    let new = Pair::new(dir.path(), "new");
    let live = Pair { cert: dir.path().join("live.crt"), key: dir.path().join("live.key") };
    std::fs::copy(&old.cert, &live.cert).unwrap();
    std::fs::copy(&old.key, &live.key).unwrap();
    let server = start_https(&live).await;
    let trusts_new = || new.client().pool_max_idle_per_host(0).build().unwrap();
    assert!(trusts_new().get(server.url("/healthz")).send().await.is_err(), "the new certificate is not served yet");
    // A broken renewal is refused, and the old certificate stays.
    std::fs::write(&live.cert, "not a certificate").unwrap();
    unsafe { libc::kill(server.pid(), libc::SIGHUP) };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let trusts_old = old.client().pool_max_idle_per_host(0).build().unwrap();
    assert_eq!(trusts_old.get(server.url("/healthz")).send().await.unwrap().status(), 200);
    // The real renewal.
    std::fs::copy(&new.key, &live.key).unwrap();
    std::fs::copy(&new.cert, &live.cert).unwrap();
    unsafe { libc::kill(server.pid(), libc::SIGHUP) };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match trusts_new().get(server.url("/healthz")).send().await {
            Ok(res) => {
                assert_eq!(res.status(), 200);
                break;
            }
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("the renewed certificate was not served within 5 s: {e}"),
        }
    }
    assert!(trusts_old.get(server.url("/healthz")).send().await.is_err(), "the old certificate is gone");
}

#[test]
fn unusable_certificate_files_stop_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pair = Pair::new(dir.path(), "localhost");
    let missing = dir.path().join("missing.key");
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .arg("--leptos-config")
            .arg(common::leptos_toml())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--tls-cert".as_ref(), pair.cert.as_os_str(), "--tls-key".as_ref(), missing.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("--tls-cert / --tls-key") && err.contains(&missing.display().to_string()), "{err}");
    // One without the other is a usage error.
    let out = run(&["--tls-cert".as_ref(), pair.cert.as_os_str()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
}
