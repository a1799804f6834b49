//! `spec/types.toml`: the Rust name of every type the client generates.
//!
//! typify names a type after its component schema (`pullrequest` becomes `Pullrequest`) and an
//! inline schema after where it sits (`error.error` becomes `ErrorError`). Neither reads like
//! Rust, and neither is reviewed. Two steps of the pipeline fix that:
//!
//! 1. [`TypeNames::hoist_inline`] (before `allOf`s are flattened, so subtypes inherit a
//!    reference rather than a copy) moves every inline object or enum inside a component schema
//!    into a component of its own, named by the table's `[inline]` section or by the rule
//!    `{Owner}{Field}` (`Item` after an array's items, `Value` after a map's values);
//! 2. [`TypeNames::rename`] (the last step) renames the upstream components to their
//!    `[schemas]` names and rewrites every `$ref`.
//!
//! The names are written into `spec/bitbucket.json` (component keys and `$ref`s) rather than
//! applied by the build through typify's type patches: the table is then read in one place,
//! the spec the build reads already says what each type is called (a reviewer sees a public
//! name change in its diff), and the build needs no table of its own. Inline schemas have to
//! be named in the xtask anyway, before `allOf`s are flattened. Every check reports all
//! problems at once, each with what to add to or remove from `spec/types.toml`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use heck::ToUpperCamelCase;
use serde::Deserialize;
use serde_json::{Map, Value, json};

const SCHEMA_REF: &str = "#/components/schemas/";

/// The contents of `spec/types.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeNames {
    /// Upstream schema name → Rust name.
    schemas: BTreeMap<String, String>,
    /// Position of an inline schema (`error.error`, `branching_model.branch_types[]`) → Rust
    /// name. Several positions may share a name when they hold the same schema.
    #[serde(default)]
    inline: BTreeMap<String, String>,
}

impl TypeNames {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self> {
        let names: TypeNames = toml::from_str(text)?;
        let problems = names.validate();
        if !problems.is_empty() {
            bail!("{}", problems.join("\n"));
        }
        Ok(names)
    }

