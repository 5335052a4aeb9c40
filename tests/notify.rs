//! Notifications against real peers: a real SMTP server (`tools/smtp_sink.py`, aiosmtpd) and
//! a real HTTP receiver (axum, in this process), with the real `statuscast` binary.

mod common;

use common::{eventually, free_port, post_json, Received, Receiver, Server};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A local SMTP server that keeps each message as `<n>.eml`.
struct SmtpSink {
    _child: tokio::process::Child,
    port: u16,
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl SmtpSink {
    async fn start() -> SmtpSink {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/smtp_sink.py");
        let mut child = tokio::process::Command::new("/usr/bin/python3")
            .arg(script)
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 with aiosmtpd (Debian: python3-aiosmtpd; make test installs it)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
        let port = line.strip_prefix("ready ").unwrap_or_else(|| panic!("smtp_sink said {line:?}")).trim().parse().unwrap();
        SmtpSink { _child: child, port, dir, _tmp: tmp }
    }

    /// The messages received so far, in order, parsed.
    fn mails(&self) -> Vec<Vec<u8>> {
        (1..).map(|n| self.dir.join(format!("{n}.eml"))).map_while(|p| std::fs::read(p).ok()).collect()
    }

    async fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        assert!(
            eventually(Duration::from_secs(20), || async { self.mails().len() >= n }).await,
            "{n} mails arrived (got {})",
            self.mails().len()
        );
        self.mails()
    }
}

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("statuscast.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A component checked by connecting to `addr` every 200 ms (down when nothing listens).
fn tcp_component(id: &str, addr: &str) -> String {
    format!(
        r#"
[[component]]
id = "{id}"
name = "The {id}"

[[component.check]]
kind = "tcp"
address = "{addr}"
interval = "200ms"
timeout = "150ms"
"#
    )
}

fn text_of(mail: &[u8]) -> (mailparse::ParsedMail<'_>, String, String) {
    let parsed = mailparse::parse_mail(mail).unwrap();
    let part = |mime: &str| {
        parsed
            .subparts
            .iter()
            .chain(std::iter::once(&parsed))
            .find(|p| p.ctype.mimetype == mime)
            .map(|p| p.get_body().unwrap())
            .unwrap_or_default()
    };
    let (text, html) = (part("text/plain"), part("text/html"));
    (parsed, text, html)
}

fn header(mail: &mailparse::ParsedMail<'_>, name: &str) -> Option<String> {
    use mailparse::MailHeaderMap;
    mail.headers.get_first_value(name)
}

/// The first `http://...` link in `text` that contains `needle`.
fn link(text: &str, needle: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .find(|w| w.starts_with("http") && w.contains(needle))
        .unwrap_or_else(|| panic!("a link with {needle} in {text}"))
        .to_string()
}

#[tokio::test]
async fn a_viewer_subscribes_by_email_confirms_hears_of_an_incident_and_unsubscribes_in_one_click() {
    let smtp = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &format!(
            r#"
[page]
name = "Acme <Status>"
url = "http://127.0.0.1:{port}"

[subscriptions]
email = true
smtp = {{ host = "127.0.0.1", port = {}, tls = "none", from = "Acme Status <status@acme.test>" }}
{}"#,
            smtp.port,
            tcp_component("api", "127.0.0.1:9")
        ),
    );
    let server = Server::start_in(dir.path(), &format!("127.0.0.1:{port}"), Some(common::TOKEN), &["--config", &config]).await;
    let client = reqwest::Client::new();

    // The form is on the status page, and works without JavaScript (a plain post).
    let page = client.get(server.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"action="/subscribe""#), "the form is on the page");
    let bad =
        client.post(server.url("/subscribe")).form(&[("channel", "email"), ("address", "not-an-address")]).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("is not an email address"));
    let res = client
        .post(server.url("/subscribe"))
        .form(&[("channel", "email"), ("address", "viewer@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Check your inbox"));

    // The confirmation mail: text and HTML, the confirmation link, List-Unsubscribe.
    let mails = smtp.wait_for(1).await;
    let (mail, text, html) = text_of(&mails[0]);
    assert_eq!(header(&mail, "To").as_deref(), Some("viewer@example.com"));
    assert!(header(&mail, "Subject").unwrap().contains("Acme <Status>"));
    assert!(html.contains("Acme &lt;Status&gt;") && !html.contains("Acme <Status>"), "escaped in HTML: {html}");
    let confirm = link(&text, "/subscribe/confirm?token=");
    assert!(header(&mail, "List-Unsubscribe").unwrap().contains("/unsubscribe?token="));
    assert_eq!(header(&mail, "List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));

    // Not confirmed yet: an incident reaches nobody.
    let (code, _) = post_json(
        &server,
        "/api/v1/incidents",
        serde_json::json!({"title": "early", "impact": "minor", "status": "investigating", "message": "x"}),
    )
    .await;
    assert_eq!(code, 201);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.mails().len(), 1, "nothing for an unconfirmed subscriber");

    // Following the link confirms.
    let res = client.get(&confirm).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Subscription confirmed"));

    // An incident: the mail tells it, with every typed field escaped, and how to leave.
    let (code, incident) = post_json(
        &server,
        "/api/v1/incidents",
        serde_json::json!({
            "title": "Database <script>alert(1)</script>",
            "impact": "major",
            "components": ["api"],
            "status": "investigating",
            "message": "Reads are slow & <b>writes</b> fail"
        }),
    )
    .await;
    assert_eq!(code, 201, "{incident}");
    let mails = smtp.wait_for(2).await;
    let (mail, text, html) = text_of(&mails[1]);
    assert!(header(&mail, "Subject").unwrap().contains("Database <script>alert(1)</script>"));
    assert!(text.contains("Reads are slow & <b>writes</b> fail"), "{text}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;b&gt;writes&lt;/b&gt;"), "{html}");
    let unsubscribe = header(&mail, "List-Unsubscribe").unwrap();
    let unsubscribe = unsubscribe.trim().trim_start_matches('<').trim_end_matches('>').to_string();
    assert!(text.contains(&unsubscribe), "the unsubscribe link is in the mail too");

    // One click (RFC 8058: the mail client posts), and no more mail.
    let res = client.post(&unsubscribe).body("List-Unsubscribe=One-Click").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let id = incident["id"].as_i64().unwrap();
    let (code, _) = post_json(
        &server,
        &format!("/api/v1/incidents/{id}/updates"),
        serde_json::json!({"status": "resolved", "message": "fixed"}),
    )
    .await;
    assert_eq!(code, 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.mails().len(), 2, "nothing after unsubscribing");
    assert_eq!(client.get(&unsubscribe).send().await.unwrap().status(), 404, "the link is spent");
}

/// Verifies `X-Statuscast-Signature: sha256=<hex>` over `body` with `secret`.
fn signed(secret: &str, body: &[u8], header: &str) -> bool {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    header == format!("sha256={hex}")
}

#[tokio::test]
async fn a_webhook_down_for_a_while_gets_the_alert_once_when_back_signed() {
    let dir = tempfile::tempdir().unwrap();
    let hook_port = free_port();
    let service = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let service_addr = service.local_addr().unwrap().to_string();
    let config = write_config(
        dir.path(),
        &format!(
            r#"
[[notify]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"
secret = "s3cret-for-hmac"
min_level = "major_outage"
{}"#,
            tcp_component("api", &service_addr)
        ),
    );
    let server = Server::start(&["--config", &config]).await;
    assert!(eventually(Duration::from_secs(10), || async { server.version().await > 0 }).await);
    // The service goes down: an alert, but nobody listens at the webhook's address.
    drop(service);
    let metrics = || async { reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap() };
    assert!(
        eventually(Duration::from_secs(15), || async {
            metrics().await.contains("statuscast_notify_attempts_total{result=\"error\"} 1")
        })
        .await,
        "the first attempt failed"
    );
    assert!(metrics().await.contains("statuscast_notify_deliveries{state=\"pending\"} 1"), "{}", metrics().await);
    // Back: the retry (15 s after the first attempt) arrives, once.
    let receiver = Receiver::new();
    let _serving = receiver.serve(std::net::TcpListener::bind(("127.0.0.1", hook_port)).unwrap());
    assert!(eventually(Duration::from_secs(30), || async { !receiver.got().is_empty() }).await, "retried");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = receiver.got();
    assert_eq!(got.len(), 1, "once");
    let r = &got[0];
    assert!(signed("s3cret-for-hmac", &r.body, &r.headers["x-statuscast-signature"]), "the HMAC verifies");
    assert!(r.headers["idempotency-key"].starts_with("statuscast-"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["meta"]["event"], "component.changed");
    assert_eq!(body["component_update"]["old_status"], "operational");
    assert_eq!(body["component_update"]["new_status"], "major_outage");
    assert_eq!(body["component"]["name"], "The api");
    assert!(body["page"]["status_indicator"].is_string());
    assert!(
        eventually(Duration::from_secs(5), || async {
            metrics().await.contains("statuscast_notify_deliveries{state=\"sent\"} 1")
        })
        .await
    );
}

#[tokio::test]
async fn deliveries_pending_at_a_kill_9_are_sent_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let hook_port = free_port();
    let config = write_config(
        dir.path(),
        &format!(
            r#"
[[notify]]
name = "chat"
kind = "slack"
url = "http://127.0.0.1:{hook_port}/slack"

[[notify]]
name = "phone"
kind = "ntfy"
url = "http://127.0.0.1:{hook_port}/alerts"
{}"#,
            tcp_component("api", "127.0.0.1:9")
        ),
    );
    let mut server = Server::start_in(dir.path(), "127.0.0.1:0", Some(common::TOKEN), &["--config", &config]).await;
    let (code, _) = post_json(
        &server,
        "/api/v1/incidents",
        serde_json::json!({"title": "Payments <down>", "impact": "critical", "status": "investigating", "message": "on it"}),
    )
    .await;
    assert_eq!(code, 201);
    let metrics = || async { reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap() };
    assert!(
        eventually(Duration::from_secs(15), || async {
            metrics().await.contains("statuscast_notify_attempts_total{result=\"error\"} 4")
        })
        .await,
        "both alerts (api down; the incident) failed once at both entries: {}",
        metrics().await
    );
    // kill -9, the receiver comes up, and a new process on the same data sends them.
    server.kill9().await;
    let receiver = Receiver::new();
    let _serving = receiver.serve(std::net::TcpListener::bind(("127.0.0.1", hook_port)).unwrap());
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(common::TOKEN), &["--config", &config]).await;
    assert!(eventually(Duration::from_secs(30), || async { receiver.got().len() >= 4 }).await, "sent after the restart");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = receiver.got();
    assert_eq!(got.len(), 4, "each once: {got:?}");
    let slack: Vec<serde_json::Value> = got
        .iter()
        .filter(|r| r.headers["content-type"].starts_with("application/json"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(slack.len(), 2);
    assert!(slack.iter().any(|s| s["text"].as_str().unwrap().contains("Payments &lt;down&gt;")), "Slack's escaping: {slack:?}");
    let ntfy: Vec<&Received> = got.iter().filter(|r| r.headers["content-type"].starts_with("text/plain")).collect();
    assert_eq!(ntfy.len(), 2);
    assert!(ntfy.iter().any(|r| r.headers.get("priority").map(String::as_str) == Some("5")), "critical: {ntfy:?}");
    drop(server);
}

#[tokio::test]
async fn webhook_subscriptions_to_private_addresses_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_url = format!("http://{}/status", hook.local_addr().unwrap());
    let config = write_config(dir.path(), &format!("[subscriptions]\nwebhook = true\n{}", tcp_component("api", "127.0.0.1:9")));
    let strict = Server::start(&["--config", &config]).await;
    let api = |server: &Server, address: &str| {
        let url = server.url("/api/v1/subscriptions");
        let body = serde_json::json!({"channel": "webhook", "address": address});
        async move { reqwest::Client::new().post(url).json(&body).send().await.unwrap() }
    };
    for private in
        [hook_url.as_str(), "http://localhost/x", "http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x"]
    {
        let res = api(&strict, private).await;
        assert_eq!(res.status(), 422, "{private}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["field"], "address", "{body}");
    }
    let res = api(&strict, "ftp://example.com/x").await;
    assert_eq!(res.status(), 422);

    let open = Server::start(&["--config", &config, "--allow-private-webhooks"]).await;
    let res = api(&open, &hook_url).await;
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["status"], "subscribed");
    let receiver = Receiver::new();
    let _serving = receiver.serve(hook);
    let (code, _) = post_json(
        &open,
        "/api/v1/incidents",
        serde_json::json!({"title": "Slow", "impact": "minor", "status": "investigating", "message": "looking"}),
    )
    .await;
    assert_eq!(code, 201);
    assert!(eventually(Duration::from_secs(10), || async { receiver.got().len() == 1 }).await);
    let body: serde_json::Value = serde_json::from_slice(&receiver.got()[0].body).unwrap();
    assert_eq!(body["meta"]["event"], "incident.opened");
    assert_eq!(body["incident"]["name"], "Slow");
    assert_eq!(body["incident"]["incident_updates"][0]["body"], "looking");
}

#[tokio::test]
async fn operators_hear_of_a_component_by_email_and_discord_by_their_rules() {
    let smtp = SmtpSink::start().await;
    let receiver = Receiver::new();
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_port = hook.local_addr().unwrap().port();
    let _serving = receiver.serve(hook);
    let service = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let service_addr = service.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            r#"
[page]
name = "Acme"

[[notify]]
name = "oncall"
kind = "email"
to = ["oncall@example.com", "lead@example.com"]
host = "127.0.0.1"
port = {}
tls = "none"
from = "Acme Status <status@acme.test>"

[[notify]]
name = "chat"
kind = "discord"
url = "http://127.0.0.1:{hook_port}/discord"
min_level = "major_outage"
recovery = false
incidents = false
{}"#,
            smtp.port,
            tcp_component("api", &service_addr.to_string())
        ),
    );
    let server = Server::start(&["--config", &config]).await;
    assert!(eventually(Duration::from_secs(10), || async { server.version().await > 0 }).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(smtp.mails().is_empty() && receiver.got().is_empty(), "operational from the start: nothing to say");

    // Down: both hear of it (each address of the email entry gets its mail).
    drop(service);
    let mails = smtp.wait_for(2).await;
    let (mail, text, html) = text_of(&mails[0]);
    let subject = header(&mail, "Subject").unwrap();
    assert!(subject.contains("The api") && subject.contains("Major outage"), "{subject}");
    assert!(text.contains("Operational") && html.contains("Major outage"), "{text}");
    assert_eq!(header(&mail, "List-Unsubscribe"), None, "an operator's alert has no unsubscribe link");
    let mut to: Vec<String> = mails.iter().map(|m| header(&text_of(m).0, "To").unwrap()).collect();
    to.sort();
    assert_eq!(to, ["lead@example.com", "oncall@example.com"]);
    assert!(eventually(Duration::from_secs(10), || async { receiver.got().len() == 1 }).await);
    let discord: serde_json::Value = serde_json::from_slice(&receiver.got()[0].body).unwrap();
    assert!(discord["embeds"][0]["title"].as_str().unwrap().contains("The api"), "{discord}");
    assert_eq!(discord["allowed_mentions"]["parse"], serde_json::json!([]));

    // Back up: the email entry hears of the recovery; the Discord one asked not to.
    let _service = std::net::TcpListener::bind(service_addr).unwrap();
    let mails = smtp.wait_for(4).await;
    let subject = header(&text_of(&mails[3]).0, "Subject").unwrap();
    assert!(subject.contains("Operational"), "{subject}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.got().len(), 1, "no recovery for the Discord entry");
    // An incident: the email entry (incidents = true) hears of it, Discord (false) does not.
    let (code, _) = post_json(
        &server,
        "/api/v1/incidents",
        serde_json::json!({"title": "Planned DB failover", "impact": "minor", "status": "identified", "message": "soon"}),
    )
    .await;
    assert_eq!(code, 201);
    let mails = smtp.wait_for(6).await;
    assert!(header(&text_of(&mails[5]).0, "Subject").unwrap().contains("Planned DB failover"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.got().len(), 1);
}

#[tokio::test]
async fn a_component_still_failing_is_reminded_of_every_remind_every() {
    let (receiver, hook_url, _serving) = Receiver::listening();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            r#"
[[notify]]
name = "ops"
kind = "webhook"
url = "{hook_url}"
remind_every = "1m"
{}"#,
            tcp_component("api", "127.0.0.1:9")
        ),
    );
    let server = Server::start(&["--config", &config]).await;
    assert!(eventually(Duration::from_secs(10), || async { receiver.got().len() == 1 }).await, "the alert");
    let first = std::time::Instant::now();
    // The reminder comes a minute later (reminders are looked for every 15 s), not before.
    assert!(eventually(Duration::from_secs(85), || async { receiver.got().len() == 2 }).await, "the reminder");
    let after = first.elapsed();
    assert!(after >= Duration::from_secs(55), "not before its time: {after:?}");
    let events: Vec<String> = receiver
        .got()
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["meta"]["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["component.changed", "component.reminder"]);
    drop(server);
}

#[tokio::test]
async fn a_restart_while_a_component_is_down_alerts_nobody_again() {
    let (receiver, hook_url, _serving) = Receiver::listening();
    let dir = tempfile::tempdir().unwrap();
    // A check slower than the first round's 2 s wait: the first snapshot after a start shows
    // the component unchecked (a placeholder), which must not read as a recovery.
    let config = write_config(
        dir.path(),
        &format!(
            r#"
[[notify]]
name = "ops"
kind = "webhook"
url = "{hook_url}"

[[component]]
id = "batch"
name = "Batch"

[[component.check]]
kind = "command"
command = ["sh", "-c", "sleep 3; echo CRITICAL; exit 2"]
interval = "20s"
timeout = "10s"
"#
        ),
    );
    let mut server = Server::start_in(dir.path(), "127.0.0.1:0", Some(common::TOKEN), &["--config", &config]).await;
    assert!(eventually(Duration::from_secs(15), || async { receiver.got().len() == 1 }).await, "the alert");
    server.terminate().await;
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(common::TOKEN), &["--config", &config]).await;
    let checked = || async {
        let s: serde_json::Value = reqwest::get(server.url("/api/v1/status")).await.unwrap().json().await.unwrap();
        s["components"][0]["checked_at_ms"].as_i64().unwrap_or(0) > 0
    };
    assert!(eventually(Duration::from_secs(15), checked).await, "checked again after the restart");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.got().len(), 1, "still down: nothing new to say");
}
