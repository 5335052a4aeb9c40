//! Admin sessions and login throttling.
//!
//! A session is a random 256-bit id in an `HttpOnly; SameSite=Strict` cookie, with its own
//! random CSRF token that every admin form carries. Sessions live in memory: a restart logs
//! operators out (nothing else is lost). Failed logins are limited per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

pub const COOKIE: &str = "statuscast_session";
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;
const MAX_SESSIONS: usize = 10_000;
/// Failed logins allowed per client address within `LOGIN_WINDOW_MS`.
pub const MAX_LOGIN_FAILURES: u32 = 5;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60_000;

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub csrf: String,
    pub expires_ms: i64,
}

#[derive(Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl Sessions {
    /// Starts a session; returns its id (for the cookie).
    pub fn create(&self, now_ms: i64) -> (String, Session) {
        let id = random_token();
        let session = Session { csrf: random_token(), expires_ms: now_ms + SESSION_TTL_MS };
        let mut map = self.sessions.lock().expect("not poisoned");
        map.retain(|_, s| s.expires_ms > now_ms);
        if map.len() >= MAX_SESSIONS {
            // Drop the session closest to expiry rather than refuse a login.
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires_ms).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(id.clone(), session.clone());
        (id, session)
    }

    pub fn get(&self, id: &str, now_ms: i64) -> Option<Session> {
        let map = self.sessions.lock().expect("not poisoned");
        map.get(id).filter(|s| s.expires_ms > now_ms).cloned()
    }

    pub fn end(&self, id: &str) {
        self.sessions.lock().expect("not poisoned").remove(id);
    }

    /// How long `ip` must wait before trying again, if it failed too often.
    pub fn login_blocked_for(&self, ip: IpAddr, now_ms: i64) -> Option<i64> {
        let map = self.failures.lock().expect("not poisoned");
        let (start, count) = *map.get(&ip)?;
        let left = start + LOGIN_WINDOW_MS - now_ms;
        (count >= MAX_LOGIN_FAILURES && left > 0).then_some(left)
    }

    pub fn login_failed(&self, ip: IpAddr, now_ms: i64) {
        let mut map = self.failures.lock().expect("not poisoned");
        map.retain(|_, (start, _)| *start + LOGIN_WINDOW_MS > now_ms);
        let entry = map.entry(ip).or_insert((now_ms, 0));
        entry.1 += 1;
    }

    pub fn login_succeeded(&self, ip: IpAddr) {
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

    #[test]
    fn sessions_expire_and_end() {
        let s = Sessions::default();
        let (id, session) = s.create(1_000);
        assert_eq!(id.len(), 64);
        assert_ne!(id, session.csrf);
        assert_eq!(s.get(&id, 2_000), Some(session.clone()));
        assert_eq!(s.get(&id, 1_000 + SESSION_TTL_MS), None, "expired");
        assert_eq!(s.get("forged", 2_000), None);
        s.end(&id);
        assert_eq!(s.get(&id, 2_000), None);
    }

    #[test]
    fn failed_logins_are_limited_per_address_for_a_window() {
        let s = Sessions::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..MAX_LOGIN_FAILURES {
            assert_eq!(s.login_blocked_for(ip, 0), None);
            s.login_failed(ip, 0);
        }
        assert_eq!(s.login_blocked_for(ip, 60_000), Some(LOGIN_WINDOW_MS - 60_000));
        assert_eq!(s.login_blocked_for(other, 60_000), None, "other addresses are not affected");
        assert_eq!(s.login_blocked_for(ip, LOGIN_WINDOW_MS), None, "the window passes");
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(axum::http::header::COOKIE, "a=1; statuscast_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h).as_deref(), Some("abc"));
        assert_eq!(cookie_value(&axum::http::HeaderMap::new()), None);
    }
}
