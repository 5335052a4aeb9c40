//! A check's reason is public (the page, the stream, the API): it must not carry the
//! secrets its settings hold. [`public_reason`] takes URLs in a reason down to scheme, host,
//! port and path (no user, password, query or fragment), and blanks every secret of the
//! check's settings (header values, the URL's password and query values) wherever it appears.

use super::config::Probe;

/// What stands in for a secret.
const HIDDEN: &str = "***";

pub fn public_reason(reason: &str, probe: &Probe) -> String {
    let mut out = without_url_secrets(reason);
    for secret in secrets(probe) {
        out = out.replace(&secret, HIDDEN);
    }
    out
}

/// The values a check's settings hold that viewers must never see.
fn secrets(probe: &Probe) -> Vec<String> {
    let Probe::Http { url, headers, .. } = probe else { return Vec::new() };
    let mut secrets: Vec<String> = headers.iter().map(|(_, v)| v.trim().to_string()).collect();
    if let Ok(u) = ::url::Url::parse(url) {
        secrets.extend(u.password().map(str::to_string));
        secrets.extend(u.query_pairs().map(|(_, v)| v.into_owned()));
    }
    // Short values (a `1` in `?page=1`) would blank ordinary words and numbers.
    secrets.retain(|s| s.len() >= 4);
    // Longest first, so a secret that contains another is blanked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

/// Each `scheme://…` in `text`, up to the next white space, quote or bracket, without its
/// userinfo, query and fragment.
fn without_url_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = rest[..at].rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c))).map_or(0, |i| i + 1);
        let end = rest[at..].find(|c: char| c.is_whitespace() || "\"'()<>[]{}".contains(c)).map_or(rest.len(), |i| at + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&public_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn public_url(candidate: &str) -> String {
    match ::url::Url::parse(candidate) {
        Ok(mut u) if u.has_host() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        // Not a URL the parser takes: keep what cannot hold a secret (up to the userinfo or query).
        _ => {
            let cut = candidate.find(['?', '#', '@']).unwrap_or(candidate.len());
            candidate[..cut].to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn http(url: &str, headers: &[(&str, &str)]) -> Probe {
        Probe::Http {
            url: url.into(),
            method: "GET".into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            expect_status: vec![],
            body_contains: None,
            body_regex: None,
            slow: Some(Duration::from_secs(1)),
            tls_expiry_days: None,
            tls_verify: true,
        }
    }

    #[test]
    fn urls_lose_their_userinfo_query_and_fragment() {
        let p = http("https://svc.example/health", &[]);
        let r = public_reason(
            "error sending request for url (https://bob:pw@svc.example:8443/health?api_key=k3y#x): bad (also http://h/p?q=1)",
            &p,
        );
        assert_eq!(r, "error sending request for url (https://svc.example:8443/health): bad (also http://h/p)");
        assert_eq!(public_reason("HTTP 503 in 84 ms", &p), "HTTP 503 in 84 ms");
        assert_eq!(public_reason("see ftp://x?y", &p), "see ftp://x/");
    }

    #[test]
    fn the_checks_own_secrets_are_blanked_wherever_they_appear() {
        let p = http("http://u:s3cret-pw@h/p?api_key=abcd1234&page=1", &[("Authorization", "Bearer tok-5678")]);
        let r = public_reason("got Bearer tok-5678 back; key abcd1234; pw s3cret-pw; page 1", &p);
        assert_eq!(r, "got *** back; key ***; pw ***; page 1");
        let tcp = Probe::Tcp { address: "127.0.0.1:1".into() };
        assert_eq!(public_reason("connection refused", &tcp), "connection refused");
    }
}
