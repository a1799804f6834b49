//! `cargo xtask dc-trim`: Atlassian's Bitbucket Data Center document made into
//! `data-center/spec/bitbucket-data-center.json`, the input of `bitbucket-data-center`'s build.
//!
//! The pipeline is Cloud's (`main.rs::transform`) where the documents agree, with the same
//! rules (`rules.rs`) and the same patch loader; what differs is the operation list
//! (`data-center/spec/operations.toml`, which names every operation and carries its
//! permission and paging facts, see its header) and the few shape fixes Data Center needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::rules::{self, for_each_operation};
use crate::select::{METHODS, feature_of_tag};
use crate::{docs, source};

/// Where the trimmed document goes, relative to the workspace root.
const TARGET: &str = "data-center/spec/bitbucket-data-center.json";

#[derive(Debug, Deserialize)]
struct Operations {
    #[serde(rename = "operation")]
    list: Vec<Operation>,
}

/// One entry of `data-center/spec/operations.toml` (its header documents every field; those
/// only for readers are not read here).
#[derive(Debug, Deserialize)]
struct Operation {
    method: String,
    path: String,
    name: String,
    operation_id: String,
    permission: String,
    #[serde(default)]
    permission_or: Vec<String>,
    #[serde(default)]
    paging: Option<String>,
    #[serde(default)]
    page_items: Option<String>,
    #[serde(default)]
    paging_source: Option<String>,
    #[serde(default)]
    deprecated: bool,
    #[serde(default)]
    deprecated_note: Option<String>,
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    page_of: Option<String>,
    #[serde(default)]
    response_content: Vec<String>,
    #[serde(default)]
    request_content: Option<String>,
}

/// The permissions an entry may name (`UNKNOWN` when nothing says).
const PERMISSIONS: &[&str] = &[
    "ANONYMOUS",
    "AUTHENTICATED",
    "LICENSED_USER",
    "PROJECT_VIEW",
    "PROJECT_READ",
    "PROJECT_WRITE",
    "PROJECT_ADMIN",
    "PROJECT_CREATE",
    "REPO_READ",
    "REPO_WRITE",
    "REPO_ADMIN",
    "REPO_CREATE",
    "ADMIN",
    "SYS_ADMIN",
    "UNKNOWN",
];

