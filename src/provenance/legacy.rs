//! The legacy cosign bundle, mapped onto the standard Sigstore bundle v0.1 it is a spelling of.
//!
//! `cosign sign-blob --bundle` (cosign 2.x, what OpenAI's release workflow runs) writes
//! `{"base64Signature", "cert", "rekorBundle": {"SignedEntryTimestamp", "Payload": {"body",
//! "integratedTime", "logIndex", "logID"}}}`: the same signature, certificate and Rekor entry
//! with its signed entry timestamp that a v0.1 bundle carries (`messageSignature`,
//! `x509CertificateChain`, one `tlogEntries` item with an `inclusionPromise`), in other field
//! names and encodings. This module only renames and re-encodes: no field is checked here
//! beyond its encoding, and every signature, certificate and log check is the crate's. The
//! `kindVersion` and the signed digest are read from the entry body itself (what Rekor signed),
//! so a bundle whose parts disagree still fails in the verifier, not here.
//! cosign's own conversion is the reference: `pkg/cosign/bundle` in sigstore/cosign.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

/// The legacy bundle as cosign writes it (its Go field names).
#[derive(Deserialize)]
struct LegacyBundle {
    #[serde(rename = "base64Signature")]
    base64_signature: String,
    /// base64 of the signing certificate's PEM.
    cert: String,
    #[serde(rename = "rekorBundle")]
    rekor_bundle: RekorBundle,
}

#[derive(Deserialize)]
struct RekorBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: RekorPayload,
}

#[derive(Deserialize)]
struct RekorPayload {
    /// base64 of the canonicalized entry body.
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    /// The log's id in hex (the standard bundle carries it in base64).
    #[serde(rename = "logID")]
    log_id: String,
}

/// Whether a parsed JSON document is a legacy cosign bundle (it has no `mediaType`).
pub(super) fn is_legacy(doc: &Value) -> bool {
    doc.get("mediaType").is_none() && doc.get("rekorBundle").is_some()
}

/// The standard v0.1 bundle (as JSON) that says what `doc` says, or why it cannot be read.
pub(super) fn to_standard(doc: Value) -> Result<Value, String> {
    let legacy: LegacyBundle =
        serde_json::from_value(doc).map_err(|e| format!("not a cosign bundle: {e}"))?;
    let cert_pem = decode(&legacy.cert, "cert")?;
    let cert_pem = String::from_utf8(cert_pem).map_err(|_| "`cert` is not a PEM certificate")?;
    let cert_der = pem_body(&cert_pem).ok_or("`cert` holds no PEM CERTIFICATE block")?;
    let payload = legacy.rekor_bundle.payload;
    let body = decode(&payload.body, "rekorBundle.Payload.body")?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| format!("the Rekor entry body is not JSON: {e}"))?;
    let kind = body["kind"]
        .as_str()
        .ok_or("the Rekor entry body names no `kind`")?;
    let version = body["apiVersion"]
        .as_str()
        .ok_or("the Rekor entry body names no `apiVersion`")?;
    let log_id = hex_decode(&payload.log_id).ok_or("`logID` is not hex")?;
    let mut signature = json!({ "signature": legacy.base64_signature });
    // The digest the entry records: a hashedrekord names it; the verifier checks it against the
    // file and the signature, so taking it from the entry claims nothing on its own.
    if let (Some(alg), Some(hex)) = (
        body.pointer("/spec/data/hash/algorithm")
            .and_then(Value::as_str),
        body.pointer("/spec/data/hash/value")
            .and_then(Value::as_str),
    ) {
        let algorithm = match alg {
            "sha256" => "SHA2_256",
            "sha384" => "SHA2_384",
            "sha512" => "SHA2_512",
            other => return Err(format!("the Rekor entry names an unknown hash `{other}`")),
        };
        let digest = hex_decode(hex).ok_or("the Rekor entry's hash is not hex")?;
        signature["messageDigest"] =
            json!({ "algorithm": algorithm, "digest": STANDARD.encode(digest) });
    }
    Ok(json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": {
            "x509CertificateChain": { "certificates": [ { "rawBytes": STANDARD.encode(cert_der) } ] },
            "tlogEntries": [ {
                "logIndex": payload.log_index.to_string(),
                "logId": { "keyId": STANDARD.encode(log_id) },
                "kindVersion": { "kind": kind, "version": version },
                "integratedTime": payload.integrated_time.to_string(),
                "inclusionPromise": { "signedEntryTimestamp": legacy.rekor_bundle.signed_entry_timestamp },
                "canonicalizedBody": payload.body,
            } ],
        },
        "messageSignature": signature,
    }))
}

fn decode(text: &str, field: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text.trim())
        .map_err(|_| format!("`{field}` is not base64"))
}

/// The DER inside the first `CERTIFICATE` PEM block.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let b64: String = pem[start..end].split_whitespace().collect();
    STANDARD.decode(b64).ok()
}

fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_with_a_media_type_is_not_legacy() {
        assert!(!is_legacy(&json!({"mediaType": "x", "rekorBundle": {}})));
        assert!(is_legacy(
            &json!({"base64Signature": "", "rekorBundle": {}})
        ));
    }

    #[test]
    fn missing_fields_are_named() {
        let err = to_standard(json!({"base64Signature": "AA==", "rekorBundle": {}})).unwrap_err();
        assert!(err.contains("not a cosign bundle"), "{err}");
    }

    #[test]
    fn hex_is_decoded_or_refused() {
        assert_eq!(hex_decode("00ff"), Some(vec![0, 255]));
        assert_eq!(hex_decode("0"), None);
        assert_eq!(hex_decode("zz"), None);
    }
}
