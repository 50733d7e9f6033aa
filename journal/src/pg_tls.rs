//! TLS for the PostgreSQL journal, as libpq's `sslmode` asks for it: `disable` (or no
//! `sslmode`) none; `prefer` TLS when the server offers it; `require` TLS without checking the
//! certificate (checking its chain when `sslrootcert` is given, as libpq does); `verify-ca`
//! the chain against `sslrootcert` (or the Mozilla roots); `verify-full` the chain and that the
//! certificate names the host. tokio-postgres reads only disable/prefer/require, so the URL is
//! rewritten before it sees it.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No TLS: no `sslmode`, or `disable`.
    Off,
    /// TLS if offered, certificate unchecked.
    Prefer,
    /// TLS, certificate unchecked.
    Require,
    /// TLS, the certificate's chain checked.
    VerifyCa(Option<PathBuf>),
    /// TLS, the chain and the host name checked.
    VerifyFull(Option<PathBuf>),
}

/// The URL tokio-postgres can read, and the TLS it asks for.
pub fn split(url: &str) -> Result<(String, Mode), String> {
    let (mut mode, mut root) = (None::<String>, None::<PathBuf>);
    let rewritten = if let Some((base, query)) = url.split_once('?') {
        let mut kept = Vec::new();
        for kv in query.split('&') {
            match kv.split_once('=') {
                Some(("sslmode", v)) => mode = Some(v.to_string()),
                Some(("sslrootcert", v)) => root = Some(PathBuf::from(percent_decode(v))),
                _ => kept.push(kv.to_string()),
            }
        }
        let wanted = mode.as_deref().map(|m| if m.starts_with("verify") { "require" } else { m });
        kept.extend(wanted.map(|m| format!("sslmode={m}")));
        if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) }
    } else if url.contains('=') && !url.contains("://") {
        // `host=... sslmode=verify-full` connection strings.
        let mut kept = Vec::new();
        for kv in url.split_whitespace() {
            match kv.split_once('=') {
                Some(("sslmode", v)) => {
                    mode = Some(v.to_string());
                    kept.push(format!("sslmode={}", if v.starts_with("verify") { "require" } else { v }));
                }
                Some(("sslrootcert", v)) => root = Some(PathBuf::from(v)),
                _ => kept.push(kv.to_string()),
            }
        }
        kept.join(" ")
    } else {
        url.to_string()
    };
    let mode = match mode.as_deref() {
        None | Some("disable") => Mode::Off,
        Some("allow") | Some("prefer") => Mode::Prefer,
        Some("require") if root.is_some() => Mode::VerifyCa(root),
        Some("require") => Mode::Require,
        Some("verify-ca") => Mode::VerifyCa(root),
        Some("verify-full") => Mode::VerifyFull(root),
        Some(other) => {
            return Err(format!("sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"));
        }
    };
    Ok((rewritten, mode))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(file: &Option<PathBuf>) -> Result<Arc<RootCertStore>, String> {
    let mut store = RootCertStore::empty();
    match file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                store.add(cert).map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            }
            if store.is_empty() {
                return Err(format!("sslrootcert {} holds no certificate", path.display()));
            }
        }
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(Arc::new(store))
}

/// The connector for `mode`; `None` for no TLS.
pub fn connector(mode: &Mode) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>, String> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match mode {
        Mode::Off => return Ok(None),
        Mode::Prefer | Mode::Require => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(Unchecked(provider))).with_no_client_auth()
        }
        Mode::VerifyCa(file) => {
            let inner = WebPkiServerVerifier::builder_with_provider(roots(file)?, provider)
                .build()
                .map_err(|e| e.to_string())?;
            builder.dangerous().with_custom_certificate_verifier(Arc::new(ChainOnly(inner))).with_no_client_auth()
        }
        Mode::VerifyFull(file) => builder.with_root_certificates(roots(file)?).with_no_client_auth(),
    };
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(config)))
}

/// `prefer` and `require`: encrypted, the certificate taken as it comes (libpq's meaning).
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name in it is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_read_and_rewritten_for_tokio_postgres() {
        let (url, mode) = split("postgresql://u@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem").unwrap();
        assert_eq!(url, "postgresql://u@h/db?sslmode=require");
        assert_eq!(mode, Mode::VerifyFull(Some("/tmp/ca.pem".into())));
        assert_eq!(split("postgresql://u@h/db").unwrap().1, Mode::Off);
        assert_eq!(split("postgresql://u@h/db?sslmode=require").unwrap().1, Mode::Require);
        let (kv, mode) = split("host=h user=u sslmode=verify-ca sslrootcert=/ca.pem").unwrap();
        assert_eq!(kv, "host=h user=u sslmode=require");
        assert_eq!(mode, Mode::VerifyCa(Some("/ca.pem".into())));
        assert!(split("postgresql://h/db?sslmode=maybe").is_err());
    }
}
