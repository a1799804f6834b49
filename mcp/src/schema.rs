//! Each operation's tool input as a JSON Schema, derived at start-up from the crate's OpenAPI
//! document ([`bitbucket_cloud::openapi::DOCUMENT`]): its path and query parameters, its JSON
//! body, and for lists `max_items` and `cursor`.
//!
//! Bitbucket's schemas nest deeply (a pull request holds repositories, which hold projects,
//! workspaces, owners, links...), and a model reads every tool's schema on every turn. So
//! `$ref`s are resolved only to [`MAX_DEPTH`] levels (deeper objects are described, not
//! expanded), only parameters and a body's own fields keep their descriptions (cut to their
//! first sentences), `links` (what Bitbucket sends, never reads) and OpenAPI-only keywords are
//! dropped.

use serde_json::{Map, Value, json};

use bitbucket_cloud::Operation;

/// Levels of nested objects expanded in a body's schema.
pub const MAX_DEPTH: usize = 2;
/// The largest nested object expanded, in bytes of schema (three times that for a body's own
/// fields).
const NESTED_BYTES: usize = 500;
/// The longest description kept for the operation, in characters.
const TOOL_DESCRIPTION_CHARS: usize = 600;
/// The longest description kept for a parameter or a top-level body field.
const FIELD_DESCRIPTION_CHARS: usize = 160;

/// The `pagelen` query parameter is the gateway's, not the agent's: it pages by `max_items`.
const GATEWAY_PARAMS: &[&str] = &["pagelen"];
/// Argument names the gateway uses itself.
pub const MAX_ITEMS: &str = "max_items";
/// The argument that continues a list.
pub const CURSOR: &str = "cursor";
/// The argument holding the request body.
pub const BODY: &str = "body";

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// In the path.
    Path,
    /// In the query.
    Query,
}

/// One parameter of an operation, as the gateway fills it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Its name, as in the document.
    pub name: String,
    /// Path or query.
    pub location: Location,
    /// Whether the call must give it.
    pub required: bool,
    /// Whether it may be repeated (an array in the schema).
    pub repeated: bool,
}

/// What a tool takes, derived from the document.
#[derive(Clone, Debug)]
pub struct ToolInput {
    /// The input JSON Schema.
    pub schema: Map<String, Value>,
    /// The path and query parameters.
    pub params: Vec<Param>,
    /// Whether the operation takes a JSON body.
    pub body: bool,
    /// The operation's description, cut to its first paragraph.
    pub description: String,
}

