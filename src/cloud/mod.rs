//! The narrow interface to Alibaba Cloud ECS: signing ([`sign`]), credentials ([`creds`]),
//! typed operations ([`ops`]), the HTTP client with retries ([`client`], [`retry`]) and one
//! error type ([`error`]). It knows nothing about plans, state or addresses beyond an id.

pub mod client;
pub mod creds;
pub mod error;
pub mod ops;
pub mod retry;
pub mod sign;
pub mod waiter;

/// True for a URL whose host is this machine: `localhost`, or an IP address of the
/// loopback range (`127.0.0.0/8`, `::1`). The host is the one `reqwest` would connect to,
/// parsed as a URL, so `http://127.0.0.1.example.com` or `http://127.evil@example.com` is
/// not mistaken for one.
pub fn is_loopback_url(s: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(s) else {
        return false;
    };
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_this_machine_is_loopback() {
        for yes in [
            "http://127.0.0.1:8080/",
            "http://localhost",
            "http://[::1]:9/x",
            "http://127.1.2.3",
        ] {
            assert!(super::is_loopback_url(yes), "{yes}");
        }
        for no in [
            "http://127.0.0.1.example.com",
            "http://127.evil.com/",
            "http://user:127.0.0.1@example.com",
            "http://10.0.0.1",
            "http://example.com/127.0.0.1",
            "not a url",
        ] {
            assert!(!super::is_loopback_url(no), "{no}");
        }
    }
}
