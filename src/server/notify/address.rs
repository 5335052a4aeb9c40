//! Where a viewer-supplied webhook may point: only at the public internet, never at the
//! server's own network (loopback, private ranges, link-local metadata services, …), so a
//! subscription cannot make statuscast probe or post into the network it runs in.
//!
//! [`check_public`] says so when the URL is given (a clear message for the form);
//! [`PublicResolver`] keeps it so when posting (the name is resolved again then, and may
//! resolve elsewhere by then), used by [`super::deliver::Poster`] for [`AddressGuard::Public`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Which addresses a post may go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressGuard {
    /// Only public addresses (viewer-supplied URLs).
    Public,
    /// Any address (URLs the operator configured).
    Any,
}

/// Why a URL may not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressError {
    Invalid {
        url: String,
        reason: String,
    },
    Scheme(String),
    /// The name did not resolve (may be temporary).
    Unresolved {
        host: String,
        reason: String,
    },
    NotPublic {
        host: String,
        ip: IpAddr,
        what: &'static str,
    },
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::Invalid { url, reason } => write!(f, "{url:?} is not a valid address: {reason}"),
            AddressError::Scheme(s) => write!(f, "only http:// and https:// addresses can be used, not {s}://"),
            AddressError::Unresolved { host, reason } => write!(f, "{host} could not be resolved: {reason}"),
            AddressError::NotPublic { host, ip, what } if *host == ip.to_string() => write!(f, "{ip} is {what}"),
            AddressError::NotPublic { host, ip, what } => write!(f, "{host} resolves to {ip}, {what}"),
        }
    }
}

impl std::error::Error for AddressError {}

/// What kind of non-public address `ip` is ("a loopback address"), or None for a public one.
pub fn classify(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "an unspecified address",
        (127, ..) => "a loopback address",
        (10, ..) | (192, 168, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (169, 254, _) => "a link-local address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (192, 0, 0) => "a reserved address",
        (224..=239, ..) => "a multicast address",
        (255, 255, 255) if ip == Ipv4Addr::BROADCAST => "the broadcast address",
        (240..=255, ..) => "a reserved address",
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s[0] {
        // IPv4-compatible (deprecated) and the rest of ::/96.
        0 if s[1..6].iter().all(|&x| x == 0) => Some("a reserved address"),
        // NAT64 (64:ff9b::/96): as the IPv4 address it carries; 64:ff9b:1::/48 is local use.
        0x64 if s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0) => classify_v4(embedded(s[6], s[7])),
        0x64 if s[1] == 0xff9b && s[2] == 1 => Some("a private address"),
        0x100 if s[1..4].iter().all(|&x| x == 0) => Some("a reserved (discard) address"),
        0x2001 if s[1] == 0xdb8 => Some("a documentation address"),
        // 6to4 (2002::/16): as the IPv4 address it carries.
        0x2002 => classify_v4(embedded(s[1], s[2])),
        x if x & 0xfe00 == 0xfc00 => Some("a unique-local (private) address"),
        x if x & 0xffc0 == 0xfe80 => Some("a link-local address"),
        x if x & 0xffc0 == 0xfec0 => Some("a site-local (private) address"),
        x if x & 0xff00 == 0xff00 => Some("a multicast address"),
        _ => None,
    }
}

/// The host of an http(s) URL, and the IP address it is, if it is one.
fn host_of(url: &str) -> Result<(String, u16, Option<IpAddr>), AddressError> {
    let parsed = url::Url::parse(url).map_err(|e| AddressError::Invalid { url: url.into(), reason: e.to_string() })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AddressError::Scheme(parsed.scheme().into()));
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Ok((ip.to_string(), port, Some(IpAddr::V4(ip)))),
        Some(url::Host::Ipv6(ip)) => Ok((ip.to_string(), port, Some(IpAddr::V6(ip)))),
        Some(url::Host::Domain(d)) if !d.is_empty() => Ok((d.to_string(), port, None)),
        _ => Err(AddressError::Invalid { url: url.into(), reason: "it has no host".into() }),
    }
}

/// Refuses `ip` if it is not public.
fn check(host: &str, ip: IpAddr) -> Result<(), AddressError> {
    match classify(ip) {
        Some(what) => Err(AddressError::NotPublic { host: host.into(), ip, what }),
        None => Ok(()),
    }
}

/// An IP-literal URL's address, checked (None: a name, left to the resolver). Resolvers
/// never see IP literals, so posting checks them with this first.
pub(crate) fn check_literal(url: &str) -> Result<(), AddressError> {
    let (host, _, ip) = host_of(url)?;
    ip.map_or(Ok(()), |ip| check(&host, ip))
}

