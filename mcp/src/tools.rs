//! One MCP tool per operation of the table: its name, title, description, annotations and input
//! schema, and the reading of a call's arguments.
//!
//! - **Name**: the operation's (`list_pull_requests`), as in the crate and the audit trail.
//! - **Title**: the area (the document's tag) and the summary: "Pullrequests: List pull
//!   requests", so a client can group tools by area.
//! - **Description**: the summary and the first paragraph of the document's description.
//! - **Annotations**, from the method: `GET` is read-only (and idempotent); `PUT` and `DELETE`
//!   are idempotent and may destroy (a `PUT` replaces); `POST` adds and is not idempotent.
//!   Every tool is open-world: what Bitbucket returns was written by people, and may try to
//!   instruct the model.
//! - **Input**: see [`crate::schema`].

use std::sync::Arc;

use bitbucket_cloud::Operation;
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value};

use crate::schema::{self, BODY, CURSOR, ListLimits, Location, MAX_ITEMS, ToolInput, Unsupported};

/// An operation as a tool.
#[derive(Clone, Debug)]
pub struct ToolSpec {
    /// The operation.
    pub operation: &'static Operation,
    /// What its calls take.
    pub input: ToolInput,
    /// The tool as listed.
    pub tool: Tool,
}

impl ToolSpec {
    /// The tool of `operation`, from the parsed OpenAPI `document`.
    pub fn new(
        document: &Value,
        operation: &'static Operation,
        limits: ListLimits,
    ) -> Result<ToolSpec, Unsupported> {
        let input = schema::tool_input(document, operation, limits)?;
        let area = operation.tags.first().copied().unwrap_or("Bitbucket");
        let title = format!("{area}: {}", operation.summary.trim_end_matches('.'));
        let mut annotations = annotations(operation);
        annotations.title = Some(title.clone());
        let mut tool = Tool::new(
            operation.name,
            input.description.clone(),
            Arc::new(input.schema.clone()),
        );
        tool.title = Some(title);
        tool.annotations = Some(annotations);
        Ok(ToolSpec {
            operation,
            input,
            tool,
        })
    }

