//! The request of one call of one operation, made from an OpenAPI document: every path and
//! query parameter with a value made from its schema, and the body (JSON or form) made from
//! the body's schema ([`crate::sample`]). Product-agnostic: it needs the document as JSON and
//! the operation's name, method and path template.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::sample::{Schemas, path_string};

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// One parameter of a request: the document's name, where it goes, its value.
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
    /// `text/plain` (Data Center's markup preview).
    Text,
}

/// What a success carries, as a test sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Json(Value),
    Text(String),
    Bytes(Vec<u8>),
    /// No body (a 204); also what a `Completion::Accepted` is.
    Empty,
}

/// The parameters and body of one call of the operation `name`.
#[derive(Clone, Debug)]
pub struct Request {
    /// The operation's name: its builder's method on the client.
    pub name: &'static str,
    /// Its path template: `/repositories/{workspace}/{repo_slug}`.
    pub path: &'static str,
    pub params: Vec<Param>,
    pub body: Option<(BodyKind, Value)>,
    /// The fields of a multipart form the document declares (`x-multipart`), by setter
    /// (`source_commit_id`), each with a text value (a file's content too).
    pub form: Vec<(String, Value)>,
    /// The builder's setters the request leaves unset, as a user would: optional headers
    /// (`Content-Length`, `Range`: the client sets them) and deprecated parameters.
    pub unset: Vec<String>,
}

impl Request {
    /// The request of the operation `name` (`method` `path` in `document`), with every
    /// parameter and the body made from the document's schemas.
    pub fn of(document: &Value, name: &'static str, method: &str, path: &'static str) -> Request {
        let schemas = Schemas::new(document);
        let item = &document["paths"][path];
        let op = &item[method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {path} is not in the document");
        let declared = item["parameters"]
            .as_array()
            .into_iter()
            .chain(op["parameters"].as_array())
            .flatten();
        let mut params: Vec<Param> = Vec::new();
        let mut unset = Vec::new();
        for param in declared {
            let name = param["name"].as_str().expect("a named parameter");
            let location = match param["in"].as_str() {
                Some("path") => In::Path,
                Some("query") if param["deprecated"] != json!(true) => In::Query,
                _ => {
                    unset.push(setter(name));
                    continue;
                }
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
                } else if let Some(media) = content.get("text/plain") {
                    (BodyKind::Text, media)
                } else {
                    // Multipart uploads: their builders take no body (yet).
                    return None;
                };
                Some((kind, schemas.sample(&media["schema"], "body")))
            });
        // Multipart uploads: the builder has a setter for each field of the form.
        let form = op["x-multipart"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|field| {
                let name = field["name"].as_str()?;
                let value = if field["file"] == json!(true) {
                    format!("contract {name} file\n")
                } else {
                    format!("contract {name}")
                };
                Some((setter(name), json!(value)))
            })
            .collect();
        Request {
            name,
            path,
            params,
            body,
            form,
            unset,
        }
    }

    /// The value of the builder's setter `field` (`pull_request_id`, `target_branch`, `async_`,
    /// `body`), as the type it takes; `None` when the request leaves it unset. A number goes to
    /// a setter that takes a string (`issue_id` of attachments) as its digits.
    pub fn arg<T: DeserializeOwned>(&self, field: &str) -> Option<T> {
        let value = if field == "body" {
            self.body.as_ref().map(|(_, body)| body.clone())?
        } else if self.unset.iter().any(|name| name == field) {
            return None;
        } else if let Some((_, value)) = self.form.iter().find(|(name, _)| name == field) {
            value.clone()
        } else {
            let param = self
                .params
                .iter()
                .find(|p| setter(&p.name) == field)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: the builder's setter `{field}` is no parameter of the document",
                        self.name
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
                self.name,
                std::any::type_name::<T>()
            ),
        }
    }

    /// Sets the path parameter `name`, if the operation has one, to `value`.
    pub fn set_path_param(&mut self, name: &str, value: Value) {
        for param in &mut self.params {
            if param.location == In::Path && param.name == name {
                param.value = value.clone();
            }
        }
    }

    /// The path the request must go to, under `prefix` (`/2.0`): every parameter one
    /// percent-encoded segment, but a trailing `{path}` (a file's), whose slashes stay, and
    /// which follows a `/` also where the template glues it to literal text.
    pub fn expected_path(&self, prefix: &str) -> String {
        let mut path = String::from(prefix);
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}').expect("a closed brace");
            path.push_str(&rest[..open]);
            let name = &rest[open + 1..close];
            let value = self
                .params
                .iter()
                .find(|p| p.location == In::Path && p.name == name)
                .unwrap_or_else(|| panic!("{}: no value for {{{name}}}", self.name));
            let text = param_text(&value.value);
            rest = &rest[close + 1..];
            if name == "path" && rest.is_empty() {
                // A file's path keeps its slashes: each of its segments is encoded alone. Glued
                // to literal text (`compare/diff{path}`), it goes after a `/`.
                if !path.ends_with('/') {
                    path.push('/');
                }
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
