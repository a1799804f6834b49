//! A case for every operation, made from data: the parameters, body and answer of one call,
//! taken from `spec/bitbucket.json` (what the crate is generated from) and the real recorded
//! answers of the fixtures' MANIFEST.tsv; and [`call`], which makes the call through the
//! operation's typed builder (`client.merge_pull_request().pull_request_id(..)...send()`),
//! whose setters and types come from the crate itself (`bitbucket_cloud::__operation_calls!`).
//!
//! The wire tests (`operations::every`) and the contract tests (`contract::every`) run these
//! cases: a new operation needs no code here, and an operation without a case cannot be
//! generated.

use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use bitbucket_cloud::operations::Operation;
use bitbucket_testkit::sample::Schemas;
use serde_json::{Value, json};

pub use bitbucket_testkit::{Answer, BodyKind, In, Request, param_text, setter};

use crate::support::real_fixtures_dir;

/// The document the crate is generated from.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/bitbucket.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).expect("spec/bitbucket.json is JSON")
    })
}

/// What the test server answers a case with.
#[derive(Clone, Debug)]
pub struct Served {
    pub status: u16,
    /// The body: JSON, text, bytes, or nothing.
    pub body: Answer,
    /// Where the body comes from: a MANIFEST.tsv file, or `schema X`.
    pub source: String,
}

/// One call of one operation: its request (parameters and body, made from the document by
/// the workspace's `bitbucket-testkit`), and what the test server answers.
#[derive(Clone, Debug)]
pub struct Case {
    pub operation: &'static Operation,
    pub request: Request,
    pub answer: Served,
}

impl Case {
    /// The case of `operation`, from the document.
    pub fn of(operation: &'static Operation) -> Case {
        let document = document();
        let request = Request::of(
            document,
            operation.name,
            operation.method.as_str(),
            operation.path,
        );
        let op = &document["paths"][operation.path][operation.method.as_str().to_ascii_lowercase()];
        let answer = served(operation, op, &Schemas::new(document));
        Case {
            operation,
            request,
            answer,
        }
    }

    /// The path the request must go to, under `/2.0`: every parameter one percent-encoded
    /// segment.
    pub fn expected_path(&self) -> String {
        self.request.expected_path("/2.0")
    }
}

impl Deref for Case {
    type Target = Request;
    fn deref(&self) -> &Request {
        &self.request
    }
}

impl DerefMut for Case {
    fn deref_mut(&mut self) -> &mut Request {
        &mut self.request
    }
}

/// The success the server answers `operation` with: a real recorded body of the operation
/// when MANIFEST.tsv has one (a recorded item of a list goes in a page), else a body made from
/// the schema of its first 2xx answer.
fn served(operation: &Operation, op: &Value, schemas: &Schemas) -> Served {
    let responses = op["responses"].as_object().expect("an operation answers");
    let (status, response) = responses
        .iter()
        .find(|(code, _)| code.starts_with('2'))
        .map(|(code, r)| (code.parse::<u16>().expect("a status"), r))
        .unwrap_or((200, &Value::Null));
    let kind = op["x-answer"].as_str().expect("x-answer");
    match kind {
        "json" => {
            if let Some((file, body)) = recorded(operation) {
                return Served {
                    status,
                    body: Answer::Json(body),
                    source: file,
                };
            }
            let schema = response["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|media| &media["schema"])
                .unwrap_or_else(|| panic!("{}: a JSON answer without a schema", operation.name));
            let name = schema["$ref"].as_str().unwrap_or("inline schema");
            Served {
                status,
                body: Answer::Json(schemas.sample(schema, "answer")),
                source: format!("schema {name}"),
            }
        }
        "text" => Served {
            status: 200,
            body: Answer::Text(
                "diff --git a/src/auth/login.rs b/src/auth/login.rs\n--- a/src/auth/login.rs\n\
                 +++ b/src/auth/login.rs\n@@ -1 +1 @@\n-let ok = false;\n+let ok = true;\n"
                    .into(),
            ),
            source: "a text answer".into(),
        },
        "bytes" => Served {
            status: 200,
            body: Answer::Bytes(vec![0x89, b'P', b'N', b'G', 0, 0xFF, 0xFE, b'\n']),
            source: "a binary answer".into(),
        },
        "empty" => Served {
            status: if status == 200 { 204 } else { status },
            body: Answer::Empty,
            source: "no body".into(),
        },
        other => panic!("{}: x-answer {other}", operation.name),
    }
}

/// The real recorded answer of `operation`, if MANIFEST.tsv has one: `(file, body)`.
fn recorded(operation: &Operation) -> Option<(String, Value)> {
    let dir = real_fixtures_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).ok()?;
    let mut item = None;
    for line in manifest.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let [file, "response", endpoint, ..] = columns[..] else {
            continue;
        };
        let (is_item, request) = match endpoint.strip_prefix("item of ") {
            Some(rest) => (true, rest),
            None => (false, endpoint),
        };
        let Some((method, rest)) = request.split_once(' ') else {
            continue;
        };
        let path = rest.split([' ', '?']).next().unwrap_or_default();
        if method != operation.method.as_str() || path != operation.path {
            continue;
        }
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        let body: Value = serde_json::from_str(&text).ok()?;
        if !is_item {
            return Some((file.to_string(), body));
        }
        if operation.paginated && item.is_none() {
            item = Some((
                format!("{file} (in a page)"),
                json!({"pagelen": 10, "page": 1, "size": 1, "values": [body]}),
            ));
        }
    }
    item
}

// For every generated operation: a function that calls it through its typed builder, with
// every setter the case has a value for (`call`); and their names and setters.
macro_rules! calls {
    ($($rows:tt)*) => {
        bitbucket_testkit::typed_calls! { bitbucket_cloud; $($rows)* }
    };
}
bitbucket_cloud::__operation_calls!(calls);
