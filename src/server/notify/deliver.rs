//! Posting a notification over HTTP (webhook, Slack, Discord, ntfy), and the error every
//! transport (this one and [`super::smtp`]) reports, which says whether trying again can help.

use super::address::{self, AddressError, AddressGuard, PublicResolver};
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

/// Why a notification was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("timed out")]
    Timeout,
    /// Could not connect or the connection broke (DNS failure, refused, reset, TLS).
    #[error("could not connect: {0}")]
    Connect(String),
    /// An HTTP answer other than 2xx, with the start of its body on one line.
    #[error("answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("{0}")]
    Address(#[from] AddressError),
    /// The SMTP server answered with a transient (4xx) or permanent (5xx) error.
    #[error("mail server answered {code}: {message}")]
    SmtpTransient { code: u16, message: String },
    #[error("mail server answered {code}: {message}")]
    SmtpPermanent { code: u16, message: String },
    /// Nothing to send to as given: a bad address, header, configuration.
    #[error("invalid: {0}")]
    Invalid(String),
}

impl SendError {
    /// Whether sending the same thing again later can succeed.
    pub fn retryable(&self) -> bool {
        match self {
            SendError::Timeout | SendError::Connect(_) | SendError::SmtpTransient { .. } => true,
            SendError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            SendError::Address(e) => matches!(e, AddressError::Unresolved { .. }),
            SendError::SmtpPermanent { .. } | SendError::Invalid(_) => false,
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of body keyed with secret>`, the `X-Statuscast-Signature` header.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", crate::server::secret::hex(&mac.finalize().into_bytes()))
}

/// The header a signed webhook body carries its [`signature`] in.
pub const SIGNATURE_HEADER: &str = "X-Statuscast-Signature";

/// Posts bodies; one for the whole notifier (its clients pool connections).
#[derive(Clone, Debug)]
pub struct Poster {
    /// Resolves names only to public addresses ([`AddressGuard::Public`]).
    public: reqwest::Client,
    any: reqwest::Client,
}

impl Poster {
    /// The time a post may take in service.
    pub const TIMEOUT: Duration = Duration::from_secs(10);

    /// `timeout`: for the whole request, connecting to reading the answer ([`Self::TIMEOUT`]).
    pub fn new(timeout: Duration) -> Result<Poster, SendError> {
        let builder = || {
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("statuscast/", env!("CARGO_PKG_VERSION")))
        };
        let build = |b: reqwest::ClientBuilder| b.build().map_err(|e| SendError::Invalid(format!("HTTP client: {e}")));
        Ok(Poster {
            // A proxy would resolve the name itself, past the check.
            public: build(builder().no_proxy().dns_resolver(Arc::new(PublicResolver)))?,
            any: build(builder())?,
        })
    }

    /// Posts `body`; delivered only on a 2xx answer (redirects are not followed).
    pub async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        content_type: &str,
        headers: &[(String, String)],
        guard: AddressGuard,
    ) -> Result<(), SendError> {
        let client = match guard {
            AddressGuard::Public => {
                address::check_literal(url)?;
                &self.public
            }
            AddressGuard::Any => &self.any,
        };
        let mut map = HeaderMap::new();
        let bad = |what: &str, name: &str| SendError::Invalid(format!("header {name:?}: invalid {what}"));
        map.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).map_err(|_| bad("value", "Content-Type"))?);
        for (name, value) in headers {
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("name", name))?;
            let v = HeaderValue::from_str(value).map_err(|_| bad("value", name))?;
            map.append(n, v);
        }
        let mut response = client.post(url).headers(map).body(body).send().await.map_err(request_error)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // The start of the body says why; read no more than that.
        let mut start = Vec::new();
        while start.len() < 200 {
            match response.chunk().await {
                Ok(Some(chunk)) => start.extend_from_slice(&chunk),
                _ => break,
            }
        }
        start.truncate(200);
        Err(SendError::Status { status: status.as_u16(), body: one_line(&String::from_utf8_lossy(&start)) })
    }
}

fn request_error(e: reqwest::Error) -> SendError {
    // A refused address comes back from the resolver as the error's source.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(a) = s.downcast_ref::<AddressError>() {
            return SendError::Address(a.clone());
        }
        source = s.source();
    }
    if e.is_timeout() {
        SendError::Timeout
    } else if e.is_builder() {
        SendError::Invalid(e.to_string())
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        SendError::Connect(text)
    }
}

/// Text on one line: controls (newlines too) as spaces, runs of spaces as one.
pub(crate) fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap as AxumHeaders, StatusCode};
    use axum::routing::post;
    use std::sync::Mutex;

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // python3 -c "import hmac,hashlib;print(hmac.new(b'key',b'body',hashlib.sha256).hexdigest())"
        assert_eq!(signature("key", b"body"), "sha256=515aae133b435d4000956731f68ae5cf5eb85d4f0dc6a546d2bfcd3595ec1ae1");
    }

    #[test]
    fn retryable_errors() {
        let status = |s| SendError::Status { status: s, body: String::new() };
        assert!(status(500).retryable() && status(503).retryable() && status(429).retryable() && status(408).retryable());
        assert!(!status(404).retryable() && !status(400).retryable() && !status(410).retryable() && !status(301).retryable());
        assert!(SendError::Timeout.retryable() && SendError::Connect("reset".into()).retryable());
        assert!(SendError::SmtpTransient { code: 451, message: String::new() }.retryable());
        assert!(!SendError::SmtpPermanent { code: 550, message: String::new() }.retryable());
        assert!(!SendError::Invalid("x".into()).retryable());
    }

    #[test]
    fn bodies_are_shown_on_one_line() {
        assert_eq!(one_line("a\r\nb\t\tc  \u{0}d "), "a b c d");
    }

    type Seen = Arc<Mutex<Vec<(AxumHeaders, Vec<u8>)>>>;

    async fn server() -> (String, Seen) {
        let seen: Seen = Arc::default();
        let keep = seen.clone();
        let app = axum::Router::new()
            .route(
                "/ok",
                post(move |h: AxumHeaders, body: axum::body::Bytes| async move {
                    keep.lock().unwrap().push((h, body.to_vec()));
                    StatusCode::NO_CONTENT
                }),
            )
            .route("/fail", post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "database\ndown ".repeat(50)) }))
            .route("/missing", post(|| async { (StatusCode::NOT_FOUND, "no such hook") }))
            .route("/moved", post(|| async { (StatusCode::FOUND, [("location", "/ok")]) }))
            .route(
                "/slow",
                post(|| async {
                    tokio::time::sleep(Duration::from_secs(11)).await;
                    StatusCode::OK
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, seen)
    }

    #[tokio::test]
    async fn posts_to_a_real_server() {
        let (base, seen) = server().await;
        let poster = Poster::new(Duration::from_secs(1)).unwrap();
        let body = br#"{"hello":"world"}"#.to_vec();
        let headers = vec![(SIGNATURE_HEADER.to_string(), signature("s3cret", &body)), ("X-Extra".into(), "1".into())];
        poster.post(&format!("{base}/ok"), body.clone(), "application/json", &headers, AddressGuard::Any).await.unwrap();
        {
            let seen = seen.lock().unwrap();
            let (h, got) = &seen[0];
            assert_eq!(got, &body);
            assert_eq!(h["content-type"], "application/json");
            assert!(h["user-agent"].to_str().unwrap().starts_with("statuscast/"));
            let sig = h["x-statuscast-signature"].to_str().unwrap();
            assert_eq!(sig, signature("s3cret", got));
            assert_ne!(sig, signature("other", got));
        }

        let e = poster.post(&format!("{base}/fail"), vec![], "text/plain", &[], AddressGuard::Any).await.unwrap_err();
        assert!(e.retryable(), "{e}");
        let SendError::Status { status: 500, body } = &e else { panic!("{e:?}") };
        assert!(body.len() <= 200 && body.starts_with("database down database down"), "{body:?}");

        let e = poster.post(&format!("{base}/missing"), vec![], "text/plain", &[], AddressGuard::Any).await.unwrap_err();
        assert!(matches!(&e, SendError::Status { status: 404, body } if body == "no such hook"), "{e:?}");
        assert!(!e.retryable());

        let e = poster.post(&format!("{base}/moved"), vec![], "text/plain", &[], AddressGuard::Any).await.unwrap_err();
        assert!(matches!(e, SendError::Status { status: 302, .. }), "redirects are not followed: {e:?}");

        let started = std::time::Instant::now();
        let e = poster.post(&format!("{base}/slow"), vec![], "text/plain", &[], AddressGuard::Any).await.unwrap_err();
        assert!(matches!(e, SendError::Timeout), "{e:?}");
        assert!(e.retryable());
        assert!(started.elapsed() < Duration::from_secs(5));

        // Nothing listens on port 1.
        let e = poster.post("http://127.0.0.1:1/", vec![], "text/plain", &[], AddressGuard::Any).await.unwrap_err();
        assert!(matches!(e, SendError::Connect(_)) && e.retryable(), "{e:?}");

        let bad = [("X-Bad".to_string(), "a\r\nInjected: yes".to_string())];
        let e = poster.post(&format!("{base}/ok"), vec![], "text/plain", &bad, AddressGuard::Any).await.unwrap_err();
        assert!(matches!(e, SendError::Invalid(_)), "{e:?}");
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn public_posts_never_reach_local_addresses() {
        let (base, seen) = server().await;
        let port = base.rsplit(':').next().unwrap();
        let poster = Poster::new(Duration::from_secs(1)).unwrap();
        for url in [format!("{base}/ok"), format!("http://localhost:{port}/ok"), format!("http://[::ffff:127.0.0.1]:{port}/ok")] {
            let e = poster.post(&url, b"x".to_vec(), "text/plain", &[], AddressGuard::Public).await.unwrap_err();
            assert!(matches!(&e, SendError::Address(AddressError::NotPublic { .. })), "{url}: {e:?}");
            assert!(e.to_string().contains("a loopback address"), "{e}");
            assert!(!e.retryable());
        }
        assert!(seen.lock().unwrap().is_empty());
    }
}
