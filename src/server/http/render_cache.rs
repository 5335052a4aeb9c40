//! Public pages rendered once, served many times: the status page (`/`) and the first page of
//! the incident history (`/history`) are rendered once per snapshot version and clock second
//! (and, for the status page, per drawing of the uptime history), compressed once with gzip
//! and brotli, and every request in between gets those bytes, with an `ETag` naming what they
//! were rendered from and `304` for a client that has them.
//!
//! Why the second: a page shows the server's clock ("updated 5 s ago", and the time the
//! browser's own clock is set from), and every page is rendered with the clock read to the
//! second ([`page_clock`]), cached or not; so an entry is exactly what a fresh render in the
//! same second at the same version would be (tested byte for byte, see `tests/render_cache.rs`).
//! A new version is never served stale: each request reads the hub's current version first,
//! and an entry is only served for the key it was rendered for.
//!
//! Rendering is single-flight: requests arriving together for a key nobody has rendered yet
//! wait for one render. Each entry has its own fresh CSP nonce (see `headers::page_policy`),
//! shared by the requests the entry serves: content a user typed reaches a page only through a
//! new version (or the next second), so it is always rendered after its nonce was drawn and
//! cannot know it.

use crate::ui::Page;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The clock a page is rendered with: the server's, to the second.
pub fn page_clock(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(1000)
}

/// What a cached page was rendered from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub version: u64,
    /// [`page_clock`] in seconds.
    pub second: i64,
    /// Which drawing of the uptime history (the status page; 0 for others).
    pub drawing: u64,
}

impl Key {
    fn etag(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("W/\"p{}.{}.{}\"", self.version, self.second, self.drawing)).expect("ascii")
    }
}

/// The pages that are cached, one entry each.
#[derive(Default)]
pub struct RenderCache {
    status: Slot,
    history: Slot,
    pub renders: std::sync::atomic::AtomicU64,
}

/// A page's entry: the key it is for, and the render (done, or under way).
type Entry = (Key, Arc<OnceCell<Arc<Rendered>>>);

#[derive(Default)]
struct Slot(Mutex<Option<Entry>>);

impl RenderCache {
    /// Whether `page` at this address is served from the cache: the status page and the first
    /// page of the history, without a query (a query renders afresh).
    pub fn caches(page: Page, query: Option<&str>) -> bool {
        matches!(page, Page::Status | Page::History) && query.is_none()
    }

    /// The entry for `key`, rendered by `render` if nobody has yet (and by only one request
    /// when several arrive together). `render` gives the page's response as rendered.
    pub async fn get<F>(&self, page: Page, key: Key, render: F) -> Arc<Rendered>
    where
        F: Future<Output = Response>,
    {
        let slot = match page {
            Page::History => &self.history,
            _ => &self.status,
        };
        let cell = {
            let mut held = slot.0.lock().expect("not poisoned");
            match &*held {
                Some((k, cell)) if *k == key => cell.clone(),
                // A request that read an older version or second than the entry's: rendered
                // for it alone, so the entry stays.
                Some((k, _)) if *k > key => Arc::new(OnceCell::new()),
                _ => {
                    let cell = Arc::new(OnceCell::new());
                    *held = Some((key, cell.clone()));
                    cell
                }
            }
        };
        cell.get_or_init(|| async {
            self.renders.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Arc::new(Rendered::from_response(render.await, key.etag()).await)
        })
        .await
        .clone()
    }
}

/// One rendered page: its head and its body as it is, gzipped and brotli-compressed.
pub struct Rendered {
    status: StatusCode,
    headers: HeaderMap,
    etag: HeaderValue,
    identity: Bytes,
    gzip: Bytes,
    br: Bytes,
}

/// How a response body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Rendered {
    async fn from_response(res: Response, etag: HeaderValue) -> Rendered {
        let (parts, body) = res.into_parts();
        let identity = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        let compressing = identity.clone();
        let (gzip, br) = tokio::task::spawn_blocking(move || (gzip(&compressing), brotli(&compressing)))
            .await
            .expect("compression does not panic");
        Rendered { status: parts.status, headers: parts.headers, etag, identity, gzip, br }
    }

    /// The response to a request with these headers: `304` if it has this entry, else the
    /// body in the encoding it prefers.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let fresh = self.etag.to_str().is_ok_and(|etag| super::caching::client_has(request, etag));
        let (status, encoding) =
            if fresh { (StatusCode::NOT_MODIFIED, None) } else { (self.status, Some(preferred_encoding(request))) };
        let body = match encoding {
            None => Bytes::new(),
            Some(Encoding::Identity) => self.identity.clone(),
            Some(Encoding::Gzip) => self.gzip.clone(),
            Some(Encoding::Brotli) => self.br.clone(),
        };
        let mut res = (status, Body::from(body)).into_response();
        let h = res.headers_mut();
        for (name, value) in &self.headers {
            if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
                h.append(name, value.clone());
            }
        }
        h.insert(header::ETAG, self.etag.clone());
        // Revalidated on every use: the page is live, the ETag makes that cheap.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        match encoding {
            Some(Encoding::Gzip) => {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            Some(Encoding::Brotli) => {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            }
            _ => {}
        }
        res
    }

    #[cfg(test)]
    fn body(&self, encoding: Encoding) -> &Bytes {
        match encoding {
            Encoding::Identity => &self.identity,
            Encoding::Gzip => &self.gzip,
            Encoding::Brotli => &self.br,
        }
    }
}

