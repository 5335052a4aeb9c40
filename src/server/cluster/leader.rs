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
use crate::server::store::postgres::cluster::claim_term;
use sqlx::postgres::PgConnection;
use sqlx::Connection;
use std::sync::Arc;
use std::time::Duration;

/// The advisory lock's key ("statusc" in ASCII).
pub const LOCK_KEY: i64 = 0x0073_7461_7475_7363;
/// How often a follower tries to take the lock.
pub const RETRY: Duration = Duration::from_secs(1);
/// How often the leader makes sure its connection (and so its lock) is alive.
const PING: Duration = Duration::from_millis(250);
/// How long one statement on the lock connection may take.
const STATEMENT: Duration = Duration::from_secs(2);
/// The lock connection's `application_name` (seen in `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "statuscast-leader";

/// Competes for leadership for as long as the process runs.
pub fn spawn(cluster: Arc<Cluster>, duties: Arc<Duties>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match compete(&cluster).await {
                Some(conn) => lead(&cluster, &duties, conn).await,
                None => tokio::time::sleep(RETRY).await,
            }
        }
    })
}

/// Connects and tries for the lock every [`RETRY`]; the connection once it holds the lock,
/// `None` when the connection failed.
async fn compete(cluster: &Cluster) -> Option<PgConnection> {
    let options = cluster.store().connect_options().clone().application_name(APPLICATION_NAME);
    let mut conn = match tokio::time::timeout(STATEMENT * 5, PgConnection::connect_with(&options)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::debug!("leadership: cannot connect: {e}");
            return None;
        }
        Err(_) => return None,
    };
    loop {
        let tried = tokio::time::timeout(
            STATEMENT,
            sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)").bind(LOCK_KEY).fetch_one(&mut conn),
        )
        .await;
        match tried {
            Ok(Ok(true)) => return Some(conn),
            Ok(Ok(false)) => tokio::time::sleep(RETRY).await,
            Ok(Err(e)) => {
                tracing::debug!("leadership: the lock connection failed: {e}");
                return None;
            }
            Err(_) => return None,
        }
    }
}

/// Holds the lock on `conn`: claims a term, does the leader's work until the connection fails
/// or the term is fenced out, then steps down (the connection is dropped, releasing the lock).
async fn lead(cluster: &Cluster, duties: &Duties, mut conn: PgConnection) {
    let claimed = match tokio::time::timeout(STATEMENT, claim_term(&mut conn, cluster.id())).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::warn!("leadership: holding the lock but the term could not be claimed: {e}");
            return;
        }
        Err(_) => return,
    };
    let term = claimed.term;
    tracing::info!("leadership: leading in term {term} (from version {})", claimed.stored.version.max(claimed.reserved));
    cluster.set_role(Role::Leader { term });
    let mut roles = cluster.roles();
    let mut took_office = false;
    if cluster.term() == Some(term) {
        duties.take_office(&claimed).await;
        took_office = true;
    }
    loop {
        if cluster.term() != Some(term) {
            break;
        }
        tokio::select! {
            _ = async { roles.wait_for(|r| *r != Role::Leader { term }).await.is_ok() } => break,
            _ = tokio::time::sleep(PING) => {
                let alive = tokio::time::timeout(STATEMENT, sqlx::query("SELECT 1").execute(&mut conn)).await;
                if !matches!(alive, Ok(Ok(_))) {
                    tracing::warn!("leadership: the lock connection is gone; stepping down from term {term}");
                    break;
                }
            }
        }
    }
    cluster.set_role(Role::Follower);
    if took_office {
        duties.leave_office().await;
    }
    // Closing the connection releases the lock (if PostgreSQL has not already).
    let _ = tokio::time::timeout(STATEMENT, conn.close()).await;
}
