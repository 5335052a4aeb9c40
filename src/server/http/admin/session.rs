//! Admin sessions and login throttling.
//!
//! A session is a random 256-bit id in an `HttpOnly; SameSite=Strict` cookie, with its own
//! random CSRF token that every admin form carries. Sessions are stored (by the SHA-256 of
//! the id, never the id itself), so a restart does not log operators out.
//!
//! Failed logins are limited per client address (5 per 15 minutes) and, for all addresses
//! together, 30 a minute; a browser that has logged in before carries a device cookie and is
//! limited on its own instead, so neither limit can be used to lock operators out. Counts are
//! kept in the store: every instance on one database counts the same attempts, and a restart
//! hands out none.

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

/// Who a login attempt is counted against: a browser that has logged in here before (its
/// device cookie), else the client's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    Address(IpAddr),
    /// A known device, by the hash its record is stored under.
    Device(String),
}

impl Attempt {
    fn key(&self) -> String {
        match self {
            Attempt::Address(ip) => ip.to_string(),
            Attempt::Device(hash) => format!("device:{hash}"),
        }
    }
}

/// Why a login is refused without looking at the secret, and for how many ms more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// This address (or known device) failed `MAX_LOGIN_FAILURES` times in its window.
    Own(i64),
    /// Failures from every address together passed `MAX_OVERALL_FAILURES` in a minute.
    Overall(i64),
}

/// Failed logins from all addresses together allowed per `OVERALL_WINDOW_MS` (a flood from
/// many addresses); known devices are not held to it, so it cannot keep an operator out.
pub const MAX_OVERALL_FAILURES: u32 = 30;
pub const OVERALL_WINDOW_MS: i64 = 60_000;
const OVERALL: &str = "*";
/// How long a device cookie is good for.
pub const DEVICE_TTL_MS: i64 = 90 * 24 * 3_600_000;
pub const DEVICE_COOKIE: &str = "statuscast_device";

/// Whether an attempt may be checked now; `Some` says why not and for how long.
pub async fn login_blocked(store: &dyn Store, who: &Attempt, now_ms: i64) -> Result<Option<Blocked>, StoreError> {
    if let Some(left) = blocked_for(store, &who.key(), MAX_LOGIN_FAILURES, LOGIN_WINDOW_MS, now_ms).await? {
        return Ok(Some(Blocked::Own(left)));
    }
    if let Attempt::Address(_) = who {
        if let Some(left) = blocked_for(store, OVERALL, MAX_OVERALL_FAILURES, OVERALL_WINDOW_MS, now_ms).await? {
            return Ok(Some(Blocked::Overall(left)));
        }
    }
    Ok(None)
}

async fn blocked_for(store: &dyn Store, key: &str, max: u32, window_ms: i64, now_ms: i64) -> Result<Option<i64>, StoreError> {
    let Some(f) = store.login_failures(key).await? else { return Ok(None) };
    let left = f.window_start_ms + window_ms - now_ms;
    Ok((f.failures >= max && left > 0).then_some(left))
}

pub async fn login_failed(store: &dyn Store, who: &Attempt, now_ms: i64) -> Result<(), StoreError> {
    store.add_login_failure(&who.key(), now_ms, LOGIN_WINDOW_MS).await?;
    if let Attempt::Address(_) = who {
        store.add_login_failure(OVERALL, now_ms, OVERALL_WINDOW_MS).await?;
    }
    Ok(())
}

pub async fn login_succeeded(store: &dyn Store, who: &Attempt) -> Result<(), StoreError> {
    store.clear_login_failures(&who.key()).await
}

/// Remembers this browser as one that logged in (a device cookie's value): its later logins
/// are counted on their own, not with its address or the overall limit (OWASP's "device
/// cookies"). Stored like a session, under a hash of its own kind, so changing the password
/// or token forgets every device too.
pub async fn remember_device(store: &dyn Store, key: &SessionKey, now_ms: i64) -> Result<String, StoreError> {
    let id = random_token();
    let record = StoredSession { csrf: String::new(), expires_ms: now_ms + DEVICE_TTL_MS };
    store.add_session(&id_hash(key, &format!("device:{id}")), &record).await?;
    Ok(id)
}

