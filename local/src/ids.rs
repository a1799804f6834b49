//! Identifiers shaped like Bitbucket's: `{uuid}`s, account ids, 40-hex commit hashes.

use sha2::{Digest, Sha256};

/// A new `{uuid}` with its braces, as Bitbucket writes them.
pub(crate) fn uuid() -> String {
    format!("{{{}}}", uuid::Uuid::new_v4())
}

/// A new Atlassian account id (`557058:` followed by a UUID).
pub(crate) fn account_id() -> String {
    format!("557058:{}", uuid::Uuid::new_v4())
}

/// A commit hash: 40 hex digits derived from what the commit holds, plus a random salt so two
/// identical commits made at the same moment still differ.
pub(crate) fn commit_hash(parts: &[&str]) -> String {
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    digest.update(uuid::Uuid::new_v4().as_bytes());
    hex(&digest.finalize())[..40].to_string()
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `a` and `b` name the same thing: Bitbucket accepts a slug or a `{uuid}`, and
/// compares UUIDs case-insensitively.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}
