//! `/connect_to_sse` against a real server: headers, framing, ids, Last-Event-ID,
//! heartbeats, slow clients, stream accounting and shutdown.

mod common;

use common::{connect, eventually, Event, Item, Server, SseReader};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const WAIT: Duration = Duration::from_secs(5);

fn snapshot_of(e: &Event) -> serde_json::Value {
    serde_json::from_str(&e.data).expect("status data is JSON")
}

#[tokio::test]
async fn stream_headers_and_first_event_follow_the_rules() {
    let server = Server::start(&["--sse-retry-ms", "1000", "--sse-retry-jitter-ms", "2000"]).await;
    let version = server.version().await;
    let res = connect(&server, "/connect_to_sse", &[("accept-encoding", "gzip, br, deflate")]).await;
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["x-accel-buffering"], "no");
    assert!(h.get("content-encoding").is_none(), "the stream is never compressed: {h:?}");

    let mut sse = SseReader::new(res);
    match sse.next(WAIT).await {
        Some(Item::Retry(ms)) => assert!((1000..=3000).contains(&ms), "retry {ms}"),
        other => panic!("expected retry first, got {other:?}"),
    }
    let e = sse.next_event(WAIT).await.expect("the current snapshot");
    assert_eq!(e.id.as_deref(), Some(version.to_string().as_str()));
    assert_eq!(e.event.as_deref(), Some("status"));
    assert_eq!(e.data_lines, 1);
    let snap = snapshot_of(&e);
    assert_eq!(snap["version"], version);
    assert_eq!(snap["components"].as_array().unwrap().len(), 3, "{snap}");
    // Raw framing: the fields, in order, and a blank line ends the event.
    assert!(sse.raw.contains(&format!("\nid: {version}\nevent: status\ndata: {{")), "{}", sse.raw);
    assert!(sse.raw.ends_with("}\n\n"), "{}", sse.raw);
}

#[tokio::test]
async fn retry_is_jittered_per_client() {
    let server = Server::start(&["--sse-retry-ms", "1000", "--sse-retry-jitter-ms", "4000"]).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let mut sse = SseReader::new(connect(&server, "/connect_to_sse", &[]).await);
        if let Some(Item::Retry(ms)) = sse.next(WAIT).await {
            assert!((1000..=5000).contains(&ms));
            seen.insert(ms);
        }
    }
    assert!(seen.len() >= 6, "12 clients got only {} distinct retry values: {seen:?}", seen.len());
}

#[tokio::test]
async fn last_event_id_that_is_current_gets_no_resend_but_later_changes() {
    let server = Server::start(&[]).await;
    let version = server.version().await;
    let v = version.to_string();
    let mut sse = SseReader::new(connect(&server, "/connect_to_sse", &[("last-event-id", &v)]).await);
    assert!(sse.next_event(Duration::from_millis(800)).await.is_none(), "no resend for a current client: {}", sse.raw);
    assert!(sse.raw.starts_with("retry: "), "{}", sse.raw);

    assert_eq!(server.set_override("partial_outage", "db slow").await.status(), 200);
    let e = sse.next_event(WAIT).await.expect("the change arrives");
    assert_eq!(e.id, Some((version + 1).to_string()));
    assert_eq!(snapshot_of(&e)["level"], "partial_outage");

    // The query form, for a browser's first connection, behaves the same.
    let current = (version + 1).to_string();
    let path = format!("/connect_to_sse?lastEventId={current}");
    let mut sse = SseReader::new(connect(&server, &path, &[]).await);
    assert!(sse.next_event(Duration::from_millis(500)).await.is_none(), "{}", sse.raw);
}

#[tokio::test]
async fn stale_garbage_or_absent_last_event_id_gets_the_current_snapshot() {
    let server = Server::start(&[]).await;
    server.set_override("major_outage", "down").await;
    let version = server.version().await;
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("absent", vec![]),
        ("stale", vec![("last-event-id", (version - 1).to_string())]),
        ("zero", vec![("last-event-id", "0".into())]),
        ("future", vec![("last-event-id", (version + 50).to_string())]),
        ("garbage", vec![("last-event-id", "not-a-version".into())]),
        ("empty", vec![("last-event-id", "".into())]),
    ];
    for (name, headers) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut sse = SseReader::new(connect(&server, "/connect_to_sse", &headers).await);
        let e = sse.next_event(WAIT).await.unwrap_or_else(|| panic!("{name}: no snapshot"));
        assert_eq!(e.id, Some(version.to_string()), "{name}");
        assert_eq!(snapshot_of(&e)["message"], "down", "{name}");
    }
}

#[tokio::test]
async fn heartbeats_are_comment_lines_on_the_shared_ticker() {
    let server = Server::start(&["--heartbeat", "200ms"]).await;
    let v = server.version().await.to_string();
    let mut sse = SseReader::new(connect(&server, "/connect_to_sse", &[("last-event-id", &v)]).await);
    let mut comments = 0;
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_millis(1100) {
        match sse.next(Duration::from_millis(300)).await {
            Some(Item::Comment(_)) => comments += 1,
            Some(Item::Event(e)) => panic!("unexpected event {e:?}"),
            _ => {}
        }
    }
    assert!((3..=7).contains(&comments), "{comments} heartbeats in 1.1 s at 200 ms");
    assert!(sse.raw.contains("\n:\n\n"), "{:?}", sse.raw);
}

