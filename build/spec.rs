//! What the build needs to know of the document, read as plain JSON.

use quote::format_ident;
use serde_json::Value;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

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
    pub paginated: bool,
    /// For a list, the largest `pagelen` it accepts (`x-max-pagelen`, set by the xtask).
    pub max_pagelen: Option<u64>,
    /// Whether it takes a `page` query parameter (pages can be asked for by number).
    pub page_parameter: bool,
    pub deprecated: bool,
    /// A 2xx answer without a body beside a 2xx with JSON (merge's 202 "still running").
    pub accepted_without_body: bool,
    /// Path parameters in the order the template names them.
    pub path_params: Vec<String>,
    /// The path parameters declared as integers (`pull_request_id`).
    pub integer_params: Vec<String>,
    /// The component schema of the JSON request body, if the operation takes one.
    pub body_schema: Option<String>,
    /// Every 2xx answer is without a body (a 204).
    pub no_content: bool,
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
}

/// `pull_request` → `PullRequest`, `repository:write` → `RepositoryWrite`: the Rust type name
/// of one of the document's names (progenitor's builders, typify's types, `Scope` variants).
pub fn upper_camel(name: &str) -> String {
    name.split([':', '_', '-'])
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

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
            let accepted_without_body = with_body > 0 && with_body < successes.len();
            // Parameters are declared on the operation or on its path item.
            let integer_params = op["parameters"]
                .as_array()
                .into_iter()
                .chain(item.get("parameters").and_then(Value::as_array))
                .flatten()
                .filter(|p| p["in"] == "path" && p["schema"]["type"] == "integer")
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect();
            let body_schema = op
                .pointer("/requestBody/content/application~1json/schema/$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .map(str::to_string);
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
                paginated: op["x-paginated"].as_bool().unwrap_or(false),
                max_pagelen: op["x-max-pagelen"].as_u64(),
                page_parameter: op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["in"] == "query" && p["name"] == "page"),
                deprecated: op["deprecated"].as_bool().unwrap_or(false),
                accepted_without_body,
                path_params: path_params(path),
                integer_params,
                body_schema,
                no_content: with_body == 0,
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

/// The document as progenitor can generate it: only the 2xx answers that carry the result
/// (the overlay decodes errors and the body-less 202 itself), without 3xx redirects.
pub fn progenitor_view(doc: &Value) -> Value {
    let mut doc = doc.clone();
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let any_body = responses
                .iter()
                .any(|(s, r)| s.starts_with('2') && r.get("content").is_some());
            responses.retain(|status, response| {
                status.starts_with('2') && (!any_body || response.get("content").is_some())
            });
        }
    }
    doc
}