    /// The table on its own: every name is a Rust type name that typify keeps as it is, and
    /// no two schemas (or a schema and an inline position) share one.
    fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
        for (schema, name) in &self.schemas {
            if let Err(why) = check_rust_name(name) {
                problems.push(format!("[schemas] {schema} = \"{name}\": {why}"));
            }
            if let Some(other) = owners.insert(name, schema) {
                problems.push(format!(
                    "[schemas] `{other}` and `{schema}` are both named `{name}`: give one another name"
                ));
            }
        }
        for (position, name) in &self.inline {
            if let Err(why) = check_rust_name(name) {
                problems.push(format!("[inline] \"{position}\" = \"{name}\": {why}"));
            }
            if let Some(schema) = owners.get(name.as_str()) {
                problems.push(format!(
                    "[inline] \"{position}\" is named `{name}`, which is the name of schema \
                     `{schema}`: give it another name"
                ));
            }
        }
        problems
    }

    /// The Rust name of the upstream schema `schema`.
    pub fn rust_name(&self, schema: &str) -> Option<&str> {
        self.schemas.get(schema).map(String::as_str)
    }

    /// What the table lacks or has too much of for the component schemas of `doc` (the
    /// document as patched, so that a schema a patch adds needs a name too). Empty when every
    /// schema has a name and every name a schema.
    pub fn check_schemas(&self, doc: &Value) -> Vec<String> {
        let empty = Map::new();
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut problems = Vec::new();
        for name in schemas.keys().filter(|k| !self.schemas.contains_key(*k)) {
            problems.push(format!(
                "schema `{name}` has no Rust name: add `{} = \"{}\"` to [schemas] in \
                 spec/types.toml (a name that reads like Bitbucket's docs; see the rules there)",
                toml_key(name),
                name.to_upper_camel_case()
            ));
        }
        for (name, rust) in self
            .schemas
            .iter()
            .filter(|(k, _)| !schemas.contains_key(*k))
        {
            problems.push(format!(
                "spec/types.toml names schema `{name}` (`{rust}`), which the document no longer \
                 has (removed or renamed upstream?): remove `{}` from [schemas]; if another \
                 schema replaces it, give that one the name `{rust}` so the public type keeps it",
                toml_key(name)
            ));
        }
        problems
    }

    /// Moves each inline object or enum of the component schemas into a component named by
    /// `[inline]` or by the rule. An inline schema equal to an existing component becomes a
    /// reference to it (the document copies `link` inline dozens of times). Positions that
    /// share a name must hold equal schemas. Fails, listing every problem, when a name is
    /// missing or taken, or an `[inline]` position is not in the document.
    pub fn hoist_inline(&self, doc: &mut Value) -> Result<()> {
        let problems = self.check_schemas(doc);
        if !problems.is_empty() {
            bail!(
                "spec/types.toml does not match the document:\n  {}",
                problems.join("\n  ")
            );
        }
        let schemas = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
            .context("the document has no component schemas")?;
        let mut hoist = Hoist {
            names: self,
            components: schemas.clone(),
            hoisted: BTreeMap::new(),
            used_positions: BTreeSet::new(),
            problems: Vec::new(),
        };
        for (name, schema) in schemas.iter_mut() {
            let owner = &self.schemas[name];
            hoist.children(schema, name, owner);
        }
        for position in self.inline.keys() {
            if !hoist.used_positions.contains(position) {
                hoist.problems.push(format!(
                    "[inline] \"{position}\" in spec/types.toml is not an inline object or enum \
                     of the document (renamed, removed or made a schema upstream?): remove it"
                ));
            }
        }
        if !hoist.problems.is_empty() {
            bail!(
                "naming the inline schemas failed:\n  {}",
                hoist.problems.join("\n  ")
            );
        }
        for (name, (schema, _)) in hoist.hoisted {
            schemas.insert(name, schema);
        }
        Ok(())
    }

    /// Renames every component schema to its Rust name and rewrites every `$ref` to it. The
    /// components [`TypeNames::hoist_inline`] added already carry theirs.
    pub fn rename(&self, doc: &mut Value) -> Result<()> {
        let schemas = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
            .context("the document has no component schemas")?;
        let mut renamed = Map::new();
        for (name, schema) in std::mem::take(schemas) {
            let rust = match self.schemas.get(&name) {
                Some(rust) => rust.clone(),
                // Added by `hoist_inline` under its Rust name, by the table or by the rule.
                None if check_rust_name(&name).is_ok() => name,
                None => bail!("schema `{name}` has no Rust name in spec/types.toml"),
            };
            if renamed.insert(rust.clone(), schema).is_some() {
                bail!("two schemas are named `{rust}`: check spec/types.toml");
            }
        }
        *schemas = renamed;
        let mut dangling = BTreeSet::new();
        rewrite_refs(doc, &self.schemas, &mut dangling);
        if !dangling.is_empty() {
            let list: Vec<String> = dangling.into_iter().collect();
            bail!(
                "references to schemas without a Rust name: {}",
                list.join(", ")
            );
        }
        Ok(())
    }
}

/// The state of one [`TypeNames::hoist_inline`] pass.
struct Hoist<'a> {
    names: &'a TypeNames,
    /// The document's components as they were before hoisting, to reuse equal ones.
    components: Map<String, Value>,
    /// Rust name → (schema, positions that hold it).
    hoisted: BTreeMap<String, (Value, Vec<String>)>,
    used_positions: BTreeSet<String>,
    problems: Vec<String>,
}

