//! Sending [`Mail`] through an SMTP server (lettre's SMTP client, rustls with ring), over a
//! small pool of connections per configured server.
//!
//! The connections are our own, not lettre's pooled transport: lettre writes a message's body
//! and its final `.` in two writes and never sets `TCP_NODELAY`, so every mail waited ~40 ms
//! for the server's delayed acknowledgement (measured: 131 mails/s on 8 connections to a
//! local server). Plain and STARTTLS connections are opened here with `TCP_NODELAY`; implicit
//! TLS (SMTPS) is opened by lettre, which gives no way to set it.

use super::config::{Smtp, SmtpTls};
use super::deliver::SendError;
use super::mail::Mail;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Connecting, and each command exchange of a send, within this.
const TIMEOUT: Duration = Duration::from_secs(10);
/// An idle connection older than this is closed rather than used (servers drop idle clients).
const IDLE: Duration = Duration::from_secs(30);
/// Idle connections kept per server (as many as sends at once: see `notify::CONCURRENCY`).
const KEEP: usize = super::CONCURRENCY;

/// Sends mail through one SMTP server.
pub struct Mailer {
    smtp: Smtp,
    from: Mailbox,
    tls: Option<TlsParameters>,
    hello: ClientId,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.trim().trim_start_matches('<').trim_end_matches('>').to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058: one POST unsubscribes).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

impl Mailer {
    /// A mailer for `smtp`: STARTTLS required (`starttls`), TLS from the start (`implicit`)
    /// or none; certificates checked against the web's roots. Connects only when sending.
    pub fn new(smtp: &Smtp) -> Result<Mailer, SendError> {
        let invalid = |e: lettre::transport::smtp::Error| SendError::Invalid(format!("SMTP server {}: {e}", smtp.host));
        let tls = match smtp.tls {
            SmtpTls::None => None,
            _ => {
                let mut builder = TlsParameters::builder(smtp.host.clone());
                if let Some(path) = &smtp.ca_file {
                    let pem = std::fs::read(path).map_err(|e| SendError::Invalid(format!("ca_file {path}: {e}")))?;
                    let ca = lettre::transport::smtp::client::Certificate::from_pem(&pem)
                        .map_err(|e| SendError::Invalid(format!("ca_file {path}: {e}")))?;
                    builder = builder.add_root_certificate(ca);
                }
                Some(builder.build().map_err(invalid)?)
            }
        };
        let from = smtp.from.parse::<Mailbox>().map_err(|e| SendError::Invalid(format!("from {:?}: {e}", smtp.from)))?;
        let hello = ClientId::default();
        Ok(Mailer { smtp: smtp.clone(), from, tls, hello, idle: Mutex::default() })
    }

