//! Whether GitHub can reach upkeep at all, and so how often the delivery log is swept. With a
//! public URL GitHub pushes events and the sweep only mends what failed: every 10 minutes. With
//! none, or one on a loopback, private or link-local address (a workstation, a network behind a
//! firewall), nothing GitHub sends arrives: the sweep is how events come in, every 30 seconds,
//! so upkeep works without a tunnel.

use std::net::IpAddr;
use std::time::Duration;

/// How often the log is swept when GitHub delivers to upkeep.
pub const SWEEP_EVERY_PUBLIC: Duration = Duration::from_secs(600);
/// How often the log is swept when it is the only way events arrive.
pub const SWEEP_EVERY_UNREACHABLE: Duration = Duration::from_secs(30);

/// Whether GitHub could deliver to `public_url`.
pub fn reachable(public_url: Option<&url::Url>) -> bool {
    let Some(url) = public_url else {
        return false;
    };
    match url.host() {
        None => false,
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            !(name == "localhost"
                || name.ends_with(".localhost")
                || name.ends_with(".local")
                || name.ends_with(".internal")
                || !name.contains('.'))
        }
        Some(url::Host::Ipv4(ip)) => public_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => public_ip(IpAddr::V6(ip)),
    }
}

fn public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // Carrier-grade NAT (100.64.0.0/10): Tailscale and friends.
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// How often to sweep the delivery log for a deployment at `public_url`.
pub fn sweep_every(public_url: Option<&url::Url>) -> Duration {
    if reachable(public_url) {
        SWEEP_EVERY_PUBLIC
    } else {
        SWEEP_EVERY_UNREACHABLE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(url: &str) -> Duration {
        sweep_every(Some(&url::Url::parse(url).unwrap()))
    }

    #[test]
    fn a_public_url_is_swept_every_ten_minutes() {
        assert_eq!(every("https://upkeep.fly.dev"), SWEEP_EVERY_PUBLIC);
        assert_eq!(every("https://203.0.113.9:8443/"), SWEEP_EVERY_PUBLIC);
        assert_eq!(every("http://[2001:db8::1]/"), SWEEP_EVERY_PUBLIC);
    }

    #[test]
    fn no_url_or_a_private_one_is_swept_every_thirty_seconds() {
        assert_eq!(sweep_every(None), SWEEP_EVERY_UNREACHABLE);
        for url in [
            "http://localhost:8080",
            "http://127.0.0.1:8080",
            "http://10.1.2.3",
            "http://192.168.1.20:3000",
            "http://172.16.0.5",
            "http://169.254.1.1",
            "http://100.101.102.103",
            "http://[::1]:8080",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://upkeep.internal",
            "http://nas.local",
            "http://devbox:8080",
        ] {
            assert_eq!(every(url), SWEEP_EVERY_UNREACHABLE, "{url}");
        }
    }
}