pub fn trim(root: &Path, from: &str, check: bool) -> Result<ExitCode> {
    let spec_dir = root.join("data-center/spec");
    let upstream = source::load(from)?;
    let text = std::fs::read_to_string(spec_dir.join("operations.toml"))
        .context("reading data-center/spec/operations.toml")?;
    let operations: Operations =
        toml::from_str(&text).context("data-center/spec/operations.toml")?;
    let patches = rules::load_patches(&spec_dir.join("patches"))?;

    let doc = transform(&upstream, &operations, &patches)?;
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    let target = root.join(TARGET);
    let summary = format!(
        "{} operations, {} schemas, {} patches applied",
        crate::select::count_operations(&doc),
        doc.pointer("/components/schemas")
            .and_then(Value::as_object)
            .map_or(0, Map::len),
        patches.len()
    );
    if check {
        let current = std::fs::read_to_string(&target).unwrap_or_default();
        if current == text {
            println!("{TARGET} is up to date: {summary}");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("{TARGET} differs from what `cargo xtask dc-trim --from {from}` writes");
        return Ok(ExitCode::FAILURE);
    }
    std::fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
    println!("wrote {TARGET}: {summary}");
    Ok(ExitCode::SUCCESS)
}

fn transform(upstream: &Value, operations: &Operations, patches: &[rules::Patch]) -> Result<Value> {
    let mut doc = select(upstream, operations)?;
    rules::inline_request_bodies(&mut doc)?;
    for patch in patches {
        patch.apply(&mut doc)?;
    }
    json_content_types(&mut doc);
    schemaless_media(&mut doc);
    declared_path_parameters(&mut doc);
    inline_bodies_required(&mut doc);
    paging_parameters(&mut doc);
    page_counters_are_integers(&mut doc);
    rules::flatten_all_of(&mut doc)?;
    rules::answers(&mut doc)?;
    rules::deprecation_notes(&mut doc);
    unverified_pages(&mut doc);
    reference_links(&mut doc);
    rules::prune_unreachable_components(&mut doc);
    rules::open_objects(&mut doc);
    rules::no_required_properties(&mut doc);
    rules::nullable_properties(&mut doc);
    rules::no_validation_constraints(&mut doc);
    rules::strings_stay_strings(&mut doc);
    rules::defaults_in_descriptions(&mut doc);
    html_descriptions(&mut doc);
    docs::rustdoc_friendly_descriptions(&mut doc);
    Ok(doc)
}

/// Every operation of the document, each listed once in `operations.toml`, named and given
/// its facts as `x-` fields: `x-feature` (its first tag), `x-permission`, `x-paginated` and
/// `x-page-items`, `x-answer` where the content types say it, `x-request` for multipart.
fn select(upstream: &Value, operations: &Operations) -> Result<Value> {
    let up_paths = upstream["paths"]
        .as_object()
        .context("the document has no `paths`")?;
    let mut listed: BTreeMap<(String, String), &Operation> = BTreeMap::new();
    let mut names = BTreeSet::new();
    for op in &operations.list {
        if !names.insert(op.name.as_str()) {
            bail!("`{}` names two operations", op.name);
        }
        if !PERMISSIONS.contains(&op.permission.as_str()) {
            bail!("`{}`: unknown permission `{}`", op.name, op.permission);
        }
        let key = (op.path.clone(), op.method.to_ascii_lowercase());
        if listed.insert(key, op).is_some() {
            bail!("{} {} is listed twice", op.method, op.path);
        }
    }
    let mut problems = Vec::new();
    let mut paths = Map::new();
    for (path, item) in up_paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let mut out = Map::new();
        for (method, operation) in item {
            if !METHODS.contains(&method.as_str()) {
                out.insert(method.clone(), operation.clone());
                continue;
            }
            let Some(entry) = listed.remove(&(path.clone(), method.clone())) else {
                problems.push(format!(
                    "{} {path} is not in operations.toml",
                    method.to_ascii_uppercase()
                ));
                continue;
            };
            if operation["operationId"] != entry.operation_id.as_str() {
                problems.push(format!(
                    "`{}`: upstream's operationId is now {}",
                    entry.name, operation["operationId"]
                ));
            }
            out.insert(method.clone(), facts(operation.clone(), entry, upstream)?);
        }
        paths.insert(path.clone(), Value::Object(out));
    }
    for ((path, method), entry) in listed {
        problems.push(format!(
            "`{}` ({} {path}) left the document",
            entry.name,
            method.to_ascii_uppercase()
        ));
    }
    if !problems.is_empty() {
        bail!(
            "operations.toml and the document disagree:\n  {}",
            problems.join("\n  ")
        );
    }
    let mut doc = upstream.clone();
    doc["paths"] = Value::Object(paths);
    if let Some(obj) = doc.as_object_mut() {
        // Narrative pages for the developer site; not part of the API.
        obj.remove("x-atlassian-narrative");
    }
    // The server variable is the user's: the client takes its base URL from the caller.
    doc["servers"] = json!([{ "url": "/rest" }]);
    Ok(doc)
}

