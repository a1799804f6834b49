//! `cargo xtask contract-spec`: the official document as a mock server must see it.
//!
//! The contract tests check the crate's requests against Atlassian's document with Stoplight
//! Prism. Prism routes on the paths alone and ignores the base path of `servers`
//! (`https://api.bitbucket.org/2.0`), while the client sends `/2.0/repositories/...`. So the
//! copy Prism serves has that base path in front of every path. One other change: a file
//! path glued to literal text (Data Center's `compare/diff{path}`) takes the rest of the path
//! from a `/` on (`compare/diff/src/a.rs`), which an OpenAPI parameter (one segment, no `/`)
//! cannot match; Prism's copy routes it as `compare/diff/{path}`, the same requests.

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

/// The document with the path of its first server's URL put in front of every path.
/// Returns the prefix used and the number of paths.
pub fn prefix_paths(doc: &mut Value) -> Result<(String, usize)> {
    let server = doc
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .context("the document declares no `servers[0].url` to take the base path from")?;
    let prefix = base_path(server)?;
    let paths = doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .context("the document has no `paths` object")?;
    if paths
        .keys()
        .any(|path| path.starts_with(&format!("{prefix}/")))
    {
        bail!("the paths already start with `{prefix}`: is this already the contract copy?");
    }
    let prefixed: Map<String, Value> = std::mem::take(paths)
        .into_iter()
        .map(|(path, item)| (format!("{prefix}{path}"), item))
        .collect();
    let count = prefixed.len();
    *paths = prefixed;
    Ok((prefix, count))
}

/// Routes each path whose last segment glues `{path}` to literal text (`.../diff{path}`) as
/// `.../diff/{path}`: the file path's leading `/`, part of the parameter for Bitbucket, is
/// one more segment for Prism. Returns how many paths were changed (none of Cloud's).
pub fn separate_glued_file_paths(doc: &mut Value) -> usize {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return 0;
    };
    let mut changed = 0;
    let separated: Map<String, Value> = std::mem::take(paths)
        .into_iter()
        .map(|(path, item)| match path.strip_suffix("{path}") {
            Some(head) if !head.ends_with('/') && !head.ends_with('}') => {
                changed += 1;
                (format!("{head}/{{path}}"), item)
            }
            _ => (path, item),
        })
        .collect();
    *paths = separated;
    changed
}

/// `/2.0` for `https://api.bitbucket.org/2.0/`.
fn base_path(url: &str) -> Result<String> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .map_or("", |start| &after_scheme[start..]);
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        bail!("the server URL `{url}` has no base path to put in front of the paths");
    }
    Ok(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefixes_every_path_with_the_servers_base_path() {
        let mut doc = json!({
            "servers": [{"url": "https://api.bitbucket.org/2.0"}],
            "paths": {"/user": {"get": {}}, "/repositories/{workspace}": {"get": {}}},
        });
        let (prefix, count) = prefix_paths(&mut doc).unwrap();
        assert_eq!((prefix.as_str(), count), ("/2.0", 2));
        let paths: Vec<_> = doc["paths"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(paths, ["/2.0/user", "/2.0/repositories/{workspace}"]);
        assert!(
            prefix_paths(&mut doc).is_err(),
            "prefixing twice is refused"
        );
    }

    #[test]
    fn a_file_path_glued_to_text_is_routed_after_a_slash() {
        let mut doc = json!({
            "paths": {
                "/rest/repos/{slug}/compare/diff{path}": {"get": {}},
                "/rest/repos/{slug}/raw/{path}": {"get": {}},
            },
        });
        assert_eq!(separate_glued_file_paths(&mut doc), 1);
        let paths: Vec<_> = doc["paths"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            paths,
            [
                "/rest/repos/{slug}/compare/diff/{path}",
                "/rest/repos/{slug}/raw/{path}"
            ]
        );
    }

    #[test]
    fn a_server_without_a_base_path_is_refused() {
        assert_eq!(base_path("https://api.bitbucket.org/2.0/").unwrap(), "/2.0");
        assert!(base_path("https://api.bitbucket.org").is_err());
        assert!(base_path("https://api.bitbucket.org/").is_err());
    }
}
