//! Values made from the document's schemas: a parameter's value, a request body, an answer.
//!
//! Every property is filled in (so that every field of a type goes over the wire and back),
//! lists hold one item, maps one entry, and `oneOf`/`anyOf` take their first branch. A schema
//! that refers to itself (a repository's `parent`, a commit's `parents`) is cut where it comes
//! round again: the property is left out. Strings are chosen by format and by name, so that
//! paths carry what needs percent-encoding (a `/`, `{uuid}` braces, a space).

use serde_json::{Map, Value, json};

/// How many `$ref`s deep a value goes: deep enough for a pull request's branch's repository,
/// shallow enough to keep bodies readable.
const MAX_DEPTH: usize = 4;

/// The document's component schemas.
pub struct Schemas<'a> {
    components: &'a Map<String, Value>,
}

impl<'a> Schemas<'a> {
    pub fn new(document: &'a Value) -> Self {
        Schemas {
            components: document["components"]["schemas"]
                .as_object()
                .expect("the document has component schemas"),
        }
    }

    /// A value of `schema`; `name` is the property or parameter it is for.
    pub fn sample(&self, schema: &Value, name: &str) -> Value {
        self.value(schema, name, &mut Vec::new())
            .unwrap_or(Value::Null)
    }

    fn resolve(&self, reference: &str) -> &'a Value {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {reference}"));
        self.components
            .get(name)
            .unwrap_or_else(|| panic!("no schema {name}"))
    }

    /// `None` where the value would recurse or go too deep: the property is left out.
    fn value(&self, schema: &Value, name: &str, seen: &mut Vec<String>) -> Option<Value> {
        if let Some(reference) = schema["$ref"].as_str() {
            if seen.iter().any(|s| s == reference) || seen.len() >= MAX_DEPTH {
                return None;
            }
            seen.push(reference.to_string());
            let value = self.value(self.resolve(reference), name, seen);
            seen.pop();
            return value;
        }
        if let Some(value) = schema["enum"].as_array().and_then(|e| e.first()) {
            return Some(value.clone());
        }
        if let Some(parts) = schema["allOf"].as_array() {
            let mut merged = Map::new();
            for part in parts {
                match self.value(part, name, seen) {
                    Some(Value::Object(object)) => merged.extend(object),
                    Some(other) if parts.len() == 1 => return Some(other),
                    _ => {}
                }
            }
            // Properties beside the `allOf` belong to the same object.
            if let Some(Value::Object(own)) = self.object(schema, seen) {
                merged.extend(own);
            }
            return Some(Value::Object(merged));
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(first) = schema[key].as_array().and_then(|b| b.first()) {
                return self.value(first, name, seen);
            }
        }
        match schema["type"].as_str() {
            // The document's own example where it gives one (Data Center's do; Cloud's copy has
            // none): it keeps to constraints the crate's copy drops (`pattern: LOW|MEDIUM|HIGH`).
            Some("string") => Some(match &schema["example"] {
                Value::String(example) => Value::String(example.clone()),
                _ => Value::String(string(schema, name)),
            }),
            Some("integer") => Some(json!(integer(name))),
            Some("number") => Some(json!(2.5)),
            Some("boolean") => Some(json!(true)),
            Some("array") => {
                let item = self.value(&schema["items"], name, seen);
                Some(Value::Array(item.into_iter().collect()))
            }
            Some("object") | None => self.object(schema, seen).or(Some(json!({}))),
            Some(other) => panic!("a schema of type {other}: {schema}"),
        }
    }

    /// An object with every property of `schema`, or one entry of its map.
    fn object(&self, schema: &Value, seen: &mut Vec<String>) -> Option<Value> {
        let mut object = Map::new();
        if let Some(properties) = schema["properties"].as_object() {
            for (property, schema) in properties {
                if let Some(value) = self.value(schema, property, seen) {
                    object.insert(property.clone(), value);
                }
            }
        }
        let map_of = &schema["additionalProperties"];
        if object.is_empty()
            && map_of.as_object().is_some_and(|m| !m.is_empty())
            && let Some(value) = self.value(map_of, "entry", seen)
        {
            object.insert("entry-key".into(), value);
        }
        (!object.is_empty()).then_some(Value::Object(object))
    }
}