fn facts(mut operation: Value, entry: &Operation, upstream: &Value) -> Result<Value> {
    operation["operationId"] = Value::String(entry.name.clone());
    // The inbox's two operations have no tag: they are the caller's pull requests.
    let tag = operation["tags"][0].as_str().unwrap_or("Pull Requests");
    // `Mirroring (Mirror)` -> `mirroring-mirror`.
    let feature: String = feature_of_tag(tag)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    operation["x-feature"] = Value::String(feature);
    operation["x-permission"] = Value::String(entry.permission.clone());
    if !entry.permission_or.is_empty() {
        operation["x-permission-or"] = json!(entry.permission_or);
    }
    if entry.paging.as_deref() == Some("start-limit") {
        operation["x-paginated"] = Value::Bool(true);
        operation["x-page-items"] =
            Value::String(entry.page_items.clone().unwrap_or_else(|| "values".into()));
        if entry.paging_source.as_deref() == Some("description") {
            operation["x-paging-from-description"] = Value::Bool(true);
        }
    }
    if entry.deprecated_note.is_some() || entry.deprecated {
        operation["deprecated"] = Value::Bool(true);
    }
    if let Some(note) = &entry.deprecated_note {
        operation["x-deprecation-note"] = Value::String(format!(
            "Atlassian's document lists this operation under `Deprecated` ({note})."
        ));
    }
    // What a success carries, when its content types are not JSON.
    let all_empty = operation["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(s, _)| s.starts_with('2'))
        .all(|(s, _)| s == "204");
    if !entry.response_content.is_empty() && !all_empty {
        let text = entry
            .response_content
            .iter()
            .all(|c| c.starts_with("text/plain"));
        operation["x-answer"] = Value::String(if text { "text" } else { "bytes" }.into());
        // The document's JSON beside them is a mis-declaration (the file's bytes come).
        for (status, response) in operation["responses"].as_object_mut().into_iter().flatten() {
            if status.starts_with('2')
                && let Some(obj) = response.as_object_mut()
            {
                obj.remove("content");
            }
        }
    }
    if let Some(item) = &entry.page_of {
        // A page of `item`, where the document declares no answer or one item.
        let page = json!({
            "type": "object",
            "properties": {
                "isLastPage": { "type": "boolean" },
                "limit": { "type": "integer", "format": "int32" },
                "nextPageStart": { "type": "integer", "format": "int32" },
                "size": { "type": "integer", "format": "int32" },
                "start": { "type": "integer", "format": "int32" },
                "values": { "type": "array", "items": { "$ref": format!("#/components/schemas/{item}") } }
            }
        });
        let responses = operation["responses"]
            .as_object_mut()
            .with_context(|| format!("`{}` has no responses", entry.name))?;
        responses.retain(|status, _| !status.starts_with('2') && status != "default");
        responses.insert(
            "200".into(),
            json!({ "description": "A page.", "content": { "application/json": { "schema": page } } }),
        );
    }
    if let Some(answer) = &entry.answer {
        if !crate::select::ANSWERS.contains(&answer.as_str()) {
            bail!("`{}`: unknown answer `{answer}`", entry.name);
        }
        operation["x-answer"] = Value::String(answer.clone());
    }
    match entry.request_content.as_deref() {
        // Uploads: progenitor makes no multipart body; the generator gives the builder a
        // setter for each field of the form the document declares (`x-multipart`).
        Some("multipart/form-data") => {
            crate::forms::into_form(&mut operation, upstream)
                .with_context(|| format!("`{}`: its multipart form", entry.name))?;
        }
        Some(content) => {
            // `*/*` (or a vendor type) for a JSON or text body: declared as what it is.
            let media = if content == "text/plain" {
                "text/plain"
            } else {
                "application/json"
            };
            if let Some(body) = operation
                .pointer_mut("/requestBody/content")
                .and_then(Value::as_object_mut)
            {
                let schema = body
                    .values()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| json!({ "schema": {} }));
                body.clear();
                body.insert(media.into(), schema);
            }
            if content != media {
                operation["x-request-content-type"] = Value::String(content.into());
            }
        }
        None => {}
    }
    Ok(operation)
}

/// `application/json;charset=UTF-8` (what most answers declare) is JSON: said plainly so the
/// generator sees it.
fn json_content_types(doc: &mut Value) {
    for_each_operation(doc, &mut |_, _, op| {
        for response in op["responses"]
            .as_object_mut()
            .into_iter()
            .flat_map(|r| r.values_mut())
        {
            let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
                continue;
            };
            let renamed: Vec<(String, Value)> = std::mem::take(content)
                .into_iter()
                .map(|(media, v)| {
                    if media.starts_with("application/json") {
                        ("application/json".to_string(), v)
                    } else {
                        (media, v)
                    }
                })
                .collect();
            for (media, v) in renamed {
                content.entry(media).or_insert(v);
            }
        }
    });
}

/// Pages are asked for with integer `start` and `limit` (upstream types them `number`), and
/// the operations whose description says they answer a page get them where the document
/// forgot them.
fn paging_parameters(doc: &mut Value) {
    for_each_operation(doc, &mut |_, _, op| {
        let paginated = op["x-paginated"] == true;
        let params = op
            .as_object_mut()
            .map(|o| o.entry("parameters").or_insert_with(|| json!([])))
            .and_then(Value::as_array_mut);
        let Some(params) = params else { return };
        for param in params.iter_mut() {
            if param["in"] == "query" && (param["name"] == "start" || param["name"] == "limit") {
                param["schema"] = json!({ "type": "integer", "format": "int32" });
            }
        }
        if paginated {
            for name in ["start", "limit"] {
                if !params
                    .iter()
                    .any(|p| p["in"] == "query" && p["name"] == name)
                {
                    params.push(json!({
                        "name": name,
                        "in": "query",
                        "description": if name == "start" {
                            "Which item to start the page at (0-based)."
                        } else {
                            "How many items a page holds at most."
                        },
                        "schema": { "type": "integer", "format": "int32" }
                    }));
                }
            }
        }
    });
}

