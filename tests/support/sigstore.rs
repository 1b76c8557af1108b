//! A Sigstore stand-in: a Fulcio-like CA, a Rekor-like log key and a CT log key of the test's
//! own, the `trusted_root.json` naming them, and bundles they sign, so a valid signature can go
//! end to end through `install --trusted-root` with nothing real behind it.
//!
//! What is made is what the production services make, in the shape the verifier checks: a leaf
//! certificate (code-signing EKU, the identity as a URI SAN, Fulcio's issuer and source claims)
//! with an embedded SCT over its precertificate, a `hashedrekord` entry whose signed entry
//! timestamp (SET) is over Rekor's canonical payload, and the signature over the file. Bundles
//! are written in both spellings: cosign 2.x's legacy one and the standard v0.1 one (an
//! inclusion promise, no inclusion proof, as cosign 2.x's `--bundle` carries).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sigstore_crypto::KeyPair;
use x509_cert::der::asn1::{BitString, Ia5String, ObjectIdentifier, OctetString, UtcTime};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectAltName};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use crate::support::github::sha256_hex;

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const FULCIO_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
const FULCIO_SOURCE_REPO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.12");
const FULCIO_SOURCE_REF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.14");
const CT_PRECERT_SCTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// The issuer OpenAI's release workflow's certificates name.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The identity, issuer and claims a certificate is issued for.
#[derive(Debug, Clone)]
pub struct Identity {
    pub san: String,
    pub issuer: String,
    pub source_repository: String,
    pub source_ref: String,
}

impl Identity {
    /// OpenAI's release workflow at `tag` (`rust-v<V>`), as Fulcio would name it.
    pub fn codex_release(tag: &str) -> Identity {
        Identity {
            san: format!(
                "https://github.com/openai/codex/.github/workflows/rust-release.yml@refs/tags/{tag}"
            ),
            issuer: GITHUB_ISSUER.into(),
            source_repository: "https://github.com/openai/codex".into(),
            source_ref: format!("refs/tags/{tag}"),
        }
    }
}

/// A test's own Sigstore: CA, transparency log and CT log keys.
pub struct TestSigstore {
    ca: KeyPair,
    ca_cert: Vec<u8>,
    rekor: KeyPair,
    ct: KeyPair,
    now: u64,
}

impl Default for TestSigstore {
    fn default() -> Self {
        TestSigstore::new()
    }
}

impl TestSigstore {
    pub fn new() -> TestSigstore {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_secs();
        let ca = KeyPair::generate_ecdsa_p256().expect("generate a CA key");
        let name = name("CN=test-fulcio,O=codex-bootstrap tests");
        let ca_cert = certificate(
            &ca,
            &ca,
            name.clone(),
            name,
            // The CA was valid well before and well after anything a test signs.
            (now - 30 * 86400, now + 30 * 86400),
            vec![extension(
                BASIC_CONSTRAINTS,
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
            )],
        );
        TestSigstore {
            ca,
            ca_cert,
            rekor: KeyPair::generate_ecdsa_p256().expect("generate a log key"),
            ct: KeyPair::generate_ecdsa_p256().expect("generate a CT key"),
            now,
        }
    }

