//! The change report of `cargo xtask trim --from NEW`: what changed upstream since spec/ was
//! made, as far as this crate is concerned.
//!
//! It compares the facts of the new document with those recorded in `spec/upstream.json`
//! ([`crate::facts`]) and says, in this order:
//! - supported operations (those of `spec/operations.toml`) that are gone: the trim fails;
//! - supported operations whose parameters, bodies, responses, scopes or deprecation changed,
//!   fact by fact (and which changed only in their descriptions);
//! - operations added upstream that `spec/operations.toml` does not list yet;
//! - schemas added, removed, or changed (fields, types, enum values; or text only);
//! - what `spec/types.toml` lacks or has too much of for the new document;
//! - every patch of `spec/patches/` that no longer applies (not only the first).

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::facts::{Entry, Facts};
use crate::names::TypeNames;
use crate::rules::Patch;
use crate::select::Operations;

/// What changed between two documents. Print it with `Display`.
#[derive(Debug, Default)]
pub struct Report {
    /// `x-revision` of the document spec/ was made from.
    pub old_revision: String,
    /// `x-revision` of the new document.
    pub new_revision: String,
    /// Where the new document was read from.
    pub source: String,
    /// Supported operations the new document no longer has.
    pub vanished: Vec<Operation>,
    /// Supported operations whose facts changed.
    pub changed: Vec<Changed>,
    /// Supported operations whose text changed but not their facts.
    pub retext: Vec<String>,
    /// Operations the new document adds that spec/operations.toml does not list.
    pub added: Vec<Operation>,
    /// Operations gone upstream that spec/operations.toml did not list either.
    pub removed_unsupported: Vec<Operation>,
    /// How many operations spec/operations.toml does not list changed upstream.
    pub unsupported_changed: usize,
    /// How many operations of the new document spec/operations.toml does not list.
    pub unsupported: usize,
    pub schemas_added: Vec<String>,
    pub schemas_removed: Vec<String>,
    /// Schemas whose facts or text changed (text only: `removed` and `added` are empty).
    pub schemas_changed: Vec<Changed>,
    /// What spec/types.toml lacks or has too much of for the new document.
    pub names: Vec<String>,
    /// Every patch that no longer applies, with why.
    pub patches: Vec<String>,
}

/// An operation, by its name in spec/operations.toml when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub name: Option<String>,
    pub method: String,
    pub path: String,
}

/// One operation or schema and the facts it lost and gained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// `merge_pull_request (POST /repositories/...)`, or `pullrequest (PullRequest)`.
    pub subject: String,
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