    /// A new connection: greeted, secured as configured, logged in.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let smtp = &self.smtp;
        let mut conn = match (smtp.tls, &self.tls) {
            (SmtpTls::Implicit, Some(tls)) => AsyncSmtpConnection::connect_tokio1(
                (smtp.host.as_str(), smtp.port),
                Some(TIMEOUT),
                &self.hello,
                Some(tls.clone()),
                None,
            )
            .await
            .map_err(smtp_error)?,
            _ => {
                let tcp = tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect((smtp.host.as_str(), smtp.port)))
                    .await
                    .map_err(|_| SendError::Timeout)?
                    .map_err(|e| SendError::Connect(format!("{}:{}: {e}", smtp.host, smtp.port)))?;
                tcp.set_nodelay(true).map_err(|e| SendError::Connect(e.to_string()))?;
                let mut conn =
                    tokio::time::timeout(TIMEOUT, AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello))
                        .await
                        .map_err(|_| SendError::Timeout)?
                        .map_err(smtp_error)?;
                if let (SmtpTls::Starttls, Some(tls)) = (smtp.tls, &self.tls) {
                    if !conn.can_starttls() {
                        conn.abort().await;
                        return Err(SendError::Connect(format!("{} does not offer STARTTLS", smtp.host)));
                    }
                    tokio::time::timeout(TIMEOUT, conn.starttls(tls.clone(), &self.hello))
                        .await
                        .map_err(|_| SendError::Timeout)?
                        .map_err(smtp_error)?;
                }
                conn
            }
        };
        if let Some((user, password)) = &smtp.credentials {
            let credentials = Credentials::new(user.clone(), password.clone());
            tokio::time::timeout(TIMEOUT, conn.auth(DEFAULT_MECHANISMS, &credentials))
                .await
                .map_err(|_| SendError::Timeout)?
                .map_err(smtp_error)?;
        }
        Ok(conn)
    }

    /// An idle connection young enough to use, if any.
    fn idle_connection(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap();
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < IDLE && !conn.has_broken() {
                return Some(conn);
            }
            // Dropped: the server sees the connection close.
        }
        None
    }

    fn keep(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().unwrap();
        if idle.len() < KEEP && !conn.has_broken() {
            idle.push((conn, Instant::now()));
        }
    }

    /// Sends `mail` to `to` with `Message-ID: <{message_id}@statuscast>` (the same for every
    /// try of one delivery) and, with `list_unsubscribe`, the one-click unsubscribe headers.
    pub async fn send(&self, to: &str, mail: &Mail, list_unsubscribe: Option<&str>, message_id: &str) -> Result<(), SendError> {
        let message = self.message(to, mail, list_unsubscribe, message_id)?;
        let envelope = message.envelope().clone();
        let bytes = message.formatted();
        // An idle connection may have been closed by the server meanwhile: a failure on one is
        // tried once more on a new connection.
        if let Some(mut conn) = self.idle_connection() {
            match tokio::time::timeout(TIMEOUT, conn.send(&envelope, &bytes)).await {
                Ok(Ok(_)) => {
                    self.keep(conn);
                    return Ok(());
                }
                Ok(Err(e)) if e.is_transient() || e.is_permanent() => return Err(smtp_error(e)),
                _ => conn.abort().await,
            }
        }
        let mut conn = self.connect().await?;
        match tokio::time::timeout(TIMEOUT, conn.send(&envelope, &bytes)).await {
            Ok(Ok(_)) => {
                self.keep(conn);
                Ok(())
            }
            Ok(Err(e)) => Err(smtp_error(e)),
            Err(_) => {
                conn.abort().await;
                Err(SendError::Timeout)
            }
        }
    }

    fn message(&self, to: &str, mail: &Mail, list_unsubscribe: Option<&str>, message_id: &str) -> Result<Message, SendError> {
        let to = to.parse::<Mailbox>().map_err(|e| SendError::Invalid(format!("to {to:?}: {e}")))?;
        if message_id.is_empty() || !message_id.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) {
            return Err(SendError::Invalid(format!("message id {message_id:?}: use letters, digits, '-', '.', '_'")));
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(super::deliver::one_line(&mail.subject))
            .message_id(Some(format!("<{message_id}@statuscast>")));
        if let Some(url) = list_unsubscribe {
            if !url.chars().all(|c| c.is_ascii_graphic()) || url.contains(['<', '>']) {
                return Err(SendError::Invalid(format!("unsubscribe address {url:?}")));
            }
            builder = builder.header(ListUnsubscribe(url.to_string())).header(ListUnsubscribePost);
        }
        // Quoted-printable, always: readable in the raw message, and links stay searchable.
        let qp = |text: &str| {
            lettre::message::Body::new_with_encoding(
                text.to_string(),
                lettre::message::header::ContentTransferEncoding::QuotedPrintable,
            )
            .map_err(|_| SendError::Invalid("a body quoted-printable cannot carry".into()))
        };
        let body = MultiPart::alternative()
            .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(qp(&mail.text)?))
            .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(qp(&mail.html)?));
        builder.multipart(body).map_err(|e| SendError::Invalid(format!("message: {e}")))
    }
}