/// `x-reference`: the operation's section in Atlassian's REST reference for 9.4.
fn reference_links(doc: &mut Value) {
    for_each_operation(doc, &mut |path, method, op| {
        let group: String = op["tags"][0]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .replace(' ', "-")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        op["x-reference"] = Value::String(format!(
            "https://developer.atlassian.com/server/bitbucket/rest/v904/api-group-{group}/#{}",
            rules::reference_anchor(path, method)
        ));
    });
}

/// A list whose answer is not a page envelope in the document (the description says "a page"
/// but no schema or patch says of what) is generated as a plain call answering its JSON:
/// `x-paginated` is dropped and `x-paging-unverified` says why.
fn unverified_pages(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    let resolve = |schema: &Value| {
        let mut schema = schema.clone();
        for _ in 0..8 {
            match schema["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                Some(name) => schema = schemas[name].clone(),
                None => break,
            }
        }
        schema
    };
    for_each_operation(doc, &mut |_, _, op| {
        if op["x-paginated"] != true {
            return;
        }
        let envelope = op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(status, _)| status.starts_with('2'))
            .filter_map(|(_, r)| r.pointer("/content/application~1json/schema"))
            .any(|schema| resolve(schema)["properties"].get("isLastPage").is_some());
        if !envelope {
            if let Some(obj) = op.as_object_mut() {
                obj.remove("x-paginated");
                obj.remove("x-page-items");
            }
            op["x-paging-unverified"] = Value::Bool(true);
        }
    });
}

/// A body declared without a schema (37 JSON answers, a few requests) is any JSON value:
/// whatever the server sends is kept. A parameter declared with `content` takes its media
/// type's schema (the generator reads parameters' schemas only).
fn schemaless_media(doc: &mut Value) {
    for_each_operation(doc, &mut |_, _, op| {
        let Some(op) = op.as_object_mut() else { return };
        // A parameter given as `content` (one media type) rather than `schema`: its schema.
        for param in op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let Some(param) = param.as_object_mut() else {
                continue;
            };
            let schema = param
                .get("content")
                .and_then(Value::as_object)
                .and_then(|c| c.values().next())
                .and_then(|m| m.get("schema"))
                .cloned();
            if let Some(schema) = schema {
                param.remove("content");
                param.insert("schema".into(), schema);
            }
        }
        let mut bodies: Vec<&mut Value> = Vec::new();
        for (key, value) in op.iter_mut() {
            match key.as_str() {
                "requestBody" => bodies.push(value),
                "responses" => bodies.extend(
                    value
                        .as_object_mut()
                        .into_iter()
                        .flat_map(|r| r.values_mut()),
                ),
                _ => {}
            }
        }
        for body in bodies {
            for media in body
                .get_mut("content")
                .and_then(Value::as_object_mut)
                .into_iter()
                .flat_map(|c| c.values_mut())
            {
                if let Some(media) = media.as_object_mut() {
                    media.entry("schema").or_insert_with(|| json!({}));
                }
            }
        }
    });
}

/// A path parameter the template names but the operation does not declare (the five
/// secret-scanning exemption operations forget `projectKey` and `repositorySlug`) is declared:
/// a required string.
fn declared_path_parameters(doc: &mut Value) {
    for_each_operation(doc, &mut |path, _, op| {
        let names: Vec<String> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}'))
            .map(|(name, _)| name.to_string())
            .collect();
        let params = op
            .as_object_mut()
            .map(|o| o.entry("parameters").or_insert_with(|| json!([])))
            .and_then(Value::as_array_mut);
        let Some(params) = params else { return };
        for name in names {
            if !params
                .iter()
                .any(|p| p["in"] == "path" && p["name"] == name.as_str())
            {
                params.push(json!({
                    "name": name,
                    "in": "path",
                    "required": true,
                    "schema": { "type": "string" }
                }));
            }
        }
    });
}

