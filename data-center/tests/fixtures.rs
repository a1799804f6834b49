//! Every recorded Data Center body (`tests/fixtures/real/`, see its MANIFEST.tsv) decodes as
//! the type its operation answers, and encodes back to the same JSON: nothing is lost.
//! Webhook deliveries decode as their typed events, also without loss.

// The Cloud tests' `tracing` recorder, shared rather than copied.
#[allow(dead_code)]
#[path = "../../tests/api/support/capture.rs"]
mod capture;

use std::path::PathBuf;

use bitbucket_data_center::error::ErrorMessage;
use bitbucket_data_center::webhooks::Event;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BITBUCKET_DC_FIXTURES") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real")
}

/// `null` members dropped (a `None` is not sent back), numbers compared as numbers.
fn normal(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, normal(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normal).collect()),
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(n), Value::Number),
        other => other,
    }
}

/// Where `got` differs from `expected`, as JSON pointers.
fn differences(expected: &Value, got: &Value, at: &str, out: &mut Vec<String>) {
    match (expected, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => differences(v, w, &format!("{at}/{k}"), out),
                    None => out.push(format!("{at}/{k} was dropped")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{at}/{k} was added"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                differences(v, w, &format!("{at}/{i}"), out);
            }
        }
        (a, b) if a != b => out.push(format!("{at}: {a} became {b}")),
        _ => {}
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(body: &Value) -> Result<(), String> {
    let decoded: T = serde_json::from_value(body.clone())
        .map_err(|e| format!("does not decode as {}: {e}", std::any::type_name::<T>()))?;
    let encoded = serde_json::to_value(&decoded).map_err(|e| format!("does not encode: {e}"))?;
    let mut lost = Vec::new();
    differences(&normal(body.clone()), &normal(encoded), "", &mut lost);
    if lost.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} loses data:\n    {}",
            std::any::type_name::<T>(),
            lost.join("\n    ")
        ))
    }
}

type Check = fn(&Value) -> Result<(), String>;

macro_rules! checks {
    ($($name:ident $method:literal $path:literal [$answer:ty] [$($item:ty)?];)*) => {
        fn check_for(method: &str, path: &str) -> Option<(&'static str, Check)> {
            $(
                if method == $method && path == $path {
                    return Some((stringify!($name), round_trip::<$answer>));
                }
            )*
            None
        }
    };
}
bitbucket_data_center::__json_answers!(checks);

#[derive(serde::Deserialize, Serialize)]
struct ErrorBody {
    errors: Vec<ErrorMessage>,
}

fn rows(kind: &str) -> Vec<(String, String)> {
    let manifest = std::fs::read_to_string(dir().join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            (columns.len() >= 3 && columns[1] == kind)
                .then(|| (columns[0].to_string(), columns[2].to_string()))
        })
        .collect()
}

fn body(file: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: not JSON: {e}"))
}

#[test]
fn every_recorded_response_decodes_without_loss() {
    let capture = capture::Capture::default();
    let mut failures = tracing::subscriber::with_default(capture.clone(), check_responses);
    // A value that does not fit its field's type is kept (in `extra`), with a warning: lossless,
    // but the type is wrong, and a patch should fix the schema.
    failures.extend(
        capture
            .text()
            .lines()
            .filter(|line| line.contains("does not fit"))
            .map(|line| format!("misfit: {}", line.trim())),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn check_responses() -> Vec<String> {
    let mut failures = Vec::new();
    let rows = rows("response");
    assert!(
        rows.len() >= 25,
        "the manifest lists {} responses",
        rows.len()
    );
    for (file, endpoint) in &rows {
        let body = body(file);
        let outcome = if endpoint.ends_with("(error body)") {
            round_trip::<ErrorBody>(&body)
        } else {
            let mut parts = endpoint.splitn(2, ' ');
            let (method, path) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            match check_for(method, path) {
                Some((_, check)) => check(&body),
                None => Err(format!("{endpoint} is no JSON operation of the crate")),
            }
        };
        if let Err(why) = outcome {
            failures.push(format!("{file} ({endpoint}): {why}"));
        }
    }
    failures
}

#[test]
fn every_recorded_delivery_decodes_as_its_event_without_loss() {
    let mut failures = Vec::new();
    for (file, key) in rows("webhook") {
        let text = std::fs::read(dir().join(&file)).expect("fixture");
        let event = match Event::parse(&key, &text) {
            Ok(event) => event,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let encoded = match &event {
            Event::RefsChanged(push) => serde_json::to_value(push),
            Event::PullRequest { payload, .. } => serde_json::to_value(payload),
            Event::Other { payload, .. } => Ok(payload.clone()),
            other => panic!("{file}: unexpected {other:?}"),
        }
        .expect("encodes");
        let mut lost = Vec::new();
        differences(&normal(body(&file)), &normal(encoded), "", &mut lost);
        if !lost.is_empty() {
            failures.push(format!("{file}: {}", lost.join("; ")));
        }
        if key == "repo:refs_changed" {
            assert!(
                matches!(event, Event::RefsChanged(ref p) if !p.changes.is_empty()),
                "{file}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
