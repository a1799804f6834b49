//! What the build needs to know of the document, read as plain JSON: the operations and their
//! facts (written by `cargo xtask trim` as `x-` fields), and the view of the document that
//! progenitor generates from (the enabled operations and the schemas they reach).

use std::collections::BTreeSet;

use quote::format_ident;
use serde_json::Value;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What a success carries (`x-answer`), and so what `send()` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A JSON value of the response type.
    Json,
    /// Text (a diff, a log).
    Text,
    /// Raw bytes (a file).
    Bytes,
    /// Nothing.
    Empty,
}

impl Answer {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "json" => Answer::Json,
            "text" => Answer::Text,
            "bytes" => Answer::Bytes,
            "empty" => Answer::Empty,
            _ => return None,
        })
    }

    /// Its variant of `crate::operations::Answer`.
    pub fn variant(self) -> syn::Ident {
        format_ident!("{}", format!("{self:?}"))
    }
}

/// One field of a multipart form (`x-multipart`).
pub struct FormField {
    /// Its name in the form: `certificate`, `sourceCommitId`.
    pub name: String,
    /// Whether it is a file's content (its setter takes an `Upload`), or text.
    pub file: bool,
    /// Whether `send()` refuses to go without it.
    pub required: bool,
    pub description: String,
}

impl FormField {
    /// Its setter on the builder: `source_commit_id`, `type_` for `type`.
    pub fn setter(&self) -> syn::Ident {
        let snake = snake_case(&self.name);
        match syn::parse_str::<syn::Ident>(&snake) {
            Ok(ident) => ident,
            Err(_) => format_ident!("{snake}_"),
        }
    }
}

/// `sourceCommitId` -> `source_commit_id`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

/// One operation of the document, as the overlay sees it.
pub struct Operation {
    pub name: String,
    /// Upper case: `GET`.
    pub method: String,
    pub path: String,
    pub tags: Vec<String>,
    pub summary: String,
    pub classic_scopes: Vec<String>,
    pub granular_scopes: Vec<String>,
    /// Data Center: the permission it needs (`x-permission`: `REPO_READ`, ..., `UNKNOWN`).
    pub permission: Option<String>,
    /// Data Center: other ways to be allowed (`x-permission-or`: `SELF`, `AUTHOR`, ...).
    pub permission_or: Vec<String>,
    pub paginated: bool,
    /// For a list, the largest `pagelen` it accepts (`x-max-pagelen`, set by the xtask).
    pub max_pagelen: Option<u64>,
    /// Whether it takes a `page` query parameter (pages can be asked for by number).
    pub page_parameter: bool,
    pub deprecated: bool,
    /// Upstream's words on the deprecation (`x-deprecation-note`), for a deprecated operation.
    pub deprecation_note: Option<String>,
    /// Its page in Atlassian's REST reference (`x-reference`).
    pub reference: String,
    /// The cargo feature that generates it (`x-feature`).
    pub feature: String,
    /// What a success carries (`x-answer`).
    pub answer: Answer,
    /// Where its 3xx leads (`x-redirect`): `storage` or another operation's name.
    pub redirect: Option<String>,
    /// The fields of its multipart form (`x-multipart`, with `x-request: multipart`): its
    /// builder takes each and sends the form. Empty for any other operation.
    pub form_fields: Vec<FormField>,
    /// A 2xx answer without a body beside a 2xx with JSON (merge's 202 "still running").
    pub accepted_without_body: bool,
    /// The component schema of a JSON success answer, when it is one (`paginated_treeentries`
    /// for `get_source`, whose answer is bytes that hold this JSON for a directory).
    pub json_component: Option<String>,
    /// Path parameters in the order the template names them.
    pub path_params: Vec<String>,
}

impl Operation {
    /// Its constant in `crate::operations`, which its `send` names: `MERGE_PULL_REQUEST`.
    pub fn constant(&self) -> syn::Ident {
        format_ident!("{}", self.name.to_ascii_uppercase())
    }

    /// The builder progenitor generates for it: `MergePullRequest`.
    pub fn builder(&self) -> syn::Ident {
        format_ident!("{}", upper_camel(&self.name))
    }

