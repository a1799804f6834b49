//! A case for every operation, made from data: the parameters, body and answer of one call,
//! taken from `spec/bitbucket.json` (what the crate is generated from) and the real recorded
//! answers of the fixtures' MANIFEST.tsv; and [`call`], which makes the call through the
//! operation's typed builder (`client.merge_pull_request().pull_request_id(..)...send()`),
//! whose setters and types come from the crate itself (`bitbucket_cloud::__operation_calls!`).
//!
//! The wire tests (`operations::every`) and the contract tests (`contract::every`) run these
//! cases: a new operation needs no code here, and an operation without a case cannot be
//! generated.

pub mod sample;

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use bitbucket_cloud::operations::Operation;
use bitbucket_cloud::{Client, Error};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::support::real_fixtures_dir;
use sample::{Schemas, path_string};

/// The document the crate is generated from.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/bitbucket.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).expect("spec/bitbucket.json is JSON")
    })
}

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// One parameter of a case: the document's name, where it goes, its value.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub location: In,
    pub value: Value,
}

/// How a body is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
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

/// What a success carries, as the test sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Json(Value),
    Text(String),
    Bytes(Vec<u8>),
    /// No body (a 204); also what a `Completion::Accepted` is.
    Empty,
}

/// One call of one operation.
#[derive(Clone, Debug)]
pub struct Case {
    pub operation: &'static Operation,
    pub params: Vec<Param>,
    pub body: Option<(BodyKind, Value)>,
    pub answer: Served,
}

impl Case {
    /// The case of `operation`, from the document.
    pub fn of(operation: &'static Operation) -> Case {
        let document = document();
        let schemas = Schemas::new(document);
        let item = &document["paths"][operation.path];
        let op = &item[operation.method.as_str().to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is not in spec/bitbucket.json",
            operation.method,
            operation.path
        );
        let declared = item["parameters"]
            .as_array()
            .into_iter()
            .chain(op["parameters"].as_array())
            .flatten();
        let mut params: Vec<Param> = Vec::new();
        for param in declared {
            let name = param["name"].as_str().expect("a named parameter");
            let location = match param["in"].as_str() {
                Some("path") => In::Path,
                Some("query") => In::Query,
                // Headers are set by the client, not by builders.
                _ => continue,
            };
            let schema = &param["schema"];
            let value = match (location, schema["type"].as_str()) {
                (In::Path, Some("string")) if schema["enum"].is_null() => json!(path_string(name)),
                _ => schemas.sample(schema, name),
            };
            // An operation's own parameter replaces its path's of the same name.
            params.retain(|p| p.name != name);
            params.push(Param {
                name: name.to_string(),
                location,
                value,
            });
        }
        let body = op["requestBody"]["content"]
            .as_object()
            .and_then(|content| {
                let (kind, media) = if let Some(media) = content.get("application/json") {
                    (BodyKind::Json, media)
                } else if let Some(media) = content.get("application/x-www-form-urlencoded") {
                    (BodyKind::Form, media)
                } else {
                    // Multipart uploads: their builders take no body (yet).
                    return None;
                };
                Some((kind, schemas.sample(&media["schema"], "body")))
            });
        let answer = served(operation, op, &schemas);
        Case {
            operation,
            params,
            body,
            answer,
        }
    }

    /// The value of the builder's setter `field` (`pull_request_id`, `target_branch`, `async_`,
    /// `body`), as the type it takes; `None` when the case leaves it unset. A number goes to a
    /// setter that takes a string (`issue_id` of attachments) as its digits.
    pub fn arg<T: DeserializeOwned>(&self, field: &str) -> Option<T> {
        let value = if field == "body" {
            self.body.as_ref().map(|(_, body)| body.clone())?
        } else {
            let param = self
                .params
                .iter()
                .find(|p| setter(&p.name) == field)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: the builder's setter `{field}` is no parameter of the document",
                        self.operation.name
                    )
                });
            param.value.clone()
        };
        let typed = serde_json::from_value::<T>(value.clone()).or_else(|first| match &value {
            Value::Number(n) => serde_json::from_value::<T>(json!(n.to_string())),
            _ => Err(first),
        });
        match typed {
            Ok(typed) => Some(typed),
            Err(e) => panic!(
                "{}: `{field}` = {value} does not decode as {}: {e}",
                self.operation.name,
                std::any::type_name::<T>()
            ),
        }
    }

    /// The path the request must go to, under `/2.0`: every parameter one percent-encoded
    /// segment.
    pub fn expected_path(&self) -> String {
        let mut path = String::from("/2.0");
        let mut rest = self.operation.path;
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}').expect("a closed brace");
            path.push_str(&rest[..open]);
            let name = &rest[open + 1..close];
            let value = self
                .params
                .iter()
                .find(|p| p.location == In::Path && p.name == name)
                .unwrap_or_else(|| panic!("{}: no value for {{{name}}}", self.operation.name));
            let text = param_text(&value.value);
            rest = &rest[close + 1..];
            if name == "path" && rest.is_empty() {
                // A file's path keeps its slashes: each of its segments is encoded alone.
                let segments: Vec<String> = text.split('/').map(encode_segment).collect();
                path.push_str(&segments.join("/"));
            } else {
                path.push_str(&encode_segment(&text));
            }
        }
        path.push_str(rest);
        path
    }

    /// The query pairs the request must carry, sorted: a list is its items, repeated.
    pub fn expected_query(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .params
            .iter()
            .filter(|p| p.location == In::Query)
            .flat_map(|p| match &p.value {
                Value::Array(items) => items
                    .iter()
                    .map(|v| (p.name.clone(), param_text(v)))
                    .collect::<Vec<_>>(),
                other => vec![(p.name.clone(), param_text(other))],
            })
            .collect();
        pairs.sort();
        pairs
    }
}