    /// The `trusted_root.json` naming this CA and these log keys.
    pub fn trusted_root(&self) -> String {
        let start = "2020-01-01T00:00:00Z";
        let log = |key: &KeyPair, url: &str| {
            let spki = spki_der(key);
            serde_json::json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": STANDARD.encode(&spki),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": { "start": start },
                },
                "logId": { "keyId": STANDARD.encode(sha256(&spki)) },
            })
        };
        serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(&self.rekor, "https://rekor.test")],
            "ctlogs": [log(&self.ct, "https://ct.test")],
            "certificateAuthorities": [{
                "subject": { "organization": "codex-bootstrap tests", "commonName": "test-fulcio" },
                "uri": "https://fulcio.test",
                "certChain": { "certificates": [ { "rawBytes": STANDARD.encode(&self.ca_cert) } ] },
                "validFor": { "start": start },
            }],
            "timestampAuthorities": [],
        })
        .to_string()
    }

    /// A cosign 2.x legacy bundle (`cosign sign-blob --bundle`) proving that `who` signed
    /// `bytes`.
    pub fn sign_legacy(&self, bytes: &[u8], who: &Identity) -> Vec<u8> {
        let s = self.sign(bytes, who);
        serde_json::json!({
            "base64Signature": STANDARD.encode(&s.signature),
            "cert": STANDARD.encode(s.cert_pem.as_bytes()),
            "rekorBundle": {
                "SignedEntryTimestamp": STANDARD.encode(&s.set),
                "Payload": {
                    "body": STANDARD.encode(&s.body),
                    "integratedTime": s.integrated_time,
                    "logIndex": s.log_index,
                    "logID": hex(&s.log_id),
                },
            },
        })
        .to_string()
        .into_bytes()
    }

    /// A standard Sigstore bundle v0.1 proving the same.
    pub fn sign_bundle(&self, bytes: &[u8], who: &Identity) -> Vec<u8> {
        let s = self.sign(bytes, who);
        serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "verificationMaterial": {
                "x509CertificateChain": { "certificates": [ { "rawBytes": STANDARD.encode(&s.cert_der) } ] },
                "tlogEntries": [ {
                    "logIndex": s.log_index.to_string(),
                    "logId": { "keyId": STANDARD.encode(&s.log_id) },
                    "kindVersion": { "kind": "hashedrekord", "version": "0.0.1" },
                    "integratedTime": s.integrated_time.to_string(),
                    "inclusionPromise": { "signedEntryTimestamp": STANDARD.encode(&s.set) },
                    "canonicalizedBody": STANDARD.encode(&s.body),
                } ],
            },
            "messageSignature": {
                "messageDigest": { "algorithm": "SHA2_256", "digest": STANDARD.encode(sha256(bytes)) },
                "signature": STANDARD.encode(&s.signature),
            },
        })
        .to_string()
        .into_bytes()
    }

    fn sign(&self, bytes: &[u8], who: &Identity) -> Signed {
        // A signing key for this one signature, certified by the CA for `who`.
        let key = KeyPair::generate_ecdsa_p256().expect("generate a signing key");
        let cert_der = self.leaf(&key, who);
        let cert_pem = pem(&cert_der);
        let signature = key.sign(bytes).expect("sign").as_bytes().to_vec();
        // The entry Rekor would record, and its signed entry timestamp.
        let body = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": { "hash": { "algorithm": "sha256", "value": sha256_hex(bytes) } },
                "signature": {
                    "content": STANDARD.encode(&signature),
                    "publicKey": { "content": STANDARD.encode(cert_pem.as_bytes()) },
                },
            },
        })
        .to_string()
        .into_bytes();
        let log_id = sha256(&spki_der(&self.rekor));
        let integrated_time = self.now - 3600;
        let log_index = 4242u64;
        // Rekor's SET payload, canonical JSON (RFC 8785): keys sorted, no spaces.
        let payload = format!(
            "{{\"body\":\"{}\",\"integratedTime\":{integrated_time},\"logID\":\"{}\",\"logIndex\":{log_index}}}",
            STANDARD.encode(&body),
            hex(&log_id)
        );
        let set = self
            .rekor
            .sign(payload.as_bytes())
            .expect("sign the entry")
            .as_bytes()
            .to_vec();
        Signed {
            cert_der,
            cert_pem,
            signature,
            body,
            set,
            log_id,
            log_index,
            integrated_time,
        }
    }

    /// A leaf certificate for `key`, valid around the log's integrated time, with its SCT.
    fn leaf(&self, key: &KeyPair, who: &Identity) -> Vec<u8> {
        let san = SubjectAltName(vec![GeneralName::UniformResourceIdentifier(
            Ia5String::new(&who.san).expect("an ASCII identity"),
        )]);
        let mut extensions = vec![
            extension(EKU, false, &ExtendedKeyUsage(vec![CODE_SIGNING])),
            extension(SAN, true, &san),
            utf8_extension(FULCIO_ISSUER_V2, &who.issuer),
            utf8_extension(FULCIO_SOURCE_REPO, &who.source_repository),
            utf8_extension(FULCIO_SOURCE_REF, &who.source_ref),
        ];
        let validity = (self.now - 2 * 3600, self.now + 2 * 3600);
        let issuer = Certificate::from_der(&self.ca_cert)
            .expect("the CA certificate")
            .tbs_certificate
            .subject;
        // The precertificate: what the CT log signs (RFC 6962 §3.2), the same TBS without the
        // SCT list extension.
        let precert = tbs(
            key,
            issuer.clone(),
            Name::default(),
            validity,
            extensions.clone(),
        );
        let sct_list = self.sct_list(&precert.to_der().expect("encode the precertificate"));
        extensions.push(Extension {
            extn_id: CT_PRECERT_SCTS,
            critical: false,
            extn_value: OctetString::new(
                OctetString::new(sct_list)
                    .expect("an SCT list")
                    .to_der()
                    .expect("encode"),
            )
            .expect("an extension value"),
        });
        let tbs = tbs(key, issuer, Name::default(), validity, extensions);
        sign_tbs(tbs, &self.ca)
    }

    /// The TLS-encoded `SignedCertificateTimestampList` with one SCT over `precert_tbs`.
    fn sct_list(&self, precert_tbs: &[u8]) -> Vec<u8> {
        let timestamp_ms = (self.now - 2 * 3600 + 60) * 1000;
        let issuer_key_hash = sha256(&spki_der(&self.ca));
        let mut signed = vec![0u8, 0u8]; // v1, certificate_timestamp
        signed.extend_from_slice(&timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&(precert_tbs.len() as u32).to_be_bytes()[1..]);
        signed.extend_from_slice(precert_tbs);
        signed.extend_from_slice(&0u16.to_be_bytes()); // no extensions
        let signature = self.ct.sign(&signed).expect("sign the SCT");
        let signature = signature.as_bytes();
        let mut sct = vec![0u8]; // v1
        sct.extend_from_slice(&sha256(&spki_der(&self.ct)));
        sct.extend_from_slice(&timestamp_ms.to_be_bytes());
        sct.extend_from_slice(&0u16.to_be_bytes());
        sct.extend_from_slice(&[4, 3]); // sha256, ecdsa
        sct.extend_from_slice(&(signature.len() as u16).to_be_bytes());
        sct.extend_from_slice(signature);
        let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
        list.extend_from_slice(&sct);
        list
    }
}

