//! Digests: the `Sha256` value type, where an expected digest came from, a hashing reader, and
//! the `codex-package_SHA256SUMS` parser.
//!
//! Verification fails closed: an archive becomes visible only when its sha256 equals an
//! expectation whose origin we can name (a manifest, GitHub's API, or a SHA256SUMS file that was
//! itself checked against GitHub's API).

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use base64::Engine as _;
use sha2::{Digest as _, Sha256 as Sha256Hasher, Sha512 as Sha512Hasher};

use crate::error::Hint;

/// The name of the checksum file Codex releases publish beside the package assets.
pub const SHA256SUMS_ASSET: &str = "codex-package_SHA256SUMS";

/// A sha256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256([u8; 32]);

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a sha256 digest (expected 64 hex digits)")]
pub struct DigestError(pub String);

impl Hint for DigestError {
    fn hint(&self) -> Option<String> {
        Some("give the sha256 as 64 hex digits (optionally prefixed `sha256:`), as `sha256sum` prints it"
            .into())
    }
}

impl Sha256 {
    pub fn of(bytes: &[u8]) -> Sha256 {
        Sha256(Sha256Hasher::digest(bytes).into())
    }

    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// Parse `hex` or GitHub's `sha256:hex`.
    pub fn parse(s: &str) -> Result<Sha256, DigestError> {
        let t = s.trim();
        let hex = t.strip_prefix("sha256:").unwrap_or(t);
        // Hex digits only: `u8::from_str_radix` alone would also take a `+` sign.
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DigestError(s.to_string()));
        }
        let mut out = [0u8; 32];
        for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
            let pair = std::str::from_utf8(chunk).map_err(|_| DigestError(s.to_string()))?;
            out[i] = u8::from_str_radix(pair, 16).map_err(|_| DigestError(s.to_string()))?;
        }
        Ok(Sha256(out))
    }

    /// Parse [`Sha256::to_base64url`]'s form: exactly the 43 characters it writes for some
    /// digest, nothing else.
    pub fn from_base64url(s: &str) -> Option<Sha256> {
        if s.len() != 43 {
            return None;
        }
        let mut bits = 0u32;
        let mut held = 0;
        let mut out = Vec::with_capacity(33);
        for c in s.bytes() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            bits = (bits << 6) | u32::from(v);
            held += 6;
            if held >= 8 {
                held -= 8;
                out.push((bits >> held) as u8);
                bits &= (1 << held) - 1;
            }
        }
        let digest = Sha256(out.try_into().ok()?);
        // The 2 bits left over must be zero: one spelling per digest.
        (digest.to_base64url() == s).then_some(digest)
    }

    /// Base64url without padding, as a wheel's RECORD wants it.
    pub fn to_base64url(&self) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::with_capacity(43);
        for chunk in self.0.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl FromStr for Sha256 {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sha256::parse(s)
    }
}

impl serde::Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Sha256 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sha256::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A sha512 digest, as npm's `dist.integrity` carries it (`sha512-<base64>`, Subresource
/// Integrity).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha512([u8; 64]);

impl Sha512 {
    pub fn of(bytes: &[u8]) -> Sha512 {
        Sha512(Sha512Hasher::digest(bytes).into())
    }

    /// Parse a Subresource Integrity string. npm may list several hashes separated by spaces
    /// (`sha1-… sha512-…`); the sha512 one is taken and weaker ones are ignored.
    pub(crate) fn parse_integrity(s: &str) -> Result<Sha512, DigestError> {
        let err = || DigestError(s.to_string());
        let b64 = s
            .split_whitespace()
            .find_map(|part| part.strip_prefix("sha512-"))
            .ok_or_else(err)?;
        // SRI allows `?options` after the digest.
        let b64 = b64.split('?').next().unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| err())?;
        let arr: [u8; 64] = bytes.try_into().map_err(|_| err())?;
        Ok(Sha512(arr))
    }

    /// `sha512-<base64>`.
    pub fn to_integrity(&self) -> String {
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }
}

impl fmt::Display for Sha512 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_integrity())
    }
}

impl fmt::Debug for Sha512 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha512({})", self.to_integrity())
    }
}

impl serde::Serialize for Sha512 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_integrity())
    }
}

impl<'de> serde::Deserialize<'de> for Sha512 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sha512::parse_integrity(&s).map_err(serde::de::Error::custom)
    }
}

