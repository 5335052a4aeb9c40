//! A worker process: holds its share of the streams and reports what arrived.
//!
//! stdin commands, one per line: `report <marker> <marker> ...` (print the delays of those
//! changes), `close` (drop every stream), `connect` (open them again), EOF (exit).
//! stdout: `connected <ok> <failed>`, `delays <marker> <µs> <µs> ...`, `closed`, `dropped <n>`.

use crate::{now_us, Flags};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio::sync::watch;

const MARKER: &[u8] = b"bench-t=";

struct Shared {
    /// marker → delays in µs (first arrival per stream).
    delays: Mutex<HashMap<u64, Vec<u32>>>,
    dropped: AtomicUsize,
}

pub async fn run(args: &[String]) -> Result<(), String> {
    let f = Flags::parse(args)?;
    let target: SocketAddr = f.req("target")?.parse().map_err(|e| format!("--target: {e}"))?;
    let path = f.req("path")?.to_string();
    let streams: usize = f.num("streams", 1000)?;
    let rate: f64 = f.num("rate", 5000.0)?;
    let first_src: u32 = f.num("first-src", 2)?;
    let src_count: u32 = f.num("src-count", 1)?;
    let mut cycle = 0u32;

    let shared = Arc::new(Shared { delays: Mutex::new(HashMap::new()), dropped: AtomicUsize::new(0) });
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut open = Some(connect_all(&shared, target, &path, streams, rate, first_src, src_count).await);
    // Each new cycle connects from fresh source addresses: the last cycle's ports are still
    // in TIME_WAIT on the old ones.

    while let Ok(Some(line)) = stdin.next_line().await {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("report") => {
                let markers: Vec<u64> = words.filter_map(|w| w.parse().ok()).collect();
                let delays = shared.delays.lock().unwrap();
                for m in markers {
                    let list = delays.get(&m).map(Vec::as_slice).unwrap_or(&[]);
                    let mut out = format!("delays {m}");
                    for d in list {
                        out.push(' ');
                        out.push_str(&d.to_string());
                    }
                    println!("{out}");
                }
                println!("dropped {}", shared.dropped.load(Ordering::Relaxed));
                println!("end");
            }
            Some("close") => {
                if let Some((stop, handles)) = open.take() {
                    let _ = stop.send(true);
                    for h in handles {
                        let _ = h.await;
                    }
                }
                shared.delays.lock().unwrap().clear();
                shared.dropped.store(0, Ordering::Relaxed);
                println!("closed");
            }
            Some("connect") => {
                if open.is_none() {
                    cycle += 1;
                    let first = first_src + cycle * src_count;
                    open = Some(connect_all(&shared, target, &path, streams, rate, first, src_count).await);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

type Open = (watch::Sender<bool>, Vec<tokio::task::JoinHandle<()>>);

async fn connect_all(
    shared: &Arc<Shared>,
    target: SocketAddr,
    path: &str,
    streams: usize,
    rate: f64,
    first_src: u32,
    src_count: u32,
) -> Open {
    let (stop, stop_rx) = watch::channel(false);
    let (ok_tx, mut ok_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let request = Arc::new(format!(
        "GET {path} HTTP/1.1\r\nHost: {target}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    ));
    let mut handles = Vec::with_capacity(streams);
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let start = tokio::time::Instant::now();
    for i in 0..streams {
        tokio::time::sleep_until(start + interval * i as u32).await;
        let src = loopback(first_src + (i as u32 % src_count.max(1)));
        let shared = shared.clone();
        let request = request.clone();
        let ok_tx = ok_tx.clone();
        let stop_rx = stop_rx.clone();
        handles.push(tokio::spawn(async move {
            stream(shared, target, src, request, ok_tx, stop_rx).await;
        }));
    }
    drop(ok_tx);
    let (mut ok, mut failed) = (0usize, 0usize);
    while let Some(r) = ok_rx.recv().await {
        if r {
            ok += 1
        } else {
            failed += 1
        }
        if ok + failed == streams {
            break;
        }
    }
    println!("connected {ok} {failed}");
    (stop, handles)
}

async fn stream(
    shared: Arc<Shared>,
    target: SocketAddr,
    src: Ipv4Addr,
    request: Arc<String>,
    ok_tx: tokio::sync::mpsc::UnboundedSender<bool>,
    mut stop: watch::Receiver<bool>,
) {
    let connected = async {
        let socket = TcpSocket::new_v4().ok()?;
        socket.bind(SocketAddr::V4(SocketAddrV4::new(src, 0))).ok()?;
        let mut s = tokio::time::timeout(Duration::from_secs(10), socket.connect(target)).await.ok()?.ok()?;
        s.set_nodelay(true).ok()?;
        s.write_all(request.as_bytes()).await.ok()?;
        Some(s)
    }
    .await;
    let Some(mut s) = connected else {
        let _ = ok_tx.send(false);
        return;
    };
    let mut buf = vec![0u8; 4096];
    let mut filled = 0usize;
    let mut headers_ok = false;
    let mut seen: Vec<u64> = Vec::new();
    loop {
        let n = tokio::select! {
            r = s.read(&mut buf[filled..]) => match r { Ok(0) | Err(_) => 0, Ok(n) => n },
            _ = stop.changed() => return,
        };
        let now = now_us();
        if n == 0 {
            if headers_ok {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
            } else {
                let _ = ok_tx.send(false);
            }
            return;
        }
        filled += n;
        if !headers_ok {
            let Some(end) = find(&buf[..filled], b"\r\n\r\n") else {
                if filled == buf.len() {
                    let _ = ok_tx.send(false);
                    return;
                }
                continue;
            };
            if !buf.starts_with(b"HTTP/1.1 200") {
                let _ = ok_tx.send(false);
                return;
            }
            headers_ok = true;
            let _ = ok_tx.send(true);
            buf.copy_within(end + 4..filled, 0);
            filled -= end + 4;
        }
        // Record each complete marker; keep a tail that may hold a marker cut in two.
        let mut pos = 0;
        let mut cut = None;
        while let Some(i) = find(&buf[pos..filled], MARKER) {
            let start = pos + i + MARKER.len();
            let digits = buf[start..filled].iter().take_while(|b| b.is_ascii_digit()).count();
            if start + digits == filled {
                cut = Some(pos + i);
                break;
            }
            let number = std::str::from_utf8(&buf[start..start + digits]).unwrap_or("");
            if let Ok(m) = number.parse::<u64>() {
                if !seen.contains(&m) {
                    seen.push(m);
                    if seen.len() > 64 {
                        seen.remove(0);
                    }
                    let delay = now.saturating_sub(m).min(u32::MAX as u64) as u32;
                    shared.delays.lock().unwrap().entry(m).or_default().push(delay);
                }
            }
            pos = start + digits;
        }
        let keep_from = cut.unwrap_or_else(|| pos.max(filled.saturating_sub(MARKER.len() - 1)));
        buf.copy_within(keep_from..filled, 0);
        filled -= keep_from;
    }
}

/// The `index`-th address of 127.0.0.0/8 (index 2 is 127.0.0.2).
fn loopback(index: u32) -> Ipv4Addr {
    let i = index & 0x00ff_ffff;
    Ipv4Addr::new(127, (i >> 16) as u8, (i >> 8) as u8, i as u8)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