#[tokio::test]
async fn multi_line_and_hostile_messages_cannot_break_the_framing() {
    let server = Server::start(&[]).await;
    let v = server.version().await.to_string();
    let mut sse = SseReader::new(connect(&server, "/connect_to_sse", &[("last-event-id", &v)]).await);
    let hostile = "first line\nsecond\r\nevent: evil\r\rid: 999\n\ndata: injected\n<script>alert(1)</script>";
    let res = server.set_override("degraded_performance", hostile).await;
    assert_eq!(res.status(), 200);
    let e = sse.next_event(WAIT).await.expect("the change arrives");
    assert_eq!(e.event.as_deref(), Some("status"));
    assert_eq!(e.id, Some((server.version().await).to_string()));
    assert_eq!(e.data_lines, 1, "JSON keeps the payload on one data line");
    // Intact, with its line breaks as `\n` (every operator message's are).
    let message = hostile.replace("\r\n", "\n").replace('\r', "\n");
    assert_eq!(snapshot_of(&e)["message"], message, "the message arrives intact");
    for line in sse.raw.lines() {
        assert!(
            !line.starts_with("event: evil") && !line.starts_with("id: 999") && !line.starts_with("data: injected"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn a_stalled_reader_never_delays_the_others() {
    let server = Server::start(&[]).await;
    // A client that sends its request and then never reads a byte.
    let mut stalled = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    stalled.write_all(b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n").await.unwrap();
    let mut healthy = SseReader::new(connect(&server, "/connect_to_sse", &[]).await);
    healthy.next_event(WAIT).await.unwrap();

    // Enough big changes to fill the stalled socket's buffers many times over.
    let long = "x".repeat(480);
    let mut last = 0;
    for i in 0..300 {
        let res = server.set_override(if i % 2 == 0 { "major_outage" } else { "partial_outage" }, &format!("{i} {long}")).await;
        assert_eq!(res.status(), 200);
        last = res.json::<serde_json::Value>().await.unwrap()["version"].as_u64().unwrap();
    }
    let start = std::time::Instant::now();
    let mut newest = 0;
    while newest < last {
        let e = healthy.next_event(WAIT).await.expect("the healthy client keeps receiving");
        newest = e.id.unwrap().parse().unwrap();
    }
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
    drop(stalled);
}

#[tokio::test]
async fn the_open_stream_count_returns_to_zero_after_clients_leave() {
    let server = Server::start(&["--heartbeat", "200ms"]).await;
    let mut readers = Vec::new();
    for _ in 0..5 {
        let mut r = SseReader::new(connect(&server, "/connect_to_sse", &[]).await);
        r.next_event(WAIT).await.unwrap();
        readers.push(r);
    }
    assert_eq!(server.open_streams().await, 5);
    drop(readers);
    // Also a raw client that disappears without a word.
    let mut raw = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    raw.write_all(b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    assert!(eventually(WAIT, || async { server.open_streams().await == 1 }).await);
    drop(raw);
    assert!(
        eventually(WAIT, || async { server.open_streams().await == 0 }).await,
        "streams left open: {}",
        server.open_streams().await
    );
}

#[tokio::test]
async fn sigterm_ends_every_stream_and_exits_within_a_second() {
    let mut server = Server::start(&[]).await;
    let mut readers = Vec::new();
    for _ in 0..20 {
        let mut r = SseReader::new(connect(&server, "/connect_to_sse", &[]).await);
        r.next_event(WAIT).await.unwrap();
        readers.push(r);
    }
    assert_eq!(server.open_streams().await, 20);
    let (took, status) = server.terminate().await;
    println!("exit after SIGTERM with 20 open streams: {took:?}");
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    for r in &mut readers {
        assert!(r.ends_within(Duration::from_secs(1)).await, "stream still open");
    }
}

#[tokio::test]
async fn a_stalled_reader_is_dropped_after_the_stall_timeout() {
    let server = Server::start(&["--stall-timeout", "1s", "--send-buffer", "8192"]).await;
    // Shrink the stalled client's receive buffer so the server's send buffer fills quickly.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(server.addr.parse().unwrap()).await.unwrap();
    stalled.write_all(b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut healthy = SseReader::new(connect(&server, "/connect_to_sse", &[]).await);
    healthy.next_event(WAIT).await.unwrap();
    assert!(eventually(WAIT, || async { server.open_streams().await == 2 }).await);

    let long = "y".repeat(490);
    let mut i = 0;
    let dropped = eventually(Duration::from_secs(20), || {
        i += 1;
        let message = format!("{i} {long}");
        let server = &server;
        async move {
            let level = if i % 2 == 0 { "major_outage" } else { "partial_outage" };
            assert_eq!(server.set_override(level, &message).await.status(), 200);
            server.open_streams().await == 1
        }
    })
    .await;
    assert!(dropped, "the stalled stream was never dropped");
    // The healthy one is still there and current.
    let version = server.version().await;
    let mut newest = 0;
    while newest < version {
        newest = healthy.next_event(WAIT).await.expect("healthy stream alive").id.unwrap().parse().unwrap();
    }
    drop(stalled);
}

/// A stream requested on a keep-alive connection that already served a page or API request.
async fn stream_on_a_reused_connection(server: &Server) -> reqwest::Response {
    let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
    let res = client.get(server.url("/api/v1/status")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap();
    client.get(server.url("/connect_to_sse")).send().await.unwrap()
}

#[tokio::test]
async fn a_stream_on_a_reused_connection_is_sent_to_a_connection_of_its_own() {
    let server = Server::start(&[]).await;
    let res = stream_on_a_reused_connection(&server).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert_eq!(res.headers()["connection"], "close");
    let mut sse = SseReader::new(res);
    match sse.next(WAIT).await {
        Some(Item::Retry(ms)) => assert!(ms <= 50, "reconnect at once, got {ms}"),
        other => panic!("expected a retry, got {other:?}"),
    }
    assert!(sse.ends_within(WAIT).await, "the connection is closed");
    assert_eq!(server.open_streams().await, 0);
}

#[tokio::test]
async fn with_own_connections_off_a_reused_connection_streams_too() {
    let server = Server::start(&["--sse-own-connection", "false"]).await;
    let version = server.version().await;
    let res = stream_on_a_reused_connection(&server).await;
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.headers()["x-accel-buffering"], "no");
    let mut sse = SseReader::new(res);
    let e = sse.next_event(WAIT).await.expect("the snapshot");
    assert_eq!(e.id, Some(version.to_string()));
    assert_eq!(server.open_streams().await, 1);
    server.set_override("major_outage", "through hyper").await;
    let e = sse.next_event(WAIT).await.expect("the change");
    assert_eq!(snapshot_of(&e)["message"], "through hyper");
}

/// What a raw connection that sent `head` reads within `wait`, stopping at the first status
/// event; and whether the server closed it.
async fn raw_read(server: &Server, head: &[u8], wait: Duration) -> (String, bool) {
    use tokio::io::AsyncReadExt;
    let mut raw = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    raw.write_all(head).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    while !String::from_utf8_lossy(&got).contains("event: status") {
        match tokio::time::timeout_at(deadline, raw.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    (String::from_utf8_lossy(&got).into(), false)
}

#[tokio::test]
async fn every_way_of_asking_for_a_stream_is_served_on_the_lean_path() {
    // The lean path writes its own head (no `date:`, which hyper always adds): each of these
    // once went to hyper and held its ~11 KiB of buffers (more with a big head) for the
    // stream's life.
    let server = Server::start(&[]).await;
    let variants: [&[u8]; 5] = [
        b"GET /connect_to_sse HTTP/1.0\r\nHost: x\r\n\r\n",
        b"GET http://status.example/connect_to_sse HTTP/1.1\r\nHost: status.example\r\n\r\n",
        b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n",
        b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
        b"GET /connect_to_sse HTTP/1.1\nHost: x\n\n",
    ];
    for head in variants {
        let asked = String::from_utf8_lossy(head).lines().next().unwrap().to_string();
        let started = std::time::Instant::now();
        let (text, _) = raw_read(&server, head, WAIT).await;
        assert!(started.elapsed() < Duration::from_secs(2), "{asked}: answered at once, not after the head timeout");
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{asked}: {text}");
        let (response_head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(!response_head.contains("date:"), "{asked}: served by the lean path: {response_head}");
        assert!(response_head.contains("x-content-type-options: nosniff"), "{response_head}");
        assert!(body.contains("event: status"), "{asked}: the snapshot is streamed: {text}");
        if head.starts_with(b"GET /connect_to_sse HTTP/1.0") {
            assert!(!response_head.contains("transfer-encoding"), "no chunks for HTTP/1.0: {response_head}");
            assert!(body.starts_with("retry:"), "the event bytes as they are: {body}");
        }
    }
    // A head over 16 KiB (here a 300 KB Last-Event-ID) is refused at once and closed, never
    // buffered for a stream's life.
    let mut big = b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ".to_vec();
    big.extend(std::iter::repeat_n(b'7', 300_000));
    big.extend_from_slice(b"\r\n\r\n");
    let started = std::time::Instant::now();
    let (text, closed) = raw_read(&server, &big, WAIT).await;
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    assert!(closed && started.elapsed() < Duration::from_secs(2));
    // Later requests on a kept-alive connection are bounded too (hyper's own default is ~400 KB).
    let mut second = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nCookie: ".to_vec();
    second.extend(std::iter::repeat_n(b'c', 64 * 1024));
    second.extend_from_slice(b"\r\n\r\n");
    let (text, _) = raw_read(&server, &second, Duration::from_secs(3)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("HTTP/1.1 431"), "the second, overlong head refused: {text}");
    assert_eq!(server.open_streams().await, 0, "the streams above ended with their connections");
}
