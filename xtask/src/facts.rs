//! `spec/upstream.json`: what the official document said, as short lines of fact, so that the
//! next document can be compared with the one spec/ was made from without committing it.
//!
//! Each operation and each schema is summarised by the facts that shape the client (a
//! parameter and its type, a response and its schema, a field and its type, an enum value, a
//! scope) and by a digest of its whole text, which tells a change in descriptions or
//! extensions alone from no change. Facts compare as sets, so a reordered document changes
//! nothing, and a change reads as lines gone and lines come:
//!
//! ```text
//! - uuid: string
//! + mergeable: boolean
//! + events[] = pipeline:span_created
//! ```

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::select::METHODS;

/// The summary of one document.
#[derive(Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// What this file is, for whoever opens it.
    pub about: String,
    /// The document's `x-revision`.
    pub revision: String,
    /// Path → method (lower case, as in the document) → summary.
    pub operations: BTreeMap<String, BTreeMap<String, Entry>>,
    /// Schema name → summary.
    pub schemas: BTreeMap<String, Entry>,
}

/// The summary of one operation or schema.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// A digest of its whole text (keys sorted), descriptions and extensions included.
    pub digest: String,
    /// What shapes the client, one fact a line.
    pub facts: Vec<String>,
}

const ABOUT: &str = "What the official document said when spec/ was last made from it, written \
    by `cargo xtask trim`; `cargo xtask trim --from NEW` compares a new document with it and \
    reports what changed. Do not edit.";

impl Facts {
    /// The facts of `doc`, an official document as published.
    pub fn of(doc: &Value) -> Facts {
        let mut facts = Facts {
            about: ABOUT.to_string(),
            revision: doc
                .get("x-revision")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            ..Facts::default()
        };
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let shared = item.get("parameters").cloned().unwrap_or(Value::Null);
                let entry = Entry {
                    digest: digest(&serde_json::json!({ "operation": op, "shared": shared })),
                    facts: operation_facts(doc, item, op),
                };
                facts
                    .operations
                    .entry(path.clone())
                    .or_default()
                    .insert(method.clone(), entry);
            }
        }
        for (name, schema) in doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let mut lines = Vec::new();
            schema_facts("", schema, &mut lines);
            facts.schemas.insert(
                name.clone(),
                Entry {
                    digest: digest(schema),
                    facts: lines,
                },
            );
        }
        facts
    }

    pub fn parse(text: &str) -> Result<Facts> {
        serde_json::from_str(text)
            .context("spec/upstream.json is not what `cargo xtask trim` writes")
    }

    pub fn to_text(&self) -> Result<String> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }

    /// The operation at `method` (any case) and `path`.
    pub fn operation(&self, method: &str, path: &str) -> Option<&Entry> {
        self.operations.get(path)?.get(&method.to_ascii_lowercase())
    }

    /// Every operation as (`METHOD`, path, entry), by path then method.
    pub fn all_operations(&self) -> impl Iterator<Item = (String, &str, &Entry)> {
        self.operations.iter().flat_map(|(path, methods)| {
            methods
                .iter()
                .map(move |(method, entry)| (method.to_ascii_uppercase(), path.as_str(), entry))
        })
    }
}

