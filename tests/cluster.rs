//! Several instances on one PostgreSQL (a throwaway cluster), as real processes: one leader
//! runs the checks and publishes; every instance serves the same versions with the same bytes;
//! the leader's death (SIGKILL), its cut connection (`pg_terminate_backend`) and PostgreSQL's
//! restart are survived; a write at any instance is answered once that instance shows it.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;
use statuscast::server::cluster::leader::{APPLICATION_NAME, LOCK_KEY};
use statuscast::server::store::postgres::throwaway::Throwaway;
use std::time::{Duration, Instant};

/// A metric of a server; `None` if it does not answer (killed).
async fn metric(server: &Server, name: &str) -> Option<u64> {
    let res = reqwest::Client::new().get(server.url("/metrics")).timeout(Duration::from_secs(2)).send().await.ok()?;
    let text = res.text().await.ok()?;
    let prefix = format!("{name} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok())
}

/// The index of the one instance (of those not in `gone`) that says it leads, once exactly one does.
async fn leader(servers: &[Server], gone: &[usize], wait: Duration) -> usize {
    let deadline = Instant::now() + wait;
    loop {
        let mut leading = Vec::new();
        for (i, s) in servers.iter().enumerate() {
            if !gone.contains(&i) && metric(s, "statuscast_leader").await == Some(1) {
                leading.push(i);
            }
        }
        if leading.len() == 1 {
            return leading[0];
        }
        assert!(Instant::now() < deadline, "no single leader within {wait:?}: {leading:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status(server: &Server) -> Value {
    reqwest::get(server.url("/api/v1/status")).await.unwrap().json().await.unwrap()
}

/// Three instances on the database `url`, each with its own data directory, and `extra` flags.
async fn three(url: &str, extra: &[&str]) -> (Vec<Server>, Vec<tempfile::TempDir>) {
    let mut servers = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["--database-url", url];
        args.extend_from_slice(extra);
        servers.push(Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &args).await);
        dirs.push(dir);
    }
    (servers, dirs)
}

/// Waits until every instance (not in `gone`) shows at least `version`.
async fn all_at_least(servers: &[Server], gone: &[usize], version: u64, wait: Duration) {
    for (i, s) in servers.iter().enumerate() {
        if gone.contains(&i) {
            continue;
        }
        let reached = eventually(wait, || async { metric(s, "statuscast_snapshot_version").await.unwrap_or(0) >= version });
        assert!(reached.await, "instance {i} did not reach version {version}");
    }
}

/// Opens a stream on each server and reads its first event (the current snapshot).
async fn streams(servers: &[Server]) -> Vec<SseReader> {
    let mut readers = Vec::new();
    for s in servers {
        let mut r = SseReader::new(connect(s, "/connect_to_sse", &[]).await);
        r.next_event(Duration::from_secs(5)).await.expect("the current snapshot");
        readers.push(r);
    }
    readers
}

/// The next event on `reader` whose data contains `needle`.
async fn event_with(reader: &mut SseReader, needle: &str, wait: Duration) -> Event {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let e = reader.next_event(left).await.unwrap_or_else(|| panic!("no event with {needle:?} within {wait:?}"));
        if e.data.contains(needle) {
            return e;
        }
    }
}