/// A digest an archive must have: sha256 (GitHub, the Python index, lock files) or sha512 (npm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Digest {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Digest {
    /// A short, file-name-safe key for partial downloads.
    pub(crate) fn key(&self) -> String {
        match self {
            Digest::Sha256(d) => d.to_hex()[..16].to_string(),
            Digest::Sha512(d) => {
                let mut s = String::with_capacity(16);
                for b in &d.0[..8] {
                    s.push_str(&format!("{b:02x}"));
                }
                s
            }
        }
    }

    /// Whether the archive's digests satisfy this expectation.
    pub(crate) fn matches(&self, sha256: &Sha256, sha512: Option<&Sha512>) -> bool {
        match self {
            Digest::Sha256(d) => d == sha256,
            Digest::Sha512(d) => sha512 == Some(d),
        }
    }

    pub(crate) fn is_sha512(&self) -> bool {
        matches!(self, Digest::Sha512(_))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Digest::Sha256(d) => write!(f, "sha256 {d}"),
            Digest::Sha512(d) => write!(f, "{d}"),
        }
    }
}

/// Where an expected digest came from, most trusted first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DigestSource {
    /// A `codex-runtime.toml` manifest (the project's, or the one compiled into this binary).
    Manifest { path: String },
    /// `--sha256` on the command line.
    Flag,
    /// The `digest` field of the asset in GitHub's release API.
    GithubApi,
    /// A line of `codex-package_SHA256SUMS`, whose own digest matched GitHub's API.
    Sha256Sums,
    /// A lock file of the project (`uv.lock` wheels, `--hash` options of a requirements file).
    LockFile { path: String },
    /// The sha256 the Python package index publishes for the wheel (PEP 691 / PEP 503).
    PythonIndex,
    /// The `dist.integrity` (sha512) the npm registry publishes for the tarball.
    NpmIntegrity,
    /// The layer digest in an OCI image manifest (`install --mirror oci://…`).
    OciManifest,
    /// Nothing: installed with `--trust-archive`.
    Unverified,
}

impl fmt::Display for DigestSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestSource::Manifest { path } => write!(f, "manifest {path}"),
            DigestSource::Flag => f.write_str("--sha256"),
            DigestSource::GithubApi => f.write_str("GitHub release API asset digest"),
            DigestSource::Sha256Sums => write!(
                f,
                "{SHA256SUMS_ASSET} (itself checked against GitHub's API digest)"
            ),
            DigestSource::LockFile { path } => write!(f, "lock file {path}"),
            DigestSource::PythonIndex => f.write_str("the Python index's sha256 for the wheel"),
            DigestSource::NpmIntegrity => f.write_str("the npm registry's sha512 integrity"),
            DigestSource::OciManifest => f.write_str("the OCI image manifest's layer digest"),
            DigestSource::Unverified => f.write_str("nothing (--trust-archive)"),
        }
    }
}

/// An expected digest and its origin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Expected {
    pub digest: Digest,
    pub source: DigestSource,
}

impl Expected {
    pub(crate) fn sha256(sha256: Sha256, source: DigestSource) -> Expected {
        Expected {
            digest: Digest::Sha256(sha256),
            source,
        }
    }
}

impl Expected {
    /// Whether bytes with these digests satisfy this expectation; the mismatch names both.
    pub(crate) fn check(
        &self,
        sha256: &Sha256,
        sha512: Option<&Sha512>,
    ) -> Result<(), Box<DigestMismatch>> {
        if self.digest.matches(sha256, sha512) {
            return Ok(());
        }
        Err(Box::new(DigestMismatch {
            expected: self.clone(),
            actual: match (self.digest, sha512) {
                (Digest::Sha512(_), Some(d)) => Digest::Sha512(*d),
                _ => Digest::Sha256(*sha256),
            },
        }))
    }
}

/// Bytes that did not hash to what was expected: the one mismatch every channel reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {} (from {}), got {actual}", .expected.digest, .expected.source)]
pub struct DigestMismatch {
    pub expected: Expected,
    pub actual: Digest,
}

impl Hint for DigestMismatch {
    fn hint(&self) -> Option<String> {
        Some(match &self.expected.source {
            DigestSource::Manifest { path } | DigestSource::LockFile { path } => format!(
                "if `{path}` is stale, re-pin (`codex-bootstrap pin`, `uv lock`); otherwise the bytes were changed on the way: check your mirror or proxy"
            ),
            _ => "the bytes were changed on the way or the source is corrupt: check your mirror or proxy, then retry".into(),
        })
    }
}

/// Every digest a file must have, most trusted first: all of them must hold (a project's pin,
/// the bundled manifest's, the channel's own).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Expectations(Vec<Expected>);