/// The first 16 hex digits of the SHA-256 of `value` written with sorted keys.
fn digest(value: &Value) -> String {
    let hash = Sha256::digest(canonical(value).to_string().as_bytes());
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(obj) => {
            let sorted: BTreeMap<&String, Value> =
                obj.iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Facts of one operation: deprecation, scopes, parameters, request body and responses.
fn operation_facts(doc: &Value, item: &Value, op: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if op["deprecated"].as_bool() == Some(true) {
        out.push("deprecated".to_string());
    }
    for requirement in op["security"].as_array().into_iter().flatten() {
        for (scheme, scopes) in requirement.as_object().into_iter().flatten() {
            let scopes = strings(scopes);
            if scopes.is_empty() {
                out.push(format!("auth {scheme}"));
            }
            for scope in scopes {
                out.push(format!("scope {scope} ({scheme})"));
            }
        }
    }
    for entry in op["x-atlassian-oauth2-scopes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let state = entry["state"].as_str().unwrap_or("Current");
        for scope in strings(&entry["scopes"]) {
            out.push(format!("API token scope {scope} ({state})"));
        }
    }
    // Parameters declared on the operation replace those of the path with the same name.
    let mut params: BTreeMap<(String, String), Value> = BTreeMap::new();
    for param in item["parameters"]
        .as_array()
        .into_iter()
        .chain(op["parameters"].as_array())
        .flatten()
    {
        let param = resolve(doc, param);
        let key = (
            param["in"].as_str().unwrap_or("?").to_string(),
            param["name"].as_str().unwrap_or("?").to_string(),
        );
        params.insert(key, param.clone());
    }
    for ((place, name), param) in &params {
        let prefix = format!("parameter {place} {name}");
        if param["required"].as_bool() == Some(true) {
            out.push(format!("{prefix}: required"));
        }
        for key in ["style", "explode"] {
            if let Some(value) = param.get(key) {
                out.push(format!("{prefix}: {key} {value}"));
            }
        }
        schema_facts(&prefix, &param["schema"], &mut out);
    }
    if let Some(body) = op.get("requestBody") {
        let body = resolve(doc, body);
        if body["required"].as_bool() == Some(true) {
            out.push("request body: required".to_string());
        }
        content_facts("request body", body, &mut out);
    }
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let response = resolve(doc, response);
        content_facts(&format!("response {status}"), response, &mut out);
    }
    out
}

/// Facts of the `content` of a request body or response: each media type and its schema, or
/// "no body".
fn content_facts(prefix: &str, owner: &Value, out: &mut Vec<String>) {
    let content = owner.get("content").and_then(Value::as_object);
    match content {
        Some(content) if !content.is_empty() => {
            for (media, value) in content {
                let prefix = format!("{prefix} {media}");
                match value.get("schema") {
                    Some(schema) => schema_facts(&prefix, schema, out),
                    None => out.push(format!("{prefix}: no schema")),
                }
            }
        }
        _ => out.push(format!("{prefix}: no body")),
    }
}

/// Facts of a schema at `path` (empty for a component's root): its type, format, enum values,
/// nullability, the schemas it refers to or extends, and its fields, items and map values,
/// recursively. References are not followed: the schema they name has facts of its own.
fn schema_facts(path: &str, schema: &Value, out: &mut Vec<String>) {
    let fact = |what: String| {
        if path.is_empty() {
            what
        } else if what.starts_with('=') {
            format!("{path} {what}")
        } else {
            format!("{path}: {what}")
        }
    };
    let Some(obj) = schema.as_object() else {
        return;
    };
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        out.push(fact(ref_name(reference)));
        return;
    }
    for (keyword, word) in [
        ("allOf", "extends"),
        ("oneOf", "one of"),
        ("anyOf", "any of"),
    ] {
        for member in obj
            .get(keyword)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match member.get("$ref").and_then(Value::as_str) {
                Some(reference) => out.push(fact(format!("{word} {}", ref_name(reference)))),
                // An inline member's fields belong to the schema itself.
                None => schema_facts(path, member, out),
            }
        }
    }
    let kind = match obj.get("type").and_then(Value::as_str) {
        Some(kind) => Some(kind),
        None if obj.contains_key("properties") => Some("object"),
        None => None,
    };
    if let Some(kind) = kind {
        let format = obj.get("format").and_then(Value::as_str);
        out.push(fact(match format {
            Some(format) => format!("{kind} ({format})"),
            None => kind.to_string(),
        }));
    }
    if obj.get("nullable").and_then(Value::as_bool) == Some(true) {
        out.push(fact("nullable".to_string()));
    }
    for value in obj
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push(fact(format!("= {value}")));
    }
    let required: Vec<&str> = obj.get("required").map(strings).unwrap_or_default();
    for (field, child) in obj
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let child_path = if path.is_empty() {
            field.clone()
        } else {
            format!("{path}.{field}")
        };
        if required.contains(&field.as_str()) {
            out.push(format!("{child_path}: required"));
        }
        schema_facts(&child_path, child, out);
    }
    if let Some(items) = obj.get("items") {
        schema_facts(&format!("{path}[]"), items, out);
    }
    if let Some(values) = obj.get("additionalProperties").filter(|v| is_schema(v)) {
        schema_facts(&format!("{path}{{}}"), values, out);
    }
}