/// An optional request body whose schema is an inline object is made required: progenitor
/// cannot generate an optional body of a type it builds (8 operations; each takes an empty
/// object where the caller has nothing to say).
fn inline_bodies_required(doc: &mut Value) {
    for_each_operation(doc, &mut |_, _, op| {
        let Some(body) = op.get_mut("requestBody") else {
            return;
        };
        let inline_object = body["content"]
            .as_object()
            .into_iter()
            .flat_map(|c| c.values())
            .any(|m| m["schema"]["type"] == "object" && m["schema"].get("$ref").is_none());
        if inline_object && body["required"] != true {
            body["required"] = Value::Bool(true);
        }
    });
}

/// A page's `start`, `limit`, `size` and `nextPageStart` are typed `number` upstream; they
/// count items, and are integers.
fn page_counters_are_integers(doc: &mut Value) {
    fn fix(schema: &mut Value) {
        if let Some(obj) = schema.as_object_mut() {
            let is_page = obj
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| p.contains_key("isLastPage"));
            if is_page {
                for field in ["start", "limit", "size", "nextPageStart"] {
                    if let Some(prop) = obj
                        .get_mut("properties")
                        .and_then(|p| p.get_mut(field))
                        .filter(|p| p["type"] == "number" || p["type"] == "integer")
                    {
                        *prop = json!({ "type": "integer", "format": "int64" });
                    }
                }
            }
            for value in obj.values_mut() {
                fix(value);
            }
        } else if let Some(list) = schema.as_array_mut() {
            for value in list {
                fix(value);
            }
        }
    }
    fix(doc);
}

/// Data Center's descriptions are partly HTML (`<a href>`, `<code>`, `<strong>`, tables, lists)
/// and put code fences inside paragraphs; rustdoc reads the HTML as HTML (and rejects unclosed
/// tags) and the fences as doctests. They become Markdown first; `docs::rustdoc_markdown`
/// then does what it does for Cloud's.
fn html_descriptions(doc: &mut Value) {
    match doc {
        Value::Object(obj) => {
            for (key, value) in obj.iter_mut() {
                match (key.as_str(), value) {
                    ("description", Value::String(text)) => *text = html_to_markdown(text),
                    (_, value) => html_descriptions(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(html_descriptions),
        _ => {}
    }
}

fn html_to_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let Some(close) = after.find('>') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let tag = &after[1..close];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        let replacement = match name.as_str() {
            "a" if !closing => {
                // `<a href="URL">text</a>` -> `[text](URL)`.
                let href = tag
                    .split("href=\"")
                    .nth(1)
                    .and_then(|h| h.split('"').next())
                    .unwrap_or_default();
                let body_end = after[close..].find("</a>").map(|i| close + i);
                if let (false, Some(end)) = (href.is_empty(), body_end) {
                    let label = &after[close + 1..end];
                    out.push_str(&format!("[{label}]({href})"));
                    rest = &after[end + 4..];
                    continue;
                }
                String::new()
            }
            "code" | "tt" => "`".into(),
            "strong" | "b" => "**".into(),
            "em" | "i" => "*".into(),
            "br" | "p" | "ul" | "ol" | "table" | "tbody" | "thead" | "pre" | "div" => "\n\n".into(),
            "li" if !closing => "\n- ".into(),
            "tr" if !closing => "\n".into(),
            "td" | "th" if !closing => " | ".into(),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" if !closing => "\n\n**".into(),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => "**\n\n".into(),
            // Not a tag we know (`<path>`, `a < b`): kept as text, escaped for rustdoc.
            "" | "a" | "li" | "tr" | "td" | "th" | "span" => String::new(),
            _ => format!("&lt;{tag}&gt;"),
        };
        out.push_str(&replacement);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    // Fences: one inside a line is inline code; an opening fence followed by text starts
    // a `text` block with that text on its first line.
    let mut lines = Vec::new();
    for line in out.lines() {
        let trimmed = line.trim_start();
        let count = line.matches("```").count();
        if count >= 2 || (count == 1 && !trimmed.starts_with("```")) {
            lines.push(line.replace("```", "`"));
        } else if let Some(after) = trimmed.strip_prefix("```")
            && !after.is_empty()
            && !after.chars().all(|c| c.is_ascii_alphanumeric())
        {
            lines.push("```text".to_string());
            lines.push(after.to_string());
        } else {
            lines.push(line.to_string());
        }
    }
    lines.join("\n")
}
