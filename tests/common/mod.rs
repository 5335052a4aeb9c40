//! Test helpers: a real `statuscast` server process on an ephemeral port, and a small SSE
//! parser that follows the WHATWG rules, so tests read the stream the way a browser does.
#![allow(dead_code)]

use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const TOKEN: &str = "test-token-0123456789abcdef";

/// Host thresholds no machine reaches and no periodic re-sampling, so the real host's load
/// (a busy CI machine) cannot change levels or versions under a test. Tests that exercise
/// host health pass their own flags after these (a later flag wins).
pub const STEADY_HOST: &[&str] = &[
    "--host-interval",
    "1h",
    "--disk-degraded-pct",
    "0",
    "--disk-outage-pct",
    "0",
    "--memory-degraded-pct",
    "0",
    "--memory-outage-pct",
    "0",
    "--load-degraded",
    "1000000",
    "--load-outage",
    "1000000",
];

/// The time `ms_from_now` from now (negative: past), in whole seconds, as the API takes it.
pub fn rfc3339_in(ms_from_now: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    statuscast::server::clock::rfc3339((now + ms_from_now).div_euclid(1000) * 1000)
}

/// POSTs `body` as JSON with the operator token; the status and the JSON answer.
pub async fn post_json(server: &Server, path: &str, body: serde_json::Value) -> (reqwest::StatusCode, serde_json::Value) {
    let res = reqwest::Client::new().post(server.url(path)).bearer_auth(TOKEN).json(&body).send().await.unwrap();
    let code = res.status();
    (code, res.json().await.unwrap_or(serde_json::Value::Null))
}

pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub addr: String,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_statuscast")
}

pub fn leptos_toml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("Leptos.toml")
}

impl Server {
    /// Starts a server with a fresh data directory, the operator token set, and `extra` flags.
    pub async fn start(extra: &[&str]) -> Server {
        Server::start_fresh(Some(TOKEN), extra).await
    }

    /// Starts a server with a fresh data directory and no operator token.
    pub async fn start_without_token(extra: &[&str]) -> Server {
        Server::start_fresh(None, extra).await
    }

    async fn start_fresh(token: Option<&str>, extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut s = Server::start_in(&dir, "127.0.0.1:0", token, extra).await;
        s._tmp = Some(tmp);
        s
    }

    pub async fn start_in(data_dir: &Path, addr: &str, token: Option<&str>, extra: &[&str]) -> Server {
        Server::spawn(data_dir, addr, token, extra, None).await
    }

    /// Starts a server (fresh data directory, the token set) whose open-file limit, soft and
    /// hard, is `open_files`: the descriptor limits are reached with a few hundred connections.
    pub async fn start_with_open_files(open_files: u64, extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Server::spawn(tmp.path(), "127.0.0.1:0", Some(TOKEN), extra, Some(open_files)).await;
        s._tmp = Some(tmp);
        s
    }

    async fn spawn(data_dir: &Path, addr: &str, token: Option<&str>, extra: &[&str], open_files: Option<u64>) -> Server {
        let mut cmd = Command::new(binary());
        if let Some(n) = open_files {
            let limit = libc::rlimit { rlim_cur: n as libc::rlim_t, rlim_max: n as libc::rlim_t };
            // SAFETY: between fork and exec only setrlimit runs (async-signal-safe).
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd.arg("serve")
            .arg("--addr")
            .arg(addr)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--leptos-config")
            .arg(leptos_toml())
            .args(STEADY_HOST)
            // No statuscast.toml from the working directory: the embedded default, unless a
            // test passes its own --config.
            .arg("--config")
            .arg(data_dir.join("no-config.toml"))
            .args(extra)
            .env_remove("STATUSCAST_ADMIN_TOKEN")
            .env_remove("STATUSCAST_ADMIN_PASSWORD")
            .env_remove("STATUSCAST_DATABASE_URL")
            .env("STATUSCAST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(token) = token {
            cmd.env("STATUSCAST_ADMIN_TOKEN", token);
        }
        let mut child = cmd.spawn().expect("spawn statuscast");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("server printed its address in time")
            .unwrap()
            .expect("server printed a line");
        let base = line.strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let addr = base.trim_start_matches("https://").trim_start_matches("http://").to_string();
        Server { child: Some(child), base, addr, data_dir: data_dir.to_path_buf(), _tmp: None }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id().unwrap() as i32
    }

    /// Sends SIGTERM and returns how long the process took to exit, and its exit status.
    pub async fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let mut child = self.child.take().unwrap();
        let pid = child.id().unwrap() as i32;
        let start = Instant::now();
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status =
            tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("server exited within 10 s").unwrap();
        (start.elapsed(), status)
    }

