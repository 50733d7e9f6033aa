//! The HTTP(S) client of probes, Prometheus queries and webhooks: ureq over rustls. HTTPS
//! trusts the Mozilla roots, or, when `SSL_CERT_FILE` names a PEM bundle (as for OpenSSL and
//! curl), exactly the certificates in it: how an internal certificate authority is trusted.

use std::sync::OnceLock;
use std::time::Duration;

/// The roots `SSL_CERT_FILE` names, read once; `None` for the default roots.
fn roots() -> Option<ureq::tls::RootCerts> {
    static ROOTS: OnceLock<Option<ureq::tls::RootCerts>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let path = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty())?;
            let pem = std::fs::read(&path).ok()?;
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            (!certs.is_empty()).then(|| ureq::tls::RootCerts::new_with_certs(&certs))
        })
        .clone()
}

/// An agent that gives up after `timeout`; with `statuses_as_answers`, a 4xx or 5xx is an
/// answer to read, not an error.
pub fn agent(timeout: Duration, statuses_as_answers: bool) -> ureq::Agent {
    let mut config =
        ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(!statuses_as_answers);
    if let Some(roots) = roots() {
        config = config.tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build());
    }
    config.build().into()
}