impl Report {
    /// Compares `new` (the facts of `new_doc`, read from `source`) with `old`. `supported` is
    /// spec/operations.toml; `names` and `patches` are checked against `new_doc`.
    pub fn compare(
        old: &Facts,
        (new, new_doc, source): (&Facts, &Value, &str),
        supported: &Operations,
        names: &TypeNames,
        patches: &[Patch],
    ) -> Report {
        let mut report = Report {
            old_revision: old.revision.clone(),
            new_revision: new.revision.clone(),
            source: source.to_string(),
            ..Report::default()
        };
        let listed: BTreeSet<(String, &str)> = supported
            .list
            .iter()
            .map(|op| (op.method.to_ascii_uppercase(), op.path.as_str()))
            .collect();
        for op in &supported.list {
            let subject = format!(
                "{} ({} {})",
                op.name,
                op.method.to_ascii_uppercase(),
                op.path
            );
            match (
                old.operation(&op.method, &op.path),
                new.operation(&op.method, &op.path),
            ) {
                (_, None) => report.vanished.push(Operation {
                    name: Some(op.name.clone()),
                    method: op.method.to_ascii_uppercase(),
                    path: op.path.clone(),
                }),
                (Some(before), Some(after)) => match difference(&subject, before, after) {
                    Some(change) => report.changed.push(change),
                    None if before.digest != after.digest => report.retext.push(op.name.clone()),
                    None => {}
                },
                // Newly listed and not in the old document: nothing to compare it with.
                (None, Some(_)) => {}
            }
        }
        for (method, path, entry) in new.all_operations() {
            if listed.contains(&(method.clone(), path)) {
                continue;
            }
            report.unsupported += 1;
            match old.operation(&method, path) {
                None => report.added.push(Operation {
                    name: None,
                    method,
                    path: path.to_string(),
                }),
                Some(before) if before.digest != entry.digest => report.unsupported_changed += 1,
                Some(_) => {}
            }
        }
        for (method, path, _) in old.all_operations() {
            if new.operation(&method, path).is_none() && !listed.contains(&(method.clone(), path)) {
                report.removed_unsupported.push(Operation {
                    name: None,
                    method,
                    path: path.to_string(),
                });
            }
        }
        for (name, after) in &new.schemas {
            let subject = match names.rust_name(name) {
                Some(rust) => format!("{name} ({rust})"),
                None => name.clone(),
            };
            match old.schemas.get(name) {
                None => report.schemas_added.push(name.clone()),
                Some(before) => match difference(&subject, before, after) {
                    Some(change) => report.schemas_changed.push(change),
                    None if before.digest != after.digest => report.schemas_changed.push(Changed {
                        subject,
                        removed: Vec::new(),
                        added: Vec::new(),
                    }),
                    None => {}
                },
            }
        }
        report.schemas_removed = old
            .schemas
            .keys()
            .filter(|name| !new.schemas.contains_key(*name))
            .cloned()
            .collect();
        // Patches first: a patch may add a schema that needs a name.
        let mut patched = new_doc.clone();
        for patch in patches {
            if let Err(error) = patch.apply(&mut patched) {
                report.patches.push(format!("{error:#}"));
            }
        }
        report.names = names.check_schemas(&patched);
        report
    }

    /// Whether the new document is the old one, as far as the facts and texts go.
    pub fn is_empty(&self) -> bool {
        self.vanished.is_empty()
            && self.changed.is_empty()
            && self.retext.is_empty()
            && self.added.is_empty()
            && self.removed_unsupported.is_empty()
            && self.unsupported_changed == 0
            && self.schemas_added.is_empty()
            && self.schemas_removed.is_empty()
            && self.schemas_changed.is_empty()
            && self.names.is_empty()
            && self.patches.is_empty()
    }

    /// Whether the trim must stop: a supported operation is gone.
    pub fn is_failure(&self) -> bool {
        !self.vanished.is_empty()
    }
}