/// The encoding a request's `Accept-Encoding` prefers among brotli, gzip and none (RFC 9110
/// §12.5.3: the highest `q`, ties to the smaller body; `q=0` refuses; `*` stands for any
/// coding not named).
pub fn preferred_encoding(request: &HeaderMap) -> Encoding {
    let (mut br, mut gzip, mut any) = (None::<f32>, None::<f32>, None::<f32>);
    for value in request.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match coding.as_str() {
                "br" => br = Some(q),
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
    }
    let br = br.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    if br > 0.0 && br >= gzip {
        Encoding::Brotli
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn gzip(data: &[u8]) -> Bytes {
    let mut out = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 4), flate2::Compression::best());
    out.write_all(data).expect("writing to memory");
    Bytes::from(out.finish().expect("writing to memory"))
}

/// Brotli at quality 9: within a few per cent of 11's size at a fraction of its time (it runs
/// once per entry, but in the second a change is published, for every cached page).
fn brotli(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() / 4);
    let params = brotli::enc::BrotliEncoderParams { quality: 9, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).expect("writing to memory");
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_preferred_encoding_follows_accept_encoding_and_its_weights() {
        assert_eq!(preferred_encoding(&HeaderMap::new()), Encoding::Identity);
        assert_eq!(preferred_encoding(&accept("gzip, deflate, br, zstd")), Encoding::Brotli);
        assert_eq!(preferred_encoding(&accept("gzip")), Encoding::Gzip);
        assert_eq!(preferred_encoding(&accept("br;q=0, gzip")), Encoding::Gzip);
        assert_eq!(preferred_encoding(&accept("br;q=0.5, gzip;q=0.8")), Encoding::Gzip);
        assert_eq!(preferred_encoding(&accept("gzip;q=0, br;q=0")), Encoding::Identity);
        assert_eq!(preferred_encoding(&accept("*")), Encoding::Brotli);
        assert_eq!(preferred_encoding(&accept("*;q=0")), Encoding::Identity);
        assert_eq!(preferred_encoding(&accept("identity, deflate")), Encoding::Identity);
        assert_eq!(preferred_encoding(&accept("GZIP ; q=1")), Encoding::Gzip);
    }

    #[test]
    fn page_clock_is_the_start_of_the_second() {
        assert_eq!(page_clock(1_700_000_000_999), 1_700_000_000_000);
        assert_eq!(page_clock(1_700_000_000_000), 1_700_000_000_000);
    }

    fn page(text: &str) -> Response {
        let mut res = Response::new(Body::from(text.to_string()));
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        res
    }

    #[tokio::test]
    async fn a_key_is_rendered_once_and_its_compressed_bodies_read_back_as_the_page() {
        let cache = RenderCache::default();
        let key = Key { version: 3, second: 100, drawing: 1 };
        let html = "<p>up</p>".repeat(500);
        let renders: Vec<_> =
            futures_util::future::join_all((0..20).map(|_| cache.get(Page::Status, key, async { page(&html) }))).await;
        assert_eq!(cache.renders.load(std::sync::atomic::Ordering::Relaxed), 1, "single-flight");
        let entry = &renders[0];
        assert!(renders.iter().all(|r| Arc::ptr_eq(r, entry)));
        assert_eq!(entry.body(Encoding::Identity), html.as_bytes());
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&entry.body(Encoding::Gzip)[..]).read_to_string(&mut unzipped).unwrap();
        assert_eq!(unzipped, html);
        let mut unbrotlied = String::new();
        brotli::Decompressor::new(&entry.body(Encoding::Brotli)[..], 4096).read_to_string(&mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, html);
        // A newer version is rendered and replaces the entry; a request that read the older
        // version is rendered for it alone, and the newer entry stays.
        let newer = Key { version: 4, ..key };
        cache.get(Page::Status, newer, async { page("v4") }).await;
        let late = cache.get(Page::Status, key, async { page("late") }).await;
        assert_eq!(late.body(Encoding::Identity), "late");
        assert_eq!(cache.renders.load(std::sync::atomic::Ordering::Relaxed), 3);
        assert_eq!(cache.get(Page::Status, newer, async { page("unused") }).await.body(Encoding::Identity), "v4");
        // The history page has an entry of its own.
        let history = cache.get(Page::History, key, async { page("history") }).await;
        assert_eq!(history.body(Encoding::Identity), "history");
        assert_eq!(cache.get(Page::Status, newer, async { page("unused") }).await.body(Encoding::Identity), "v4");
    }

    #[tokio::test]
    async fn an_entry_answers_304_to_its_own_tag_and_names_its_encoding() {
        let cache = RenderCache::default();
        let key = Key { version: 9, second: 5, drawing: 0 };
        let entry = cache.get(Page::Status, key, async { page("hello") }).await;
        let res = entry.respond(&accept("br"));
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(res.headers()[header::VARY], "accept-encoding");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let etag = res.headers()[header::ETAG].clone();
        assert_eq!(etag, "W/\"p9.5.0\"");
        let mut revalidate = accept("gzip");
        revalidate.insert(header::IF_NONE_MATCH, etag);
        let res = entry.respond(&revalidate);
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
        let mut other = HeaderMap::new();
        other.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"p8.5.0\""));
        let res = entry.respond(&other);
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
    }
}