    /// kill -9, and waits for the process to be gone.
    pub async fn kill9(&mut self) {
        let mut child = self.child.take().unwrap();
        child.start_kill().unwrap();
        child.wait().await.unwrap();
    }

    pub async fn version(&self) -> u64 {
        let v: serde_json::Value = reqwest::get(self.url("/api/v1/status")).await.unwrap().json().await.unwrap();
        v["version"].as_u64().unwrap()
    }

    pub async fn open_streams(&self) -> u64 {
        let text = reqwest::get(self.url("/metrics")).await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("statuscast_sse_streams "))
            .and_then(|v| v.trim().parse().ok())
            .expect("metrics list statuscast_sse_streams")
    }

    pub async fn set_override(&self, level: &str, message: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/api/v1/status"))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({ "level": level, "message": message }))
            .send()
            .await
            .unwrap()
    }
}

/// One dispatched SSE event, or a comment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
    /// How many `data:` lines made up `data`.
    pub data_lines: usize,
}

/// What the parser saw, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Event(Event),
    Retry(u64),
    Comment(String),
}

/// Reads an SSE response body and parses it into [`Item`]s (line ends CRLF, CR or LF;
/// events dispatched only at a blank line).
pub struct SseReader {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
    pending: Event,
    has_fields: bool,
    pub raw: String,
    pub ended: bool,
}

impl SseReader {
    pub fn new(res: reqwest::Response) -> Self {
        SseReader {
            body: res.bytes_stream().boxed(),
            buf: String::new(),
            pending: Event::default(),
            has_fields: false,
            raw: String::new(),
            ended: false,
        }
    }

    /// The next item, or None if the stream ended or nothing came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Item> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(item) = self.parse_one() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.body.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => {
                    self.ended = true;
                }
                Ok(Some(Ok(chunk))) => {
                    let text = std::str::from_utf8(&chunk).expect("SSE is UTF-8");
                    self.raw.push_str(text);
                    self.buf.push_str(text);
                }
            }
        }
    }

    /// The next dispatched event, skipping retry and comments.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Event> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await? {
                Item::Event(e) => return Some(e),
                _ => continue,
            }
        }
    }

    /// Reads until the stream ends (true) or `wait` passes (false).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while !self.ended {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            if self.next(left).await.is_none() && !self.ended {
                return false;
            }
        }
        true
    }

    fn take_line(&mut self) -> Option<String> {
        let i = self.buf.find(['\r', '\n'])?;
        let line = self.buf[..i].to_string();
        let skip = if self.buf[i..].starts_with("\r\n") {
            2
        } else if self.buf[i..].starts_with('\r') && i + 1 == self.buf.len() && !self.ended {
            return None; // a CR at the end of the buffer may be half of a CRLF
        } else {
            1
        };
        self.buf.drain(..i + skip);
        Some(line)
    }

    fn parse_one(&mut self) -> Option<Item> {
        while let Some(line) = self.take_line() {
            if line.is_empty() {
                if self.has_fields {
                    let mut e = std::mem::take(&mut self.pending);
                    self.has_fields = false;
                    if e.data_lines > 0 {
                        e.data.pop(); // the trailing LF the spec strips
                        return Some(Item::Event(e));
                    }
                }
                continue;
            }
            if let Some(comment) = line.strip_prefix(':') {
                return Some(Item::Comment(comment.to_string()));
            }
            let (field, value) = match line.find(':') {
                Some(i) => {
                    let v = &line[i + 1..];
                    (&line[..i], v.strip_prefix(' ').unwrap_or(v))
                }
                None => (line.as_str(), ""),
            };
            match field {
                "data" => {
                    self.pending.data.push_str(value);
                    self.pending.data.push('\n');
                    self.pending.data_lines += 1;
                    self.has_fields = true;
                }
                "event" => {
                    self.pending.event = Some(value.to_string());
                    self.has_fields = true;
                }
                "id" => {
                    self.pending.id = Some(value.to_string());
                    self.has_fields = true;
                }
                "retry" => {
                    if let Ok(ms) = value.parse() {
                        return Some(Item::Retry(ms));
                    }
                }
                other => panic!("unexpected SSE field {other:?} in line {line:?}"),
            }
        }
        None
    }
}

