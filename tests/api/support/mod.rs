//! Helpers shared by the integration tests: clients pointed at a loopback server, the
//! recorded fixtures, and JSON comparison.

#![allow(dead_code)] // Each test crate uses part of it.

pub mod capture;
pub mod list_server;

use std::time::Duration;

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client};
use serde_json::Value;
use wiremock::MockServer;

/// Retries as by default, but with millisecond backoffs, so retry tests stay fast.
pub fn fast_retries() -> RetryConfig {
    RetryConfig::default()
        .max_retries(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// A client for `server` with `auth` and fast retries.
pub fn client(server: &MockServer, auth: Auth) -> Client {
    Client::builder()
        .base_url(server.uri())
        .auth(auth)
        .retry(fast_retries())
        .build()
        .expect("the test client builds")
}

/// An anonymous client for `server` that retries as `retry` says.
pub fn retrying_client(server: &MockServer, retry: RetryConfig) -> Client {
    Client::builder()
        .base_url(server.uri())
        .retry(retry)
        .build()
        .expect("the test client builds")
}

/// How many requests `server` received for `path`.
pub async fn hits(server: &MockServer, path: &str) -> usize {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .iter()
        .filter(|r| r.url.path() == path)
        .count()
}

/// A body recorded from the real API (`tests/fixtures/real/responses/`), as text.
pub fn fixture_text(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/real/responses/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A body recorded from the real API (`tests/fixtures/real/responses/`), parsed.
pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

/// The value without `null` members: what a decoded `Option` field cannot tell apart from an
/// absent one.
pub fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// Whether two JSON values are equal, numbers by value (`3` and `3.0` alike).
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Where `got` differs from `expected`, one line per difference.
pub fn differences(expected: &Value, got: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff("", expected, got, &mut out);
    out
}

fn diff(path: &str, expected: &Value, got: &Value, out: &mut Vec<String>) {
    match (expected, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => diff(&format!("{path}/{k}"), v, w, out),
                    None => out.push(format!("{path}/{k}: missing")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}/{k}: added"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}/{i}"), v, w, out);
            }
        }
        _ if expected != got => out.push(format!("{path}: {expected} became {got}")),
        _ => {}
    }
}

/// The environment variable naming a directory of real fixtures (holding `MANIFEST.tsv`) to
/// test with instead of the committed copy.
pub const FIXTURES_ENV: &str = "BITBUCKET_FIXTURES";

/// Where the real fixtures are: `$BITBUCKET_FIXTURES`; else `../shared/fixtures/real/` beside
/// the checkout, when it exists (the maintainers keep more real deliveries there than are
/// committed); else the committed copy, `tests/fixtures/real/`.
pub fn real_fixtures_dir() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(dir) = std::env::var_os(FIXTURES_ENV) {
        let dir = std::path::PathBuf::from(dir);
        assert!(
            dir.join("MANIFEST.tsv").is_file(),
            "{FIXTURES_ENV}={} has no MANIFEST.tsv",
            dir.display()
        );
        return dir;
    }
    let shared = root.join("../shared/fixtures/real");
    if shared.join("MANIFEST.tsv").is_file() {
        return shared;
    }
    root.join("tests/fixtures/real")
}

/// A `webhook` row of the real fixtures' MANIFEST.tsv.
#[derive(Clone, Debug)]
pub struct WebhookRow {
    /// The event key the delivery came with (`pullrequest:created`).
    pub key: String,
    /// The file's path.
    pub path: String,
    /// Where it came from and whether it is a recording (`real (2022 delivery)`) or a copy of
    /// Atlassian's example.
    pub provenance: String,
}

/// Every `webhook` row of `dir`'s MANIFEST.tsv, in its order.
pub fn real_webhooks(dir: &std::path::Path) -> Vec<WebhookRow> {
    let manifest_path = dir.join("MANIFEST.tsv");
    let manifest = std::fs::read_to_string(&manifest_path)
        .unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display()));
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|c| c.trim() == name)
            .unwrap_or_else(|| panic!("{} has no {name} column", manifest_path.display()))
    };
    let (file, kind, key, provenance) = (
        column("file"),
        column("kind"),
        column("endpoint_or_event"),
        column("real_or_handwritten"),
    );
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split('\t').map(str::trim).collect::<Vec<_>>())
        .filter(|row| row.get(kind) == Some(&"webhook"))
        .map(|row| {
            let cell = |i: usize| row.get(i).copied().unwrap_or_default().to_string();
            let path = dir.join(cell(file));
            assert!(
                path.is_file(),
                "MANIFEST.tsv lists {}, which is missing",
                path.display()
            );
            WebhookRow {
                key: cell(key),
                path: path.to_string_lossy().into_owned(),
                provenance: cell(provenance),
            }
        })
        .collect()
}

/// The webhook payloads to test with: `(event key, file path)`. The real ones (see
/// [`real_fixtures_dir`]; keys from its MANIFEST.tsv), then the ones written from Atlassian's
/// documented examples in `tests/fixtures/webhooks` (`repo-push.json` is `repo:push`).
pub fn webhook_fixtures() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut out: Vec<(String, String)> = real_webhooks(&real_fixtures_dir())
        .into_iter()
        .map(|row| (row.key, row.path))
        .collect();
    let dir = format!("{root}/tests/fixtures/webhooks");
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/webhooks exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    written.sort();
    for name in written {
        let stem = name.trim_end_matches(".json");
        let (group, action) = stem
            .split_once('-')
            .expect("files are named group-action.json");
        out.push((
            format!("{group}:{}", action.replace('-', "_")),
            format!("{dir}/{name}"),
        ));
    }
    out
}

/// The value without the members a decoded value cannot tell from absent ones: `null`s, and
/// the `[]`s and `{}`s left (an empty list or object may be encoded or left out alike).
pub fn without_empty(value: Value) -> Value {
    fn empty(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Array(items) => items.is_empty(),
            Value::Object(map) => map.is_empty(),
            _ => false,
        }
    }
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, without_empty(v)))
                .filter(|(_, v)| !empty(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_empty).collect()),
        other => other,
    }
}

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
