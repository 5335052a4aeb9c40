//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a fresh directory,
//! `postgres` on a free loopback port with trust authentication, deleted when dropped. If
//! the process that made it dies first (a killed test run), a small watchdog stops the
//! cluster and deletes it. As root (this machine's CI), the server runs as the `postgres`
//! user, since PostgreSQL refuses to run as root. Nothing here is used by `serve`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub struct Throwaway {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    watchdog: Option<Child>,
}

/// Where `initdb`, `pg_ctl` and `postgres` are: on PATH, or Debian's versioned directory.
fn bin_dir() -> PathBuf {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return dir;
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|b| b.join("initdb").is_file()).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .expect("PostgreSQL is not installed: no initdb on PATH or under /usr/lib/postgresql (apt-get install postgresql)")
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn run(what: &str, cmd: &mut Command) {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

impl Throwaway {
    /// Creates and starts a cluster (a second or two).
    pub fn start() -> Throwaway {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "statuscast-pg-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            fastrand::u32(..)
        ));
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        if is_root() {
            run("chown of the cluster directory", Command::new("chown").arg("postgres:").arg(&dir));
        }
        let mut cluster = Throwaway { dir, port: free_port(), bin: bin_dir(), watchdog: None };
        let data = cluster.data();
        cluster.run_pg(
            "initdb",
            cluster.command("initdb").arg("-D").arg(&data).args([
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]),
        );
        cluster.watchdog = Some(cluster.spawn_watchdog());
        cluster.resume();
        cluster
    }

    /// One cluster for the whole test process, started on first use.
    pub fn shared() -> &'static Throwaway {
        static SHARED: OnceLock<Throwaway> = OnceLock::new();
        SHARED.get_or_init(Throwaway::start)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A command for one of PostgreSQL's programs, as the `postgres` user when run as root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run_pg(&self, what: &str, cmd: &mut Command) {
        run(what, cmd.current_dir(&self.dir));
    }

    fn spawn_watchdog(&self) -> Child {
        let pg_ctl = self.bin.join("pg_ctl");
        let as_user = if is_root() { "runuser -u postgres -- " } else { "" };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {as_user}'{pg_ctl}' -D '{data}' stop -m immediate >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            pg_ctl = pg_ctl.display(),
            data = self.data().display(),
            dir = self.dir.display(),
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the cluster's watchdog")
    }

    /// Starts the server (again, after [`Throwaway::stop`]) on the same port; returns once it
    /// accepts connections.
    pub fn resume(&self) {
        let options = format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=300", self.port, self.dir.display());
        let log = self.dir.join("postgres.log");
        self.run_pg(
            "pg_ctl start",
            self.command("pg_ctl").arg("-D").arg(self.data()).arg("-l").arg(log).arg("-o").arg(options).args(["-w", "start"]),
        );
    }

    /// Stops the server (fast shutdown: connections are ended, as in a restart).
    pub fn stop(&self) {
        self.run_pg("pg_ctl stop", self.command("pg_ctl").arg("-D").arg(self.data()).args(["-m", "fast", "-w", "stop"]));
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The URL of a database of this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a new, empty database; its URL.
    pub async fn database(&self) -> String {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!("t{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres")).await.expect("connect to the throwaway cluster");
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await.expect("CREATE DATABASE");
        admin.close().await.ok();
        self.url(&name)
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").arg("-D").arg(self.data()).args(["-m", "immediate", "-w", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}