    /// `#[cfg_attr(docsrs, doc(cfg(feature = "...")))]`: docs.rs (built with `full`) shows the
    /// feature each generated item needs.
    pub fn doc_cfg(&self) -> syn::Attribute {
        let feature = &self.feature;
        syn::parse_quote!(#[cfg_attr(docsrs, doc(cfg(feature = #feature)))])
    }

    /// `#[deprecated(note = "...")]` with upstream's words, for a deprecated operation.
    pub fn deprecated_attr(&self) -> Option<syn::Attribute> {
        if !self.deprecated {
            return None;
        }
        let note = self.deprecation_note.clone().unwrap_or_else(|| {
            "Atlassian's OpenAPI document marks this operation deprecated.".into()
        });
        Some(syn::parse_quote!(#[deprecated(note = #note)]))
    }
}

/// `pull_request` → `PullRequest`, `repository:write` → `RepositoryWrite`: the Rust type name
/// of one of the document's names (progenitor's builders, typify's types, `Scope` variants).
pub fn upper_camel(name: &str) -> String {
    name.split([':', '_', '-', '.'])
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `issue-tracker` → `CARGO_FEATURE_ISSUE_TRACKER`: how cargo tells a build script that a
/// feature is on.
pub fn feature_env(feature: &str) -> String {
    format!(
        "CARGO_FEATURE_{}",
        feature.to_ascii_uppercase().replace('-', "_")
    )
}

/// Every operation of the document, sorted by name.
pub fn operations(doc: &Value) -> Result<Vec<Operation>, String> {
    let paths = doc["paths"]
        .as_object()
        .ok_or("the document has no paths")?;
    let mut out = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let name = op["operationId"]
                .as_str()
                .ok_or_else(|| {
                    format!("{method} {path} has no operationId (run `cargo xtask trim`)")
                })?
                .to_string();
            // An upload the builder could not send: the xtask writes its fields with it.
            if op["x-request"] == "multipart"
                && op["x-multipart"].as_array().is_none_or(Vec::is_empty)
            {
                return Err(format!(
                    "`{name}` is a multipart upload without form fields (`x-multipart`): declare \
                     its body in the document or a patch, and run `cargo xtask trim`"
                ));
            }
            let fact = |key: &str| -> Result<&str, String> {
                op[key]
                    .as_str()
                    .ok_or_else(|| format!("`{name}` has no `{key}` (run `cargo xtask trim`)"))
            };
            let answer = Answer::parse(fact("x-answer")?)
                .ok_or_else(|| format!("`{name}`: unknown `x-answer`"))?;
            let feature = fact("x-feature")?.to_string();
            let reference = fact("x-reference")?.to_string();
            let deprecated = op["deprecated"].as_bool().unwrap_or(false);
            let deprecation_note = match op["x-deprecation-note"].as_str() {
                Some(note) => Some(note.to_string()),
                None if deprecated => {
                    return Err(format!(
                        "`{name}` is deprecated without an `x-deprecation-note` (run `cargo xtask trim`)"
                    ));
                }
                None => None,
            };
            let classic_scopes = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|req| req.get("oauth2"))
                .flat_map(strings)
                .map(str::to_string)
                .collect();
            let mut granular_scopes: Vec<String> = Vec::new();
            for entry in op["x-atlassian-oauth2-scopes"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if entry["state"].as_str().is_some_and(|s| s != "Current") {
                    continue;
                }
                for scope in strings(&entry["scopes"]) {
                    if !granular_scopes.iter().any(|s| s == scope) {
                        granular_scopes.push(scope.to_string());
                    }
                }
            }
            let successes: Vec<(&String, &Value)> = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(status, _)| status.starts_with('2'))
                .collect();
            let with_body = successes
                .iter()
                .filter(|(_, r)| r.get("content").is_some())
                .count();
            let json_component = successes.iter().find_map(|(_, r)| {
                r.pointer("/content/application~1json/schema/$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .map(str::to_string)
            });
            out.push(Operation {
                name,
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                tags: strings(&op["tags"]).map(str::to_string).collect(),
                summary: op["summary"]
                    .as_str()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                classic_scopes,
                granular_scopes,
                permission: op["x-permission"].as_str().map(str::to_string),
                permission_or: strings(&op["x-permission-or"])
                    .map(str::to_string)
                    .collect(),
                paginated: op["x-paginated"].as_bool().unwrap_or(false),
                max_pagelen: op["x-max-pagelen"].as_u64(),
                page_parameter: op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["in"] == "query" && p["name"] == "page"),
                deprecated,
                deprecation_note,
                reference,
                feature,
                answer,
                redirect: op["x-redirect"].as_str().map(str::to_string),
                form_fields: op["x-multipart"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|field| FormField {
                        name: field["name"].as_str().unwrap_or_default().to_string(),
                        file: field["file"].as_bool().unwrap_or(false),
                        required: field["required"].as_bool().unwrap_or(false),
                        description: field["description"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    })
                    .collect(),
                accepted_without_body: answer == Answer::Json
                    && with_body > 0
                    && with_body < successes.len(),
                json_component,
                path_params: path_params(path),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The strings of a JSON array; none when `value` is not an array.
fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn path_params(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}'))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// The classic OAuth scopes the document defines, with their descriptions, in its order.
pub fn classic_scopes(doc: &Value) -> Result<Vec<(String, String)>, String> {
    let scopes = doc
        .pointer("/components/securitySchemes/oauth2/flows/authorizationCode/scopes")
        .and_then(Value::as_object)
        .ok_or("the document defines no OAuth 2 scopes")?;
    Ok(scopes
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect())
}

/// The document as progenitor should generate it:
/// - only the operations named in `generate` (those of the enabled features), and the
///   component schemas they reach, so a build pays only for what it uses;
/// - only the 2xx answers that carry the result (the overlay decodes errors and the body-less
///   202 itself), without 3xx redirects;
/// - a `bytes` answer as raw bytes only (`get_source` also declares the JSON of a directory
///   listing, which stays reachable, so its type is generated).
pub fn progenitor_view(doc: &Value, generate: &BTreeSet<&str>) -> Result<Value, String> {
    let mut doc = doc.clone();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            if let Some(item) = item.as_object_mut() {
                item.retain(|key, op| {
                    !METHODS.contains(&key.as_str())
                        || op["operationId"]
                            .as_str()
                            .is_some_and(|name| generate.contains(name))
                });
            }
        }
        paths.retain(|_, item| {
            item.as_object()
                .is_some_and(|i| i.keys().any(|k| METHODS.contains(&k.as_str())))
        });
    }
    prune_components(&mut doc)?;
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let bytes = op["x-answer"] == "bytes";
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let any_body = responses
                .iter()
                .any(|(s, r)| s.starts_with('2') && r.get("content").is_some());
            responses.retain(|status, response| {
                status.starts_with('2') && (!any_body || response.get("content").is_some())
            });
            if bytes {
                for response in responses.values_mut() {
                    if let Some(content) =
                        response.get_mut("content").and_then(Value::as_object_mut)
                    {
                        content.retain(|media, _| media == "application/octet-stream");
                    }
                }
            }
        }
    }
    Ok(doc)
}

/// Drops the component schemas that neither a remaining operation nor the overlay reaches.
fn prune_components(doc: &mut Value) -> Result<(), String> {
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<String> = Vec::new();
    let product = crate::product();
    for name in product.overlay_schemas {
        if !schemas.contains_key(*name) {
            return Err(format!(
                "the overlay uses the schema `{name}`, which {} does not have",
                product.spec
            ));
        }
        pending.push(name.to_string());
    }
    collect_schema_refs(&doc["paths"], &mut pending);
    while let Some(name) = pending.pop() {
        if !reached.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = schemas.get(&name) {
            collect_schema_refs(schema, &mut pending);
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.retain(|name, _| reached.contains(name));
    }
    Ok(())
}

fn collect_schema_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(obj) => {
            for (key, child) in obj {
                match (key.as_str(), child) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix("#/components/schemas/") {
                            out.push(name.to_string());
                        }
                    }
                    _ => collect_schema_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_schema_refs(item, out)),
        _ => {}
    }
}
