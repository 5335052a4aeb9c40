//! Descriptor limits under attack: real connections against a real server whose open-file
//! limit is lowered to a few hundred, so every limit is reached in a second.

mod common;

use common::Server;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "a password of twelve or more";

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(&server.addr).await.unwrap()
}

/// Connections that send nothing at all.
async fn idle(server: &Server, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(connect(server).await);
    }
    held
}

/// Connections that send a login form's head and the start of its body, then stall.
async fn stalled_bodies(server: &Server, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = connect(server).await;
        s.write_all(
            b"POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nsecret=",
        )
        .await
        .unwrap();
        held.push(s);
    }
    held
}

/// Reads from `s` until `want` is in what arrived, the peer closes, or `wait` passes.
async fn read_until(s: &mut TcpStream, want: &str, wait: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    while !String::from_utf8_lossy(&got).contains(want) {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    (String::from_utf8_lossy(&got).into(), false)
}

/// Streams, each open once its first event has arrived.
async fn streams(server: &Server, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = connect(server).await;
        s.write_all(b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let (text, _) = read_until(&mut s, "event: status", Duration::from_secs(5)).await;
        assert!(text.contains("event: status"), "stream {i} of {n} opened: {text}");
        held.push(s);
    }
    held
}

/// The time a fresh connection takes to get `path` answered 200, or None (not within 2 s).
async fn answered(server: &Server, path: &str) -> Option<Duration> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(2)).build().unwrap();
    let started = Instant::now();
    let res = client.get(server.url(path)).send().await.ok()?;
    (res.status() == 200 && res.bytes().await.is_ok()).then(|| started.elapsed())
}

async fn metric(server: &Server, name: &str) -> u64 {
    let text = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    let line = text.lines().find(|l| l.split(' ').next() == Some(name)).unwrap_or_else(|| panic!("{name} in {text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn idle_connections_and_stalled_bodies_cannot_keep_pages_and_the_api_from_answering() {
    // 512 descriptors: a pool of 64 connections that are not streams.
    let server = Server::start_with_open_files(512, &["--admin-password", PASSWORD]).await;
    // Six times the pool, half stalling a form body (each would have held its descriptor
    // for the body timeout), half sending nothing.
    let _stalled = stalled_bodies(&server, 200).await;
    let _idle = idle(&server, 200).await;
    for round in 0..5 {
        for path in ["/healthz", "/", "/api/v1/status"] {
            let took = answered(&server, path).await.unwrap_or_else(|| panic!("round {round}: {path} not answered within 2 s"));
            assert!(took < Duration::from_secs(1), "round {round}: {path} took {took:?}");
        }
        let res = server.set_override("degraded_performance", &format!("round {round}")).await;
        assert!(res.status().is_success(), "the operator API answers too: {}", res.status());
        // The attackers keep coming: every new one takes the place of the longest idle.
        let _more = idle(&server, 100).await;
    }
    assert!(metric(&server, "statuscast_connections").await <= 64);
    assert!(metric(&server, "statuscast_connections_evicted_total").await >= 400 - 64);
}

#[tokio::test]
async fn at_the_stream_limit_pages_still_answer_and_further_streams_are_refused_at_once() {
    // 512 descriptors: 320 streams, 64 other connections, 128 kept by the process.
    let server = Server::start_with_open_files(512, &[]).await;
    let _streams = streams(&server, 320).await;
    assert_eq!(metric(&server, "statuscast_sse_streams").await, 320);
    let _idle = idle(&server, 300).await;
    for path in ["/healthz", "/", "/api/v1/status"] {
        let took = answered(&server, path).await.unwrap_or_else(|| panic!("{path} not answered within 2 s"));
        assert!(took < Duration::from_secs(1), "{path} took {took:?}");
    }
    // One stream more: told to retry later and closed at once, not held.
    let started = Instant::now();
    let mut s = connect(&server).await;
    s.write_all(b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (text, closed) = read_until(&mut s, "\u{0}", Duration::from_secs(2)).await;
    assert!(closed && started.elapsed() < Duration::from_secs(1), "shed at once: {text}");
    assert!(text.starts_with("HTTP/1.1 200") && text.contains("retry:") && !text.contains("event: status"), "{text}");
    assert_eq!(metric(&server, "statuscast_sse_streams").await, 320);
}

#[tokio::test]
async fn out_of_descriptors_a_connection_is_refused_at_once_and_service_resumes_when_they_free() {
    // Limits set above what 400 descriptors allow, so the process itself runs out.
    let server = Server::start_with_open_files(400, &["--max-streams", "5000", "--max-connections", "5000"]).await;
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..450 {
        let mut s = connect(&server).await;
        s.write_all(b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let (text, closed) = read_until(&mut s, "event: status", Duration::from_secs(2)).await;
        if text.contains("event: status") {
            held.push(s);
        } else {
            assert!(closed, "refused at once, not left hanging: {text:?}");
            refused += 1;
        }
    }
    assert!(held.len() > 300 && refused > 0, "{} streams, {refused} refused", held.len());
    drop(held);
    let freed = Instant::now();
    let healthy = common::eventually(Duration::from_secs(5), || async { answered(&server, "/healthz").await.is_some() }).await;
    assert!(healthy && freed.elapsed() < Duration::from_secs(2), "answering {:?} after the streams left", freed.elapsed());
}
