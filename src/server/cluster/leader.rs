//! Leadership: every instance competes for one PostgreSQL session advisory lock, held on a
//! connection of its own (not from the pool, so nothing else runs on it and it closes with
//! the process). The instance that gets it claims the next term (`cluster_state.term`, in a
//! transaction on that connection) and leads until the connection fails or a fenced write
//! tells it a newer term exists; it then steps down at once and competes again.
//!
//! PostgreSQL releases the lock when the holder's backend ends: the process was killed, its
//! connection was cut (`pg_terminate_backend`), or PostgreSQL restarted. The others try every
//! [`RETRY`], so a new leader leads about a second later.

use super::duties::Duties;
use super::{Cluster, Role};
use crate::server::store::postgres::cluster::{claim_term, Claimed};
use sqlx::postgres::PgConnection;
use sqlx::Connection;
use std::sync::Arc;
use std::time::Duration;

/// The advisory lock's key ("statusc" in ASCII).
pub const LOCK_KEY: i64 = 0x0073_7461_7475_7363;
/// How often a follower tries to take the lock.
pub const RETRY: Duration = Duration::from_secs(1);
/// How long a leader that stepped down waits before competing again.
const YIELD: Duration = Duration::from_secs(2);
/// How often the leader makes sure its connection (and so its lock) is alive.
const PING: Duration = Duration::from_millis(250);
/// How long one statement on the lock connection may take.
const STATEMENT: Duration = Duration::from_secs(2);
/// The lock connection's `application_name` (seen in `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "statuscast-leader";

/// Leadership won: the connection that holds the lock, and the term claimed on it.
pub struct Won {
    conn: PgConnection,
    pub claimed: Claimed,
}

/// At start-up: one try (connect, take the lock if it is free, claim a term), so that the
/// first instance leads before it serves its first page.
pub async fn try_once(cluster: &Cluster) -> Option<Won> {
    let mut conn = connect(cluster).await?;
    match try_lock(&mut conn).await {
        Some(true) => claim(cluster, conn).await,
        _ => None,
    }
}

/// Competes for leadership for as long as the process runs (`first`: won at start-up, its
/// office taken).
///
/// A leader whose lock connection fails steps down at once (it publishes nothing more). If
/// PostgreSQL still answers (its connection alone was cut) it also stops its checks and waits
/// [`YIELD`] before competing again, so that another instance takes over. If PostgreSQL does
/// not answer at all, nobody can lead or publish; the last leader's checks go on and their
/// results are held (see `checks::history`) until it is back, when this instance competes at
/// once: it leads again, or stops its checks as soon as it finds the lock taken.
pub fn spawn(cluster: Arc<Cluster>, duties: Arc<Duties>, first: Option<Won>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut orphaned = false;
        let mut conn: Option<PgConnection> = None;
        let mut won = first;
        loop {
            if let Some(w) = won.take() {
                match hold(&cluster, w).await {
                    Ended::Unreachable => orphaned = true,
                    Ended::SteppedDown => {
                        duties.leave_office().await;
                        orphaned = false;
                        tokio::time::sleep(YIELD).await;
                    }
                }
                continue;
            }
            let wait = if orphaned { PING } else { RETRY };
            if conn.is_none() {
                conn = connect(&cluster).await;
            }
            let Some(c) = conn.as_mut() else {
                tokio::time::sleep(wait).await;
                continue;
            };
            match try_lock(c).await {
                Some(true) => match claim(&cluster, conn.take().expect("connected")).await {
                    Some(w) => {
                        duties.take_office(&w.claimed).await;
                        won = Some(w);
                    }
                    None => tokio::time::sleep(wait).await,
                },
                Some(false) => {
                    if orphaned {
                        tracing::info!("leadership: another instance leads; stopping the checks");
                        duties.leave_office().await;
                        orphaned = false;
                    }
                    tokio::time::sleep(RETRY).await;
                }
                None => {
                    conn = None;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    })
}

/// Whether the lock was taken; `None` if the connection failed.
async fn try_lock(conn: &mut PgConnection) -> Option<bool> {
    let tried = tokio::time::timeout(
        STATEMENT,
        sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)").bind(LOCK_KEY).fetch_one(conn),
    )
    .await;
    match tried {
        Ok(Ok(taken)) => Some(taken),
        _ => None,
    }
}

/// Claims the next term on `conn` (which holds the lock); this instance leads from now on.
async fn claim(cluster: &Cluster, mut conn: PgConnection) -> Option<Won> {
    let claimed = match tokio::time::timeout(STATEMENT, claim_term(&mut conn, cluster.id())).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::warn!("leadership: holding the lock but the term could not be claimed: {e}");
            return None;
        }
        Err(_) => return None,
    };
    let term = claimed.term;
    tracing::info!("leadership: leading in term {term} (from version {})", claimed.stored.version.max(claimed.reserved));
    cluster.set_role(Role::Leader { term });
    Some(Won { conn, claimed })
}

/// A connection of its own for the lock, named [`APPLICATION_NAME`].
async fn connect(cluster: &Cluster) -> Option<PgConnection> {
    let options = cluster.store().connect_options().clone().application_name(APPLICATION_NAME);
    match tokio::time::timeout(STATEMENT * 2, PgConnection::connect_with(&options)).await {
        Ok(Ok(c)) => Some(c),
        Ok(Err(e)) => {
            tracing::debug!("leadership: cannot connect: {e}");
            None
        }
        Err(_) => None,
    }
}

/// How a term ended.
enum Ended {
    /// Fenced out, or the connection was cut while PostgreSQL answers: the checks stop.
    SteppedDown,
    /// PostgreSQL does not answer: nobody can lead; the checks go on, results held.
    Unreachable,
}

/// Leads while the lock connection lives and the term is not fenced out; then publishes
/// nothing more (the connection is dropped, releasing the lock if PostgreSQL has not already).
async fn hold(cluster: &Cluster, won: Won) -> Ended {
    let Won { mut conn, claimed } = won;
    let term = claimed.term;
    let mut roles = cluster.roles();
    let lost = loop {
        if cluster.term() != Some(term) {
            break false;
        }
        tokio::select! {
            _ = async { roles.wait_for(|r| *r != Role::Leader { term }).await.is_ok() } => break false,
            _ = tokio::time::sleep(PING) => {
                let alive = tokio::time::timeout(STATEMENT, sqlx::query("SELECT 1").execute(&mut conn)).await;
                if !matches!(alive, Ok(Ok(_))) {
                    break true;
                }
            }
        }
    };
    cluster.set_role(Role::Follower);
    drop(conn);
    if !lost {
        return Ended::SteppedDown;
    }
    // Cut off, or is PostgreSQL away?
    match connect(cluster).await {
        Some(_) => {
            tracing::warn!("leadership: the lock connection was cut; stepped down from term {term}");
            Ended::SteppedDown
        }
        None => {
            tracing::warn!("leadership: PostgreSQL does not answer; stepped down from term {term}, checks go on, results held");
            Ended::Unreachable
        }
    }
}
