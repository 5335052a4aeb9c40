//! Admin sessions and login throttling.
//!
//! A session is a random 256-bit id in an `HttpOnly; SameSite=Strict` cookie, with its own
//! random CSRF token that every admin form carries. Sessions are stored (by the SHA-256 of
//! the id, never the id itself), so a restart does not log operators out. Failed logins are
//! limited per client address, in memory.

use crate::server::secret::{hex, random_token};
use crate::server::store::{Store, StoreError, StoredSession};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

pub const COOKIE: &str = "statuscast_session";
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;
/// Failed logins allowed per client address within `LOGIN_WINDOW_MS`.
pub const MAX_LOGIN_FAILURES: u32 = 5;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60_000;

fn id_hash(id: &str) -> String {
    hex(&Sha256::digest(id.as_bytes()))
}

/// Starts a session; returns its id (for the cookie) and the session.
pub async fn create(store: &dyn Store, now_ms: i64) -> Result<(String, StoredSession), StoreError> {
    let id = random_token();
    let session = StoredSession { csrf: random_token(), expires_ms: now_ms + SESSION_TTL_MS };
    store.add_session(&id_hash(&id), &session).await?;
    Ok((id, session))
}

/// The session of a cookie value, if it is valid at `now_ms`.
pub async fn get(store: &dyn Store, id: &str, now_ms: i64) -> Option<StoredSession> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match store.session(&id_hash(id), now_ms).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            None
        }
    }
}

pub async fn end(store: &dyn Store, id: &str) -> Result<(), StoreError> {
    store.end_session(&id_hash(id)).await
}

/// Failed logins per client address.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl LoginThrottle {
    /// How long `ip` must wait before trying again, if it failed too often.
    pub fn blocked_for(&self, ip: IpAddr, now_ms: i64) -> Option<i64> {
        let map = self.failures.lock().expect("not poisoned");
        let (start, count) = *map.get(&ip)?;
        let left = start + LOGIN_WINDOW_MS - now_ms;
        (count >= MAX_LOGIN_FAILURES && left > 0).then_some(left)
    }

    pub fn failed(&self, ip: IpAddr, now_ms: i64) {
        let mut map = self.failures.lock().expect("not poisoned");
        map.retain(|_, (start, _)| *start + LOGIN_WINDOW_MS > now_ms);
        let entry = map.entry(ip).or_insert((now_ms, 0));
        entry.1 += 1;
    }

    pub fn succeeded(&self, ip: IpAddr) {
        self.failures.lock().expect("not poisoned").remove(&ip);
    }
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
        let (id, session) = create(&store, 1_000).await.unwrap();
        assert_eq!(id.len(), 64);
        assert_ne!(id, session.csrf);
        assert_eq!(store.session(&id, 2_000).await.unwrap(), None, "the id itself is not stored");
        assert_eq!(get(&store, &id, 2_000).await, Some(session));
        assert_eq!(get(&store, &id, 1_000 + SESSION_TTL_MS).await, None, "expired");
        assert_eq!(get(&store, "forged", 2_000).await, None);
        end(&store, &id).await.unwrap();
        assert_eq!(get(&store, &id, 2_000).await, None);
    }

    #[test]
    fn failed_logins_are_limited_per_address_for_a_window() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..MAX_LOGIN_FAILURES {
            assert_eq!(t.blocked_for(ip, 0), None);
            t.failed(ip, 0);
        }
        assert_eq!(t.blocked_for(ip, 60_000), Some(LOGIN_WINDOW_MS - 60_000));
        assert_eq!(t.blocked_for(other, 60_000), None, "other addresses are not affected");
        assert_eq!(t.blocked_for(ip, LOGIN_WINDOW_MS), None, "the window passes");
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(axum::http::header::COOKIE, "a=1; statuscast_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h).as_deref(), Some("abc"));
        assert_eq!(cookie_value(&axum::http::HeaderMap::new()), None);
    }
}
