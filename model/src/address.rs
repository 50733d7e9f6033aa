//! Typed, immutable addresses of things a rollout touches, printed in .conv syntax.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }
    };
}

name_type!(
    /// The name of an `environment` declaration.
    EnvName
);
name_type!(
    /// A site of an environment, as listed in its `sites`.
    SiteName
);
name_type!(
    /// The name of a `release` declaration.
    ReleaseName
);
name_type!(
    /// The name of a `service` declaration.
    ServiceName
);

/// Where something happens, from the coarsest to the finest part that applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address {
    pub env: Option<EnvName>,
    pub site: Option<SiteName>,
    pub release: Option<ReleaseName>,
    pub service: Option<ServiceName>,
}

impl Address {
    pub fn site(env: &EnvName, site: &SiteName) -> Self {
        Address { env: Some(env.clone()), site: Some(site.clone()), release: None, service: None }
    }

    pub fn with_release(mut self, release: &ReleaseName) -> Self {
        self.release = Some(release.clone());
        self
    }

    pub fn with_service(mut self, service: &ServiceName) -> Self {
        self.service = Some(service.clone());
        self
    }
}

/// `production["prod-east"]/storefront/api`: the environment, the site in brackets as in
/// `sites = [...]`, then the release and the service.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if let Some(env) = &self.env {
            write!(f, "{env}")?;
            first = false;
        }
        if let Some(site) = &self.site {
            write!(f, "[{:?}]", site.0)?;
            first = false;
        }
        for part in
            [self.release.as_ref().map(|r| r.as_str()), self.service.as_ref().map(|s| s.as_str())].into_iter().flatten()
        {
            if !first {
                f.write_str("/")?;
            }
            f.write_str(part)?;
            first = false;
        }
        Ok(())
    }
}

/// One instance slot of a service on a site: `production["prod-east"]/api#0`. Steps in the
/// journal are addressed by it; this is the one place it is printed and parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstanceAddress {
    pub env: EnvName,
    pub site: SiteName,
    pub service: ServiceName,
    pub slot: u32,
}

impl InstanceAddress {
    pub fn new(env: &EnvName, site: &SiteName, service: &ServiceName, slot: u32) -> Self {
        InstanceAddress { env: env.clone(), site: site.clone(), service: service.clone(), slot }
    }

    /// The site and service it belongs to: `production["prod-east"]/api`.
    pub fn site_service(&self) -> String {
        format!("{}[{:?}]/{}", self.env, self.site.0, self.service)
    }

    /// Reads what `Display` printed; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (env, rest) = text.split_once('[')?;
        let (site, rest) = rest.split_once("]/")?;
        let site = unquote(site)?;
        let (service, slot) = rest.rsplit_once('#')?;
        Some(InstanceAddress {
            env: EnvName(env.to_string()),
            site: SiteName(site),
            service: ServiceName(service.to_string()),
            slot: slot.parse().ok()?,
        })
    }
}

/// Reads a string as `{:?}` printed it: quoted, with Rust's escapes.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '0' => '\0',
            'u' => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            other => other,
        });
    }
    Some(out)
}

impl fmt::Display for InstanceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.site_service(), self.slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_address_reads_back_what_it_printed() {
        let at = InstanceAddress::new(&"production".into(), &"prod \"east\"\n\u{1b}".into(), &"api".into(), 3);
        assert_eq!(at.to_string(), r#"production["prod \"east\"\n\u{1b}"]/api#3"#);
        assert_eq!(InstanceAddress::parse(&at.to_string()), Some(at));
        assert_eq!(InstanceAddress::parse("storefront/canary"), None);
    }
}
