//! Who the client is: the peer address, or, behind reverse proxies the operator names in
//! `--trusted-proxies`, the address those proxies report in `X-Forwarded-For`.
//!
//! `X-Forwarded-For` is read right to left (each proxy appends the address it got the
//! request from): entries added by trusted proxies are skipped, and the first address that
//! is not a trusted proxy is the client. Everything to its left was written by the client and
//! is ignored, so a client cannot choose its own address; a request that did not come from a
//! trusted proxy is its peer address whatever its headers say.

use axum::http::HeaderMap;
use std::net::IpAddr;

/// Addresses and networks (`10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`) of trusted proxies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// A comma-separated list; an empty one trusts nobody.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| format!("{item:?} is not an IP address or network (like 10.0.0.0/8)"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{item:?}: the prefix length must be 0 to {max}"))?,
            };
            nets.push((addr, bits));
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|&(net, bits)| in_network(ip, canonical(net), bits))
    }

    /// The client's address for a request (its peer is in its `ClientAddr` extension).
    pub fn client_of(&self, parts: &axum::http::request::Parts) -> IpAddr {
        let peer =
            parts.extensions.get::<crate::server::stream::conn::ClientAddr>().map_or(IpAddr::from([0, 0, 0, 0]), |a| a.0.ip());
        self.client(peer, &parts.headers)
    }

    /// The client's address for a request that arrived from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|s| canonical(s.ip()))
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits as u32) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits as u32) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn lists_parse_and_bad_entries_are_named() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 127.0.0.1 ,fd00::/8").unwrap();
        assert!(t.trusts(ip("10.1.2.3")) && t.trusts(ip("127.0.0.1")) && t.trusts(ip("fd12::1")));
        assert!(!t.trusts(ip("11.0.0.1")) && !t.trusts(ip("127.0.0.2")) && !t.trusts(ip("fe80::1")));
        assert!(t.trusts(ip("::ffff:10.9.9.9")), "an IPv4-mapped peer is its IPv4 address");
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("0.0.0.0/0").unwrap().trusts(ip("8.8.8.8")));
        assert!(TrustedProxies::parse("proxy.local").unwrap_err().contains("\"proxy.local\""));
        assert!(TrustedProxies::parse("10.0.0.0/33").unwrap_err().contains("0 to 32"));
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let proxy = ip("10.0.0.2");
        // Not from a trusted proxy: the header is the client's own words, ignored.
        assert_eq!(t.client(ip("203.0.113.9"), &headers(&["1.1.1.1"])), ip("203.0.113.9"));
        // From the proxy: what the proxy appended.
        assert_eq!(t.client(proxy, &headers(&["198.51.100.7"])), ip("198.51.100.7"));
        // The client's own forged entries to the left are skipped.
        assert_eq!(t.client(proxy, &headers(&["6.6.6.6, 198.51.100.7"])), ip("198.51.100.7"));
        // A chain of trusted proxies; several header lines; ports.
        assert_eq!(t.client(proxy, &headers(&["6.6.6.6, 198.51.100.7", "10.0.0.9:443"])), ip("198.51.100.7"));
        assert_eq!(t.client(proxy, &headers(&["[2001:db8::5]:1234"])), ip("2001:db8::5"));
        // No header, or garbage where the proxy's entry should be: the proxy itself.
        assert_eq!(t.client(proxy, &HeaderMap::new()), proxy);
        assert_eq!(t.client(proxy, &headers(&["not-an-address"])), proxy);
        // Nobody trusted: always the peer.
        assert_eq!(TrustedProxies::default().client(proxy, &headers(&["1.2.3.4"])), proxy);
    }
}