/// Whether `url` is an http(s) address whose host resolves only to public addresses (all of
/// them: a name with one private address among public ones is refused). `allow_private`
/// skips the address check (the URL must still parse and resolve).
pub async fn check_public(url: &str, allow_private: bool) -> Result<(), AddressError> {
    let (host, port, ip) = host_of(url)?;
    let ips: Vec<IpAddr> = match ip {
        Some(ip) => vec![ip],
        None => resolve(&host, port).await?.into_iter().map(|a| a.ip()).collect(),
    };
    if allow_private {
        return Ok(());
    }
    ips.into_iter().try_for_each(|ip| check(&host, ip))
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, AddressError> {
    let unresolved = |reason: String| AddressError::Unresolved { host: host.into(), reason };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await.map_err(|e| unresolved(e.to_string()))?.collect();
    if addrs.is_empty() {
        return Err(unresolved("no addresses".into()));
    }
    Ok(addrs)
}

/// A DNS resolver for reqwest that refuses a name resolving to any non-public address.
#[derive(Clone, Copy, Debug, Default)]
pub struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = resolve(&host, 0).await?;
            for a in &addrs {
                check(&host, a.ip())?;
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(ip: &str) -> Option<&'static str> {
        classify(ip.parse().unwrap())
    }

    #[test]
    fn non_public_addresses_are_named() {
        let cases = [
            ("127.0.0.1", "a loopback address"),
            ("127.255.0.9", "a loopback address"),
            ("0.0.0.0", "an unspecified address"),
            ("10.1.2.3", "a private address"),
            ("172.16.0.1", "a private address"),
            ("172.31.255.255", "a private address"),
            ("192.168.1.1", "a private address"),
            ("169.254.169.254", "a link-local address"),
            ("100.64.0.1", "a shared (carrier-grade NAT) address"),
            ("100.127.255.254", "a shared (carrier-grade NAT) address"),
            ("192.0.2.1", "a documentation address"),
            ("198.51.100.7", "a documentation address"),
            ("203.0.113.9", "a documentation address"),
            ("198.18.0.1", "a benchmarking address"),
            ("224.0.0.1", "a multicast address"),
            ("239.255.255.250", "a multicast address"),
            ("255.255.255.255", "the broadcast address"),
            ("240.0.0.1", "a reserved address"),
            ("::1", "a loopback address"),
            ("::", "an unspecified address"),
            ("fe80::1", "a link-local address"),
            ("febf::1", "a link-local address"),
            ("fc00::1", "a unique-local (private) address"),
            ("fd12:3456::1", "a unique-local (private) address"),
            ("ff02::1", "a multicast address"),
            ("2001:db8::1", "a documentation address"),
            ("::ffff:127.0.0.1", "a loopback address"),
            ("::ffff:10.0.0.1", "a private address"),
            ("::ffff:169.254.169.254", "a link-local address"),
            ("::127.0.0.1", "a reserved address"),
            ("64:ff9b::10.0.0.1", "a private address"),
            ("2002:c0a8:0101::1", "a private address"),
        ];
        for (ip, expected) in cases {
            assert_eq!(what(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
        ] {
            assert_eq!(what(ip), None, "{ip}");
        }
    }

    #[tokio::test]
    async fn loopback_urls_are_refused_unless_private_is_allowed() {
        let e = check_public("http://127.0.0.1:1/", false).await.unwrap_err();
        assert_eq!(e.to_string(), "127.0.0.1 is a loopback address");
        let e = check_public("http://localhost/hook", false).await.unwrap_err();
        assert!(e.to_string().starts_with("localhost resolves to "), "{e}");
        assert!(e.to_string().ends_with(", a loopback address"), "{e}");
        let e = check_public("http://[::ffff:10.0.0.1]/", false).await.unwrap_err();
        assert_eq!(e.to_string(), "::ffff:10.0.0.1 is a private address");
        check_public("http://127.0.0.1:1/", true).await.unwrap();
        check_public("http://localhost/hook", true).await.unwrap();
        check_public("https://93.184.216.34/x", false).await.unwrap();
    }

    #[tokio::test]
    async fn only_http_urls_with_a_host() {
        assert_eq!(
            check_public("ftp://example.com/", true).await.unwrap_err().to_string(),
            "only http:// and https:// addresses can be used, not ftp://"
        );
        assert!(matches!(check_public("not a url", true).await, Err(AddressError::Invalid { .. })));
        assert!(matches!(check_public("http://no-such-host.invalid/", true).await, Err(AddressError::Unresolved { .. })));
    }
}