/// Waits until every instance (not in `gone`) answers the same snapshot, byte for byte, and
/// it contains `needle` (instances may skip versions: a hub holds the newest only); its version.
async fn converged(servers: &[Server], gone: &[usize], needle: &str, wait: Duration) -> u64 {
    let deadline = Instant::now() + wait;
    loop {
        let mut bodies = Vec::new();
        for (i, s) in servers.iter().enumerate() {
            if !gone.contains(&i) {
                bodies.push(reqwest::get(s.url("/api/v1/status")).await.unwrap().bytes().await.unwrap());
            }
        }
        let text = String::from_utf8_lossy(&bodies[0]).to_string();
        if bodies.iter().all(|b| b == &bodies[0]) && text.contains(needle) {
            return serde_json::from_str::<Value>(&text).unwrap()["version"].as_u64().unwrap();
        }
        assert!(Instant::now() < deadline, "not converged on {needle:?} within {wait:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn pg(url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(url).await.unwrap()
}

#[tokio::test]
async fn a_change_posted_to_one_instance_reaches_every_instance_with_the_same_version_and_bytes() {
    let url = Throwaway::shared().database().await;
    let (servers, _dirs) = three(&url, &[]).await;
    leader(&servers, &[], Duration::from_secs(10)).await;
    all_at_least(&servers, &[], 1, Duration::from_secs(10)).await;
    let mut readers = streams(&servers).await;

    let posted = Instant::now();
    let (code, incident) = post_json(
        &servers[0],
        "/api/v1/incidents",
        json!({ "title": "Cluster <test>", "impact": "major", "message": "Seen everywhere." }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{incident}");
    let answered = posted.elapsed();
    let mut events = Vec::new();
    for r in readers.iter_mut() {
        events.push(event_with(r, "Cluster <test>", Duration::from_secs(5)).await);
    }
    println!("posted to A: answered in {answered:?}, on the streams of A, B and C within {:?}", posted.elapsed());
    assert!(events[0].id.is_some());
    for e in &events[1..] {
        assert_eq!(e.id, events[0].id, "the same version on every instance");
        assert_eq!(e.data, events[0].data, "the same bytes on every instance");
    }
    // The JSON API too, byte for byte, with the version as its ETag.
    let mut bodies = Vec::new();
    for s in &servers {
        let res = reqwest::get(s.url("/api/v1/status")).await.unwrap();
        let etag = res.headers()["etag"].to_str().unwrap().to_string();
        bodies.push((etag, res.bytes().await.unwrap()));
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]), "every instance answers the same snapshot");
    assert_eq!(bodies[0].0, format!("\"{}\"", events[0].id.as_deref().unwrap()));
    // One leader, one term and the leader's version, known to all.
    let version: u64 = events[0].id.as_deref().unwrap().parse().unwrap();
    let mut terms = Vec::new();
    for s in &servers {
        terms.push(metric(s, "statuscast_leader_term").await.unwrap());
        assert_eq!(metric(s, "statuscast_snapshot_version").await, Some(version));
        assert_eq!(metric(s, "statuscast_leader_version").await, Some(version));
    }
    assert!(terms.iter().all(|t| *t == terms[0] && *t >= 1), "{terms:?}");
    // A single instance started on this database later goes on above the cluster's versions.
    let reserved: i64 = sqlx::query_scalar("SELECT reserved_version FROM engine_state WHERE id = 1")
        .fetch_one(&mut pg(&url).await)
        .await
        .unwrap();
    assert!(reserved as u64 >= version, "reserved {reserved}, published {version}");
}

#[tokio::test]
async fn a_write_at_a_follower_is_answered_once_that_follower_shows_it() {
    let url = Throwaway::shared().database().await;
    let dir = tempfile::tempdir().unwrap();
    let beat_token = "job-token-0123456789abcdef";
    let config = dir.path().join("statuscast.toml");
    std::fs::write(
        &config,
        format!("[[component]]\nid = \"backup\"\nname = \"Backup\"\n[[component.check]]\nkind = \"heartbeat\"\nperiod = \"2s\"\ntoken = \"{beat_token}\"\n"),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let (servers, _dirs) = three(&url, &["--config", &config, "--detail-refresh", "100ms"]).await;
    let lead = leader(&servers, &[], Duration::from_secs(10)).await;
    let follower = &servers[(lead + 1) % 3];
    all_at_least(&servers, &[], 1, Duration::from_secs(10)).await;

    for n in 0..5 {
        let title = format!("Follower write {n}");
        let (code, incident) =
            post_json(follower, "/api/v1/incidents", json!({ "title": title, "impact": "minor", "message": "x" })).await;
        assert_eq!(code, StatusCode::CREATED, "{incident}");
        // Read your writes: the follower's own snapshot has it the moment it answers.
        let shown = status(follower).await;
        let titles: Vec<&str> = shown["incidents"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
        assert!(titles.contains(&title.as_str()), "{titles:?}");
    }
    // The override too, and clearing it.
    let res = follower.set_override("major_outage", "Set at a follower").await;
    assert_eq!(res.status(), StatusCode::OK);
    let answered: Value = res.json().await.unwrap();
    assert_eq!(answered["override"]["message"], "Set at a follower", "{answered}");
    assert_eq!(status(follower).await["level"], "major_outage");
    let cleared = reqwest::Client::new().delete(follower.url("/api/v1/status")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(cleared.status(), StatusCode::OK);
    assert!(status(follower).await["override"].is_null());
    // A maintenance window scheduled at the follower.
    let (code, window) = post_json(
        follower,
        "/api/v1/maintenance",
        json!({ "title": "Swap", "starts_at": rfc3339_in(3_600_000), "ends_at": rfc3339_in(7_200_000), "components": ["backup"] }),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{window}");
    assert_eq!(status(follower).await["maintenance"][0]["title"], "Swap");

    // Heartbeats at followers keep the leader's heartbeat check up; without them it goes down.
    let component = |s: &Value| s["components"].as_array().unwrap().iter().find(|c| c["id"] == "backup").cloned().unwrap();
    let client = reqwest::Client::new();
    for i in 0..8 {
        let at = &servers[(lead + 1 + i % 2) % 3];
        let res = client.post(at.url("/api/v1/heartbeat/backup")).bearer_auth(beat_token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let up = component(&status(&servers[lead]).await);
    assert_eq!(up["level"], "operational", "{up}");
    assert!(up["reason"].as_str().unwrap().starts_with("last beat"), "{up}");
    let wrong = client.post(follower.url("/api/v1/heartbeat/backup")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "a follower checks the token too");
    let down = eventually(Duration::from_secs(8), || async { component(&status(follower).await)["level"] == "major_outage" });
    assert!(down.await, "no beats: down, as the leader's check decides");
}

#[tokio::test]
async fn with_no_leader_a_write_is_stored_answered_202_and_shown_once_a_leader_is_back() {
    let url = Throwaway::shared().database().await;
    // Start one instance so the schema exists, stop it, then hold the leader's lock ourselves.
    let dir = tempfile::tempdir().unwrap();
    let mut first = Server::start_in(dir.path(), "127.0.0.1:0", Some(TOKEN), &["--database-url", &url]).await;
    assert!(eventually(Duration::from_secs(10), || async { first.version().await >= 1 }).await);
    first.terminate().await;
    let mut holder = pg(&url).await;
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LOCK_KEY).fetch_one(&mut holder).await.unwrap();
    assert!(held);

    let (servers, _dirs) = three(&url, &[]).await;
    let mut readers = streams(&servers).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for s in &servers {
        assert_eq!(metric(s, "statuscast_leader").await, Some(0), "nobody leads while the lock is held");
    }
    let asked = Instant::now();
    let (code, incident) =
        post_json(&servers[1], "/api/v1/incidents", json!({ "title": "While leaderless", "impact": "minor", "message": "x" }))
            .await;
    assert_eq!(code, StatusCode::ACCEPTED, "{incident}");
    assert_eq!(incident["title"], "While leaderless", "the stored incident");
    let waited = asked.elapsed();
    assert!(waited >= Duration::from_secs(5) && waited < Duration::from_secs(7), "{waited:?}");
    let stored: Value =
        reqwest::get(servers[2].url(&format!("/api/v1/incidents/{}", incident["id"]))).await.unwrap().json().await.unwrap();
    assert_eq!(stored["title"], "While leaderless", "stored, readable at every instance");

    holder.close().await.unwrap();
    leader(&servers, &[], Duration::from_secs(5)).await;
    for r in readers.iter_mut() {
        event_with(r, "While leaderless", Duration::from_secs(10)).await;
    }
    converged(&servers, &[], "While leaderless", Duration::from_secs(5)).await;
}

/// Every check result of `component` in the raw history, oldest first.
async fn results(url: &str, component: &str) -> Vec<i64> {
    let mut c = pg(url).await;
    sqlx::query_scalar("SELECT at_ms FROM check_results WHERE component = $1 ORDER BY at_ms")
        .bind(component)
        .fetch_all(&mut c)
        .await
        .unwrap()
}

#[tokio::test]
async fn sigkill_of_the_leader_another_runs_the_checks_within_5_s_versions_rise_history_not_doubled() {
    let url = Throwaway::shared().database().await;
    let (servers, _dirs) = three(&url, &["--host-interval", "1s", "--detail-refresh", "500ms"]).await;
    let old = leader(&servers, &[], Duration::from_secs(10)).await;
    assert!(eventually(Duration::from_secs(10), || async { results(&url, "host.disk").await.len() >= 3 }).await);
    let survivor = (old + 1) % 3;
    let mut stream = SseReader::new(connect(&servers[survivor], "/connect_to_sse", &[]).await);
    let before: u64 = stream.next_event(Duration::from_secs(5)).await.unwrap().id.unwrap().parse().unwrap();

    let killed_at = Instant::now();
    let killed_ms = statuscast::server::clock::now_ms();
    unsafe { libc::kill(servers[old].pid(), libc::SIGKILL) };
    let new = leader(&servers, &[old], Duration::from_secs(5)).await;
    let took_over = killed_at.elapsed();
    assert_ne!(new, old);
    // The new leader's checks run: results after the kill, and a version above the old ones.
    let checked = eventually(Duration::from_secs(5).saturating_sub(killed_at.elapsed()), || async {
        results(&url, "host.disk").await.last().is_some_and(|at| *at > killed_ms)
    });
    assert!(checked.await, "the new leader ran the checks within 5 s of the kill");
    let checks_at = killed_at.elapsed();
    // A version published by the new leader: above everything stored when it took over.
    let mut admin = pg(&url).await;
    let (term, stored): (i64, i64) =
        sqlx::query_as("SELECT term, version FROM cluster_state WHERE id = 1").fetch_one(&mut admin).await.unwrap();
    assert_eq!(Some(term as u64), metric(&servers[new], "statuscast_leader_term").await);
    let mut after = before;
    while after <= stored as u64 {
        let next = stream.next_event(Duration::from_secs(5)).await.expect("a version from the new leader");
        let id: u64 = next.id.unwrap().parse().unwrap();
        assert!(id > after, "versions keep rising: {after} then {id}");
        after = id;
    }
    assert!(after > before);
    println!("leader killed: new leader in {took_over:?}, its first check results stored {checks_at:?} after the kill");

    // The history: one instance checking at a time (a check every second: at most 4 results
    // in any 3 s; two leaders would make about 6), and no gap longer than the takeover.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let at = results(&url, "host.disk").await;
    for (i, t) in at.iter().enumerate() {
        let within = at[i..].iter().take_while(|u| **u < t + 3000).count();
        assert!(within <= 4, "{within} results within 3 s from {t}: doubled ({at:?})");
    }
    let gaps: Vec<i64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    let longest = *gaps.iter().max().unwrap();
    assert!(longest < 7_000, "a gap of {longest} ms in the history, longer than the takeover and an interval");
}

#[tokio::test]
async fn a_leader_whose_connection_is_cut_stops_publishing_and_another_takes_over() {
    let url = Throwaway::shared().database().await;
    let (servers, _dirs) = three(&url, &["--host-interval", "1s", "--detail-refresh", "500ms"]).await;
    let old = leader(&servers, &[], Duration::from_secs(10)).await;
    all_at_least(&servers, &[], 1, Duration::from_secs(10)).await;
    let term_before = metric(&servers[old], "statuscast_leader_term").await.unwrap();
    let mut admin = pg(&url).await;
    let pid: i32 = sqlx::query_scalar(
        "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
         WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1 AND a.datname = current_database()",
    )
    .bind(APPLICATION_NAME)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    let cut_at = Instant::now();
    let cut: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&mut admin).await.unwrap();
    assert!(cut);
    let stopped = eventually(Duration::from_secs(1), || async { metric(&servers[old], "statuscast_leader").await == Some(0) });
    assert!(stopped.await, "the cut leader stepped down within a second");
    let stepped_down = cut_at.elapsed();
    let new = leader(&servers, &[], Duration::from_secs(5)).await;
    assert_ne!(new, old, "another instance took over");
    println!("leader's connection cut: stepped down in {stepped_down:?}, another leads {:?} after", cut_at.elapsed());
    let term_after = metric(&servers[new], "statuscast_leader_term").await.unwrap();
    assert!(term_after > term_before, "a new term: {term_before} then {term_after}");
    // What is stored and shown is the new term's: the old leader's writes are fenced out.
    let (term, holder_version): (i64, i64) =
        sqlx::query_as("SELECT term, version FROM cluster_state WHERE id = 1").fetch_one(&mut admin).await.unwrap();
    assert_eq!(term as u64, term_after);
    let v = holder_version as u64;
    all_at_least(&servers, &[], v, Duration::from_secs(5)).await;
    // And a change posted to the old leader is published by the new one.
    let (code, body) =
        post_json(&servers[old], "/api/v1/incidents", json!({ "title": "After the cut", "impact": "minor", "message": "x" }))
            .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    for s in &servers {
        let titles = status(s).await["incidents"].to_string();
        assert!(
            eventually(Duration::from_secs(3), || async { status(s).await["incidents"].to_string().contains("After the cut") })
                .await,
            "{titles}"
        );
    }
}

#[tokio::test]
async fn postgres_stopped_and_started_every_instance_keeps_its_streams_and_converges() {
    let cluster = Throwaway::start();
    let url = cluster.database().await;
    let (servers, _dirs) = three(&url, &[]).await;
    leader(&servers, &[], Duration::from_secs(10)).await;
    all_at_least(&servers, &[], 1, Duration::from_secs(10)).await;
    let mut readers = streams(&servers).await;
    let shown: Vec<u64> = {
        let mut v = Vec::new();
        for s in &servers {
            v.push(s.version().await);
        }
        v
    };

    cluster.stop();
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (i, r) in readers.iter_mut().enumerate() {
        assert!(!r.ends_within(Duration::from_millis(100)).await, "instance {i}'s stream stays open");
        let page = reqwest::get(servers[i].url("/")).await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(servers[i].version().await, shown[i], "the last snapshot, still served");
    }

    cluster.resume();
    // A write is taken again once the pool reconnects; it is answered when shown.
    let deadline = Instant::now() + Duration::from_secs(20);
    let answer = loop {
        let answer = post_json(
            &servers[1],
            "/api/v1/incidents",
            json!({ "title": "After the restart", "impact": "minor", "message": "y" }),
        )
        .await;
        if answer.0 != StatusCode::SERVICE_UNAVAILABLE {
            break answer;
        }
        assert!(Instant::now() < deadline, "writes are taken again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(matches!(answer.0, StatusCode::CREATED | StatusCode::ACCEPTED), "{answer:?}");
    for r in readers.iter_mut() {
        event_with(r, "After the restart", Duration::from_secs(15)).await;
    }
    let version = converged(&servers, &[], "After the restart", Duration::from_secs(10)).await;
    assert!(version > shown.iter().copied().max().unwrap(), "newer than before the restart");
    leader(&servers, &[], Duration::from_secs(5)).await;
}

#[tokio::test]
async fn reuse_port_lets_instances_share_one_port() {
    let url = Throwaway::shared().database().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let mut servers = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        servers.push(Server::start_in(dir.path(), &addr, Some(TOKEN), &["--database-url", &url, "--reuse-port"]).await);
        dirs.push(dir);
    }
    assert_eq!(servers[0].addr, servers[1].addr);
    // Both answer on the one port (the kernel spreads new connections over them).
    let mut roles = std::collections::HashSet::new();
    for _ in 0..40 {
        let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        let text = c.get(format!("http://{addr}/metrics")).send().await.unwrap().text().await.unwrap();
        let leading = text.lines().find(|l| l.starts_with("statuscast_leader ")).unwrap().to_string();
        roles.insert(leading);
    }
    assert_eq!(roles.len(), 2, "both the leader and the follower answered: {roles:?}");
    // Without the flag, the port is refused.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_statuscast"))
        .args(["serve", "--addr", &addr, "--database-url", &url, "--leptos-config"])
        .arg(leptos_toml())
        .arg("--data-dir")
        .arg(dir.path())
        .env("STATUSCAST_LOG", "off")
        .env_remove("STATUSCAST_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Debian's nginx with `deploy/nginx.conf`, its upstreams pointed at `servers`, on a free
/// port; stopped when dropped.
struct Nginx {
    child: tokio::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    async fn start(servers: &[Server]) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).is_file())
            .expect("nginx is not installed (apt-get install nginx-light)");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let deploy = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx.conf")).unwrap();
        let mut conf = deploy.replace("listen [::]:80;", "").replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
        // Through placeholders: an address put in could contain the next one looked for
        // (127.0.0.1:30021 contains 127.0.0.1:3002).
        for i in 0..servers.len() {
            conf = conf.replace(&format!("127.0.0.1:300{}", i + 1), &format!("@upstream{i}@"));
        }
        for (i, s) in servers.iter().enumerate() {
            conf = conf.replace(&format!("@upstream{i}@"), &s.addr);
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        std::fs::write(dir.path().join("site.conf"), conf).unwrap();
        std::fs::write(
            dir.path().join("nginx.conf"),
            format!(
                "worker_processes 1;\npid {d}/nginx.pid;\nevents {{}}\nhttp {{\n access_log off;\n \
                 client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n include {d}/site.conf;\n}}\n"
            ),
        )
        .unwrap();
        let child = tokio::process::Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .args(["-g", "daemon off;"])
            // Its own process group, so the master and its workers are stopped together, and
            // no descriptor of the test's output is held by a worker.
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let up =
            eventually(
                Duration::from_secs(10),
                || async move { tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() },
            );
        assert!(up.await, "nginx listens");
        Nginx { child, port, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            // The whole group: the master and its workers.
            unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
            let _ = self.child.try_wait();
        }
    }
}

#[tokio::test]
async fn behind_the_deploy_examples_nginx_a_stream_whose_instance_dies_reconnects_to_another() {
    let url = Throwaway::shared().database().await;
    let (servers, _dirs) = three(&url, &[]).await;
    leader(&servers, &[], Duration::from_secs(10)).await;
    all_at_least(&servers, &[], 1, Duration::from_secs(10)).await;
    let nginx = Nginx::start(&servers).await;

    let res = reqwest::get(nginx.url("/connect_to_sse")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut stream = SseReader::new(res);
    let first = stream.next_event(Duration::from_secs(5)).await.expect("the current snapshot, through nginx");
    // Nothing buffered: a change reaches the stream through nginx at once.
    let (code, _) =
        post_json_to(&nginx.url("/api/v1/incidents"), json!({ "title": "Through nginx", "impact": "minor", "message": "x" }))
            .await;
    assert_eq!(code, StatusCode::CREATED);
    let pushed = event_with(&mut stream, "Through nginx", Duration::from_secs(2)).await;
    assert!(pushed.id.as_deref().unwrap().parse::<u64>().unwrap() > first.id.as_deref().unwrap().parse::<u64>().unwrap());

    // Every instance has it (a follower loads it a moment after the leader published it).
    converged(&servers, &[], "Through nginx", Duration::from_secs(5)).await;
    // The instance serving the stream dies; the stream ends, and the next one is served by
    // another instance with the current status.
    let mut serving = None;
    for (i, s) in servers.iter().enumerate() {
        if s.open_streams().await == 1 {
            serving = Some(i);
        }
    }
    let serving = serving.expect("one instance serves the stream");
    unsafe { libc::kill(servers[serving].pid(), libc::SIGKILL) };
    assert!(stream.ends_within(Duration::from_secs(5)).await, "the stream of a killed instance ends");
    let res = reqwest::get(nginx.url("/connect_to_sse")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut again = SseReader::new(res);
    let current = again.next_event(Duration::from_secs(5)).await.expect("the current snapshot from another instance");
    if !current.data.contains("Through nginx") {
        let mut seen = Vec::new();
        for (i, s) in servers.iter().enumerate() {
            seen.push((
                i,
                metric(s, "statuscast_snapshot_version").await,
                metric(s, "statuscast_leader").await,
                metric(s, "statuscast_sse_streams").await,
                s.addr.clone(),
            ));
        }
        panic!("killed {serving}; instances {seen:?}; nginx port {}; got {}", nginx.port, current.data);
    }
    assert!(current.id.as_deref().unwrap().parse::<u64>().unwrap() >= pushed.id.as_deref().unwrap().parse::<u64>().unwrap());
    let (code, body) =
        post_json_to(&nginx.url("/api/v1/incidents"), json!({ "title": "After the death", "impact": "minor", "message": "y" }))
            .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    event_with(&mut again, "After the death", Duration::from_secs(5)).await;
    converged(&servers, &[serving], "After the death", Duration::from_secs(5)).await;
    let page = reqwest::get(nginx.url("/")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("After the death"));
}

#[tokio::test]
async fn each_notification_is_sent_once_by_one_of_the_instances() {
    let url = Throwaway::shared().database().await;
    let (receiver, hook_url, _serving) = Receiver::listening();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("statuscast.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[subscriptions]
webhook = true

[[notify]]
name = "ops"
kind = "webhook"
url = "{hook_url}"
secret = "cluster-secret"
"#
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let (servers, _dirs) = three(&url, &["--config", &config, "--allow-private-webhooks"]).await;
    leader(&servers, &[], Duration::from_secs(10)).await;
    // 60 subscribers, 20 at each instance.
    for i in 0..60 {
        let (code, body) = post_json_to(
            &servers[i % 3].url("/api/v1/subscriptions"),
            json!({ "channel": "webhook", "address": format!("{hook_url}?subscriber={i}") }),
        )
        .await;
        assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    }
    // An incident opened at a follower: the entry and every subscriber hear of it, once each.
    let at = (leader(&servers, &[], Duration::from_secs(5)).await + 1) % 3;
    let (code, _) =
        post_json(&servers[at], "/api/v1/incidents", json!({ "title": "Once", "impact": "minor", "message": "x" })).await;
    assert_eq!(code, StatusCode::CREATED);
    assert!(eventually(Duration::from_secs(20), || async { receiver.got().len() >= 61 }).await, "{}", receiver.got().len());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = receiver.got();
    let mut keys: Vec<&str> = got.iter().map(|r| r.headers["idempotency-key"].as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!((got.len(), keys.len()), (61, 61), "each delivery once");
    let mut delivered = Vec::new();
    for s in &servers {
        let text = reqwest::get(s.url("/metrics")).await.unwrap().text().await.unwrap();
        let n: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("statuscast_notify_attempts_total{result=\"delivered\"} "))
            .unwrap()
            .parse()
            .unwrap();
        delivered.push(n);
        assert!(text.contains("statuscast_notify_deliveries{state=\"sent\"} 61"), "the outbox is shared");
    }
    println!("deliveries sent by each instance: {delivered:?}");
    assert_eq!(delivered.iter().sum::<u64>(), 61, "{delivered:?}");
}

async fn post_json_to(url: &str, body: Value) -> (StatusCode, Value) {
    let res = reqwest::Client::new().post(url).bearer_auth(TOKEN).json(&body).send().await.unwrap();
    let code = res.status();
    (code, res.json().await.unwrap_or(Value::Null))
}
