//! `loadgen bench`: one scenario against one server, printed as a JSON line.
//!
//! Flags:
//!   --name NAME            label in the output (statuscast, nchan)
//!   --target HOST:PORT     the server
//!   --path PATH            the SSE path (/connect_to_sse, /sub)
//!   --trigger KIND         statuscast (POST /api/v1/status with --token) or nchan (POST --pub-path)
//!   --token TOKEN          statuscast's operator token
//!   --pub-path PATH        nchan's publisher path (/pub)
//!   --pids PID,PID         server processes whose RSS and CPU are measured
//!   --streams N            streams to hold (default 1000)
//!   --changes M            status changes to push (default 5)
//!   --gap-ms MS            time between changes (default 2000)
//!   --rate R               new streams per second while ramping (default 5000)
//!   --per-proc N           streams per worker process (default 9500; 20,000 files each here)
//!   --churn K              after the measurement, K more connect/disconnect cycles
//!   --src-base I           first source address index (127.0.0.0/8; default 2); give each
//!                          scenario its own range so no port is still in TIME_WAIT

use crate::{now_us, Flags};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

struct Worker {
    _child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Worker {
    async fn send(&mut self, line: &str) -> Result<(), String> {
        self.stdin.write_all(format!("{line}\n").as_bytes()).await.map_err(|e| e.to_string())
    }

    async fn expect(&mut self, prefix: &str, wait: Duration) -> Result<String, String> {
        loop {
            let line = tokio::time::timeout(wait, self.stdout.next_line())
                .await
                .map_err(|_| format!("worker did not say {prefix:?} within {wait:?}"))?
                .map_err(|e| e.to_string())?
                .ok_or("worker exited")?;
            if line.starts_with(prefix) {
                return Ok(line);
            }
        }
    }
}

/// (resident bytes, CPU ticks) summed over the processes.
fn proc_usage(pids: &[u32]) -> (u64, u64) {
    let mut rss = 0;
    let mut ticks = 0;
    for pid in pids {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            rss += status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
                * 1024;
        }
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // Fields after the command name (which may hold spaces) start after ") ".
            if let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
                ticks += f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                ticks += f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    (rss, ticks)
}

async fn http(target: &str, request: String) -> Result<String, String> {
    let mut s = tokio::net::TcpStream::connect(target).await.map_err(|e| e.to_string())?;
    s.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut s, &mut out).await.map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

async fn trigger(f: &Flags, target: &str, i: usize, marker: u64) -> Result<(), String> {
    let (path, body, auth) = match f.req("trigger")? {
        "statuscast" => {
            let level = if i % 2 == 0 { "major_outage" } else { "partial_outage" };
            let body = format!(r#"{{"level":"{level}","message":"bench-t={marker}"}}"#);
            let auth = format!("Authorization: Bearer {}\r\n", f.req("token")?);
            ("/api/v1/status".to_string(), body, auth)
        }
        "nchan" => (f.req("pub-path")?.to_string(), format!("bench-t={marker}"), String::new()),
        other => return Err(format!("unknown --trigger {other}")),
    };
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {target}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let res = http(target, req).await?;
    if !(res.starts_with("HTTP/1.1 200") || res.starts_with("HTTP/1.1 201") || res.starts_with("HTTP/1.1 202")) {
        return Err(format!("trigger failed: {}", res.lines().next().unwrap_or("")));
    }
    Ok(())
}

/// statuscast's own count of open streams, if it is statuscast.
async fn server_streams(target: &str) -> Option<u64> {
    let res = http(target, format!("GET /metrics HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n")).await.ok()?;
    res.lines().find_map(|l| l.strip_prefix("statuscast_sse_streams ")).and_then(|v| v.trim().parse().ok())
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

async fn wait_connected(workers: &mut [Worker]) -> Result<(u64, u64), String> {
    let (mut ok, mut failed) = (0, 0);
    for w in workers.iter_mut() {
        let line = w.expect("connected", Duration::from_secs(120)).await?;
        let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
        ok += v[0];
        failed += v[1];
    }
    Ok((ok, failed))
}

async fn close_all(workers: &mut [Worker]) -> Result<(), String> {
    for w in workers.iter_mut() {
        w.send("close").await?;
    }
    for w in workers.iter_mut() {
        w.expect("closed", Duration::from_secs(60)).await?;
    }
    Ok(())
}

/// Worker processes holding `streams` between them (`per_proc` at most each).
fn spawn_workers(target: &str, path: &str, streams: usize, per_proc: usize, rate: f64, src_base: u32) -> Result<Vec<Worker>, String> {
    let procs = streams.div_ceil(per_proc).max(1);
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut workers = Vec::new();
    for p in 0..procs {
        let share = streams / procs + usize::from(p < streams % procs);
        // ~10,000 streams per source address keeps far from the ~28k ephemeral ports of one.
        let srcs = share.div_ceil(10_000).max(1);
        let mut child = Command::new(&me)
            .arg("worker")
            .args(["--target", &target, "--path", &path])
            .args(["--streams", &share.to_string(), "--rate", &(rate / procs as f64).to_string()])
            .args(["--first-src", &(src_base + p as u32 * 1000).to_string(), "--src-count", &srcs.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("spawn worker: {e}"))?;
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        workers.push(Worker { _child: child, stdin, stdout });
    }
    Ok(workers)
}

/// `loadgen hold --target HOST:PORT --path PATH --streams N [--per-proc N] [--rate R]
/// [--src-base I]`: opens the streams, prints `holding <ok> <failed>`, and holds them until
/// stdin ends (for measuring something else while they are open).
pub async fn hold(args: &[String]) -> Result<(), String> {
    let f = Flags::parse(args)?;
    let target = f.req("target")?.to_string();
    let path = f.req("path")?.to_string();
    let streams: usize = f.num("streams", 1000)?;
    let rate: f64 = f.num("rate", 5000.0)?;
    let per_proc: usize = f.num("per-proc", 9500)?;
    let src_base: u32 = f.num("src-base", 2)?;
    let mut workers = spawn_workers(&target, &path, streams, per_proc, rate, src_base)?;
    let (ok, failed) = wait_connected(&mut workers).await?;
    println!("holding {ok} {failed}");
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(_)) = stdin.next_line().await {}
    close_all(&mut workers).await
}

pub async fn run(args: &[String]) -> Result<(), String> {
    let f = Flags::parse(args)?;
    let name = f.get("name").unwrap_or("server").to_string();
    let target = f.req("target")?.to_string();
    let path = f.req("path")?.to_string();
    let pids: Vec<u32> = f.req("pids")?.split(',').filter_map(|p| p.trim().parse().ok()).collect();
    let streams: usize = f.num("streams", 1000)?;
    let changes: usize = f.num("changes", 5)?;
    let gap = Duration::from_millis(f.num("gap-ms", 2000)?);
    let rate: f64 = f.num("rate", 5000.0)?;
    let per_proc: usize = f.num("per-proc", 9500)?;
    let churn: usize = f.num("churn", 0)?;
    let src_base: u32 = f.num("src-base", 2)?;
    let ticks_per_s = 100.0; // USER_HZ on Linux

    let (idle_rss, _) = proc_usage(&pids);
    let mut workers = spawn_workers(&target, &path, streams, per_proc, rate, src_base)?;
    let procs = workers.len();
    let ramp_start = std::time::Instant::now();
    let (ok, failed) = wait_connected(&mut workers).await?;
    let ramp_s = ramp_start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (plateau_rss, cpu_before) = proc_usage(&pids);

    let fanout_start = std::time::Instant::now();
    let mut markers = Vec::new();
    for i in 0..changes {
        let marker = now_us();
        trigger(&f, &target, i, marker).await?;
        markers.push(marker);
        tokio::time::sleep(gap).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (peak_rss, cpu_after) = proc_usage(&pids);
    let cpu_pct = (cpu_after - cpu_before) as f64 / ticks_per_s / fanout_start.elapsed().as_secs_f64() * 100.0;

    let marker_list = markers.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    let mut delays: Vec<u32> = Vec::new();
    let mut dropped = 0u64;
    for w in workers.iter_mut() {
        w.send(&format!("report {marker_list}")).await?;
        loop {
            let line = w.expect("", Duration::from_secs(60)).await?;
            if line == "end" {
                break;
            }
            if let Some(rest) = line.strip_prefix("delays ") {
                delays.extend(rest.split_whitespace().skip(1).filter_map(|d| d.parse::<u32>().ok()));
            } else if let Some(n) = line.strip_prefix("dropped ") {
                dropped += n.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    delays.sort_unstable();
    let delivered = delays.len();
    let expected = ok as usize * changes;

    close_all(&mut workers).await?;
    // Cycles of churn: everything connects and disconnects again.
    let mut churn_rss = Vec::new();
    let mut churn_failed = 0;
    for _ in 0..churn {
        for w in workers.iter_mut() {
            w.send("connect").await?;
        }
        let (_, f2) = wait_connected(&mut workers).await?;
        churn_failed += f2;
        tokio::time::sleep(Duration::from_secs(2)).await;
        churn_rss.push(proc_usage(&pids).0);
        close_all(&mut workers).await?;
    }
    // Open streams after everyone left (statuscast counts them).
    let mut left_open = server_streams(&target).await;
    for _ in 0..50 {
        if left_open.unwrap_or(0) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left_open = server_streams(&target).await;
    }
    let (after_rss, _) = proc_usage(&pids);
    let per_stream = if ok > 0 { (peak_rss.max(plateau_rss) as f64 - idle_rss as f64) / ok as f64 } else { f64::NAN };

    let result = serde_json::json!({
        "name": name,
        "streams": streams,
        "connected": ok,
        "connect_failed": failed,
        "ramp_s": (ramp_s * 100.0).round() / 100.0,
        "changes": changes,
        "delivered": delivered,
        "expected": expected,
        "dropped": dropped,
        "p50_ms": percentile(&delays, 50.0),
        "p99_ms": percentile(&delays, 99.0),
        "max_ms": percentile(&delays, 100.0),
        "idle_rss_kib": idle_rss / 1024,
        "plateau_rss_kib": plateau_rss / 1024,
        "peak_rss_kib": peak_rss / 1024,
        "after_rss_kib": after_rss / 1024,
        "rss_per_stream_kib": (per_stream / 1024.0 * 100.0).round() / 100.0,
        "cpu_pct_during_fanout": (cpu_pct * 10.0).round() / 10.0,
        "churn_plateaus_kib": churn_rss.iter().map(|r| r / 1024).collect::<Vec<_>>(),
        "churn_connect_failed": churn_failed,
        "open_streams_after": left_open,
        "processes": procs,
    });
    println!("{result}");
    Ok(())
}