impl Hoist<'_> {
    /// Hoists the inline schemas directly under `schema` (its fields, its array items, its map
    /// values, and the fields of its `allOf` members), `position` being where `schema` sits and
    /// `owner` the Rust name of the type that holds the fields.
    fn children(&mut self, schema: &mut Value, position: &str, owner: &str) {
        let Some(obj) = schema.as_object_mut() else {
            return;
        };
        if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
            for (field, child) in props.iter_mut() {
                let name = format!("{owner}{}", field.to_upper_camel_case());
                self.child(child, &format!("{position}.{field}"), &name);
            }
        }
        if let Some(items) = obj.get_mut("items") {
            self.child(items, &format!("{position}[]"), &format!("{owner}Item"));
        }
        if let Some(values) = obj.get_mut("additionalProperties") {
            self.child(values, &format!("{position}{{}}"), &format!("{owner}Value"));
        }
        for member in obj
            .get_mut("allOf")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            self.children(member, position, owner);
        }
    }

    /// One child schema at `position`: hoisted when it is an object with fields or an enum
    /// (under `derived` unless `[inline]` names it); otherwise its own children are visited.
    /// An array's items and a map's values are named after the field that holds them.
    fn child(&mut self, child: &mut Value, position: &str, derived: &str) {
        if child.get("$ref").is_some() || !child.is_object() {
            return;
        }
        if !is_named_type(child) {
            // An array or a map: its items are named after the field (`{Owner}{Field}Item`).
            let Some(obj) = child.as_object_mut() else {
                return;
            };
            if let Some(items) = obj.get_mut("items") {
                self.child(items, &format!("{position}[]"), &format!("{derived}Item"));
            }
            if let Some(values) = obj.get_mut("additionalProperties") {
                self.child(
                    values,
                    &format!("{position}{{}}"),
                    &format!("{derived}Value"),
                );
            }
            return;
        }
        let name = match self.names.inline.get(position) {
            Some(name) => {
                self.used_positions.insert(position.to_string());
                name.clone()
            }
            None => derived.to_string(),
        };
        // The child's own inline schemas first, named after it.
        self.children(child, position, &name);
        // `null` among an enum's values means "no value"; as a named type it would become a
        // wrapper around itself. The field that refers to it is optional, which takes `null`.
        if let Some(values) = child.get_mut("enum").and_then(Value::as_array_mut) {
            values.retain(|v| !v.is_null());
        }
        if let Some((existing, _)) = self.components.iter().find(|(_, c)| *c == child) {
            *child = json!({ "$ref": format!("{SCHEMA_REF}{existing}") });
            return;
        }
        if let Err(why) = check_rust_name(&name) {
            self.problems.push(format!(
                "the inline schema at `{position}` would be named `{name}`, which {why}: name it \
                 in [inline] of spec/types.toml"
            ));
            return;
        }
        if let Some(schema) = self
            .names
            .schemas
            .iter()
            .find_map(|(schema, rust)| (*rust == name || *schema == name).then_some(schema))
        {
            self.problems.push(format!(
                "the inline schema at `{position}` would be named `{name}`, the name of schema \
                 `{schema}`: add `\"{position}\" = \"...\"` to [inline] in spec/types.toml"
            ));
            return;
        }
        match self.hoisted.get_mut(&name) {
            Some((schema, positions)) if same_shape(schema, child) => {
                // Shared by several fields, the type keeps only the words they agree on.
                for key in ANNOTATIONS {
                    if schema.get(key) != child.get(key)
                        && let Some(obj) = schema.as_object_mut()
                    {
                        obj.remove(key);
                    }
                }
                positions.push(position.to_string());
            }
            Some((_, positions)) => self.problems.push(format!(
                "`{position}` and `{}` would both be named `{name}` but differ: give them \
                 distinct names in [inline] of spec/types.toml",
                positions[0]
            )),
            None => {
                self.hoisted
                    .insert(name.clone(), (child.clone(), vec![position.to_string()]));
            }
        }
        *child = json!({ "$ref": format!("{SCHEMA_REF}{name}") });
    }
}

/// The keywords of a schema that say something about the field it was written for rather than
/// about its type.
const ANNOTATIONS: [&str; 3] = ["description", "title", "default"];

/// Whether two schemas are the same type: equal but for their [`ANNOTATIONS`].
fn same_shape(a: &Value, b: &Value) -> bool {
    let strip = |schema: &Value| {
        let mut schema = schema.clone();
        if let Some(obj) = schema.as_object_mut() {
            obj.retain(|key, _| !ANNOTATIONS.contains(&key.as_str()));
        }
        schema
    };
    strip(a) == strip(b)
}

/// Whether typify would generate a named type for this inline schema: an object with fields,
/// an enum, or a choice between schemas (`oneOf`, `anyOf`).
fn is_named_type(schema: &Value) -> bool {
    schema.get("enum").is_some()
        || schema.get("oneOf").is_some()
        || schema.get("anyOf").is_some()
        || schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
}

/// `Ok` when `name` is an UpperCamelCase Rust identifier that typify keeps as it is (it
/// re-cases every name it is given: `PRState` would become `PrState`).
fn check_rust_name(name: &str) -> Result<(), String> {
    if !name.starts_with(|c: char| c.is_ascii_uppercase())
        || !name.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err("is not an UpperCamelCase identifier".to_string());
    }
    let cased = name.to_upper_camel_case();
    if cased != name {
        return Err(format!(
            "is not in the case typify keeps (it would become `{cased}`; write acronyms as words: `Gpg`, `Ssh`)"
        ));
    }
    Ok(())
}

