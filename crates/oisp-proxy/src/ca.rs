//! The proxy's certificate authority: generated on first use, kept in a private directory, and
//! the leaf certificates it signs for intercepted hosts (cached in memory).
//!
//! Files in the CA directory (0700): `ca.pem` (the certificate clients must trust), `ca-key.pem`
//! (its private key, 0600) and `bundle.pem` (the system roots followed by `ca.pem`, rewritten at
//! every start: for clients whose CA variable replaces the system store, such as
//! `SSL_CERT_FILE`, so that hosts tunnelled without interception still verify).

use oisp_os::private::{create_owned_dir, write_atomically};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Common name of every CA this proxy generates.
pub const CA_COMMON_NAME: &str = "oisp-sensor proxy CA";

/// Most leaf certificates kept in memory; beyond it the cache starts afresh.
const MAX_CACHED_LEAVES: usize = 4096;

/// A CA problem: the directory or a file could not be written or read, or a stored key or
/// certificate does not parse.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Cert {
        what: String,
        #[source]
        source: rcgen::Error,
    },
}

/// A leaf certificate for one host with its key, ready for a rustls server configuration.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Leaf {
    fn clone(&self) -> Self {
        Leaf {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// The CA: signs leaf certificates for the hosts the proxy intercepts.
pub struct CertAuthority {
    dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    /// One key for every leaf of this run (leaf keys never leave memory).
    leaf_key: KeyPair,
    leaves: Mutex<HashMap<String, Leaf>>,
}

/// The default CA directory: `ca` in the sensor's data directory ([`oisp_os::data_dir`]:
/// `/var/lib/oisp-sensor/ca` as root on Linux, `~/.local/share/oisp-sensor/ca` for a user).
pub fn default_ca_dir() -> PathBuf {
    oisp_os::data_dir().join("ca")
}

/// The CA certificate clients must trust, in `dir`.
pub fn ca_cert_path(dir: &Path) -> PathBuf {
    dir.join("ca.pem")
}

/// The system roots plus the CA certificate, in `dir` (see the module documentation).
pub fn bundle_path(dir: &Path) -> PathBuf {
    dir.join("bundle.pem")
}

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn.push(DnType::OrganizationName, "oisp-sensor");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let year = current_year();
    p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year + 10, 1, 1);
    p
}

/// The current UTC year (leap years averaged: off by at most a day around New Year, which the
/// validity margins absorb).
fn current_year() -> i32 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    1970 + (secs / 31_556_952) as i32
}

impl CertAuthority {
    /// Loads the CA in `dir`, or generates one there when `ca-key.pem` is missing. Writes
    /// `bundle.pem` afresh with `roots` (the system roots, DER).
    pub fn load_or_create(dir: &Path, roots: &[CertificateDer<'_>]) -> Result<Self, CaError> {
        create_owned_dir(dir).map_err(|source| CaError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let key_path = dir.join("ca-key.pem");
        let cert_path = ca_cert_path(dir);
        let (key, ca_der) = if key_path.exists() && cert_path.exists() {
            let read = |p: &Path| {
                std::fs::read_to_string(p).map_err(|source| CaError::Io {
                    path: p.to_path_buf(),
                    source,
                })
            };
            let key = KeyPair::from_pem(&read(&key_path)?).map_err(|source| CaError::Cert {
                what: key_path.display().to_string(),
                source,
            })?;
            let pem = read(&cert_path)?;
            let der = pem_to_der(&pem).ok_or_else(|| CaError::Cert {
                what: cert_path.display().to_string(),
                source: rcgen::Error::CouldNotParseCertificate,
            })?;
            (key, der)
        } else {
            let key = KeyPair::generate().map_err(|source| CaError::Cert {
                what: "generating the CA key".into(),
                source,
            })?;
            let cert = ca_params()
                .self_signed(&key)
                .map_err(|source| CaError::Cert {
                    what: "self-signing the CA certificate".into(),
                    source,
                })?;
            let io = |path: &Path| {
                let path = path.to_path_buf();
                move |source| CaError::Io { path, source }
            };
            write_atomically(&key_path, key.serialize_pem().as_bytes()).map_err(io(&key_path))?;
            write_atomically(&cert_path, cert.pem().as_bytes()).map_err(io(&cert_path))?;
            (key, cert.der().clone())
        };
        // The issuer is rebuilt from the fixed parameters this module always uses: same subject
        // and key identifier (from the key) as the stored certificate.
        let issuer = Issuer::new(ca_params(), key);
        let leaf_key = KeyPair::generate().map_err(|source| CaError::Cert {
            what: "generating the leaf key".into(),
            source,
        })?;
        let mut bundle = String::new();
        for r in roots {
            bundle.push_str(&der_to_pem(r));
        }
        bundle.push_str(&der_to_pem(&ca_der));
        let bp = bundle_path(dir);
        write_atomically(&bp, bundle.as_bytes()).map_err(|source| CaError::Io {
            path: bp.clone(),
            source,
        })?;
        Ok(CertAuthority {
            dir: dir.to_path_buf(),
            issuer,
            ca_der,
            leaf_key,
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// The directory holding the CA.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate (DER).
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// A leaf certificate for `host` (a DNS name or an IP address), signed by this CA; cached.
    pub fn leaf(&self, host: &str) -> Result<Leaf, CaError> {
        let host = host.to_ascii_lowercase();
        if let Some(l) = self.lock().get(&host) {
            return Ok(l.clone());
        }
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host.clone());
        p.distinguished_name = dn;
        p.subject_alt_names = vec![match host.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => {
                SanType::DnsName(host.clone().try_into().map_err(|source| CaError::Cert {
                    what: format!("leaf certificate for {host}"),
                    source,
                })?)
            }
        }];
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let year = current_year();
        p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
        p.not_after = rcgen::date_time_ymd(year + 1, 12, 31);
        let cert = p
            .signed_by(&self.leaf_key, &self.issuer)
            .map_err(|source| CaError::Cert {
                what: format!("leaf certificate for {host}"),
                source,
            })?;
        let leaf = Leaf {
            chain: vec![cert.der().clone(), self.ca_der.clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der())),
        };
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED_LEAVES {
            cache.clear();
        }
        cache.insert(host, leaf.clone());
        Ok(leaf)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Leaf>> {
        self.leaves.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// PEM text of one certificate.
pub fn der_to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(&String::from_utf8_lossy(line));
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

/// The first certificate of a PEM text.
fn pem_to_der(pem: &str) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes()).next()?.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_created_once_with_private_files_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        let a = CertAuthority::load_or_create(&ca_dir, &[]).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&ca_dir), 0o700);
            assert_eq!(mode(&ca_dir.join("ca-key.pem")), 0o600);
            assert_eq!(mode(&ca_cert_path(&ca_dir)), 0o600);
        }
        let b = CertAuthority::load_or_create(&ca_dir, &[]).unwrap();
        assert_eq!(a.cert_der(), b.cert_der());
        let leaf = b.leaf("api.openai.com").unwrap();
        assert_eq!(leaf.chain.len(), 2);
        assert!(b.leaf("127.0.0.1").is_ok());
        let bundle = std::fs::read_to_string(bundle_path(&ca_dir)).unwrap();
        assert_eq!(bundle, der_to_pem(a.cert_der()));
    }
}