impl Expectations {
    pub(crate) fn one(e: Expected) -> Expectations {
        Expectations(vec![e])
    }

    /// `None` when there is nothing to check against.
    pub(crate) fn from_vec(all: Vec<Expected>) -> Option<Expectations> {
        (!all.is_empty()).then_some(Expectations(all))
    }

    /// The most trusted one: what the receipt's `verified_by` names.
    pub(crate) fn primary(&self) -> &Expected {
        // Never empty: both constructors refuse that.
        &self.0[0]
    }

    pub fn all(&self) -> &[Expected] {
        &self.0
    }

    /// Whether checking needs a sha512 too (npm's integrity).
    pub(crate) fn needs_sha512(&self) -> bool {
        self.0.iter().any(|e| e.digest.is_sha512())
    }

    /// The first expectation the bytes fail, if any.
    pub(crate) fn check(
        &self,
        sha256: &Sha256,
        sha512: Option<&Sha512>,
    ) -> Result<(), Box<DigestMismatch>> {
        self.0.iter().try_for_each(|e| e.check(sha256, sha512))
    }
}

/// A running sha256 (and, for npm tarballs, sha512) with a byte count.
#[derive(Clone, Default)]
pub struct Hasher {
    inner: Sha256Hasher,
    sha512: Option<Sha512Hasher>,
    len: u64,
}

impl Hasher {
    pub fn new() -> Hasher {
        Hasher::default()
    }
    /// Also compute sha512 (only when an expectation needs it: it costs a second pass of CPU).
    pub(crate) fn with_sha512() -> Hasher {
        Hasher {
            sha512: Some(Sha512Hasher::new()),
            ..Hasher::default()
        }
    }
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
        if let Some(h) = &mut self.sha512 {
            h.update(bytes);
        }
        self.len += bytes.len() as u64;
    }
    /// sha256, sha512 (when asked for) and the length.
    pub(crate) fn finish_all(self) -> (Sha256, Option<Sha512>, u64) {
        (
            Sha256(self.inner.finalize().into()),
            self.sha512.map(|h| Sha512(h.finalize().into())),
            self.len,
        )
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub(crate) fn finish(self) -> (Sha256, u64) {
        (Sha256(self.inner.finalize().into()), self.len)
    }
}