    /// Reads a call's arguments, with `limits` for lists.
    pub fn arguments(
        &self,
        arguments: Option<Map<String, Value>>,
        limits: ListLimits,
    ) -> Result<Arguments, String> {
        let mut given = arguments.unwrap_or_default();
        let mut out = Arguments {
            path: Vec::new(),
            query: Vec::new(),
            body: None,
            max_items: limits.default,
            cursor: None,
        };
        for param in &self.input.params {
            let Some(value) = given.remove(&param.name) else {
                if param.required {
                    return Err(format!("`{}` is required", param.name));
                }
                continue;
            };
            match param.location {
                Location::Path => {
                    let text = scalar(&param.name, &value)?;
                    if text.is_empty() || text == "." || text == ".." {
                        return Err(format!(
                            "`{}` cannot be {:?}: give the {} itself",
                            param.name, text, param.name
                        ));
                    }
                    out.path.push((param.name.clone(), text));
                }
                Location::Query => match value {
                    Value::Null => {}
                    Value::Array(items) if param.repeated => {
                        for item in &items {
                            out.query
                                .push((param.name.clone(), scalar(&param.name, item)?));
                        }
                    }
                    Value::Array(_) => {
                        return Err(format!("`{}` takes one value, not a list", param.name));
                    }
                    other => out
                        .query
                        .push((param.name.clone(), scalar(&param.name, &other)?)),
                },
            }
        }
        if let Some(body) = given.remove(BODY) {
            if !self.input.body {
                return Err(format!("`{}` takes no body", self.operation.name));
            }
            out.body = Some(body);
        }
        if self.operation.paginated {
            if let Some(value) = given.remove(MAX_ITEMS) {
                match value.as_u64() {
                    Some(n) if n >= 1 => {
                        out.max_items = u32::try_from(n).unwrap_or(u32::MAX).min(limits.cap)
                    }
                    _ => {
                        return Err(format!(
                            "`max_items` must be a whole number from 1 to {}",
                            limits.cap
                        ));
                    }
                }
            }
            match given.remove(CURSOR) {
                Some(Value::String(cursor)) if !cursor.is_empty() => out.cursor = Some(cursor),
                Some(Value::Null) | None => {}
                Some(_) => return Err("`cursor` must be a next_cursor string".into()),
            }
        }
        if let Some(unknown) = given.keys().next() {
            let mut known: Vec<&str> = self.input.params.iter().map(|p| p.name.as_str()).collect();
            if self.input.body {
                known.push(BODY);
            }
            if self.operation.paginated {
                known.extend([MAX_ITEMS, CURSOR]);
            }
            return Err(format!(
                "`{unknown}` is not an argument of `{}`; its arguments are: {}",
                self.operation.name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
        Ok(out)
    }
}

/// A call's arguments, sorted out.
#[derive(Clone, Debug, PartialEq)]
pub struct Arguments {
    /// Path parameters.
    pub path: Vec<(String, String)>,
    /// Query parameters (repeated ones appear once per value).
    pub query: Vec<(String, String)>,
    /// The JSON body.
    pub body: Option<Value>,
    /// For lists: how many items to return.
    pub max_items: u32,
    /// For lists: where to continue.
    pub cursor: Option<String>,
}

impl Arguments {
    /// `ws`, `ws/repo` or `ws/project:KEY`, from the path parameters.
    pub fn resource(&self) -> Option<String> {
        let get = |name: &str| {
            self.path
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let workspace = get("workspace")?;
        Some(match (get("repo_slug"), get("project_key")) {
            (Some(repo), _) => format!("{workspace}/{repo}"),
            (None, Some(key)) => format!("{workspace}/project:{key}"),
            (None, None) => workspace.to_string(),
        })
    }
}

/// A string, number or boolean argument as text.
fn scalar(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("`{name}` must be a string, a number or a boolean")),
    }
}

/// MCP's hints, from the method.
pub fn annotations(operation: &Operation) -> ToolAnnotations {
    let (read_only, destructive, idempotent) = match operation.method.as_str() {
        "GET" | "HEAD" => (true, false, true),
        "PUT" | "DELETE" => (false, true, true),
        "PATCH" => (false, true, false),
        _ => (false, false, false),
    };
    ToolAnnotations::new()
        .read_only(read_only)
        .destructive(destructive)
        .idempotent(idempotent)
        .open_world(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitbucket_cloud::operations;
    use serde_json::json;

    const LIMITS: ListLimits = ListLimits {
        default: 25,
        cap: 100,
    };

    fn spec(name: &str) -> ToolSpec {
        let document = serde_json::from_str(bitbucket_cloud::openapi::DOCUMENT).unwrap();
        ToolSpec::new(&document, operations::by_name(name).unwrap(), LIMITS).unwrap()
    }

    fn args(value: Value) -> Option<Map<String, Value>> {
        value.as_object().cloned()
    }

    #[test]
    fn annotations_follow_the_method() {
        let hints = |name| {
            let a = spec(name).tool.annotations.unwrap();
            (
                a.read_only_hint.unwrap(),
                a.destructive_hint.unwrap(),
                a.idempotent_hint.unwrap(),
            )
        };
        assert_eq!(hints("list_pull_requests"), (true, false, true));
        assert_eq!(hints("delete_branch"), (false, true, true));
        assert_eq!(hints("update_pull_request"), (false, true, true));
        assert_eq!(hints("merge_pull_request"), (false, false, false));
        let tool = spec("list_pull_requests").tool;
        assert_eq!(
            tool.title.as_deref(),
            Some("Pullrequests: List pull requests")
        );
        assert!(tool.description.unwrap().starts_with("List pull requests."));
    }

    #[test]
    fn arguments_are_sorted_into_path_query_and_body() {
        let list = spec("list_pull_requests");
        let parsed = list
            .arguments(
                args(
                    json!({"workspace": "acme", "repo_slug": "app", "state": ["OPEN", "MERGED"],
                            "q": "title ~ \"x\"", "max_items": 500}),
                ),
                LIMITS,
            )
            .unwrap();
        assert_eq!(parsed.path.len(), 2);
        let query: Vec<(&str, &str)> = parsed
            .query
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            query,
            [
                ("state", "OPEN"),
                ("state", "MERGED"),
                ("q", "title ~ \"x\"")
            ]
        );
        assert_eq!(parsed.max_items, 100, "capped");
        assert_eq!(parsed.resource().as_deref(), Some("acme/app"));

        let get = spec("get_pull_request");
        let parsed = get
            .arguments(
                args(json!({"workspace": "acme", "repo_slug": "app", "pull_request_id": 7})),
                LIMITS,
            )
            .unwrap();
        assert!(
            parsed
                .path
                .contains(&("pull_request_id".into(), "7".into()))
        );

        let comment = spec("create_pull_request_comment");
        let parsed = comment
            .arguments(
                args(
                    json!({"workspace": "acme", "repo_slug": "app", "pull_request_id": 7,
                            "body": {"content": {"raw": "LGTM"}}}),
                ),
                LIMITS,
            )
            .unwrap();
        assert_eq!(parsed.body, Some(json!({"content": {"raw": "LGTM"}})));
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let get = spec("get_repository");
        let error = |value| get.arguments(args(value), LIMITS).unwrap_err();
        assert!(error(json!({"workspace": "acme"})).contains("`repo_slug` is required"));
        assert!(error(json!({"workspace": "acme", "repo_slug": ".."})).contains("cannot be"));
        assert!(
            error(json!({"workspace": "acme", "repo_slug": "app", "colour": 1}))
                .contains("`colour` is not an argument of `get_repository`; its arguments are:")
        );
        assert!(
            error(json!({"workspace": {"a": 1}, "repo_slug": "app"})).contains("must be a string")
        );
        assert!(
            error(json!({"workspace": "a", "repo_slug": "b", "body": {}}))
                .contains("takes no body")
        );
        let list = spec("list_repositories");
        let error = list
            .arguments(args(json!({"workspace": "acme", "max_items": 0})), LIMITS)
            .unwrap_err();
        assert!(error.contains("max_items"), "{error}");
    }
}