/// A TOML key for `name`, quoted when it needs to be (`"bitbucket.apps...Schema"`).
fn toml_key(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        format!("\"{name}\"")
    }
}

/// Rewrites every `#/components/schemas/{upstream}` reference to its Rust name. References to
/// names that are neither in `renames` nor Rust names already are collected in `dangling`.
fn rewrite_refs(
    value: &mut Value,
    renames: &BTreeMap<String, String>,
    dangling: &mut BTreeSet<String>,
) {
    match value {
        Value::Object(obj) => {
            for (key, child) in obj.iter_mut() {
                match (key.as_str(), child) {
                    ("$ref", Value::String(reference)) => {
                        let Some(name) = reference.strip_prefix(SCHEMA_REF) else {
                            continue;
                        };
                        match renames.get(name) {
                            Some(rust) => *reference = format!("{SCHEMA_REF}{rust}"),
                            None if renames.values().any(|r| r == name)
                                || check_rust_name(name).is_ok() => {}
                            None => {
                                dangling.insert(name.to_string());
                            }
                        }
                    }
                    (_, child) => rewrite_refs(child, renames, dangling),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_refs(item, renames, dangling)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn table(text: &str) -> TypeNames {
        TypeNames::parse(text).unwrap()
    }

    fn doc(schemas: Value) -> Value {
        json!({ "paths": {}, "components": { "schemas": schemas } })
    }

    #[test]
    fn names_must_be_kept_as_they_are_by_typify() {
        assert!(check_rust_name("PullRequest").is_ok());
        assert!(check_rust_name("PipelineRunnerOAuthClient").is_ok());
        assert!(check_rust_name("PipelineCacheContentUri").is_ok());
        let why = check_rust_name("GPGKey").unwrap_err();
        assert!(why.contains("`GpgKey`"), "{why}");
        assert!(check_rust_name("pull_request").is_err());
        assert!(check_rust_name("Pull_Request").is_err());
        assert!(check_rust_name("").is_err());
    }

    #[test]
    fn the_table_refuses_shared_and_malformed_names() {
        let error = TypeNames::parse(
            r#"
            [schemas]
            pullrequest = "PullRequest"
            pull_request = "PullRequest"
            commitstatus = "Commitstatus_"
            [inline]
            "error.error" = "PullRequest"
            "#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("are both named `PullRequest`"), "{error}");
        assert!(error.contains("\"Commitstatus_\""), "{error}");
        assert!(error.contains("[inline] \"error.error\""), "{error}");
    }

    #[test]
    fn inline_objects_and_enums_get_names_by_the_table_or_the_rule() {
        let mut doc = doc(json!({
            "link": { "type": "object", "properties": { "href": { "type": "string" } } },
            "pullrequest": {
                "allOf": [
                    { "$ref": "#/components/schemas/link" },
                    {
                        "type": "object",
                        "properties": {
                            "state": { "type": "string", "enum": ["OPEN", null] },
                            "links": {
                                "type": "object",
                                "properties": {
                                    "html": { "type": "object", "properties": { "href": { "type": "string" } } },
                                    "kind": { "type": "string", "enum": ["a"] }
                                }
                            },
                            "summary": { "type": "object", "description": "The PR's.", "properties": { "raw": { "type": "string" } } },
                            "labels": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" } } } },
                            "count": { "type": "integer" }
                        }
                    }
                ]
            },
            "comment": {
                "type": "object",
                "properties": {
                    "content": { "type": "object", "description": "The comment's.", "properties": { "raw": { "type": "string" } } }
                }
            }
        }));
        let names = table(
            r#"
            [schemas]
            link = "Link"
            pullrequest = "PullRequest"
            comment = "Comment"
            [inline]
            "pullrequest.summary" = "RenderedText"
            "comment.content" = "RenderedText"
            "pullrequest.labels[]" = "Label"
            "#,
        );
        names.hoist_inline(&mut doc).unwrap();
        let schemas = &doc["components"]["schemas"];
        let fields = &schemas["pullrequest"]["allOf"][1]["properties"];
        assert_eq!(
            fields["state"],
            json!({ "$ref": "#/components/schemas/PullRequestState" })
        );
        assert_eq!(
            fields["links"],
            json!({ "$ref": "#/components/schemas/PullRequestLinks" })
        );
        assert_eq!(
            fields["summary"],
            json!({ "$ref": "#/components/schemas/RenderedText" })
        );
        assert_eq!(
            fields["labels"]["items"],
            json!({ "$ref": "#/components/schemas/Label" })
        );
        assert_eq!(fields["count"], json!({ "type": "integer" }));
        // `null` is no value of the named enum: the optional field takes it.
        assert_eq!(schemas["PullRequestState"]["enum"], json!(["OPEN"]));
        // Nested: named after the hoisted owner; a copy of a component is that component.
        let links = &schemas["PullRequestLinks"]["properties"];
        assert_eq!(
            links["html"],
            json!({ "$ref": "#/components/schemas/link" })
        );
        assert_eq!(
            links["kind"],
            json!({ "$ref": "#/components/schemas/PullRequestLinksKind" })
        );
        // Shared by two fields that describe it differently: the type keeps no description.
        assert_eq!(
            schemas["RenderedText"],
            json!({ "type": "object", "properties": { "raw": { "type": "string" } } })
        );
        assert_eq!(
            schemas["comment"]["properties"]["content"],
            json!({ "$ref": "#/components/schemas/RenderedText" })
        );
    }

    #[test]
    fn hoisting_reports_every_problem() {
        let mut doc = doc(json!({
            "thing": {
                "type": "object",
                "properties": {
                    "a": { "type": "string", "enum": ["x"] },
                    "b": { "type": "string", "enum": ["y"] },
                    "other": { "type": "string", "enum": ["z"] }
                }
            },
            "thing_other": { "type": "string" }
        }));
        let names = table(
            r#"
            [schemas]
            thing = "Thing"
            thing_other = "ThingOther"
            [inline]
            "thing.a" = "Letter"
            "thing.b" = "Letter"
            "thing.gone" = "Gone"
            "#,
        );
        let error = names.hoist_inline(&mut doc).unwrap_err().to_string();
        assert!(
            error.contains("`thing.b` and `thing.a` would both be named `Letter` but differ"),
            "{error}"
        );
        assert!(
            error.contains(
                "`thing.other` would be named `ThingOther`, the name of schema `thing_other`"
            ),
            "{error}"
        );
        assert!(error.contains("[inline] \"thing.gone\""), "{error}");
    }

    #[test]
    fn a_schema_without_a_name_or_a_name_without_a_schema_fails() {
        let names = table("[schemas]\nthing = \"Thing\"\nold = \"Old\"\n");
        let mut doc = doc(json!({ "thing": {}, "new_thing": {} }));
        let error = names.hoist_inline(&mut doc).unwrap_err().to_string();
        assert!(
            error.contains("add `new_thing = \"NewThing\"` to [schemas]"),
            "{error}"
        );
        assert!(error.contains("remove `old` from [schemas]"), "{error}");
    }

    #[test]
    fn renaming_rewrites_keys_and_every_reference() {
        let mut doc = json!({
            "paths": {
                "/prs": { "get": { "responses": { "200": { "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/paginated_pullrequests" }
                } } } } } }
            },
            "components": { "schemas": {
                "paginated_pullrequests": { "type": "object", "properties": {
                    "values": { "type": "array", "items": { "$ref": "#/components/schemas/pullrequest" } }
                } },
                "pullrequest": { "type": "object", "properties": {
                    "state": { "$ref": "#/components/schemas/PullRequestState" }
                } },
                "PullRequestState": { "type": "string", "enum": ["OPEN"] }
            } }
        });
        let names = table(
            "[schemas]\npaginated_pullrequests = \"PaginatedPullRequests\"\npullrequest = \"PullRequest\"\n",
        );
        names.rename(&mut doc).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let keys: Vec<&String> = schemas.keys().collect();
        assert_eq!(
            keys,
            ["PaginatedPullRequests", "PullRequest", "PullRequestState"]
        );
        assert_eq!(
            doc.pointer("/paths/~1prs/get/responses/200/content/application~1json/schema/$ref"),
            Some(&json!("#/components/schemas/PaginatedPullRequests"))
        );
        assert_eq!(
            schemas["PaginatedPullRequests"]["properties"]["values"]["items"]["$ref"],
            "#/components/schemas/PullRequest"
        );
    }
}
