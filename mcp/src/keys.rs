//! Agents' bearer keys: made at random, stored in the config only as their SHA-256, and
//! checked against those hashes.
//!
//! A key is 32 random bytes (256 bits), so a plain SHA-256 is enough to store it: nobody can
//! guess a key from its hash, and checking one costs a microsecond, not the tens of
//! milliseconds a password hash (argon2) would add to every call.
//!
//! ```
//! use bitbucket_cloud_mcp::keys::{self, KeyHash};
//!
//! let key = keys::generate()?;
//! let hash = KeyHash::of(&key);
//! assert_eq!(KeyHash::from_hex(&hash.to_hex()), Some(hash));
//! assert!(key.starts_with("bbmcp_"));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// What keys made by [`generate`] start with, so they are recognisable in a secret scanner.
pub const PREFIX: &str = "bbmcp_";

/// The SHA-256 of a key: what the config stores (`key_sha256`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    /// The hash of `key` (surrounding whitespace, such as a newline from a file, removed).
    pub fn of(key: &str) -> KeyHash {
        KeyHash(Sha256::digest(key.trim().as_bytes()).into())
    }

    /// Parses 64 hexadecimal digits.
    pub fn from_hex(hex: &str) -> Option<KeyHash> {
        let hex = hex.trim().as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
        }
        Some(KeyHash(bytes))
    }

    /// 64 lowercase hexadecimal digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Compares in time independent of where the hashes differ.
    pub fn matches(&self, other: &KeyHash) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({})", self.to_hex())
    }
}

/// A new key: [`PREFIX`] and 32 random bytes from the operating system, base64url.
pub fn generate() -> Result<String, std::io::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The bearer key of an `Authorization: Bearer <key>` header value, if it is one.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, key) = header.trim().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_and_compare() {
        let hash = KeyHash::of("secret\n");
        assert_eq!(hash, KeyHash::of("secret"));
        assert_eq!(
            hash.to_hex(),
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
        assert!(hash.matches(&KeyHash::from_hex(&hash.to_hex().to_uppercase()).unwrap()));
        assert!(!hash.matches(&KeyHash::of("other")));
        assert_eq!(KeyHash::from_hex("abc"), None);
        assert_eq!(KeyHash::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn keys_are_random_and_prefixed() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), PREFIX.len() + 43);
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }
}
