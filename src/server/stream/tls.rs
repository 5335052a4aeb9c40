//! HTTPS: `--tls-cert` and `--tls-key` (PEM files) make the listener speak TLS, offering
//! HTTP/2 and HTTP/1.1 by ALPN, so a browser's tabs share one connection for their pages and
//! streams (HTTP/1.1 allows six per origin). The files are read again on SIGHUP (a renewed
//! certificate); new connections use the new ones, and if they do not load, the old ones stay
//! and the error is logged. rustls with the ring provider (the one reqwest uses already).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// Why the certificate or key could not be used, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{cert} and {key}: {message}")]
    Pair { cert: String, key: String, message: String },
}

/// The TLS settings connections are accepted with, replaced whole on reload.
pub struct Tls {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<TlsAcceptor>,
}

impl Tls {
    /// Loads the certificate chain and key (at start: an error stops the server).
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Tls>, TlsError> {
        let acceptor = acceptor(cert, key)?;
        Ok(Arc::new(Tls { cert: cert.to_path_buf(), key: key.to_path_buf(), current: RwLock::new(acceptor) }))
    }

    /// What a new connection is accepted with.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current.read().expect("not poisoned").clone()
    }

    /// Reads the files again; on an error the current settings stay.
    pub fn reload(&self) -> Result<(), TlsError> {
        let acceptor = acceptor(&self.cert, &self.key)?;
        *self.current.write().expect("not poisoned") = acceptor;
        Ok(())
    }

    /// Reloads on every SIGHUP (as the checks' configuration does).
    pub fn spawn_reload_on_hangup(self: &Arc<Self>) {
        let tls = self.clone();
        tokio::spawn(async move {
            let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
                return;
            };
            while hangups.recv().await.is_some() {
                match tls.reload() {
                    Ok(()) => tracing::info!("TLS: reloaded {} and {}", tls.cert.display(), tls.key.display()),
                    Err(e) => tracing::error!("TLS: kept the previous certificate: {e}"),
                }
            }
        });
    }
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> TlsError {
    TlsError::File { file: path.display().to_string(), message: message.to_string() }
}

fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_pem = std::fs::read(cert).map_err(|e| file_error(cert, e))?;
    let key_pem = std::fs::read(key).map_err(|e| file_error(key, e))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(cert, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(file_error(cert, "no certificate (expected -----BEGIN CERTIFICATE-----)"));
    }
    let private = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| file_error(key, format!("no private key in PEM (PKCS#8, PKCS#1 or SEC1): {e}")))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let pair = |message: String| TlsError::Pair { cert: cert.display().to_string(), key: key.display().to_string(), message };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| pair(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| pair(format!("the key does not fit the certificate, or is not supported: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openssl(args: &[&str]) {
        let out = std::process::Command::new("openssl").args(args).output().expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ]);
        (cert, key)
    }

    #[test]
    fn certificates_load_and_bad_files_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(dir.path(), "a");
        let tls = Tls::load(&cert, &key).expect("a self-signed pair loads");
        let missing = dir.path().join("missing.crt");
        let err = Tls::load(&missing, &key).err().unwrap().to_string();
        assert!(err.starts_with(&missing.display().to_string()) && err.contains("No such file"), "{err}");
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "hello").unwrap();
        let err = Tls::load(&garbage, &key).err().unwrap().to_string();
        assert!(err.contains("garbage.pem") && err.contains("no certificate"), "{err}");
        let err = Tls::load(&cert, &garbage).err().unwrap().to_string();
        assert!(err.contains("garbage.pem") && err.contains("private key"), "{err}");
        // Another pair's key does not fit.
        let (_, other_key) = self_signed(dir.path(), "b");
        let err = Tls::load(&cert, &other_key).err().unwrap().to_string();
        assert!(err.contains("does not fit"), "{err}");
        // A failed reload keeps what was loaded; a good one replaces it.
        std::fs::write(&cert, "broken").unwrap();
        assert!(tls.reload().is_err());
        let (cert2, key2) = self_signed(dir.path(), "c");
        std::fs::copy(&cert2, &cert).unwrap();
        std::fs::copy(&key2, &key).unwrap();
        tls.reload().expect("the renewed pair loads");
    }
}
