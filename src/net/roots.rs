//! The TLS root certificates in effect: `SSL_CERT_FILE`/`SSL_CERT_DIR`, else the system's, else
//! the bundled Mozilla roots.

use std::fmt;

/// The root certificates a client trusts, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The system store, or the files `SSL_CERT_FILE` / `SSL_CERT_DIR` name.
    System {
        /// Where they were read: `system trust store`, `SSL_CERT_FILE=…`, `SSL_CERT_DIR=…`.
        from: String,
        certs: usize,
    },
    /// Mozilla's roots compiled into this binary (webpki-roots): the system gave none.
    Bundled {
        /// Where the system roots were looked for.
        from: String,
        /// Why they did not do: nothing there, or the loader's first error.
        why: String,
    },
}

impl Roots {
    /// Load the system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` when set, else the platform's
    /// store) and decide.
    pub fn load() -> Roots {
        Roots::decide(rustls_native_certs::load_native_certs(), roots_origin())
    }

    /// The system's roots when there is at least one certificate, else the bundled ones. A
    /// store with some unreadable entries still counts when others loaded: that is every
    /// distribution's bundle on some day, and the certificates that did load are the user's.
    pub fn decide(loaded: rustls_native_certs::CertificateResult, from: String) -> Roots {
        if !loaded.certs.is_empty() {
            return Roots::System {
                from,
                certs: loaded.certs.len(),
            };
        }
        let why = match loaded.errors.first() {
            Some(e) => format!("no certificate could be read ({e})"),
            None => "it holds no certificate".into(),
        };
        Roots::Bundled { from, why }
    }

    pub fn is_bundled(&self) -> bool {
        matches!(self, Roots::Bundled { .. })
    }
}

impl fmt::Display for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Roots::System { from, certs: 1 } => write!(f, "{from} (1 certificate)"),
            Roots::System { from, certs } => write!(f, "{from} ({certs} certificates)"),
            Roots::Bundled { from, why } => write!(
                f,
                "bundled Mozilla roots (webpki-roots), because {from} gave none: {why}"
            ),
        }
    }
}

/// Where [`rustls_native_certs::load_native_certs`] reads: `SSL_CERT_FILE` and `SSL_CERT_DIR`
/// when either is set (and then nothing else), else the platform's store.
fn roots_origin() -> String {
    let set: Vec<String> = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .filter_map(|name| {
            std::env::var_os(name).map(|v| format!("{name}={}", v.to_string_lossy()))
        })
        .collect();
    if set.is_empty() {
        "the system trust store".into()
    } else {
        set.join(" and ")
    }
}
