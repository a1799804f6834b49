//! Reading the official document from a path or a URL.

use anyhow::{Context, Result};
use serde_json::Value;

/// Reads and parses the document at `from`, a local path or an `http(s)://` URL.
pub fn load(from: &str) -> Result<Value> {
    let text = if from.starts_with("http://") || from.starts_with("https://") {
        fetch(from)?
    } else {
        std::fs::read_to_string(from).with_context(|| format!("reading {from}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{from} is not a JSON document"))
}

fn fetch(url: &str) -> Result<String> {
    let mut response = ureq::get(url).call().with_context(|| {
        format!("downloading {url} (without network access, pass --from with a local copy)")
    })?;
    response
        .body_mut()
        .with_config()
        // The document is about 1.2 MB; leave room for growth.
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .with_context(|| format!("reading the body of {url}"))
}