fn smtp_error(e: lettre::transport::smtp::Error) -> SendError {
    let code = e.status().map(u16::from);
    let message = super::deliver::one_line(&e.to_string());
    match code {
        Some(code) if e.is_transient() => SendError::SmtpTransient { code, message },
        Some(code) if e.is_permanent() => SendError::SmtpPermanent { code, message },
        _ if e.is_timeout() => SendError::Timeout,
        _ if e.is_client() => SendError::Invalid(message),
        // Connection, TLS, a broken answer: another try may reach a working server.
        _ => SendError::Connect(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level;
    use crate::server::notify::event::EventKind;
    use crate::server::notify::payload::tests::{component_notice, incident_notice};
    use tokio::io::{AsyncBufReadExt, BufReader};

    /// `tools/smtp_sink.py` running, writing into `dir`; its port.
    async fn sink(dir: &std::path::Path, fail_first: u32) -> (tokio::process::Child, u16) {
        let python = if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let mut child = tokio::process::Command::new(python)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tools/smtp_sink.py"))
            .arg("--dir")
            .arg(dir)
            .args(["--port", "0", "--fail-first", &fail_first.to_string()])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap().expect("ready line");
        let port = line.strip_prefix("ready ").expect("ready <port>").parse().unwrap();
        (child, port)
    }

    fn config(port: u16) -> Smtp {
        Smtp {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            credentials: None,
            from: "Acme Status <status@example.com>".into(),
            ca_file: None,
        }
    }

    /// A throwaway CA and a certificate for `localhost` signed by it (openssl): (ca, cert, key).
    fn certificates(dir: &std::path::Path) -> (String, String, String) {
        let p = |name: &str| dir.join(name).display().to_string();
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl").args(args).output().expect("openssl runs");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=test CA",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
        ]);
        run(&["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", &p("key.pem"), "-out", &p("req.pem")]);
        std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost\n").unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            &p("req.pem"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &p("ext.cnf"),
            "-out",
            &p("cert.pem"),
        ]);
        (p("ca.pem"), p("cert.pem"), p("key.pem"))
    }

    #[tokio::test]
    async fn starttls_is_required_implicit_tls_works_and_the_servers_certificate_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = certificates(dir.path());
        let mails = dir.path().join("mails");
        let mut child = tokio::process::Command::new("/usr/bin/python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tools/smtp_sink.py"))
            .arg("--dir")
            .arg(&mails)
            .args(["--port", "0", "--starttls-cert", &cert, "--starttls-key", &key])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap().unwrap();
        let port: u16 = line.strip_prefix("ready ").unwrap().parse().unwrap();
        let smtp = Smtp { host: "localhost".into(), tls: SmtpTls::Starttls, ca_file: Some(ca), ..config(port) };
        let mail = super::super::mail::notice(
            &component_notice(EventKind::ComponentChanged, Level::Operational, Level::MajorOutage),
            None,
        );
        // Trusting the CA: sent over TLS, twice on one connection.
        let mailer = Mailer::new(&smtp).unwrap();
        mailer.send("a@example.org", &mail, None, "tls.1").await.unwrap();
        mailer.send("b@example.org", &mail, None, "tls.2").await.unwrap();
        assert!(read_eml(&mails, 2).contains("Message-ID: <tls.2@statuscast>"));
        // Without it, the certificate is refused, and nothing is sent in the clear.
        let untrusting = Mailer::new(&Smtp { ca_file: None, ..smtp.clone() }).unwrap();
        let e = untrusting.send("c@example.org", &mail, None, "tls.3").await.unwrap_err();
        assert!(e.retryable(), "{e}");
        let plain = Mailer::new(&Smtp { tls: SmtpTls::None, ca_file: None, ..smtp.clone() }).unwrap();
        let e = plain.send("d@example.org", &mail, None, "tls.4").await.unwrap_err();
        assert!(!mails.join("3.eml").exists(), "{e}");
        let missing = Mailer::new(&Smtp { ca_file: Some("/nonexistent/ca.pem".into()), ..smtp });
        assert!(missing.is_err());
        let _ = child.kill().await;

        // TLS from the first byte (SMTPS).
        let mails = dir.path().join("smtps");
        let mut child = tokio::process::Command::new("/usr/bin/python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tools/smtp_sink.py"))
            .arg("--dir")
            .arg(&mails)
            .args(["--port", "0", "--starttls-cert", &cert, "--starttls-key", &key, "--implicit-tls"])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap().unwrap();
        let port: u16 = line.strip_prefix("ready ").unwrap().parse().unwrap();
        let ca = dir.path().join("ca.pem").display().to_string();
        let smtps = Smtp { host: "localhost".into(), tls: SmtpTls::Implicit, ca_file: Some(ca), ..config(port) };
        Mailer::new(&smtps).unwrap().send("e@example.org", &mail, None, "tls.5").await.unwrap();
        assert!(read_eml(&mails, 1).contains("Message-ID: <tls.5@statuscast>"));
        let _ = child.kill().await;
    }

    /// `<n>.eml` with its folded header lines unfolded.
    fn read_eml(dir: &std::path::Path, n: u32) -> String {
        let raw = std::fs::read_to_string(dir.join(format!("{n}.eml"))).unwrap();
        raw.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ")
    }

    #[tokio::test]
    async fn sends_to_a_real_smtp_server() {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, port) = sink(dir.path(), 0).await;
        let mailer = Mailer::new(&config(port)).unwrap();
        let mail = super::super::mail::notice(&incident_notice(EventKind::IncidentOpened), Some("https://s.example.com/u?t=1"));
        mailer.send("someone@example.org", &mail, Some("https://s.example.com/u?t=1"), "ev42.sub7").await.unwrap();

        let eml = read_eml(dir.path(), 1);
        let (head, body) = eml.split_once("\n\n").unwrap();
        assert!(head.contains("\nMessage-ID: <ev42.sub7@statuscast>\n"), "{head}");
        assert!(head.contains("\nList-Unsubscribe: <https://s.example.com/u?t=1>\n"), "{head}");
        assert!(head.contains("\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n"), "{head}");
        assert!(head.contains("\nTo: someone@example.org\n"), "{head}");
        assert!(head.contains("From: \"Acme Status\" <status@example.com>\n"), "{head}");
        // The incident title's "\r\nBcc: …" stays in the subject, on its line.
        assert!(head.contains("\nSubject: "), "{head}");
        assert!(!head.contains("\nBcc:"), "no header injected: {head}");
        assert!(head.contains("Content-Type: multipart/alternative"), "{head}");
        let plain = body.find("Content-Type: text/plain").expect("a text part");
        let html = body.find("Content-Type: text/html").expect("an HTML part");
        assert!(plain < html, "text first, then HTML");
        let env: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("1.json")).unwrap()).unwrap();
        assert_eq!(env["rcpt_tos"], serde_json::json!(["someone@example.org"]));
        assert_eq!(env["mail_from"], "status@example.com");

        // Parsed by Python's email package: both parts come back as rendered.
        let out = std::process::Command::new("/usr/bin/python3")
            .args(["-c", "import sys,email,email.policy;m=email.message_from_binary_file(open(sys.argv[1],'rb'),policy=email.policy.default);print(m['Subject']);print('=====');print(m.get_body(('plain',)).get_content());print('=====');print(m.get_body(('html',)).get_content())"])
            .arg(dir.path().join("1.eml"))
            .output()
            .unwrap();
        let parsed = String::from_utf8(out.stdout).unwrap();
        let parts: Vec<&str> = parsed.split("=====\n").collect();
        assert_eq!(parts.len(), 3, "{parsed} {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(parts[0].trim_end(), mail.subject);
        assert_eq!(parts[1].trim_end(), mail.text.trim_end());
        // (Mail has CRLF line ends: a bare one in the HTML comes back as the others do.)
        assert_eq!(parts[2].trim_end(), mail.html.replace("\r\n", "\n").trim_end());

        // Without unsubscribe headers.
        let m2 = super::super::mail::notice(
            &component_notice(EventKind::ComponentChanged, Level::Operational, Level::MajorOutage),
            None,
        );
        mailer.send("other@example.org", &m2, None, "ev43.op").await.unwrap();
        let eml = read_eml(dir.path(), 2);
        assert!(!eml.contains("List-Unsubscribe"), "{eml}");
        assert!(eml.contains("Message-ID: <ev43.op@statuscast>"));

        // What cannot be sent is refused before connecting.
        let e = mailer.send("not an address", &m2, None, "x").await.unwrap_err();
        assert!(matches!(e, SendError::Invalid(_)) && !e.retryable(), "{e:?}");
        let e = mailer.send("a@example.org", &m2, Some("https://x\r\nBcc: y@example.org"), "x").await.unwrap_err();
        assert!(matches!(e, SendError::Invalid(_)), "{e:?}");
        let e = mailer.send("a@example.org", &m2, None, "x>\r\nBcc: y").await.unwrap_err();
        assert!(matches!(e, SendError::Invalid(_)), "{e:?}");
        child.kill().await.unwrap();
    }

    #[tokio::test]
    async fn a_transient_refusal_is_retryable_and_the_retry_keeps_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, port) = sink(dir.path(), 1).await;
        let mailer = Mailer::new(&config(port)).unwrap();
        let mail = super::super::mail::notice(
            &component_notice(EventKind::ComponentChanged, Level::Operational, Level::MajorOutage),
            None,
        );
        let e = mailer.send("a@example.org", &mail, None, "ev9.a").await.unwrap_err();
        assert!(matches!(e, SendError::SmtpTransient { code: 451, .. }), "{e:?}");
        assert!(e.retryable());
        mailer.send("a@example.org", &mail, None, "ev9.a").await.unwrap();
        assert!(read_eml(dir.path(), 1).contains("Message-ID: <ev9.a@statuscast>"));
        child.kill().await.unwrap();

        // Nobody listening: a connection error, retryable.
        let e = mailer.send("a@example.org", &mail, None, "ev9.b").await.unwrap_err();
        assert!(e.retryable(), "{e:?}");
    }

    #[tokio::test]
    async fn mailers_build_for_every_kind_of_connection() {
        for tls in [SmtpTls::Starttls, SmtpTls::Implicit, SmtpTls::None] {
            let smtp = Smtp { tls, credentials: Some(("user".into(), "pass".into())), ..config(2525) };
            Mailer::new(&smtp).unwrap();
        }
    }
}