/// Why an operation cannot be a tool.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// The document has no such path and method.
    #[error("`{0}` is not in the OpenAPI document")]
    NotInDocument(&'static str),
    /// Its body is not JSON (a file upload).
    #[error("`{0}` takes a {1} body, which a tool cannot send")]
    NotJson(&'static str, String),
    /// It needs a header or cookie parameter.
    #[error("`{0}` needs the {1} parameter `{2}`, which a tool cannot send")]
    Parameter(&'static str, String, String),
    /// A parameter has a name the gateway uses itself.
    #[error("`{0}` has a parameter named `{1}`, which the gateway's own arguments use")]
    Reserved(&'static str, String),
}

/// Limits a tool's list arguments announce.
#[derive(Clone, Copy, Debug)]
pub struct ListLimits {
    /// `max_items` when the call does not give it.
    pub default: u32,
    /// The most `max_items` may be.
    pub cap: u32,
}

/// The input of `operation`'s tool, from `document` (the parsed OpenAPI document).
pub fn tool_input(
    document: &Value,
    operation: &'static Operation,
    limits: ListLimits,
) -> Result<ToolInput, Unsupported> {
    let item = &document["paths"][operation.path];
    let method = operation.method.as_str().to_ascii_lowercase();
    let spec = &item[method.as_str()];
    if !spec.is_object() {
        return Err(Unsupported::NotInDocument(operation.name));
    }
    let resolver = Resolver { document };
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut params = Vec::new();

    // Path-level parameters, overridden by the operation's own of the same name and place.
    let mut declared: Vec<&Value> = Vec::new();
    for list in [&item["parameters"], &spec["parameters"]] {
        for param in list.as_array().into_iter().flatten() {
            let param = resolver.follow(param);
            declared.retain(|p| p["name"] != param["name"] || p["in"] != param["in"]);
            declared.push(param);
        }
    }
    for param in declared {
        let name = param["name"].as_str().unwrap_or_default().to_string();
        let location = match param["in"].as_str() {
            Some("path") => Location::Path,
            Some("query") if GATEWAY_PARAMS.contains(&name.as_str()) => continue,
            Some("query") => Location::Query,
            Some(other) => {
                if param["required"] == true {
                    return Err(Unsupported::Parameter(operation.name, other.into(), name));
                }
                continue;
            }
            None => continue,
        };
        if [MAX_ITEMS, CURSOR, BODY].contains(&name.as_str()) {
            return Err(Unsupported::Reserved(operation.name, name));
        }
        let is_required = location == Location::Path || param["required"] == true;
        let mut schema = resolver.schema(&param["schema"], 1);
        let repeated = schema["type"] == "array";
        if let Some(text) = param["description"].as_str() {
            set_description(&mut schema, text, FIELD_DESCRIPTION_CHARS);
        }
        if location == Location::Path && schema.get("type").is_none() {
            schema.insert("type".into(), json!("string"));
        }
        if is_required {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name.clone(), Value::Object(schema));
        params.push(Param {
            name,
            location,
            required: is_required,
            repeated,
        });
    }

    // An upload (the xtask turned its multipart body into `x-multipart` fields for the typed
    // builders): files are not something a tool's JSON arguments can carry.
    if spec["x-request"] == "multipart" {
        return Err(Unsupported::NotJson(
            operation.name,
            "multipart/form-data".into(),
        ));
    }
    let mut body = false;
    if let Some(request_body) = spec.get("requestBody").map(|b| resolver.follow(b)) {
        let content = request_body["content"].as_object();
        match content.and_then(|c| c.get("application/json")) {
            Some(json_body) => {
                body = true;
                let mut schema = resolver.schema(&json_body["schema"], 0);
                if let Some(text) = request_body["description"].as_str() {
                    set_description(&mut schema, text, FIELD_DESCRIPTION_CHARS);
                } else if !schema.contains_key("description") {
                    schema.insert("description".into(), json!("The request body (JSON)."));
                }
                if request_body["required"] == true {
                    required.push(json!(BODY));
                }
                properties.insert(BODY.into(), Value::Object(schema));
            }
            None => {
                let types: Vec<&String> = content.into_iter().flat_map(|c| c.keys()).collect();
                if request_body["required"] == true || !types.is_empty() {
                    let types = types
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ");
                    return Err(Unsupported::NotJson(operation.name, types));
                }
            }
        }
    }

    if operation.paginated {
        properties.insert(
            MAX_ITEMS.into(),
            json!({
                "type": "integer",
                "minimum": 1,
                "maximum": limits.cap,
                "default": limits.default,
                "description": format!(
                    "How many items to return (default {}, at most {}). The result's \
                     next_cursor continues the list.",
                    limits.default, limits.cap
                ),
            }),
        );
        properties.insert(
            CURSOR.into(),
            json!({
                "type": "string",
                "description": "The next_cursor of an earlier result of this tool, with the same \
                                path parameters, to continue its list.",
            }),
        );
    }

    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema.insert("additionalProperties".into(), json!(false));

    let summary = spec["summary"].as_str().unwrap_or(operation.summary).trim();
    let details = spec["description"].as_str().map(first_paragraph);
    let mut description = summary.trim_end_matches('.').to_string();
    description.push('.');
    if let Some(details) = details.filter(|d| !d.is_empty() && !d.starts_with(summary)) {
        description.push(' ');
        description.push_str(&cut(&details, TOOL_DESCRIPTION_CHARS));
    }
    if operation.deprecated {
        description.insert_str(0, "Deprecated. ");
    }
    if operation.paginated {
        description.push_str(" Returns a page of at most max_items items and a next_cursor.");
    }
    Ok(ToolInput {
        schema,
        params,
        body,
        description,
    })
}

struct Resolver<'a> {
    document: &'a Value,
}

impl<'a> Resolver<'a> {
    /// The value a `$ref` points at (components of the document), or the value itself.
    fn follow(&self, value: &'a Value) -> &'a Value {
        let mut value = value;
        // A bounded number of hops: a reference to a reference is rare, a loop is a bug.
        for _ in 0..8 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(pointer) => match pointer.strip_prefix('#') {
                    Some(pointer) => match self.document.pointer(pointer) {
                        Some(target) => value = target,
                        None => return value,
                    },
                    None => return value,
                },
                None => return value,
            }
        }
        value
    }

    /// `schema` resolved and trimmed, at nesting `depth` (0 for a body's top level).
    fn schema(&self, schema: &Value, depth: usize) -> Map<String, Value> {
        let name = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .map(str::to_string);
        let resolved = self.follow(schema);
        let object_like = resolved.get("properties").is_some() || resolved["type"] == "object";
        let described = || {
            let what = name
                .clone()
                .unwrap_or_else(|| "nested".into())
                .replace('_', " ");
            let mut out = Map::new();
            out.insert("type".into(), json!("object"));
            out.insert(
                "description".into(),
                json!(format!(
                    "A {what} object (its fields are those Bitbucket documents)."
                )),
            );
            out
        };
        if depth > MAX_DEPTH && object_like {
            return described();
        }

        let mut out = Map::new();
        let Some(fields) = resolved.as_object() else {
            return out;
        };
        for (key, value) in fields {
            match key.as_str() {
                "type" | "enum" | "minimum" | "maximum" | "minItems" | "maxItems" | "minLength"
                | "maxLength" | "pattern" | "const" => {
                    out.insert(key.clone(), value.clone());
                }
                // Nested fields are shown by name and type: their descriptions would repeat for
                // every object that holds them (an account in author, closed_by, ...).
                "description" if depth > 1 => {}
                "description" => {
                    if let Some(text) = value.as_str() {
                        let text = cut(&first_paragraph(text), FIELD_DESCRIPTION_CHARS);
                        if !text.is_empty() {
                            out.insert(key.clone(), Value::String(text));
                        }
                    }
                }
                "properties" => {
                    let properties: Map<String, Value> = value
                        .as_object()
                        .into_iter()
                        .flatten()
                        // Hypermedia links are what Bitbucket sends, never what it reads.
                        .filter(|(k, _)| k.as_str() != "links")
                        .map(|(k, v)| (k.clone(), Value::Object(self.schema(v, depth + 1))))
                        .collect();
                    out.insert(key.clone(), Value::Object(properties));
                }
                "items" => {
                    out.insert(key.clone(), Value::Object(self.schema(value, depth + 1)));
                }
                "additionalProperties" if value.is_object() => {
                    // `{}` (anything) is what an absent keyword says already.
                    let schema = self.schema(value, depth + 1);
                    if !schema.is_empty() {
                        out.insert(key.clone(), Value::Object(schema));
                    }
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let parts: Vec<Value> = value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| Value::Object(self.schema(v, depth)))
                        .collect();
                    out.insert(key.clone(), Value::Array(parts));
                }
                // OpenAPI-only (nullable, discriminator, xml, example), documentation (title,
                // externalDocs), extensions (x-*), and `required`, which the trimmed document
                // no longer asserts.
                _ => {}
            }
        }
        // A large nested object is most often one Bitbucket sends back rather than reads (the
        // pull request a comment belongs to): described, not expanded.
        let budget = match depth {
            0 => usize::MAX,
            1 => NESTED_BYTES * 3,
            _ => NESTED_BYTES,
        };
        if object_like && serde_json::to_string(&out).map_or(0, |s| s.len()) > budget {
            let mut short = described();
            if let Some(text) = out.get("description") {
                short.insert("description".into(), text.clone());
            }
            return short;
        }
        out
    }
}

