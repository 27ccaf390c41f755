//! Which index each locked crate is looked up in: crates.io's (or the configured mirror) for
//! crates.io packages, and a private sparse registry for packages a lockfile records from one
//! (`sparse+https://…`), when it answers without credentials. A git-based index is not
//! fetched (reported instead), and neither is a registry on a loopback, private or link-local
//! address unless allowed: a repository's lockfile must not make the app call into its own
//! network.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::client::{IndexClient, IndexFetchError};
use crate::deps::lockfile::Source;
use crate::deps::{Candidate, DeclSource, Workspace};

/// Index clients by registry, sharing one cache per registry across repositories.
#[derive(Clone)]
pub struct Registries {
    default: IndexClient,
    others: Arc<Mutex<HashMap<String, IndexClient>>>,
    allow_private_hosts: bool,
}

/// What could not be looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupProblem {
    pub registry: String,
    pub message: String,
    /// The registry's breaker is open until then (ms): it is down, not just missing a crate.
    pub unavailable_until: Option<i64>,
}

impl Registries {
    pub fn new(default: IndexClient) -> Self {
        Registries {
            default,
            others: Arc::default(),
            allow_private_hosts: false,
        }
    }

    /// Lets private registries live on loopback or private addresses (tests; an on-premises
    /// deployment that means it).
    pub fn allow_private_hosts(mut self, allow: bool) -> Self {
        self.allow_private_hosts = allow;
        self
    }

    pub fn default_client(&self) -> &IndexClient {
        &self.default
    }

    /// The client for a lockfile source URL, or why there is none.
    fn client_for(&self, source: &str) -> Result<IndexClient, String> {
        let Some(url) = source.strip_prefix("sparse+") else {
            return Err("a git-based index; only sparse registries are read".into());
        };
        let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
        if parsed.scheme() != "https" && !self.allow_private_hosts {
            return Err("not https".into());
        }
        if !self.allow_private_hosts && private_host(&parsed) {
            return Err("on a loopback, private or link-local address".into());
        }
        let mut others = self.others.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = others.get(url) {
            return Ok(c.clone());
        }
        let client = IndexClient::new(url, Duration::from_secs(30), Duration::from_secs(300))
            .map_err(|e| e.to_string())?;
        others.insert(url.to_owned(), client.clone());
        Ok(client)
    }

    /// Versions of every crate the workspaces lock or declare, each from its own registry.
    pub async fn candidates(
        &self,
        workspaces: &[Workspace],
    ) -> (BTreeMap<String, Vec<Candidate>>, Vec<LookupProblem>) {
        let mut by_registry: BTreeMap<Option<String>, BTreeSet<String>> = BTreeMap::new();
        for ws in workspaces {
            if let Some((_, locked)) = &ws.lockfile {
                for p in &locked.packages {
                    match &p.source {
                        Source::CratesIo => {
                            by_registry.entry(None).or_default().insert(p.name.clone());
                        }
                        Source::Registry { url } => {
                            by_registry
                                .entry(Some(url.clone()))
                                .or_default()
                                .insert(p.name.clone());
                        }
                        _ => {}
                    }
                }
            }
            for d in &ws.declared {
                if matches!(d.source, DeclSource::Registry { registry: None }) {
                    by_registry
                        .entry(None)
                        .or_default()
                        .insert(d.package.clone());
                }
            }
        }
        let mut out = BTreeMap::new();
        let mut problems = Vec::new();
        for (registry, names) in by_registry {
            let client = match &registry {
                None => self.default.clone(),
                Some(source) => match self.client_for(source) {
                    Ok(c) => c,
                    Err(message) => {
                        problems.push(LookupProblem {
                            registry: source.clone(),
                            message,
                            unavailable_until: None,
                        });
                        continue;
                    }
                },
            };
            let (found, errors) = client.candidates(names).await;
            out.extend(found);
            problems.extend(errors.into_iter().map(|e: IndexFetchError| {
                LookupProblem {
                    registry: registry
                        .clone()
                        .unwrap_or_else(|| client.base().to_string()),
                    message: e.to_string(),
                    unavailable_until: e.unavailable_until(),
                }
            }));
        }
        (out, problems)
    }
}

/// Whether a URL's host is a loopback, private, link-local or unspecified address (or
/// `localhost`). Names are not resolved here; the HTTP client connects to what DNS says.
fn private_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
        }
        Some(url::Host::Ipv6(ip)) => {
            let ip = IpAddr::V6(ip);
            ip.is_loopback()
                || ip.is_unspecified()
                || matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let default = IndexClient::new(
            super::super::CRATES_IO,
            Duration::from_secs(1),
            Duration::ZERO,
        )
        .unwrap();
        let r = Registries::new(default);
        for bad in [
            "sparse+http://example.com/index/",
            "sparse+https://127.0.0.1/index/",
            "sparse+https://169.254.169.254/latest/",
            "sparse+https://10.1.2.3/",
            "sparse+https://localhost:8080/",
            "sparse+https://[::1]/",
            "registry+https://github.com/org/index",
        ] {
            assert!(r.client_for(bad).is_err(), "{bad} should be refused");
        }
        assert!(r
            .client_for("sparse+https://registry.example.com/index/")
            .is_ok());
        let open = r.clone().allow_private_hosts(true);
        assert!(open.client_for("sparse+http://127.0.0.1:9/").is_ok());
    }
}
