//! Just enough OpenPGP (RFC 4880) to read an armored public key as Bitbucket does when an
//! account adds a GPG key: the primary key and its subkeys, each with its v4 fingerprint,
//! creation time and the expiry its self-signatures give; and the first user ID. No
//! signature is verified.

use base64::Engine as _;
use sha1::{Digest as _, Sha1};

/// A key (primary or subkey) of a public key block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    /// Upper-case hex, 40 digits.
    pub fingerprint: String,
    /// Seconds since the epoch.
    pub created: u32,
    /// Seconds since the epoch, when a self-signature sets an expiry.
    pub expires: Option<u64>,
}

impl Key {
    /// The last 16 digits of the fingerprint.
    pub fn key_id(&self) -> &str {
        &self.fingerprint[self.fingerprint.len().saturating_sub(16)..]
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PublicKey {
    pub primary: Key,
    pub subkeys: Vec<Key>,
    pub user_id: Option<String>,
}

const PUBLIC_KEY: u8 = 6;
const PUBLIC_SUBKEY: u8 = 14;
const USER_ID: u8 = 13;
const SIGNATURE: u8 = 2;
/// The signature subpacket that gives a key's lifetime.
const KEY_EXPIRATION: u8 = 9;

/// Reads an armored (`-----BEGIN PGP PUBLIC KEY BLOCK-----`) public key. The error says
/// what is wrong, for a 400.
pub(crate) fn parse(armored: &str) -> Result<PublicKey, String> {
    let data = dearmor(armored)?;
    let mut primary: Option<Key> = None;
    let mut subkeys: Vec<Key> = Vec::new();
    let mut user_id = None;
    let mut rest = data.as_slice();
    while !rest.is_empty() {
        let (tag, body, after) = packet(rest)?;
        rest = after;
        match tag {
            PUBLIC_KEY if primary.is_none() => primary = Some(key(body)?),
            PUBLIC_KEY => return Err("the block holds more than one public key".into()),
            PUBLIC_SUBKEY => {
                if primary.is_none() {
                    return Err("a subkey comes before the primary key".into());
                }
                subkeys.push(key(body)?);
            }
            USER_ID if user_id.is_none() => {
                user_id = Some(String::from_utf8_lossy(body).into_owned());
            }
            SIGNATURE => {
                // Applies to the key it follows: the last subkey, else the primary key.
                if let Some(lifetime) = key_lifetime(body) {
                    let target = subkeys.last_mut().or(primary.as_mut());
                    if let Some(target) = target {
                        let expires = if lifetime == 0 {
                            None
                        } else {
                            Some(u64::from(target.created).saturating_add(u64::from(lifetime)))
                        };
                        target.expires = expires;
                    }
                }
            }
            _ => {}
        }
    }
    let primary = primary.ok_or("the block holds no public key")?;
    Ok(PublicKey {
        primary,
        subkeys,
        user_id,
    })
}

/// The binary data of an armored block: its base64 lines, without headers and checksum.
fn dearmor(armored: &str) -> Result<Vec<u8>, String> {
    let mut lines = armored.lines().map(str::trim);
    lines
        .by_ref()
        .find(|l| *l == "-----BEGIN PGP PUBLIC KEY BLOCK-----")
        .ok_or("no -----BEGIN PGP PUBLIC KEY BLOCK----- line")?;
    let mut body = String::new();
    let mut in_headers = true;
    let mut ended = false;
    for line in lines {
        if line == "-----END PGP PUBLIC KEY BLOCK-----" {
            ended = true;
            break;
        }
        if in_headers {
            if line.is_empty() {
                in_headers = false;
            } else if !line.contains(": ") {
                // No headers and no blank line: this is data already.
                in_headers = false;
                body.push_str(line);
            }
            continue;
        }
        if line.starts_with('=') {
            continue;
        }
        body.push_str(line);
    }
    if !ended {
        return Err("no -----END PGP PUBLIC KEY BLOCK----- line".into());
    }
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("the armored data is not base64 ({e})"))
}

/// The first packet of `data`: (tag, body, the rest).
fn packet(data: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let truncated = || "a packet is cut short".to_string();
    let (&first, rest) = data.split_first().ok_or_else(truncated)?;
    if first & 0x80 == 0 {
        return Err("not an OpenPGP packet".into());
    }
    let (tag, length, rest) = if first & 0x40 != 0 {
        let tag = first & 0x3f;
        let (&o1, rest) = rest.split_first().ok_or_else(truncated)?;
        match o1 {
            0..=191 => (tag, usize::from(o1), rest),
            192..=223 => {
                let (&o2, rest) = rest.split_first().ok_or_else(truncated)?;
                let length = (usize::from(o1) - 192) * 256 + usize::from(o2) + 192;
                (tag, length, rest)
            }
            255 => {
                let bytes = rest.get(..4).ok_or_else(truncated)?;
                let length = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                (
                    tag,
                    usize::try_from(length).map_err(|_| truncated())?,
                    &rest[4..],
                )
            }
            _ => return Err("a key packet has a partial length".into()),
        }
    } else {
        let tag = (first >> 2) & 0x0f;
        match first & 0x03 {
            0 => {
                let (&o, rest) = rest.split_first().ok_or_else(truncated)?;
                (tag, usize::from(o), rest)
            }
            1 => {
                let bytes = rest.get(..2).ok_or_else(truncated)?;
                (
                    tag,
                    usize::from(u16::from_be_bytes([bytes[0], bytes[1]])),
                    &rest[2..],
                )
            }
            2 => {
                let bytes = rest.get(..4).ok_or_else(truncated)?;
                let length = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                (
                    tag,
                    usize::try_from(length).map_err(|_| truncated())?,
                    &rest[4..],
                )
            }
            _ => (tag, rest.len(), rest),
        }
    };
    if length > rest.len() {
        return Err(truncated());
    }
    Ok((tag, &rest[..length], &rest[length..]))
}

/// A public key packet's fingerprint and creation time (version 4 keys only).
fn key(body: &[u8]) -> Result<Key, String> {
    match body.first() {
        Some(4) => {}
        Some(v) => {
            return Err(format!(
                "version {v} keys are not supported (only version 4)"
            ));
        }
        None => return Err("an empty key packet".into()),
    }
    let created = body.get(1..5).ok_or("a key packet is cut short")?;
    let created = u32::from_be_bytes([created[0], created[1], created[2], created[3]]);
    let length = u16::try_from(body.len()).map_err(|_| "a key packet is too long")?;
    let mut hasher = Sha1::new();
    hasher.update([0x99]);
    hasher.update(length.to_be_bytes());
    hasher.update(body);
    let fingerprint = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    Ok(Key {
        fingerprint,
        created,
        expires: None,
    })
}

/// The key lifetime a version 4 signature's hashed subpackets set, if any.
fn key_lifetime(body: &[u8]) -> Option<u32> {
    if body.first() != Some(&4) {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([*body.get(4)?, *body.get(5)?]));
    let mut subpackets = body.get(6..6usize.checked_add(length)?)?;
    let mut lifetime = None;
    while let Some((&o1, rest)) = subpackets.split_first() {
        let (length, rest) = match o1 {
            0..=191 => (usize::from(o1), rest),
            192..=254 => {
                let (&o2, rest) = rest.split_first()?;
                ((usize::from(o1) - 192) * 256 + usize::from(o2) + 192, rest)
            }
            255 => {
                let bytes = rest.get(..4)?;
                let length = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                (usize::try_from(length).ok()?, &rest[4..])
            }
        };
        let packet = rest.get(..length)?;
        subpackets = &rest[length..];
        if let Some((&kind, data)) = packet.split_first()
            && kind & 0x7f == KEY_EXPIRATION
            && data.len() == 4
        {
            lifetime = Some(u32::from_be_bytes([data[0], data[1], data[2], data[3]]));
        }
    }
    lifetime
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made with `gpg --quick-gen-key "Ada Lovelace <ada@example.com>" ed25519 sign 2y` and a
    /// `cv25519` subkey; the fingerprints and times are those `gpg --with-colons` printed.
    const ADA: &str = include_str!("../tests/data/gpg-ada.asc");

    #[test]
    fn reads_a_key_as_gpg_does() {
        let key = parse(ADA).unwrap();
        assert_eq!(
            key.primary.fingerprint,
            "16AC50572FA084152AB0D541FCEADE883C1EC8F5"
        );
        assert_eq!(key.primary.key_id(), "FCEADE883C1EC8F5");
        assert_eq!(key.primary.created, 1_796_278_090);
        assert_eq!(key.primary.expires, Some(1_859_350_090));
        assert_eq!(key.subkeys.len(), 1);
        assert_eq!(
            key.subkeys[0].fingerprint,
            "8B174D7BD6AE08B0E97E33FDD8D58EF9061E614B"
        );
        assert_eq!(key.subkeys[0].expires, Some(1_859_350_090));
        assert_eq!(
            key.user_id.as_deref(),
            Some("Ada Lovelace <ada@example.com>")
        );
    }

    #[test]
    fn refuses_what_is_not_a_key() {
        assert!(parse("ssh-ed25519 AAAA").is_err());
        assert!(
            parse(
                "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n-----END PGP PUBLIC KEY BLOCK-----"
            )
            .is_err()
        );
        // Cut short anywhere: an error, never a panic.
        let whole = ADA.lines().collect::<Vec<_>>();
        for cut in 2..whole.len() - 2 {
            let mut lines = whole[..cut].to_vec();
            lines.push("-----END PGP PUBLIC KEY BLOCK-----");
            let _ = parse(&lines.join("\n"));
        }
        let data = dearmor(ADA).unwrap();
        for cut in 0..data.len() {
            let mut rest = &data[..cut];
            while let Ok((_, _, after)) = packet(rest) {
                if after.is_empty() {
                    break;
                }
                rest = after;
            }
        }
    }
}