struct Signed {
    cert_der: Vec<u8>,
    cert_pem: String,
    signature: Vec<u8>,
    body: Vec<u8>,
    set: Vec<u8>,
    log_id: Vec<u8>,
    log_index: u64,
    integrated_time: u64,
}

fn name(text: &str) -> Name {
    text.parse().expect("a distinguished name")
}

fn spki_der(key: &KeyPair) -> Vec<u8> {
    key.public_key_der()
        .expect("a public key")
        .as_bytes()
        .to_vec()
}

fn extension(oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("encode an extension"))
            .expect("an extension value"),
    }
}

/// Fulcio encodes its claims from `.1.8` on as DER UTF8String.
fn utf8_extension(oid: ObjectIdentifier, value: &str) -> Extension {
    let value = x509_cert::der::asn1::Utf8StringRef::new(value).expect("a UTF-8 claim");
    extension(oid, false, &value)
}

fn tbs(
    key: &KeyPair,
    issuer: Name,
    subject: Name,
    (not_before, not_after): (u64, u64),
    extensions: Vec<Extension>,
) -> TbsCertificate {
    let time = |secs: u64| {
        Time::UtcTime(
            UtcTime::from_unix_duration(std::time::Duration::from_secs(secs)).expect("a UTC time"),
        )
    };
    TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&sha256(&spki_der(key))[..16]).expect("a serial"),
        signature: AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        },
        issuer,
        validity: Validity {
            not_before: time(not_before),
            not_after: time(not_after),
        },
        subject,
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(&spki_der(key))
            .expect("a public key"),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    }
}

fn certificate(
    key: &KeyPair,
    issuer_key: &KeyPair,
    issuer: Name,
    subject: Name,
    validity: (u64, u64),
    extensions: Vec<Extension>,
) -> Vec<u8> {
    sign_tbs(tbs(key, issuer, subject, validity, extensions), issuer_key)
}

fn sign_tbs(tbs: TbsCertificate, issuer_key: &KeyPair) -> Vec<u8> {
    let signature = issuer_key
        .sign(&tbs.to_der().expect("encode a TBS certificate"))
        .expect("sign a certificate");
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        },
        signature: BitString::from_bytes(signature.as_bytes()).expect("a signature"),
    }
    .to_der()
    .expect("encode a certificate")
}

fn pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
