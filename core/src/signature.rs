//! Checking `X-Hub-Signature`: Bitbucket signs each delivery of a hook that has a secret with
//! `sha256=<hex HMAC-SHA256 of the body, keyed with the secret>`.

use std::fmt;

use ring::{digest, hmac};
use secrecy::{ExposeSecret as _, SecretString};

/// The header Bitbucket puts the signature in.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature";

/// Checks that `signature_header` (the value of `X-Hub-Signature`, `None` when the request has
/// none) is the HMAC-SHA256 of `body` keyed with `secret`.
///
/// Verify the body exactly as received, before parsing it: re-encoded JSON does not match.
/// The comparison takes the same time wherever the signatures differ.
///
/// ```
/// use bitbucket_core::signature::{self as webhooks, SignatureError};
///
/// let body = br#"{"push": {"changes": []}}"#;
/// // What Bitbucket sends in X-Hub-Signature for a hook whose secret is "my secret":
/// let header = webhooks::sign("my secret", body);
///
/// assert_eq!(webhooks::verify("my secret", body, Some(&header)), Ok(()));
/// assert_eq!(
///     webhooks::verify("another secret", body, Some(&header)),
///     Err(SignatureError::Mismatch)
/// );
/// assert_eq!(webhooks::verify("my secret", body, None), Err(SignatureError::Missing));
/// ```
pub fn verify(
    secret: impl AsRef<[u8]>,
    body: &[u8],
    signature_header: Option<&str>,
) -> Result<(), SignatureError> {
    let secret = secret.as_ref();
    let key = (!secret.is_empty()).then(|| key(secret));
    verify_with(key.as_ref(), body, signature_header)
}

/// [`verify`] with the secret's key made already (`None` for an empty secret).
fn verify_with(
    key: Option<&hmac::Key>,
    body: &[u8],
    signature_header: Option<&str>,
) -> Result<(), SignatureError> {
    let key = key.ok_or(SignatureError::NoSecret)?;
    let header = signature_header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let (algorithm, hex) = header.split_once('=').ok_or(SignatureError::Malformed)?;
    if !algorithm.eq_ignore_ascii_case("sha256") {
        return Err(if is_algorithm_name(algorithm) {
            SignatureError::UnsupportedAlgorithm(algorithm.to_ascii_lowercase())
        } else {
            SignatureError::Malformed
        });
    }
    let expected = decode_hex(hex).ok_or(SignatureError::Malformed)?;
    // `hmac::verify` compares in constant time.
    hmac::verify(key, body, &expected).map_err(|_| SignatureError::Mismatch)
}

/// An HMAC-SHA256 key. ring rather than the RustCrypto crates: the TLS stack (rustls with
/// ring, the default) builds it anyway, so signatures add nothing to a clean build.
fn key(secret: &[u8]) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, secret)
}

/// The `X-Hub-Signature` value Bitbucket sends for `body` signed with `secret`:
/// `sha256=<64 lowercase hex digits>`. For tests and for relaying deliveries.
///
/// ```
/// let header = bitbucket_core::signature::sign("It's a Secret to Everybody", b"Hello, World!");
/// assert_eq!(
///     header,
///     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
/// );
/// ```
pub fn sign(secret: impl AsRef<[u8]>, body: &[u8]) -> String {
    let tag = hmac::sign(&key(secret.as_ref()), body);
    let mut header = String::with_capacity(7 + 2 * tag.as_ref().len());
    header.push_str("sha256=");
    for byte in tag.as_ref() {
        header.push(char::from(HEX[usize::from(byte >> 4)]));
        header.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    header
}

/// The SHA-256 digest of `body`: what identifies a delivery across Bitbucket's retries (the
/// signature covers the body; the request UUID is not signed).
///
/// ```
/// let digest = bitbucket_core::signature::sha256(b"abc");
/// assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
/// ```
pub fn sha256(body: &[u8]) -> [u8; 32] {
    let digest = digest::digest(&digest::SHA256, body);
    let mut out = [0u8; 32];
    // SHA-256 digests are 32 bytes; `zip` copies what there is without a length check that
    // could panic.
    for (byte, digested) in out.iter_mut().zip(digest.as_ref()) {
        *byte = *digested;
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A SHA-256 digest in hex (either case), or `None`.
fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Whether `name` looks like an algorithm name (`sha1`, `sha512`), so an error can repeat it
/// without echoing arbitrary text from the request.
fn is_algorithm_name(name: &str) -> bool {
    (1..=16).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Why a delivery's signature was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The secret to verify with is empty: anyone could sign with it.
    #[error(
        "the webhook secret to verify with is empty; configure the same non-empty secret here \
         and on the hook (Repository settings > Webhooks)"
    )]
    NoSecret,
    /// The request has no `X-Hub-Signature` header.
    #[error(
        "the request has no X-Hub-Signature header: it was not sent by Bitbucket, or the hook \
         has no secret (set one in Repository settings > Webhooks, or with \
         `webhooks::Subscription::secret`)"
    )]
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    #[error(
        "the X-Hub-Signature header is not `sha256=<64 hex digits>`, as Bitbucket sends it: the \
         request does not come from Bitbucket, or something on the way rewrote the header"
    )]
    Malformed,
    /// The header names another algorithm than SHA-256 (Bitbucket signs with `sha256`).
    #[error(
        "the X-Hub-Signature header is signed with `{0}`; only `sha256` is accepted, as Bitbucket \
         sends"
    )]
    UnsupportedAlgorithm(String),
    /// The signature is not the body's HMAC with this secret.
    #[error(
        "the X-Hub-Signature does not match the body: the secret differs from the hook's, or the \
         body was changed on the way (verify the raw bytes, before any parsing)"
    )]
    Mismatch,
}