fn set_description(schema: &mut Map<String, Value>, text: &str, limit: usize) {
    let text = cut(&first_paragraph(text), limit);
    if !text.is_empty() {
        schema.insert("description".into(), Value::String(text));
    }
}

/// The first paragraph of Markdown text, on one line.
fn first_paragraph(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` cut at the last sentence end (or word) before `limit` characters.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let head: String = text.chars().take(limit).collect();
    if let Some(end) = head.rfind(". ").filter(|i| *i > limit / 3) {
        return head[..=end].to_string();
    }
    match head.rfind(' ') {
        Some(space) => format!("{}…", &head[..space]),
        None => format!("{head}…"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitbucket_cloud::operations;

    fn document() -> Value {
        serde_json::from_str(bitbucket_cloud::openapi::DOCUMENT).unwrap()
    }

    const LIMITS: ListLimits = ListLimits {
        default: 25,
        cap: 100,
    };

    #[test]
    fn every_operation_has_an_input_schema() {
        let document = document();
        let mut uploads = Vec::new();
        for op in operations::ALL {
            let input = match tool_input(&document, op, LIMITS) {
                Ok(input) => input,
                // A file upload or a form: not something a tool's JSON arguments can carry.
                Err(Unsupported::NotJson(name, _)) => {
                    uploads.push(name);
                    continue;
                }
                Err(e) => panic!("{e}"),
            };
            let properties = input.schema["properties"].as_object().unwrap();
            for param in input.params.iter().filter(|p| p.location == Location::Path) {
                assert!(op.has_param(&param.name), "{}: {}", op.name, param.name);
                assert!(properties.contains_key(&param.name));
            }
            assert_eq!(
                properties.contains_key(MAX_ITEMS),
                op.paginated,
                "{}",
                op.name
            );
            assert!(!properties.contains_key("pagelen"), "{}", op.name);
            assert!(!input.description.is_empty());
        }
        assert_eq!(
            uploads,
            [
                "create_commit",
                "import_issues",
                "list_commits_for_revision_with_include_exclude",
                "list_commits_with_include_exclude",
                "upload_download",
                "upload_issue_attachment",
            ],
            "the operations whose body is not JSON"
        );
    }

    #[test]
    fn a_list_with_query_parameters() {
        let op = operations::by_name("list_pull_requests").unwrap();
        let input = tool_input(&document(), op, LIMITS).unwrap();
        let schema = Value::Object(input.schema);
        assert_eq!(schema["required"], json!(["repo_slug", "workspace"]));
        assert_eq!(schema["properties"]["state"]["type"], "array");
        assert_eq!(schema["properties"]["state"]["items"]["type"], "string");
        assert!(schema["properties"]["state"]["items"]["enum"].is_array());
        assert_eq!(schema["properties"]["max_items"]["maximum"], 100);
        assert_eq!(schema["additionalProperties"], false);
        let state = input.params.iter().find(|p| p.name == "state").unwrap();
        assert!(state.repeated && !state.required);
    }

    #[test]
    fn bodies_are_resolved_to_a_bounded_depth() {
        let op = operations::by_name("create_pull_request").unwrap();
        let input = tool_input(&document(), op, LIMITS).unwrap();
        assert!(input.body);
        let schema = Value::Object(input.schema);
        let body = &schema["properties"]["body"];
        assert_eq!(body["properties"]["title"]["type"], "string");
        // source.branch.name is expanded; source.repository, a large object, is described,
        // not expanded; nested fields carry no descriptions, and no links.
        let source = &body["properties"]["source"]["properties"];
        assert_eq!(source["branch"]["properties"]["name"]["type"], "string");
        assert!(
            source["branch"]["properties"]["name"]
                .get("description")
                .is_none()
        );
        let repository = &source["repository"];
        assert_eq!(repository["type"], "object");
        assert!(repository.get("properties").is_none(), "{repository}");
        assert!(
            repository["description"]
                .as_str()
                .unwrap()
                .contains("Repository")
        );
        let text = schema.to_string();
        assert!(
            !text.contains("$ref") && !text.contains("nullable") && !text.contains("\"links\""),
            "{text}"
        );
        assert!(text.len() < 8_000, "{} bytes", text.len());

        // A comment's pull request is Bitbucket's to send: described.
        let op = operations::by_name("create_pull_request_comment").unwrap();
        let schema = Value::Object(tool_input(&document(), op, LIMITS).unwrap().schema);
        let pullrequest = &schema["properties"]["body"]["properties"]["pullrequest"];
        assert!(pullrequest.get("properties").is_none(), "{pullrequest}");
        assert_eq!(
            schema["properties"]["body"]["properties"]["content"]["properties"]["raw"]["type"],
            "string"
        );
    }

    #[test]
    fn descriptions_are_cut_at_sentences() {
        assert_eq!(cut("One. Two three. Four", 17), "One. Two three.");
        assert_eq!(cut("word word word", 10), "word word…");
        assert_eq!(first_paragraph("a\nb\n\nc"), "a b");
    }
}
