//! The `next_cursor` of a list tool's result: where the list continues, to the item.
//!
//! Bitbucket's own links continue at a page; a result of `max_items` items may end inside one.
//! The gateway's cursor is that page's link and how many of its items were already returned,
//! encoded so that agents pass it back as it is (base64url of a small JSON object). Before it
//! is used, the link is checked to be one of the tool's own list, with the same path
//! parameters, on the gateway's Bitbucket; the policy then checks it like any request.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A decoded cursor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The link of the page to continue at, as Bitbucket gave it.
    pub link: String,
    /// Items of that page already returned.
    pub skip: u64,
}

impl Cursor {
    /// The text handed to agents.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// The cursor in `text`, if it is one this gateway made.
    pub fn decode(text: &str) -> Option<Cursor> {
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()?;
        serde_json::from_slice(&json).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let cursor = Cursor {
            link: "https://api.bitbucket.org/2.0/repositories/acme?page=2&pagelen=100".into(),
            skip: 7,
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("https://api.bitbucket.org/2.0/x"), None);
        assert_eq!(Cursor::decode("e30"), None, "{{}} lacks the fields");
    }
}
