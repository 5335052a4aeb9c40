//! `loadgen`: the SSE load client for `make bench`.
//!
//! `loadgen hold ...` opens streams and holds them while something else is measured.
//! `loadgen bench ...` (the orchestrator) spawns worker processes (`loadgen worker ...`),
//! each holding its share of the streams from several source addresses (127.0.0.2, .3, ...),
//! ramps them up at a fixed total rate, triggers status changes that carry a timestamp
//! (`bench-t=<unix µs>`), and records per stream how long each change took to arrive. It reads
//! the server's RSS and CPU from /proc, and prints one JSON line of results.
//!
//! The same client measures statuscast and nchan: it finds the marker in the raw stream, so it
//! does not care about JSON versus plain data.

mod orchestrator;
mod worker;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let code = match args.first().map(String::as_str) {
        Some("worker") => rt.block_on(worker::run(&args[1..])),
        Some("bench") => rt.block_on(orchestrator::run(&args[1..])),
        Some("hold") => rt.block_on(orchestrator::hold(&args[1..])),
        _ => {
            eprintln!("usage: loadgen bench --help | loadgen worker ...");
            Err("unknown command".to_string())
        }
    };
    if let Err(e) = code {
        eprintln!("loadgen: {e}");
        std::process::exit(1);
    }
}

/// Microseconds since the Unix epoch (the same clock in every process on this machine).
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

/// `--name value` pairs into a lookup.
pub struct Flags(Vec<(String, String)>);

impl Flags {
    pub fn parse(args: &[String]) -> Result<Flags, String> {
        let mut out = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let name = a.strip_prefix("--").ok_or_else(|| format!("expected --flag, got {a:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            out.push((name.to_string(), value.clone()));
        }
        Ok(Flags(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn req(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("--{name} is required"))
    }

    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name}: not a number: {v:?}")),
        }
    }
}
