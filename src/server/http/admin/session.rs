//! Admin sessions and login throttling.
//!
//! A session is a random 256-bit id in an `HttpOnly; SameSite=Strict` cookie, with its own
//! random CSRF token that every admin form carries. Sessions are stored (by the SHA-256 of
//! the id, never the id itself), so a restart does not log operators out. Failed logins are
//! limited per client address, counted in the store: every instance on one database counts
//! the same attempts, and a restart hands out none.

use crate::server::secret::{hex, random_token};
use crate::server::store::{Store, StoreError, StoredSession};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

pub const COOKIE: &str = "statuscast_session";
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;
/// Failed logins allowed per client address within `LOGIN_WINDOW_MS`.
pub const MAX_LOGIN_FAILURES: u32 = 5;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60_000;

/// What sessions are tied to: the admin password and token in force. A session is stored
/// under a hash of its id *and* these, so changing either ends every session opened before
/// (their cookies no longer find them), on every instance, without a list to clear.
pub struct SessionKey(String);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(…)")
    }
}

impl SessionKey {
    pub fn of(password: Option<&str>, token: Option<&str>) -> SessionKey {
        let mut h = Sha256::new();
        for part in [password, token] {
            h.update(part.unwrap_or("").as_bytes());
            h.update([0]);
        }
        SessionKey(hex(&h.finalize()))
    }
}

fn id_hash(key: &SessionKey, id: &str) -> String {
    let mut h = Sha256::new();
    h.update(key.0.as_bytes());
    h.update([0]);
    h.update(id.as_bytes());
    hex(&h.finalize())
}

/// Starts a session; returns its id (for the cookie) and the session.
pub async fn create(store: &dyn Store, key: &SessionKey, now_ms: i64) -> Result<(String, StoredSession), StoreError> {
    let id = random_token();
    let session = StoredSession { csrf: random_token(), expires_ms: now_ms + SESSION_TTL_MS };
    store.add_session(&id_hash(key, &id), &session).await?;
    Ok((id, session))
}

/// The session of a cookie value, if it is valid at `now_ms` and was opened with the
/// secrets in force.
pub async fn get(store: &dyn Store, key: &SessionKey, id: &str, now_ms: i64) -> Option<StoredSession> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match store.session(&id_hash(key, id), now_ms).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            None
        }
    }
}

pub async fn end(store: &dyn Store, key: &SessionKey, id: &str) -> Result<(), StoreError> {
    store.end_session(&id_hash(key, id)).await
}

/// How long `ip` must wait before trying again, if it failed too often.
pub async fn login_blocked_for(store: &dyn Store, ip: IpAddr, now_ms: i64) -> Result<Option<i64>, StoreError> {
    let Some(f) = store.login_failures(&ip.to_string()).await? else { return Ok(None) };
    let left = f.window_start_ms + LOGIN_WINDOW_MS - now_ms;
    Ok((f.failures >= MAX_LOGIN_FAILURES && left > 0).then_some(left))
}

pub async fn login_failed(store: &dyn Store, ip: IpAddr, now_ms: i64) -> Result<(), StoreError> {
    store.add_login_failure(&ip.to_string(), now_ms, LOGIN_WINDOW_MS).await
}

pub async fn login_succeeded(store: &dyn Store, ip: IpAddr) -> Result<(), StoreError> {
    store.clear_login_failures(&ip.to_string()).await
}

/// Forgets windows that are over.
pub async fn prune_login_failures(store: &dyn Store, now_ms: i64) -> Result<u64, StoreError> {
    store.prune_login_failures(now_ms - LOGIN_WINDOW_MS).await
}

/// The value of the session cookie in a `Cookie` header.
pub fn cookie_value(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_are_stored_by_hash_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::server::store::SqliteStore::open(dir.path()).await.unwrap();
        let key = SessionKey::of(Some("a password of twelve"), None);
        let (id, session) = create(&store, &key, 1_000).await.unwrap();
        assert_eq!(id.len(), 64);
        assert_ne!(id, session.csrf);
        assert_eq!(store.session(&id, 2_000).await.unwrap(), None, "the id itself is not stored");
        assert_eq!(get(&store, &key, &id, 2_000).await, Some(session));
        assert_eq!(get(&store, &key, &id, 1_000 + SESSION_TTL_MS).await, None, "expired");
        assert_eq!(get(&store, &key, "forged", 2_000).await, None);
        let changed = SessionKey::of(Some("another password!"), None);
        assert_eq!(get(&store, &changed, &id, 2_000).await, None, "a changed password ends the session");
        assert_eq!(get(&store, &SessionKey::of(Some("a password of twelve"), Some("a token too")), &id, 2_000).await, None);
        end(&store, &key, &id).await.unwrap();
        assert_eq!(get(&store, &key, &id, 2_000).await, None);
    }

    #[tokio::test]
    async fn failed_logins_are_limited_per_address_for_a_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::server::store::SqliteStore::open(dir.path()).await.unwrap();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..MAX_LOGIN_FAILURES {
            assert_eq!(login_blocked_for(&store, ip, 0).await.unwrap(), None);
            login_failed(&store, ip, 0).await.unwrap();
        }
        assert_eq!(login_blocked_for(&store, ip, 60_000).await.unwrap(), Some(LOGIN_WINDOW_MS - 60_000));
        assert_eq!(login_blocked_for(&store, other, 60_000).await.unwrap(), None, "other addresses are not affected");
        assert_eq!(login_blocked_for(&store, ip, LOGIN_WINDOW_MS).await.unwrap(), None, "the window passes");
        login_failed(&store, ip, LOGIN_WINDOW_MS).await.unwrap();
        assert_eq!(login_blocked_for(&store, ip, LOGIN_WINDOW_MS + 1).await.unwrap(), None, "a new window, one failure");
        login_succeeded(&store, ip).await.unwrap();
        assert_eq!(store.login_failures("10.0.0.1").await.unwrap(), None);
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(axum::http::header::COOKIE, "a=1; statuscast_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h).as_deref(), Some("abc"));
        assert_eq!(cookie_value(&axum::http::HeaderMap::new()), None);
    }
}
