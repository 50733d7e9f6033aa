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