/// The facts `before` has and `after` lacks, and the other way round; `None` when the sets
/// are equal.
fn difference(subject: &str, before: &Entry, after: &Entry) -> Option<Changed> {
    let old: BTreeSet<&String> = before.facts.iter().collect();
    let new: BTreeSet<&String> = after.facts.iter().collect();
    if old == new {
        return None;
    }
    // In the order the facts were written, so a field's lines stay together.
    Some(Changed {
        subject: subject.to_string(),
        removed: before
            .facts
            .iter()
            .filter(|f| !new.contains(f))
            .cloned()
            .collect(),
        added: after
            .facts
            .iter()
            .filter(|f| !old.contains(f))
            .cloned()
            .collect(),
    })
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} ({} {})", self.method, self.path),
            None => write!(f, "{} {}", self.method, self.path),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Changes upstream since spec/ was made: x-revision {} (spec/upstream.json) -> {} ({})",
            self.old_revision, self.new_revision, self.source
        )?;
        if self.is_empty() {
            return writeln!(f, "  none");
        }
        section(
            f,
            "Supported operations removed upstream",
            "remove them from spec/operations.toml (a name is never reused), and their patches",
            &self.vanished,
        )?;
        if !self.changed.is_empty() || !self.retext.is_empty() {
            writeln!(
                f,
                "\nSupported operations changed ({}):",
                self.changed.len()
            )?;
            write_changes(f, &self.changed)?;
            if !self.retext.is_empty() {
                writeln!(
                    f,
                    "  {} more changed only in descriptions or extensions: {}",
                    self.retext.len(),
                    self.retext.join(", ")
                )?;
            }
        }
        section(
            f,
            "Operations added upstream",
            "not in spec/operations.toml yet",
            &self.added,
        )?;
        section(
            f,
            "Operations removed upstream",
            "none of them in spec/operations.toml",
            &self.removed_unsupported,
        )?;
        if self.unsupported > 0 {
            writeln!(
                f,
                "\n{} operations of the new document are not in spec/operations.toml; {} of \
                 those it had before changed (not listed).",
                self.unsupported, self.unsupported_changed
            )?;
        }
        section(f, "Schemas added upstream", "", &self.schemas_added)?;
        section(f, "Schemas removed upstream", "", &self.schemas_removed)?;
        if !self.schemas_changed.is_empty() {
            writeln!(f, "\nSchemas changed ({}):", self.schemas_changed.len())?;
            write_changes(f, &self.schemas_changed)?;
        }
        section(
            f,
            "Type names",
            "spec/types.toml does not fit the new document",
            &self.names,
        )?;
        section(
            f,
            "Patches that no longer apply",
            "upstream changed or fixed what they patch: update or delete each",
            &self.patches,
        )?;
        Ok(())
    }
}

/// `title (count): advice`, then one item a line.
fn section(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    advice: &str,
    items: &[impl fmt::Display],
) -> fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    match advice {
        "" => writeln!(f, "\n{title} ({}):", items.len())?,
        advice => writeln!(f, "\n{title} ({}): {advice}", items.len())?,
    }
    for item in items {
        writeln!(f, "  {item}")?;
    }
    Ok(())
}

