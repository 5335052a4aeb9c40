//! The render cache against a real server: a cached page is byte for byte what a fresh render
//! gives (the same version and second), a published change is never served stale, pages are
//! rendered at most once per version and second however many requests come, and the
//! compressed bodies and `304`s are right.

mod common;

use common::Server;
use futures_util::StreamExt;
use std::io::Read;
use std::time::{Duration, Instant};

/// A page's body as sent (no decoding: the test client has no decompression).
async fn get(path: &str, server: &Server, accept_encoding: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(server.url(path));
    if let Some(enc) = accept_encoding {
        req = req.header("accept-encoding", enc);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res
}

/// The number after `name` (`data-version="7"`, `server_now_ms&quot;:1700000000000`).
fn number_after(html: &str, name: &str) -> u64 {
    let at = html.find(name).unwrap_or_else(|| panic!("{name} in the page")) + name.len();
    html[at..].chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit()).collect::<String>().parse().unwrap()
}

/// The page with its one per-render value, the CSP nonce, blanked (Leptos writes it in the
/// scripts' `nonce` and the preloads' `crossorigin`).
fn without_nonce(html: &str) -> String {
    let mut out = html.to_string();
    for attribute in ["nonce=\"", "crossorigin=\""] {
        let mut blanked = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(attribute) {
            blanked.push_str(&rest[..at + attribute.len()]);
            rest = &rest[at + attribute.len()..];
            rest = &rest[rest.find('"').unwrap()..];
        }
        blanked.push_str(rest);
        out = blanked;
    }
    out
}

/// Where two pages first differ, with a little of each around it.
fn first_difference(a: &str, b: &str) -> Option<String> {
    let at = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).or((a.len() != b.len()).then(|| a.len().min(b.len())))?;
    let around = |s: &str| s.get(at.saturating_sub(80)..(at + 80).min(s.len())).unwrap_or("").to_string();
    Some(format!("at byte {at}: {:?} vs {:?}", around(a), around(b)))
}

async fn renders(server: &Server) -> u64 {
    let text = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    text.lines().find_map(|l| l.strip_prefix("statuscast_page_renders_total ")).unwrap().trim().parse().unwrap()
}

#[tokio::test]
async fn cached_pages_are_what_a_fresh_render_gives_at_every_version() {
    let server = Server::start(&[]).await;
    for (i, path) in ["/", "/history", "/", "/history"].iter().enumerate() {
        let res = server.set_override("degraded_performance", &format!("change <{i}> & \"more\"")).await;
        assert!(res.status().is_success());
        let version = server.version().await;
        // A fresh render (a query bypasses the cache) in the same second as the cached one.
        let fresh_path = format!("{path}?fresh={i}");
        let mut compared = false;
        for _ in 0..20 {
            let cached = get(path, &server, None).await.text().await.unwrap();
            let fresh = get(&fresh_path, &server, None).await.text().await.unwrap();
            assert_eq!(number_after(&cached, "data-version="), version);
            let (a, b) = (number_after(&cached, "server_now_ms"), number_after(&fresh, "server_now_ms"));
            assert_eq!(a % 1000, 0, "pages show the clock to the second");
            if a != b || number_after(&fresh, "data-version=") != version {
                continue; // a second (or a check) went by between the two
            }
            let difference = first_difference(&without_nonce(&cached), &without_nonce(&fresh));
            assert!(difference.is_none(), "{path} at version {version}: {}", difference.unwrap());
            assert!(cached.contains(&format!("change &lt;{i}&gt; &amp; \"more\"")), "{path} shows the change");
            compared = true;
            break;
        }
        assert!(compared, "{path}: no two renders within one second");
    }
}

#[tokio::test]
async fn a_published_change_is_never_served_stale() {
    let server = Server::start(&[]).await;
    // Warm the cache, then change and read at once, many times over.
    get("/", &server, Some("br")).await;
    for i in 0..15 {
        let message = format!("stale-check-{i}");
        let res = server.set_override("partial_outage", &message).await;
        let posted: serde_json::Value = res.json().await.unwrap();
        let version = posted["version"].as_u64().expect("the override answers with its version");
        let html = get("/", &server, None).await.text().await.unwrap();
        assert!(number_after(&html, "data-version=") >= version, "served an older version after {version} was published");
        assert!(html.contains(&message), "the change {i} is on the page");
    }
}

#[tokio::test]
async fn a_rush_renders_once_per_second_and_gets_the_same_compressed_bytes() {
    let server = Server::start(&[]).await;
    get("/", &server, None).await;
    let before = renders(&server).await;
    let started = Instant::now();
    let client = reqwest::Client::new();
    let mut bodies: Vec<(String, String, bytes::Bytes)> = Vec::new();
    let requests = (0..400).map(|i| {
        let enc = if i % 2 == 0 { "gzip, deflate, br" } else { "gzip" };
        let req = client.get(server.url("/")).header("accept-encoding", enc).send();
        async move {
            let res = req.await.unwrap();
            let encoding = res.headers()["content-encoding"].to_str().unwrap().to_string();
            assert_eq!(res.headers()["vary"], "accept-encoding");
            (encoding, res.headers()["etag"].to_str().unwrap().to_string(), res.bytes().await.unwrap())
        }
    });
    bodies.extend(futures_util::stream::iter(requests).buffer_unordered(50).collect::<Vec<_>>().await);
    let seconds = started.elapsed().as_secs() + 2;
    let rendered = renders(&server).await - before;
    assert!(rendered <= seconds, "{rendered} renders for 400 requests in {seconds} s");
    // Each body decodes to the page; the same ETag means the same page.
    let mut by_tag = std::collections::HashMap::new();
    for (encoding, etag, body) in bodies {
        let mut html = String::new();
        match encoding.as_str() {
            "br" => brotli::Decompressor::new(&body[..], 4096).read_to_string(&mut html).unwrap(),
            "gzip" => flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut html).unwrap(),
            other => panic!("unexpected encoding {other}"),
        };
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("id=\"system-status\""));
        let seen = by_tag.entry(etag.clone()).or_insert_with(|| html.clone());
        assert_eq!(*seen, html, "one ETag, one page ({etag})");
    }
}

#[tokio::test]
async fn a_client_with_the_current_page_gets_304() {
    let server = Server::start(&[]).await;
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = get("/", &server, Some("br")).await;
        let etag = res.headers()["etag"].clone();
        assert!(etag.to_str().unwrap().starts_with("W/\"p"), "{etag:?}");
        assert_eq!(res.headers()["cache-control"], "no-cache");
        assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("'nonce-"));
        let again = client.get(server.url("/")).header("if-none-match", etag.clone()).send().await.unwrap();
        if again.status() == 304 {
            assert_eq!(again.headers()["etag"], etag);
            assert!(again.bytes().await.unwrap().is_empty());
            break;
        }
        // The second went by: the page shows another clock, so it is sent whole.
        assert_eq!(again.status(), 200);
        assert_ne!(again.headers()["etag"], etag);
        assert!(Instant::now() < deadline, "never revalidated within one second");
    }
    // Another version's tag gets the page.
    let res = client.get(server.url("/")).header("if-none-match", "W/\"p0.0.0\"").send().await.unwrap();
    assert_eq!(res.status(), 200);
}