/// Opens `/connect_to_sse` with optional extra headers.
pub async fn connect(server: &Server, path_and_query: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(server.url(path_and_query));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// Polls `check` every 50 ms until it holds or `wait` passes.
pub async fn eventually<F, Fut>(wait: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + wait;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Posts incident updates as fast as the server acknowledges them, SIGKILLs it after 0.7 s,
/// restarts it on the same data (`args`: the database), and checks that no acknowledged update
/// was lost and none was half-written. Prints a JSON line for `make bench` (`backend`).
pub async fn sigkill_during_incident_updates(backend: &str, args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), args).await;
    let (code, incident) = post_json(
        &server,
        "/api/v1/incidents",
        serde_json::json!({ "title": "Crash test", "impact": "minor", "message": "update 0" }),
    )
    .await;
    assert_eq!(code, reqwest::StatusCode::CREATED);
    let id = incident["id"].as_i64().unwrap();
    let pid = server.pid();
    let writer = {
        let url = server.url(&format!("/api/v1/incidents/{id}/updates"));
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut acked = 0u64;
            for i in 1u64.. {
                let res = client
                    .post(&url)
                    .bearer_auth(TOKEN)
                    .json(&serde_json::json!({ "status": "monitoring", "message": format!("update {i}") }))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => acked = i,
                    _ => return acked,
                }
            }
            acked
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let acked = writer.await.unwrap();
    assert!(acked > 0, "some updates were acknowledged");
    drop(server);

    let again = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), args).await;
    let stored: serde_json::Value =
        reqwest::get(again.url(&format!("/api/v1/incidents/{id}"))).await.unwrap().json().await.unwrap();
    let updates = stored["updates"].as_array().unwrap();
    let newest: u64 = updates[0]["message"].as_str().unwrap().trim_start_matches("update ").parse().unwrap();
    assert!(newest >= acked, "acknowledged update {acked} lost; newest stored is {newest}");
    assert_eq!(updates.len() as u64, newest + 1, "every update up to the newest, none half-written");
    println!("{acked} incident updates acknowledged before SIGKILL; {} stored", updates.len());
    println!(
        "{{\"sigkill\": {{\"backend\": \"{backend}\", \"acknowledged\": {acked}, \"stored\": {newest}, \"lost\": {}}}}}",
        acked.saturating_sub(newest)
    );
}

/// One request a receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: std::collections::HashMap<String, String>,
    pub body: Vec<u8>,
}

/// A real HTTP receiver for webhooks: keeps each request, answers with `status`.
#[derive(Clone)]
pub struct Receiver {
    got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    pub status: std::sync::Arc<std::sync::atomic::AtomicU16>,
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new()
    }
}

impl Receiver {
    pub fn new() -> Receiver {
        Receiver { got: Default::default(), status: std::sync::Arc::new(std::sync::atomic::AtomicU16::new(200)) }
    }

    /// Serves on `listener` until the task is dropped.
    pub fn serve(&self, listener: std::net::TcpListener) -> tokio::task::JoinHandle<()> {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let me = self.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let me = me.clone();
            async move {
                let headers =
                    req.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
                let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap().to_vec();
                me.got.lock().unwrap().push(Received { headers, body });
                axum::http::StatusCode::from_u16(me.status.load(std::sync::atomic::Ordering::SeqCst)).unwrap()
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() })
    }

    /// A receiver serving on a port of its own: it, its address (`http://127.0.0.1:N/hook`)
    /// and the task serving it.
    pub fn listening() -> (Receiver, String, tokio::task::JoinHandle<()>) {
        let receiver = Receiver::new();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let serving = receiver.serve(listener);
        (receiver, url, serving)
    }

    pub fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// A port nobody listens on now (bound, then let go).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
