//! Helpers shared by the integration tests: clients pointed at a loopback server, the
//! recorded fixtures, and JSON comparison.

#![allow(dead_code)] // Each test crate uses part of it.

pub mod capture;

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

/// The webhook payloads to test with: `(event key, file path)`. The recorded ones of
/// `tests/fixtures/real/webhooks` (keys from its MANIFEST.tsv), then the ones written from
/// Atlassian's documented examples in `tests/fixtures/webhooks` (`repo-push.json` is
/// `repo:push`).
pub fn webhook_fixtures() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let manifest = std::fs::read_to_string(format!("{root}/tests/fixtures/real/MANIFEST.tsv"))
        .expect("the real fixtures have a manifest");
    let mut out: Vec<(String, String)> = manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            (columns.get(1) == Some(&"webhook")).then(|| {
                (
                    columns[2].to_string(),
                    format!("{root}/tests/fixtures/real/{}", columns[0]),
                )
            })
        })
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

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