/// Whether `additionalProperties` holds a schema with something in it (not `true`, `false`
/// or `{}`, which say nothing about the values' type).
fn is_schema(value: &Value) -> bool {
    value.as_object().is_some_and(|o| !o.is_empty())
}

/// `#/components/schemas/pullrequest` → `pullrequest`; other references stay whole.
fn ref_name(reference: &str) -> String {
    reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or(reference)
        .to_string()
}

/// The object a `$ref` to `#/components/...` points to, or `value` itself.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer))
            .unwrap_or(value),
        None => value,
    }
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn operations_are_summarised_with_shared_parameters_and_referenced_bodies() {
        let doc = json!({
            "x-revision": "r1",
            "paths": { "/items/{id}": {
                "parameters": [
                    { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                    { "name": "q", "in": "query", "schema": { "type": "string" } }
                ],
                "put": {
                    "deprecated": true,
                    "security": [{ "oauth2": ["item:write"] }],
                    "x-atlassian-oauth2-scopes": [{ "state": "Current", "scopes": ["write:item"] }],
                    "parameters": [
                        { "name": "q", "in": "query", "style": "form", "explode": true,
                          "schema": { "type": "array", "items": { "type": "string", "enum": ["a"] } } }
                    ],
                    "requestBody": { "$ref": "#/components/requestBodies/item" },
                    "responses": {
                        "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/item" } } } },
                        "204": { "description": "nothing" }
                    }
                }
            } },
            "components": {
                "requestBodies": { "item": { "required": true, "content": {
                    "application/json": { "schema": { "$ref": "#/components/schemas/item" } }
                } } },
                "schemas": { "item": { "type": "object", "additionalProperties": {
                    "type": "object", "nullable": true, "properties": { "n": { "type": "integer", "format": "int32" } }
                } } }
            }
        });
        let facts = Facts::of(&doc);
        assert_eq!(facts.revision, "r1");
        assert_eq!(
            facts.operation("PUT", "/items/{id}").unwrap().facts,
            [
                "deprecated",
                "scope item:write (oauth2)",
                "API token scope write:item (Current)",
                "parameter path id: required",
                "parameter path id: string",
                "parameter query q: style \"form\"",
                "parameter query q: explode true",
                "parameter query q: array",
                "parameter query q[]: string",
                "parameter query q[] = a",
                "request body: required",
                "request body application/json: item",
                "response 200 application/json: item",
                "response 204: no body",
            ]
        );
        assert_eq!(
            facts.schemas["item"].facts,
            [
                "object",
                "{}: object",
                "{}: nullable",
                "{}.n: integer (int32)"
            ]
        );
        let text = facts.to_text().unwrap();
        assert_eq!(Facts::parse(&text).unwrap(), facts);
    }

    #[test]
    fn the_digest_ignores_key_order_but_not_text() {
        let a = json!({ "type": "object", "description": "A thing.", "title": "Thing" });
        let b = json!({ "title": "Thing", "description": "A thing.", "type": "object" });
        let c = json!({ "title": "Thing", "description": "A thing!", "type": "object" });
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&c));
        assert_eq!(digest(&a).len(), 16);
    }
}