/// The known device of a device cookie's value, if it is one.
pub async fn known_device(store: &dyn Store, key: &SessionKey, id: &str, now_ms: i64) -> Option<Attempt> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hash = id_hash(key, &format!("device:{id}"));
    match store.session(&hash, now_ms).await {
        Ok(Some(_)) => Some(Attempt::Device(hash)),
        Ok(None) => None,
        Err(e) => {
            tracing::error!("{e}");
            None
        }
    }
}

/// Forgets windows that are over.
pub async fn prune_login_failures(store: &dyn Store, now_ms: i64) -> Result<u64, StoreError> {
    store.prune_login_failures(now_ms - LOGIN_WINDOW_MS).await
}

/// The value of the session cookie in a `Cookie` header.
pub fn cookie_value(headers: &axum::http::HeaderMap) -> Option<String> {
    named_cookie(headers, COOKIE)
}

/// The value of cookie `name` in a `Cookie` header.
pub fn named_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
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
        let ip = Attempt::Address("10.0.0.1".parse().unwrap());
        let other = Attempt::Address("10.0.0.2".parse().unwrap());
        for _ in 0..MAX_LOGIN_FAILURES {
            assert_eq!(login_blocked(&store, &ip, 0).await.unwrap(), None);
            login_failed(&store, &ip, 0).await.unwrap();
        }
        assert_eq!(login_blocked(&store, &ip, 60_000).await.unwrap(), Some(Blocked::Own(LOGIN_WINDOW_MS - 60_000)));
        assert_eq!(login_blocked(&store, &other, 60_000).await.unwrap(), None, "other addresses are not affected");
        assert_eq!(login_blocked(&store, &ip, LOGIN_WINDOW_MS).await.unwrap(), None, "the window passes");
        login_failed(&store, &ip, LOGIN_WINDOW_MS).await.unwrap();
        assert_eq!(login_blocked(&store, &ip, LOGIN_WINDOW_MS + 1).await.unwrap(), None, "a new window, one failure");
        login_succeeded(&store, &ip).await.unwrap();
        assert_eq!(store.login_failures("10.0.0.1").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_flood_from_many_addresses_is_limited_overall_but_known_devices_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::server::store::SqliteStore::open(dir.path()).await.unwrap();
        let key = SessionKey::of(Some("a password of twelve"), None);
        let device_id = remember_device(&store, &key, 0).await.unwrap();
        let device = known_device(&store, &key, &device_id, 1_000).await.expect("a known device");
        assert_eq!(known_device(&store, &SessionKey::of(Some("another password!"), None), &device_id, 1_000).await, None);
        assert_eq!(known_device(&store, &key, &"0".repeat(64), 1_000).await, None);
        assert_eq!(known_device(&store, &key, &device_id, DEVICE_TTL_MS).await, None, "expired");
        // Thirty addresses, one wrong guess each: the overall limit is reached.
        for i in 0..MAX_OVERALL_FAILURES {
            let who = Attempt::Address(std::net::IpAddr::from([198, 51, 100, i as u8]));
            assert_eq!(login_blocked(&store, &who, 1_000).await.unwrap(), None);
            login_failed(&store, &who, 1_000).await.unwrap();
        }
        let fresh = Attempt::Address("203.0.113.1".parse().unwrap());
        assert_eq!(login_blocked(&store, &fresh, 2_000).await.unwrap(), Some(Blocked::Overall(OVERALL_WINDOW_MS - 1_000)));
        assert_eq!(login_blocked(&store, &device, 2_000).await.unwrap(), None, "a known device is not held to it");
        assert_eq!(login_blocked(&store, &fresh, 1_000 + OVERALL_WINDOW_MS).await.unwrap(), None, "for a minute at most");
        // A known device's own failures are its own.
        for _ in 0..MAX_LOGIN_FAILURES {
            login_failed(&store, &device, 3_000).await.unwrap();
        }
        assert!(matches!(login_blocked(&store, &device, 4_000).await.unwrap(), Some(Blocked::Own(_))));
        assert_eq!(store.login_failures("*").await.unwrap().unwrap().failures, MAX_OVERALL_FAILURES, "not counted overall");
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(axum::http::header::COOKIE, "a=1; statuscast_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h).as_deref(), Some("abc"));
        assert_eq!(cookie_value(&axum::http::HeaderMap::new()), None);
    }
}