/// A parameter's value as it goes in a URL: a string as is, anything else as JSON.
pub fn param_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `value` as one path segment: what the crate must encode (a `/`, braces, a space, `%`,
/// `?`, `#`) percent-encoded, as progenitor's builders do.
pub fn encode_segment(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'/' | b'{' | b'}' | b' ' | b'%' | b'?' | b'#' | b'"' | b'<' | b'>' | b'`' => {
                out.push_str(&format!("%{byte:02X}"));
            }
            0..=0x1F | 0x7F..=0xFF => out.push_str(&format!("%{byte:02X}")),
            _ => out.push(byte as char),
        }
    }
    out
}

/// The builder's setter for the document's parameter `name`, as progenitor names it:
/// `target.branch` → `target_branch`, `reportId` → `report_id`, `async` → `async_`.
pub fn setter(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            out.push('_');
            previous_lower = false;
        }
    }
    if matches!(
        out.as_str(),
        "async" | "type" | "ref" | "move" | "match" | "mod"
    ) {
        out.push('_');
    }
    out
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

/// The answer of a call, as the test sees it.
pub type Called<'a> = Pin<Box<dyn Future<Output = Result<Answer, Error>> + Send + 'a>>;

/// What `send()` returned, as JSON, text or bytes.
macro_rules! seen {
    (json $answer:ident) => {
        Answer::Json(serde_json::to_value(&$answer).expect("answers encode"))
    };
    (completion $answer:ident) => {
        match $answer {
            bitbucket_cloud::Completion::Done(value) => {
                Answer::Json(serde_json::to_value(&value).expect("answers encode"))
            }
            bitbucket_cloud::Completion::Accepted { .. } => Answer::Empty,
        }
    };
    (text $answer:ident) => {
        Answer::Text($answer)
    };
    (bytes $answer:ident) => {
        Answer::Bytes($answer.to_vec())
    };
    (empty $answer:ident) => {{
        let () = $answer;
        Answer::Empty
    }};
}

/// For every generated operation: a function that calls it through its typed builder, with
/// every setter the case has a value for; and their names.
macro_rules! calls {
    ($($name:ident $kind:ident [$($json:ty)?] [$($field:ident: $ty:ty),*];)*) => {
        mod typed {
            use super::*;
            $(
                #[allow(deprecated)] // The issue tracker and code search, deprecated upstream.
                pub async fn $name(client: &Client, case: &Case) -> Result<Answer, Error> {
                    let builder = client.$name();
                    let _ = case; // An operation without parameters.
                    $(
                        let builder = match case.arg::<$ty>(stringify!($field)) {
                            Some(value) => builder.$field(value),
                            None => builder,
                        };
                    )*
                    let answer = builder.send().await?;
                    Ok(seen!($kind answer))
                }
            )*
        }

        /// The operations with a typed call: every generated one.
        pub const CALLED: &[&str] = &[$(stringify!($name)),*];

        /// The setters of each operation's builder.
        pub const SETTERS: &[(&str, &[&str])] = &[$((stringify!($name), &[$(stringify!($field)),*])),*];

        /// Calls `case`'s operation through its typed builder.
        pub fn call<'a>(client: &'a Client, case: &'a Case) -> Called<'a> {
            match case.operation.name {
                $(stringify!($name) => Box::pin(typed::$name(client, case)),)*
                other => panic!("`{other}` has no typed call: is its feature on?"),
            }
        }
    };
}
bitbucket_cloud::__operation_calls!(calls);