/// Each change with the facts it lost (`-`) and gained (`+`). Subjects that changed the same
/// way (a parameter retyped on every operation that takes it) are written once, together.
fn write_changes(f: &mut fmt::Formatter<'_>, changes: &[Changed]) -> fmt::Result {
    let (text_only, changes): (Vec<&Changed>, Vec<&Changed>) = changes
        .iter()
        .partition(|c| c.removed.is_empty() && c.added.is_empty());
    let mut groups: Vec<(&Changed, Vec<&str>)> = Vec::new();
    for change in changes {
        match groups
            .iter_mut()
            .find(|(first, _)| first.removed == change.removed && first.added == change.added)
        {
            Some((_, subjects)) => subjects.push(&change.subject),
            None => groups.push((change, vec![&change.subject])),
        }
    }
    for (change, subjects) in groups {
        let (last, others) = subjects.split_last().expect("a group has a subject");
        for subject in others {
            writeln!(f, "  {subject}")?;
        }
        writeln!(f, "  {last}:")?;
        for fact in &change.removed {
            writeln!(f, "    - {fact}")?;
        }
        for fact in &change.added {
            writeln!(f, "    + {fact}")?;
        }
    }
    if !text_only.is_empty() {
        let subjects: Vec<&str> = text_only.iter().map(|c| c.subject.as_str()).collect();
        writeln!(
            f,
            "  descriptions or extensions only: {}",
            subjects.join(", ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::json;

    use super::*;

    fn doc(revision: &str, paths: Value, schemas: Value) -> Value {
        json!({
            "openapi": "3.0.0",
            "x-revision": revision,
            "paths": paths,
            "components": { "schemas": schemas }
        })
    }

    fn supported(toml: &str) -> Operations {
        toml::from_str(toml).unwrap()
    }

    fn names(toml: &str) -> TypeNames {
        TypeNames::parse(toml).unwrap()
    }

    fn compare(old: &Value, new: &Value, ops: &Operations, names: &TypeNames) -> Report {
        Report::compare(
            &Facts::of(old),
            (&Facts::of(new), new, "new.json"),
            ops,
            names,
            &[],
        )
    }

    const ONE_OP: &str = r#"
        [[operation]]
        name = "get_thing"
        method = "GET"
        path = "/things/{id}"
    "#;

    const THING_NAMES: &str = r#"
        [schemas]
        thing = "Thing"
    "#;

    fn get_thing(param_type: &str, response: Value) -> Value {
        json!({
            "/things/{id}": {
                "parameters": [
                    { "name": "id", "in": "path", "required": true, "schema": { "type": param_type } }
                ],
                "get": {
                    "summary": "Get a thing",
                    "security": [{ "oauth2": ["thing"] }],
                    "responses": response
                }
            }
        })
    }

    fn thing(fields: Value) -> Value {
        json!({ "thing": { "type": "object", "properties": fields } })
    }

    #[test]
    fn the_same_document_reports_nothing() {
        let d = doc(
            "a",
            get_thing("integer", json!({"200": {"description": "ok"}})),
            thing(json!({"id": {"type": "integer"}})),
        );
        let report = compare(&d, &d, &supported(ONE_OP), &names(THING_NAMES));
        assert!(report.is_empty(), "{report}");
        assert!(!report.is_failure());
        assert!(report.to_string().ends_with("none\n"), "{report}");
    }

    #[test]
    fn a_supported_operation_that_vanished_fails() {
        let old = doc(
            "a",
            get_thing("integer", json!({"200": {"description": "ok"}})),
            thing(json!({})),
        );
        let new = doc("b", json!({}), thing(json!({})));
        let report = compare(&old, &new, &supported(ONE_OP), &names(THING_NAMES));
        assert!(report.is_failure());
        assert_eq!(
            report.vanished,
            [Operation {
                name: Some("get_thing".into()),
                method: "GET".into(),
                path: "/things/{id}".into()
            }]
        );
        let text = report.to_string();
        assert!(
            text.contains("Supported operations removed upstream (1)")
                && text.contains("  get_thing (GET /things/{id})"),
            "{text}"
        );
    }

    #[test]
    fn parameters_bodies_responses_and_scopes_of_supported_operations_are_compared() {
        let old = doc(
            "a",
            get_thing(
                "integer",
                json!({"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/thing"}}}}}),
            ),
            thing(json!({})),
        );
        let mut new = doc(
            "b",
            get_thing("string", json!({"204": {"description": "gone"}})),
            thing(json!({})),
        );
        new["paths"]["/things/{id}"]["get"]["security"] = json!([{ "oauth2": ["thing:write"] }]);
        new["paths"]["/things/{id}"]["get"]["parameters"] = json!([
            { "name": "fields", "in": "query", "schema": { "type": "string", "enum": ["a", "b"] } }
        ]);
        new["paths"]["/things/{id}"]["get"]["requestBody"] = json!({
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/thing" } } }
        });
        let report = compare(&old, &new, &supported(ONE_OP), &names(THING_NAMES));
        assert!(!report.is_failure());
        assert_eq!(report.changed.len(), 1, "{report}");
        let change = &report.changed[0];
        assert_eq!(change.subject, "get_thing (GET /things/{id})");
        assert_eq!(
            change.removed,
            [
                "scope thing (oauth2)",
                "parameter path id: integer",
                "response 200 application/json: thing"
            ]
        );
        assert_eq!(
            change.added,
            [
                "scope thing:write (oauth2)",
                "parameter path id: string",
                "parameter query fields: string",
                "parameter query fields = a",
                "parameter query fields = b",
                "request body application/json: thing",
                "response 204: no body"
            ]
        );
    }

    #[test]
    fn a_change_of_text_alone_is_told_apart() {
        let old = doc(
            "a",
            get_thing("integer", json!({"200": {"description": "ok"}})),
            thing(json!({"id": {"type": "integer", "description": "The id."}})),
        );
        let mut new = old.clone();
        new["paths"]["/things/{id}"]["get"]["summary"] = json!("Fetch a thing");
        new["components"]["schemas"]["thing"]["properties"]["id"]["description"] = json!("Its id.");
        let report = compare(&old, &new, &supported(ONE_OP), &names(THING_NAMES));
        assert!(report.changed.is_empty());
        assert_eq!(report.retext, ["get_thing"]);
        assert_eq!(report.schemas_changed.len(), 1);
        assert!(
            report
                .to_string()
                .contains("descriptions or extensions only: thing (Thing)"),
            "{report}"
        );
    }

    #[test]
    fn operations_added_and_removed_upstream_are_listed_apart_from_supported_ones() {
        let mut old_paths = get_thing("integer", json!({"200": {"description": "ok"}}));
        old_paths["/old"] = json!({ "delete": { "responses": { "204": { "description": "" } } } });
        old_paths["/kept"] = json!({ "get": { "responses": { "200": { "description": "" } } } });
        let mut new_paths = get_thing("integer", json!({"200": {"description": "ok"}}));
        new_paths["/kept"] = json!({
            "get": { "deprecated": true, "responses": { "200": { "description": "" } } },
            "post": { "responses": { "201": { "description": "" } } }
        });
        let report = compare(
            &doc("a", old_paths, thing(json!({}))),
            &doc("b", new_paths, thing(json!({}))),
            &supported(ONE_OP),
            &names(THING_NAMES),
        );
        assert_eq!(report.added.len(), 1);
        assert_eq!(report.added[0].to_string(), "POST /kept");
        assert_eq!(report.removed_unsupported[0].to_string(), "DELETE /old");
        assert_eq!((report.unsupported, report.unsupported_changed), (2, 1));
        assert!(report.changed.is_empty() && !report.is_failure());
    }

    #[test]
    fn schema_fields_types_enums_and_requirements_are_compared() {
        let old = doc(
            "a",
            json!({}),
            json!({
                "base": { "type": "object", "properties": { "type": { "type": "string" } } },
                "thing": {
                    "allOf": [
                        { "$ref": "#/components/schemas/base" },
                        {
                            "type": "object",
                            "required": ["id"],
                            "properties": {
                                "id": { "type": "integer", "format": "int64" },
                                "state": { "type": "string", "enum": ["OPEN", "MERGED"] },
                                "links": { "type": "object", "properties": { "html": { "$ref": "#/components/schemas/base" } } },
                                "tags": { "type": "array", "items": { "type": "string" } }
                            }
                        }
                    ]
                }
            }),
        );
        let mut new = old.clone();
        let props = &mut new["components"]["schemas"]["thing"]["allOf"][1]["properties"];
        props["id"] = json!({ "type": "string" });
        props["state"]["enum"] = json!(["OPEN", "MERGED", "QUEUED"]);
        props["links"]["properties"]["self"] = json!({ "$ref": "#/components/schemas/base" });
        props["tags"]["items"] = json!({ "$ref": "#/components/schemas/base" });
        new["components"]["schemas"]["thing"]["allOf"][1]["required"] = json!([]);
        new["components"]["schemas"]["added"] = json!({ "type": "string" });
        let names = names(
            r#"
            [schemas]
            base = "Base"
            thing = "Thing"
            added = "Added"
            "#,
        );
        let report = compare(&old, &new, &supported("operation = []"), &names);
        assert_eq!(report.schemas_added, ["added"]);
        assert_eq!(report.schemas_changed.len(), 1, "{report}");
        let change = &report.schemas_changed[0];
        assert_eq!(change.subject, "thing (Thing)");
        assert_eq!(
            change.removed,
            ["id: required", "id: integer (int64)", "tags[]: string"]
        );
        assert_eq!(
            change.added,
            [
                "id: string",
                "state = QUEUED",
                "links.self: base",
                "tags[]: base"
            ]
        );
    }

    #[test]
    fn identical_changes_are_written_once_for_all_their_subjects() {
        let change = |subject: &str| Changed {
            subject: subject.to_string(),
            removed: vec!["parameter path id: integer (int64)".into()],
            added: vec!["parameter path id: integer".into()],
        };
        let report = Report {
            changed: vec![change("a (GET /a)"), change("b (GET /b)")],
            ..Report::default()
        };
        let text = report.to_string();
        assert!(
            text.contains(
                "  a (GET /a)\n  b (GET /b):\n    - parameter path id: integer (int64)\n    + parameter path id: integer\n"
            ),
            "{text}"
        );
    }

    /// A directory of patches like spec/patches/, removed when dropped.
    struct PatchDir(PathBuf);

    impl PatchDir {
        fn new(test: &str, patches: &[(&str, Value)]) -> PatchDir {
            let dir = std::env::temp_dir().join(format!("xtask-{test}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let mut readme = String::from("# Patches\n");
            for (name, patch) in patches {
                std::fs::write(dir.join(name), patch.to_string()).unwrap();
                readme += &format!("- `{name}`: a reason.\n");
            }
            std::fs::write(dir.join("README.md"), readme).unwrap();
            PatchDir(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for PatchDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn every_patch_that_no_longer_applies_is_reported() {
        let dir = PatchDir::new(
            "patches",
            &[
                (
                    "a-applies.json",
                    json!([{ "op": "add", "path": "/components/schemas/thing/description", "value": "x" }]),
                ),
                (
                    "b-fixed-upstream.json",
                    json!([{ "op": "test", "path": "/components/schemas/thing/type", "value": "string" }]),
                ),
                (
                    "c-gone.json",
                    json!([{ "op": "replace", "path": "/paths/~1gone/get/summary", "value": "x" }]),
                ),
            ],
        );
        let patches = crate::rules::load_patches(dir.path()).unwrap();
        let d = doc("a", json!({}), thing(json!({})));
        let report = Report::compare(
            &Facts::of(&d),
            (&Facts::of(&d), &d, "same.json"),
            &supported("operation = []"),
            &names(THING_NAMES),
            &patches,
        );
        assert_eq!(report.patches.len(), 2, "{:?}", report.patches);
        assert!(report.patches[0].contains("b-fixed-upstream.json"));
        assert!(report.patches[1].contains("c-gone.json"));
        assert!(
            report
                .to_string()
                .contains("Patches that no longer apply (2)")
        );
    }

    #[test]
    fn schemas_the_type_table_lacks_or_no_longer_finds_are_reported() {
        let old = doc("a", json!({}), thing(json!({})));
        let new = doc(
            "b",
            json!({}),
            json!({ "thing_v2": { "type": "object" }, "GPG_key": { "type": "object" } }),
        );
        let report = compare(
            &old,
            &new,
            &supported("operation = []"),
            &names(THING_NAMES),
        );
        let problems = report.names.join("\n");
        assert!(
            problems.contains("add `thing_v2 = \"ThingV2\"`"),
            "{problems}"
        );
        assert!(
            problems.contains("add `GPG_key = \"GpgKey\"`"),
            "{problems}"
        );
        assert!(
            problems.contains("remove `thing` from [schemas]"),
            "{problems}"
        );
        assert!(problems.contains("the name `Thing`"), "{problems}");
    }

    /// The official documents, when this machine has them (CI does, beside the clone).
    fn official(file: &str) -> Option<Value> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut dirs = vec![root.join("../shared/openapi")];
        if let Ok(path) = std::env::var("BITBUCKET_OPENAPI") {
            dirs.insert(0, Path::new(&path).parent()?.to_path_buf());
        }
        dirs.push(PathBuf::from("/work/shared/openapi"));
        for dir in dirs {
            if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
                return Some(serde_json::from_str(&text).unwrap());
            }
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "{file} not found beside the clone (../shared/openapi) or in BITBUCKET_OPENAPI's directory"
        );
        eprintln!("skipped: {file} is not on this machine");
        None
    }

    const HISTORY: &str = "history/bitbucket-cloud.v3.2025-06-04.json";

    /// Two operations: one that exists only in the newer document, one in both.
    const REAL_OPS: &str = r#"
        [[operation]]
        name = "list_workspaces"
        method = "GET"
        path = "/user/workspaces"

        [[operation]]
        name = "get_pull_request"
        method = "GET"
        path = "/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}"
    "#;

    const CHANGED_SCHEMAS: [&str; 9] = [
        "GPG_account_key",
        "comment",
        "commitstatus",
        "hook_event",
        "pipeline",
        "pullrequest",
        "report",
        "task",
        "webhook_subscription",
    ];

    fn real_names() -> TypeNames {
        TypeNames::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/types.toml")).unwrap()
    }

    fn real_patches() -> Vec<Patch> {
        crate::rules::load_patches(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/patches"))
            .unwrap()
    }

    fn subjects(changes: &[Changed]) -> Vec<&str> {
        changes
            .iter()
            .map(|c| c.subject.split(' ').next().unwrap())
            .collect()
    }

    #[test]
    fn from_todays_document_to_the_older_one() {
        let (Some(today), Some(older)) = (official("bitbucket-cloud.v3.json"), official(HISTORY))
        else {
            return;
        };
        let report = Report::compare(
            &Facts::of(&today),
            (&Facts::of(&older), &older, HISTORY),
            &supported(REAL_OPS),
            &real_names(),
            &real_patches(),
        );
        assert!(report.is_failure());
        assert_eq!(report.vanished.len(), 1);
        assert_eq!(report.vanished[0].name.as_deref(), Some("list_workspaces"));
        // 17 operations fewer (one of them supported) and 8 more.
        assert_eq!(report.removed_unsupported.len(), 16);
        assert_eq!(report.added.len(), 8);
        assert!(
            report
                .added
                .iter()
                .all(|op| op.path.starts_with("/addon/linkers"))
        );
        assert_eq!(subjects(&report.schemas_changed), CHANGED_SCHEMAS);
        assert_eq!(report.schemas_removed.len(), 10);
        // The table names today's schemas, so the ten are reported there too; the patches
        // still apply.
        assert_eq!(report.names.len(), 10);
        assert!(report.patches.is_empty(), "{:?}", report.patches);
        let pull_request = &report.schemas_changed[5];
        assert_eq!(pull_request.removed, ["mergeable: boolean"]);
    }

    #[test]
    fn from_the_older_document_to_todays() {
        let (Some(today), Some(older)) = (official("bitbucket-cloud.v3.json"), official(HISTORY))
        else {
            return;
        };
        let report = Report::compare(
            &Facts::of(&older),
            (&Facts::of(&today), &today, "bitbucket-cloud.v3.json"),
            &supported(REAL_OPS),
            &real_names(),
            &real_patches(),
        );
        assert!(!report.is_failure(), "{report}");
        // 17 more, of which `list_workspaces` is supported already; 8 fewer.
        assert_eq!(report.added.len(), 16);
        assert!(
            report
                .added
                .iter()
                .any(|op| op.path == "/user/workspaces/{workspace}/permission")
        );
        assert_eq!(report.removed_unsupported.len(), 8);
        assert_eq!(subjects(&report.schemas_changed), CHANGED_SCHEMAS);
        assert_eq!(report.schemas_added.len(), 10);
        assert!(report.names.is_empty(), "{:?}", report.names);
        let commit_status = &report.schemas_changed[2];
        assert_eq!(commit_status.subject, "commitstatus (CommitStatus)");
        assert_eq!(commit_status.removed, ["uuid: string"]);
        assert_eq!(commit_status.added, ["key: required", "state: required"]);
        let pull_request = &report.schemas_changed[5];
        assert_eq!(pull_request.added, ["mergeable: boolean"]);
    }
}