/// A string for the parameter or property `name`.
fn string(schema: &Value, name: &str) -> String {
    match schema["format"].as_str() {
        Some("date-time") => return "2024-05-14T09:30:00.123456+00:00".into(),
        Some("date") => return "2024-05-14".into(),
        Some("uri" | "url") => return "https://bitbucket.example/acme-corp/billing-service".into(),
        Some("email") => return "jdoe@acme.example".into(),
        Some("uuid") => return UUID.into(),
        _ => {}
    }
    if let Some(value) = string_named(name) {
        return value.into();
    }
    // The crate's copy of the document drops `format`s (Bitbucket does not keep to them), so
    // links and times are told by their names, as the official document formats them.
    if name == "href" || name == "link" || name == "uri" || name.ends_with("url") {
        return "https://bitbucket.example/acme-corp/billing-service".into();
    }
    if name.ends_with("_on") || name == "date" || name == "last_used" || name == "last-updated" {
        return "2024-05-14T09:30:00.123456+00:00".into();
    }
    format!("{name} text")
}

/// `{uuid}`, as Bitbucket writes them: braces to percent-encode in a path.
pub const UUID: &str = "{3fa85f64-5717-4562-b3fc-2c963f66afa6}";

/// What a parameter or property of this name holds in real requests.
fn string_named(name: &str) -> Option<&'static str> {
    Some(match name {
        "workspace" => "acme-corp",
        "repo_slug" | "repo_name" => "billing-service",
        // Branch and tag names hold slashes: one `%2F`-encoded segment in a path.
        "name" | "target.branch" | "target.ref_name" | "refname" => "feature/login-form",
        "commit" | "revision" | "node_id" | "hash" | "target.commit.hash" => {
            "7b9e1f0c2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c"
        }
        "spec" | "revspec" => "feature/login-form..main",
        "include" => "feature/login-form",
        "exclude" => "main",
        // A file path: slashes and a space.
        "path" => "src/auth/login form.rs",
        "filename" => "release notes.txt",
        "project_key" => "BILL",
        "encoded_id" => "kypj89",
        "username" | "target_username" => "jdoe",
        "selected_user" | "selected_user_id" | "member" => "{b9e4b5a2-0c1d-4e7f-9a3b-5c6d7e8f9a0b}",
        "group_slug" => "developers",
        "app_key" | "addon_key" => "acme-ci-app",
        "property_name" => "build-badge",
        "key" => "acme-build-1",
        "fingerprint" => "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
        "email" => "jdoe@acme.example",
        "subject_type" => "repository",
        "reportId" => "acme-security-scan",
        "annotationId" => "acme-finding-1",
        "q" => "state = \"OPEN\" AND title ~ \"login\"",
        "sort" => "-updated_on",
        "search_query" => "fn login",
        "pattern" => "release/*",
        "format" => "diff",
        "created_on" | "after" | "expires_on" => "2024-05-14T09:30:00+00:00",
        "creator.uuid" | "uuid" => UUID,
        _ if name.ends_with("_uuid") || name == "uid" => UUID,
        // Data Center's names.
        "projectKey" => "BILL",
        "repositorySlug" => "billing-service",
        "commitId" | "otherCommitId" | "fromHash" | "toHash" | "since" | "until" => {
            "7b9e1f0c2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c"
        }
        "userSlug" | "userName" | "user" => "jdoe",
        "hookKey" => "com.atlassian.bitbucket.server.bitbucket-bundled-hooks:force-push-hook",
        "scmId" => "git",
        "labelName" => "release",
        "loggerName" => "com.atlassian.bitbucket",
        "levelName" => "DEBUG",
        "emoticon" => "thumbsup",
        "issueKey" => "BILL-17",
        "at" | "ref" | "sourceRefId" | "targetRefId" => "refs/heads/feature/login-form",
        "filterText" | "filter" => "login",
        _ => return None,
    })
}

/// A string path parameter `name`: what it holds in real requests, the digits of an id that
/// the document types a string (`issue_id` of attachments, Data Center's `pullRequestId`), or
/// `{name}-1`.
pub fn path_string(name: &str) -> String {
    match string_named(name) {
        Some(value) => value.into(),
        None if name.ends_with("_id") || name.ends_with("Id") => integer(name).to_string(),
        None => format!("{name}-1"),
    }
}

/// An integer for the parameter or property `name`.
fn integer(name: &str) -> i64 {
    match name {
        "pagelen" => 25,
        "page" => 2,
        "pull_request_id" | "pullrequest_id" | "pullRequestId" | "id" => 42,
        "issue_id" => 17,
        "comment_id" | "commentId" => 1001,
        "task_id" | "taskId" => 7,
        _ => 3,
    }
}
