//! Identifiers shaped like Bitbucket's: `{uuid}`s, account ids, 40-hex commit hashes.

/// A new `{uuid}` with its braces, as Bitbucket writes them.
pub(crate) fn uuid() -> String {
    format!("{{{}}}", uuid::Uuid::new_v4())
}

/// A new Atlassian account id (`557058:` followed by a UUID).
pub(crate) fn account_id() -> String {
    format!("557058:{}", uuid::Uuid::new_v4())
}

/// A new commit hash: 40 random hex digits. (Nothing here can recompute a commit's hash from
/// its content, as git does, so content need not go in.)
pub(crate) fn commit_hash() -> String {
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    hex(&[a.as_bytes().as_slice(), b.as_bytes()].concat())[..40].to_string()
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

/// Whether two `{uuid}`s are the same, with or without their braces (paths may leave them
/// out).
pub(crate) fn same_uuid(a: &str, b: &str) -> bool {
    same(a.trim_matches(['{', '}']), b.trim_matches(['{', '}']))
}