/// A reader that hashes everything read through it. Call [`HashingReader::finish`] only after
/// draining it to EOF, or the digest covers a prefix.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// Also compute sha512 (an npm integrity).
    pub(crate) fn with_sha512(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::with_sha512(),
        }
    }

    /// Read the rest to EOF (so trailing bytes are hashed too), then return the digest and size.
    pub(crate) fn finish(self) -> io::Result<(Sha256, u64)> {
        let (sha256, _, size) = self.finish_all()?;
        Ok((sha256, size))
    }

    /// [`HashingReader::finish`], with the sha512 when [`HashingReader::with_sha512`] asked for it.
    pub(crate) fn finish_all(mut self) -> io::Result<(Sha256, Option<Sha512>, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(self.hasher.finish_all())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Hash a whole file, streaming.
pub fn hash_file(path: &std::path::Path) -> io::Result<(Sha256, u64)> {
    let file = std::fs::File::open(path)?;
    let mut reader = HashingReader::new(io::BufReader::with_capacity(256 * 1024, file));
    io::copy(&mut reader, &mut io::sink())?;
    reader.finish()
}

#[derive(Debug, thiserror::Error)]
#[error("{SHA256SUMS_ASSET} line {line} is malformed: {reason}")]
pub struct SumsError {
    pub line: usize,
    pub reason: String,
}

impl Hint for SumsError {
    fn hint(&self) -> Option<String> {
        Some("the release's checksum file is not in `sha256sum` format; pin digests with `codex-bootstrap pin` from a trusted network".into())
    }
}

/// Parse `sha256sum` output: `<64 hex>  <name>` or `<64 hex> *<name>` (binary mode), one per
/// line; blank lines and `#` comments are skipped. A name listed twice with different digests
/// is refused: we could not tell which one to trust.
pub fn parse_sha256sums(text: &str) -> Result<Vec<(String, Sha256)>, SumsError> {
    let mut out: Vec<(String, Sha256)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim_end_matches('\r');
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        let err = |reason: &str| SumsError {
            line,
            reason: reason.to_string(),
        };
        let (hex, rest) = l
            .split_once(' ')
            .ok_or_else(|| err("expected `<sha256>  <file name>`"))?;
        let digest = Sha256::parse(hex).map_err(|_| err("the digest is not 64 hex digits"))?;
        let name = rest
            .strip_prefix(' ')
            .or_else(|| rest.strip_prefix('*'))
            .unwrap_or(rest)
            .trim_start_matches('*');
        // One plain path component, as every name from a server must be.
        if let Some(why) = crate::remote::file_name_problem(name) {
            return Err(err(&format!(
                "the file name is not a plain file name: {why}"
            )));
        }
        if let Some((_, d)) = out.iter().find(|(n, _)| n == name) {
            if *d != digest {
                return Err(err("the file is listed twice with different digests"));
            }
            continue;
        }
        out.push((name.to_string(), digest));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trip_and_only_its_one_spelling() {
        for bytes in [&b""[..], b"abc", &[0xff; 1000]] {
            let d = Sha256::of(bytes);
            assert_eq!(Sha256::from_base64url(&d.to_base64url()), Some(d));
        }
        // From a real wheel's RECORD (`__init__.py` of openai-codex-cli-bin 0.163.0).
        let r = "HxF34wifCSjCAk7qrAAaYVJtRmUzXWa64MTbmNbyMFU";
        assert_eq!(Sha256::from_base64url(r).unwrap().to_base64url(), r);
        let good = Sha256::of(b"abc").to_base64url();
        for bad in [
            &good[..42],
            &format!("{good}A"),
            &format!("{good}="),
            &format!("{}+", &good[..42]),
            &format!("{}/", &good[..42]),
        ] {
            assert_eq!(Sha256::from_base64url(bad), None, "{bad}");
        }
        // The last character carries 2 spare bits: set, they are another spelling, refused.
        let last = good.as_bytes()[42];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let i = alphabet.iter().position(|&c| c == last).unwrap();
        let other = format!("{}{}", &good[..42], alphabet[i ^ 1] as char);
        assert_eq!(Sha256::from_base64url(&other), None);
    }

    #[test]
    fn hex_round_trip_and_github_prefix() {
        let d = Sha256::of(b"abc");
        assert_eq!(
            d.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256::parse(&d.to_hex()).unwrap(), d);
        assert_eq!(Sha256::parse(&format!("sha256:{d}")).unwrap(), d);
        assert_eq!(Sha256::parse(&d.to_hex().to_uppercase()).unwrap(), d);
        // `+a` would pass `u8::from_str_radix` for 0x0a (found while fuzzing the OCI digests).
        for bad in [
            "",
            "abc",
            &"g".repeat(64),
            &"a".repeat(63),
            &"é".repeat(32),
            &"+a".repeat(32),
        ] {
            assert!(Sha256::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn base64url_matches_wheel_record_encoding() {
        // From the official wheel's RECORD: codex-package.json is 205 bytes.
        assert_eq!(
            Sha256::of(b"").to_base64url(),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }

    #[test]
    fn hashing_reader_drains_to_eof() {
        let mut r = HashingReader::new(&b"hello world"[..]);
        let mut first = [0u8; 5];
        r.read_exact(&mut first).unwrap();
        let (d, n) = r.finish().unwrap();
        assert_eq!(n, 11);
        assert_eq!(d, Sha256::of(b"hello world"));
    }

    #[test]
    fn sums_parse() {
        let a = Sha256::of(b"a");
        let b = Sha256::of(b"b");
        let text =
            format!("{a}  codex-package-x.tar.gz\r\n\n# note\n{b} *codex-package-y.tar.zst\n");
        let sums = parse_sha256sums(&text).unwrap();
        assert_eq!(
            sums,
            vec![
                ("codex-package-x.tar.gz".to_string(), a),
                ("codex-package-y.tar.zst".to_string(), b)
            ]
        );
    }

    #[test]
    fn sums_refuse_malformed_lines() {
        let a = Sha256::of(b"a");
        let b = Sha256::of(b"b");
        for bad in [
            "nonsense".to_string(),
            format!("{}  x", "z".repeat(64)),
            format!("{a}  "),
            format!("{a}  ../x"),
            format!("{a}  .."),
            format!("{a}  C:x"),
            format!("{a}  NUL"),
            format!("{a}  x\u{1b}[2J"),
            format!("{a}  x\n{b}  x"),
        ] {
            assert!(parse_sha256sums(&bad).is_err(), "{bad:?}");
        }
        // The same line twice is harmless.
        assert_eq!(
            parse_sha256sums(&format!("{a}  x\n{a}  x")).unwrap().len(),
            1
        );
    }
}