/// A webhook secret, kept out of `Debug` and logs.
///
/// It is what [`verify`] and the crates' webhook extractors (Cloud's `webhooks::Delivery`) check signatures with, and what the
/// `axum` extractor reads from the router's state.
///
/// ```
/// let secret = bitbucket_core::signature::WebhookSecret::new("s3cr3t");
/// assert_eq!(format!("{secret:?}"), "WebhookSecret([redacted])");
/// ```
#[derive(Clone)]
pub struct WebhookSecret {
    secret: SecretString,
    /// Its HMAC key, made once rather than for each delivery (`None` for an empty secret).
    key: Option<hmac::Key>,
}

impl WebhookSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        let secret = SecretString::from(secret.into());
        let bytes = secret.expose_secret().as_bytes();
        let key = (!bytes.is_empty()).then(|| key(bytes));
        Self { secret, key }
    }

    /// Reads the secret from the environment variable `name`.
    ///
    /// Fails with a message naming the variable (never its value) when it is unset, empty or
    /// not Unicode.
    pub fn from_env(name: &str) -> Result<Self, String> {
        match std::env::var(name) {
            Ok(value) if !value.is_empty() => Ok(Self::new(value)),
            Ok(_) => Err(format!(
                "the environment variable {name} is empty; set it to the webhook's secret"
            )),
            Err(std::env::VarError::NotPresent) => Err(format!(
                "set the environment variable {name} to the webhook's secret"
            )),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                "the environment variable {name} is not valid Unicode"
            )),
        }
    }

    /// Checks a delivery's signature with this secret; see [`verify`].
    pub fn verify(
        &self,
        body: &[u8],
        signature_header: Option<&str>,
    ) -> Result<(), SignatureError> {
        verify_with(self.key.as_ref(), body, signature_header)
    }

    /// The secret itself, for sending it to Bitbucket when creating a hook.
    #[doc(hidden)]
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl From<String> for WebhookSecret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl From<&str> for WebhookSecret {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decodes_both_cases_and_rejects_the_rest() {
        let lower = "00ff".repeat(16);
        assert_eq!(decode_hex(&lower).unwrap()[..2], [0x00, 0xff]);
        assert_eq!(decode_hex(&lower.to_uppercase()), decode_hex(&lower));
        assert_eq!(decode_hex(&"0".repeat(63)), None);
        assert_eq!(decode_hex(&"0".repeat(66)), None);
        assert_eq!(decode_hex(&format!("{}g", "0".repeat(63))), None);
        assert_eq!(decode_hex(&format!("{}é", "0".repeat(62))), None);
    }

    #[test]
    fn sign_then_verify() {
        let header = sign("k", b"body");
        assert!(header.starts_with("sha256=") && header.len() == 71);
        assert_eq!(verify("k", b"body", Some(&header)), Ok(()));
        assert_eq!(
            verify(
                "k",
                b"body",
                Some(&header.to_uppercase().replace("SHA256=", "sha256="))
            ),
            Ok(())
        );
    }
}
