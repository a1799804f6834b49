//! Patches for upstream defects, and the global rules that make the generated types tolerant.
//!
//! Each rule is a small function over the whole document. The order they run in is in
//! `main.rs::transform`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use crate::select::METHODS;

// ---------------------------------------------------------------------------------------------
// Patches
// ---------------------------------------------------------------------------------------------

/// One RFC 6902 JSON Patch document from `spec/patches/`, fixing one upstream defect.
pub struct Patch {
    name: String,
    patch: json_patch::Patch,
}

impl Patch {
    pub fn apply(&self, doc: &mut Value) -> Result<()> {
        json_patch::patch(doc, &self.patch).with_context(|| {
            format!(
                "patch spec/patches/{} no longer applies: upstream changed (or fixed) what it \
                 patches; check the defect it describes and update or delete it",
                self.name
            )
        })
    }
}

/// Loads every `*.json` patch in `dir`, in file-name order. Each must have its reason in
/// `dir/README.md` (a line that mentions its file name), so no patch is applied unexplained.
pub fn load_patches(dir: &Path) -> Result<Vec<Patch>> {
    let readme = std::fs::read_to_string(dir.join("README.md"))
        .with_context(|| format!("reading {}/README.md", dir.display()))?;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            if !readme.contains(&format!("`{name}`")) {
                bail!("spec/patches/{name} has no reason in spec/patches/README.md");
            }
            let text = std::fs::read_to_string(dir.join(&name))
                .with_context(|| format!("reading spec/patches/{name}"))?;
            let patch = serde_json::from_str(&text)
                .with_context(|| format!("spec/patches/{name} is not a JSON Patch document"))?;
            Ok(Patch { name, patch })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Walking schemas
// ---------------------------------------------------------------------------------------------

/// Calls `f` on every schema object in the document, children before parents: component
/// schemas, and the schemas of parameters, request bodies and responses.
fn for_each_schema(doc: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            walk_schema(schema, f);
        }
    }
    for_each_operation(doc, &mut |_, _, op| {
        walk_parameters(op, f);
        for media in media_types(op) {
            if let Some(schema) = media.get_mut("schema") {
                walk_schema(schema, f);
            }
        }
    });
    // Parameters shared by a path's operations are declared on the path item.
    for item in doc
        .pointer_mut("/paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        walk_parameters(item, f);
    }
}

/// Walks the schemas of the `parameters` of an operation or a path item.
fn walk_parameters(owner: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    for param in owner
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(schema) = param.get_mut("schema") {
            walk_schema(schema, f);
        }
    }
}

fn walk_schema(schema: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    for key in ["properties", "patternProperties"] {
        if let Some(props) = obj.get_mut(key).and_then(Value::as_object_mut) {
            for prop in props.values_mut() {
                walk_schema(prop, f);
            }
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = obj.get_mut(key) {
            walk_schema(child, f);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for child in obj
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            walk_schema(child, f);
        }
    }
    f(obj);
}

/// Calls `f(path, method, operation)` for every operation.
pub fn for_each_operation(doc: &mut Value, f: &mut dyn FnMut(&str, &str, &mut Value)) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if METHODS.contains(&method.as_str()) {
                f(path, method, op);
            }
        }
    }
}

/// The media-type objects of an operation's request body and responses.
fn media_types(op: &mut Value) -> Vec<&mut Value> {
    let mut out = Vec::new();
    let Some(op) = op.as_object_mut() else {
        return out;
    };
    for (key, value) in op.iter_mut() {
        match key.as_str() {
            "requestBody" => {
                out.extend(
                    value
                        .get_mut("content")
                        .and_then(Value::as_object_mut)
                        .into_iter()
                        .flat_map(|c| c.values_mut()),
                );
            }
            "responses" => {
                for response in value
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|r| r.values_mut())
                {
                    out.extend(
                        response
                            .get_mut("content")
                            .and_then(Value::as_object_mut)
                            .into_iter()
                            .flat_map(|c| c.values_mut()),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

fn schema_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

/// Schemas the document uses as the declared type of a field that really holds one of several
/// subtypes (`pipeline.state` is a `pipeline_state`, but Bitbucket sends a
/// `pipeline_state_completed` with its `result`). Their subtypes' fields are added to them as
/// optional fields, so the generated type can hold whichever subtype arrives.
pub const POLYMORPHIC_BASES: &[&str] = &[
    "account",
    "pipeline_target",
    "pipeline_state",
    "pipeline_state_in_progress_stage",
    "pipeline_state_completed_result",
];

/// Adds to each base in `bases` the fields its subtypes declare (`allOf: [$ref base, {...}]`).
/// A field declared by several subtypes with different string enums gets their union; a field
/// the base already has keeps the base's definition. Each added field's description says which
/// subtypes send it.
pub fn widen_polymorphic_bases(doc: &mut Value, bases: &[&str]) -> Result<()> {
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .context("the document has no component schemas")?;
    for &base in bases {
        let base_ref = format!("#/components/schemas/{base}");
        let mut added: BTreeMap<String, (Value, Vec<String>)> = BTreeMap::new();
        let mut subtypes = 0;
        for (name, schema) in schemas.iter() {
            let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
                continue;
            };
            if !parts.iter().any(|p| p["$ref"] == base_ref.as_str()) {
                continue;
            }
            subtypes += 1;
            for part in parts.iter().filter(|p| p.get("$ref").is_none()) {
                for (field, def) in part["properties"].as_object().into_iter().flatten() {
                    match added.get_mut(field) {
                        None => {
                            added.insert(field.clone(), (def.clone(), vec![name.clone()]));
                        }
                        Some((existing, senders)) => {
                            union_enums(existing, def);
                            senders.push(name.clone());
                        }
                    }
                }
            }
        }
        if subtypes == 0 {
            bail!("polymorphic base `{base}` has no subtypes in the document any more");
        }
        let target = own_part(
            schemas
                .get_mut(base)
                .with_context(|| format!("no schema `{base}`"))?,
        );
        let props = target
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .context("`properties` is not an object")?;
        for (field, (mut def, senders)) in added {
            if props.contains_key(&field) {
                continue;
            }
            let senders = senders
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let note = format!("Sent by: {senders}.");
            if let Some(obj) = def.as_object_mut() {
                let description = match obj.get("description").and_then(Value::as_str) {
                    Some(d) => format!("{d}\n\n{note}"),
                    None => note,
                };
                if obj.contains_key("$ref") {
                    // Siblings of `$ref` are ignored in OpenAPI 3.0; wrap to keep the note.
                    def = json!({ "allOf": [def], "description": description });
                } else {
                    obj.insert("description".into(), Value::String(description));
                }
            }
            props.insert(field, def);
        }
    }
    Ok(())
}

/// The part of a schema that holds its own properties: itself, or the inline member of its
/// `allOf`.
fn own_part(schema: &mut Value) -> &mut Map<String, Value> {
    let has_inline_part = schema
        .get("allOf")
        .and_then(Value::as_array)
        .is_some_and(|parts| parts.iter().any(|p| p.get("$ref").is_none()));
    if has_inline_part {
        let parts = schema["allOf"].as_array_mut().expect("checked above");
        let part = parts
            .iter_mut()
            .find(|p| p.get("$ref").is_none())
            .expect("checked above");
        return part.as_object_mut().expect("schemas are objects");
    }
    schema.as_object_mut().expect("schemas are objects")
}

fn union_enums(existing: &mut Value, other: &Value) {
    let (Some(a), Some(b)) = (
        existing.get("enum").and_then(Value::as_array),
        other.get("enum").and_then(Value::as_array),
    ) else {
        return;
    };
    let mut merged = a.clone();
    for value in b {
        if !merged.contains(value) {
            merged.push(value.clone());
        }
    }
    existing["enum"] = Value::Array(merged);
}

/// Replaces every `allOf` with one object schema holding the union of its members' fields
/// (later members win), following `$ref`s. typify turns `allOf: [$ref object, {...}]` into
/// merged types whose names clash (`account.links` against `team_links`) and a `type` field
/// required everywhere; one flat object per schema generates one plain struct.
pub fn flatten_all_of(doc: &mut Value) -> Result<()> {
    let originals = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .context("the document has no component schemas")?;
    let mut flat: BTreeMap<String, Value> = BTreeMap::new();
    for name in originals.keys() {
        flatten_named(name, &originals, &mut flat, &mut Vec::new())?;
    }
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("checked above");
    for (name, schema) in schemas.iter_mut() {
        *schema = flat.remove(name).expect("every schema was flattened");
    }
    // Inline allOfs (in properties, parameters, bodies) that refer to flattened components.
    let mut error = None;
    for_each_schema(doc, &mut |schema| {
        if schema.contains_key("allOf") && error.is_none() {
            let mut value = Value::Object(std::mem::take(schema));
            match flatten_value(
                &mut value,
                &originals,
                &mut BTreeMap::new(),
                &mut Vec::new(),
            ) {
                Ok(()) => *schema = value.as_object().cloned().unwrap_or_default(),
                Err(e) => error = Some(e),
            }
        }
    });
    error.map_or(Ok(()), Err)
}

fn flatten_named(
    name: &str,
    originals: &Map<String, Value>,
    flat: &mut BTreeMap<String, Value>,
    stack: &mut Vec<String>,
) -> Result<Value> {
    if let Some(done) = flat.get(name) {
        return Ok(done.clone());
    }
    if stack.iter().any(|s| s == name) {
        bail!("`allOf` cycle through {}", stack.join(" -> "));
    }
    stack.push(name.to_string());
    let mut schema = originals
        .get(name)
        .cloned()
        .with_context(|| format!("dangling $ref to `{name}`"))?;
    flatten_value(&mut schema, originals, flat, stack)?;
    stack.pop();
    flat.insert(name.to_string(), schema.clone());
    Ok(schema)
}

fn flatten_value(
    schema: &mut Value,
    originals: &Map<String, Value>,
    flat: &mut BTreeMap<String, Value>,
    stack: &mut Vec<String>,
) -> Result<()> {
    let Some(obj) = schema.as_object_mut() else {
        return Ok(());
    };
    let Some(parts) = obj.remove("allOf") else {
        return Ok(());
    };
    let parts = parts.as_array().cloned().unwrap_or_default();
    // A lone `allOf: [$ref]` is how OpenAPI 3.0 attaches a description to a reference; keep it
    // a reference so the field keeps its named type.
    if parts.len() == 1 && parts[0].get("$ref").is_some() && obj.get("properties").is_none() {
        obj.insert("$ref".into(), parts[0]["$ref"].clone());
        obj.retain(|k, _| k == "$ref");
        return Ok(());
    }
    let mut merged = Map::new();
    for part in parts {
        let part = match part.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = schema_name(reference)
                    .with_context(|| format!("unsupported $ref {reference}"))?;
                flatten_named(name, originals, flat, stack)?
            }
            None => {
                let mut part = part.clone();
                flatten_value(&mut part, originals, flat, stack)?;
                part
            }
        };
        merge_object(&mut merged, part.as_object().cloned().unwrap_or_default());
    }
    // The schema's own keywords (beside `allOf`) come last.
    let own = std::mem::take(obj);
    merge_object(&mut merged, own);
    merged.remove("discriminator");
    merged.insert("type".into(), json!("object"));
    *obj = merged;
    Ok(())
}

fn merge_object(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match key.as_str() {
            "properties" => {
                let props = into.entry("properties").or_insert_with(|| json!({}));
                if let (Some(props), Some(new)) = (props.as_object_mut(), value.as_object()) {
                    for (k, v) in new {
                        props.insert(k.clone(), v.clone());
                    }
                }
            }
            "required" => {
                let mut all: Vec<Value> = into
                    .get("required")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for v in value.as_array().into_iter().flatten() {
                    if !all.contains(v) {
                        all.push(v.clone());
                    }
                }
                into.insert(key, Value::Array(all));
            }
            _ => {
                into.insert(key, value);
            }
        }
    }
}

/// Replaces inline copies of the `link` component (`{href, name}`, titled "Link") with a
/// `$ref` to it: typify names each copy after its position and the copies clash.
pub fn reuse_link_component(doc: &mut Value) {
    let field_names = |schema: &Value| -> Option<BTreeSet<String>> {
        Some(schema["properties"].as_object()?.keys().cloned().collect())
    };
    let Some(link) = doc.pointer("/components/schemas/link") else {
        return;
    };
    let link_fields = field_names(link).unwrap_or_default();
    let is_link_copy = |schema: &Value| {
        schema.get("title").and_then(Value::as_str) == Some("Link")
            && field_names(schema).as_ref() == Some(&link_fields)
    };
    let reuse = |child: &mut Value| {
        if is_link_copy(child) {
            *child = json!({ "$ref": "#/components/schemas/link" });
        }
    };
    for_each_schema(doc, &mut |schema| {
        for prop in schema
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|p| p.values_mut())
        {
            reuse(prop);
        }
        if let Some(items) = schema.get_mut("items") {
            reuse(items);
        }
    });
}

/// The page size Bitbucket accepts at most on most lists.
const MAX_PAGELEN: u64 = 100;

/// Marks paginated operations (their 200 body is an envelope with `values` and `next`) with
/// `x-paginated` and `x-max-pagelen` (100, unless `spec/operations.toml` says otherwise), and
/// gives them the `pagelen` query parameter Bitbucket accepts on every paginated endpoint (the
/// document declares it on few). A `max_pagelen` on an operation that does not paginate is an
/// error.
pub fn pagelen_parameter(doc: &mut Value) -> Result<()> {
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    for_each_operation(doc, &mut |_, method, op| {
        // A list answers JSON; `get_source` keeps the JSON of a directory listing beside the
        // raw bytes of a file, and is not one.
        if method != "get" || op["x-answer"] != "json" {
            return;
        }
        let Some(reference) = op
            .pointer("/responses/200/content/application~1json/schema/$ref")
            .and_then(Value::as_str)
        else {
            return;
        };
        let Some(envelope) = schema_name(reference).and_then(|n| schemas.get(n)) else {
            return;
        };
        let props = &envelope["properties"];
        if !(props["values"]["type"] == "array" && props.get("next").is_some()) {
            return;
        }
        op["x-paginated"] = json!(true);
        let max = op["x-max-pagelen"].as_u64().unwrap_or(MAX_PAGELEN);
        op["x-max-pagelen"] = json!(max);
        let params = op
            .as_object_mut()
            .expect("operations are objects")
            .entry("parameters")
            .or_insert_with(|| json!([]));
        let Some(params) = params.as_array_mut() else {
            return;
        };
        if !params.iter().any(|p| p["name"] == "pagelen") {
            params.push(json!({
                "name": "pagelen",
                "in": "query",
                "required": false,
                "description": format!("How many items a page holds: Bitbucket's default is 10, \
                    and {max} the most this list accepts, which the crate's `stream()` and \
                    `pages()` ask for unless this is set. See [pagination](https://developer.atlassian.com/cloud/bitbucket/rest/intro/#pagination)."),
                "schema": { "type": "integer", "minimum": 1 }
            }));
        }
    });
    let mut misplaced = Vec::new();
    for_each_operation(doc, &mut |_, _, op| {
        if op.get("x-max-pagelen").is_some() && op.get("x-paginated").is_none() {
            misplaced.push(op["operationId"].as_str().unwrap_or_default().to_string());
        }
    });
    if !misplaced.is_empty() {
        bail!(
            "spec/operations.toml gives `max_pagelen` to operations that do not paginate: {}",
            misplaced.join(", ")
        );
    }
    Ok(())
}

/// Drops every component no operation reaches (after patches, which may add or remove
/// references). Security schemes are kept whole: operations name them without `$ref`.
pub fn prune_unreachable_components(doc: &mut Value) {
    let mut reachable: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<String> = Vec::new();
    collect_refs(&doc["paths"], &mut pending);
    while let Some(reference) = pending.pop() {
        if !reachable.insert(reference.clone()) {
            continue;
        }
        let pointer = reference.trim_start_matches('#');
        if let Some(target) = doc.pointer(pointer) {
            collect_refs(target, &mut pending);
        }
    }
    let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) else {
        return;
    };
    for (kind, entries) in components.iter_mut() {
        if kind == "securitySchemes" {
            continue;
        }
        if let Some(entries) = entries.as_object_mut() {
            entries.retain(|name, _| {
                reachable.contains(&format!("#/components/{kind}/{}", escape_pointer(name)))
            });
        }
    }
    components.retain(|_, entries| entries.as_object().is_none_or(|e| !e.is_empty()));
}

fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(obj) => {
            for (key, child) in obj {
                match (key.as_str(), child) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

/// Sets `additionalProperties: {}` on every object schema with declared properties. The
/// document says `false` on most (typify would deny unknown fields and real responses fail) or
/// `true` (which typify ignores, dropping extra fields); `{}` makes typify keep unknown fields in
/// a flattened map, so decoding and re-encoding loses nothing.
pub fn open_objects(doc: &mut Value) {
    for_each_schema(doc, &mut |schema| {
        let keeps_schema = schema
            .get("additionalProperties")
            .is_some_and(|a| a.is_object() && !a.as_object().is_some_and(Map::is_empty));
        if schema.contains_key("properties") && !keeps_schema {
            schema.insert("additionalProperties".into(), json!({}));
        }
    });
}

/// Removes `required` from every schema. The real API omits or nulls fields the document
/// requires (`type` on old payloads, `message` on some errors), and request bodies built from
/// the same schemas must carry only what the caller set.
pub fn no_required_properties(doc: &mut Value) {
    for_each_schema(doc, &mut |schema| {
        if schema.get("required").is_some_and(Value::is_array) {
            schema.remove("required");
        }
    });
}

/// Marks every inline property schema `nullable`: Bitbucket sends `null` for absent values
/// (`parent`, `website`, `inline.from`), and the document never says so. References need no
/// mark: an optional reference already accepts `null`.
pub fn nullable_properties(doc: &mut Value) {
    for_each_schema(doc, &mut |schema| {
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for prop in props.values_mut() {
                if let Some(prop) = prop.as_object_mut()
                    && !prop.contains_key("$ref")
                {
                    prop.insert("nullable".into(), json!(true));
                }
            }
        }
    });
}

/// Removes validation keywords (`pattern`, lengths, bounds, `uniqueItems`). typify turns them
/// into constrained newtypes that reject values the real API sends (short hashes, page 0), and
/// `uniqueItems` into sets that reorder items; a client reports what the server said.
pub fn no_validation_constraints(doc: &mut Value) {
    const KEYWORDS: &[&str] = &[
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    ];
    for_each_schema(doc, &mut |schema| {
        schema.retain(|key, _| !KEYWORDS.contains(&key.as_str()));
    });
}

/// Removes `format` from string schemas. typify maps `date-time` and `uuid` to chrono and uuid
/// types: Bitbucket's UUIDs carry braces (`{...}`) and do not parse, and re-encoding a parsed
/// timestamp changes its text. Strings keep exactly what was sent.
pub fn strings_stay_strings(doc: &mut Value) {
    for_each_schema(doc, &mut |schema| {
        if schema.get("type").and_then(Value::as_str) == Some("string") {
            schema.remove("format");
        }
    });
}

/// Moves each schema's `default` into its description. typify fills defaults in on decoding
/// (inventing values the server did not send) and in struct builders (sending values the
/// caller did not set); the server applies its own defaults anyway.
pub fn defaults_in_descriptions(doc: &mut Value) {
    for_each_schema(doc, &mut |schema| {
        let Some(default) = schema.remove("default") else {
            return;
        };
        let note = format!("Bitbucket's default: `{default}`.");
        let description = match schema.get("description").and_then(Value::as_str) {
            Some(d) => format!("{}\n\n{note}", d.trim_end()),
            None => note,
        };
        schema.insert("description".into(), Value::String(description));
    });
}

/// Replaces each `$ref` to `#/components/requestBodies/...` with the body it names, so every
/// rule, patch and the build see an operation's body where it is used.
pub fn inline_request_bodies(doc: &mut Value) -> Result<()> {
    let bodies = doc
        .pointer("/components/requestBodies")
        .cloned()
        .unwrap_or_default();
    let mut missing = Vec::new();
    for_each_operation(doc, &mut |path, method, op| {
        let Some(reference) = op
            .pointer("/requestBody/$ref")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return;
        };
        match reference
            .strip_prefix("#/components/requestBodies/")
            .and_then(|name| bodies.get(name))
        {
            Some(body) => op["requestBody"] = body.clone(),
            None => missing.push(format!("{method} {path}: {reference}")),
        }
    });
    if !missing.is_empty() {
        bail!(
            "dangling request body references:\n  {}",
            missing.join("\n  ")
        );
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        components.remove("requestBodies");
    }
    Ok(())
}

/// Makes every operation's success answer say what it carries, and records it as `x-answer`
/// (`json`, `text`, `bytes` or `empty`), which the build turns into the type `send()`
/// returns.
///
/// - A 204 has no body, whatever the document attaches to it (the issue vote and watch
///   endpoints declare the `error` schema there).
/// - Without an `answer` in `spec/operations.toml`, the answer is read from the document:
///   `json` when a 2xx declares JSON, `empty` when every 2xx is a 204. Anything else (a 200
///   without content, only a redirect, only `default`) fails here, naming the operation: its
///   answer has to be reviewed and written down.
/// - With an `answer`, the success responses are made to say it: `text/plain`,
///   `application/octet-stream` (the document's JSON, if any, stays beside it: what a
///   directory listing holds, for instance), no content, or JSON; JSON without a declared
///   schema becomes any JSON value (`{}`), so whatever Bitbucket sends is kept.
/// - An operation that `redirect`s to another one answers as that one (the 3xx is followed):
///   it gets that operation's success response and answer.
/// - A 3xx must have its `redirect` written down, and a `redirect` needs a 3xx.
pub fn answers(doc: &mut Value) -> Result<()> {
    let mut problems = Vec::new();
    // Pass 1: 204s lose their content; every operation not redirected to another one gets its
    // answer.
    for_each_operation(doc, &mut |path, method, op| {
        let name = op["operationId"].as_str().unwrap_or_default().to_string();
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            problems.push(format!("{name}: no responses"));
            return;
        };
        if let Some(no_content) = responses.get_mut("204").and_then(Value::as_object_mut) {
            no_content.remove("content");
        }
        let redirects = responses.keys().any(|s| s.starts_with('3'));
        let redirect = op.get("x-redirect").and_then(Value::as_str);
        match (redirects, redirect) {
            (true, None) => problems.push(format!(
                "{name} ({method} {path}) answers with a redirect: say where it leads with \
                 `redirect` in spec/operations.toml"
            )),
            (false, Some(_)) => problems.push(format!(
                "{name} has a `redirect` in spec/operations.toml, but the document declares no 3xx"
            )),
            _ => {}
        }
        if redirect.is_some_and(|r| r != "storage") {
            return; // pass 2
        }
        let explicit = op
            .get("x-answer")
            .and_then(Value::as_str)
            .map(str::to_string);
        let responses = op["responses"].as_object_mut().expect("checked above");
        let answer = match explicit {
            Some(answer) => {
                declare_answer(responses, &answer);
                answer
            }
            None => match derived_answer(responses) {
                Some(answer) => answer.to_string(),
                None => {
                    problems.push(format!(
                        "{name} ({method} {path}): the document does not say what a success \
                         carries ({}); review it and set `answer` in spec/operations.toml",
                        describe_successes(responses)
                    ));
                    return;
                }
            },
        };
        op["x-answer"] = Value::String(answer);
    });
    // Pass 2: operations that redirect to another one answer as it does.
    let mut answers_of: BTreeMap<String, (Value, Value)> = BTreeMap::new();
    for_each_operation(doc, &mut |_, _, op| {
        if let (Some(name), Some(answer)) = (op["operationId"].as_str(), op.get("x-answer")) {
            let success = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .find(|(status, r)| status.starts_with('2') && r.get("content").is_some())
                .map(|(_, r)| r.clone())
                .unwrap_or(Value::Null);
            answers_of.insert(name.to_string(), (answer.clone(), success));
        }
    });
    for_each_operation(doc, &mut |_, _, op| {
        let name = op["operationId"].as_str().unwrap_or_default().to_string();
        let Some(target) = op
            .get("x-redirect")
            .and_then(Value::as_str)
            .filter(|r| *r != "storage")
            .map(str::to_string)
        else {
            return;
        };
        if op.get("x-answer").is_some() {
            problems.push(format!(
                "{name}: an operation that redirects to `{target}` answers as it; drop its `answer`"
            ));
            return;
        }
        let Some((answer, success)) = answers_of.get(&target) else {
            problems.push(format!(
                "{name} redirects to `{target}`, which has no answer of its own (a chain of redirects?)"
            ));
            return;
        };
        let mut success = success.clone();
        if let Some(obj) = success.as_object_mut() {
            obj.insert(
                "description".into(),
                Value::String(format!(
                    "What the redirect leads to: the answer of `{target}` for this {}.",
                    if name.contains("pull_request") {
                        "pull request"
                    } else {
                        "resource"
                    }
                )),
            );
        }
        if success.is_null() {
            success = json!({ "description": format!("What the redirect leads to: the answer of `{target}`.") });
        }
        op["responses"]["200"] = success;
        op["x-answer"] = answer.clone();
    });
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("\n"))
    }
}

fn successes(responses: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    responses
        .iter()
        .filter(|(status, _)| status.starts_with('2'))
}

/// `json` when a 2xx declares JSON, `empty` when every 2xx is a bodiless 204.
fn derived_answer(responses: &Map<String, Value>) -> Option<&'static str> {
    let has_json =
        successes(responses).any(|(_, r)| r.pointer("/content/application~1json").is_some());
    if has_json {
        return Some("json");
    }
    let mut all = successes(responses).peekable();
    if all.peek().is_some() && all.all(|(status, _)| status == "204") {
        return Some("empty");
    }
    None
}

/// What the successes of `responses` declare, for an error message: `200 without content`.
fn describe_successes(responses: &Map<String, Value>) -> String {
    let described: Vec<String> = responses
        .iter()
        .filter(|(status, _)| !status.starts_with('4') && !status.starts_with('5'))
        .map(
            |(status, r)| match r.get("content").and_then(Value::as_object) {
                Some(content) => format!(
                    "{status} with {}",
                    content.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                None => format!("{status} without content"),
            },
        )
        .collect();
    if described.is_empty() {
        "no success answer at all".to_string()
    } else {
        described.join("; ")
    }
}

/// Makes the success responses carry `answer` (see [`answers`]).
fn declare_answer(responses: &mut Map<String, Value>, answer: &str) {
    let statuses: Vec<String> = successes(responses)
        .map(|(status, _)| status.clone())
        .filter(|status| status != "204" || answer == "empty")
        .collect();
    let statuses = if statuses.is_empty() {
        // Only a redirect or only `default`: the answer a caller gets is a plain success.
        let status = if answer == "empty" { "204" } else { "200" };
        responses.insert(
            status.to_string(),
            json!({ "description": "The operation succeeded." }),
        );
        vec![status.to_string()]
    } else {
        statuses
    };
    for status in statuses {
        let response = responses[&status]
            .as_object_mut()
            .expect("responses are objects");
        match answer {
            "empty" => {
                response.remove("content");
            }
            "text" => {
                response.insert(
                    "content".into(),
                    json!({ "text/plain": { "schema": { "type": "string" } } }),
                );
            }
            "bytes" => {
                let content = response
                    .entry("content")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("content is an object");
                content.insert(
                    "application/octet-stream".into(),
                    json!({ "schema": { "type": "string", "format": "binary" } }),
                );
            }
            _ => {
                let content = response
                    .entry("content")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("content is an object");
                content
                    .entry("application/json")
                    .or_insert_with(|| json!({ "schema": {} }));
            }
        }
    }
}

/// Sets `x-deprecation-note` on every deprecated operation: the sentences of its description
/// that say so (from "This endpoint ..." or "This API ..." on), as plain text, with links to
/// other operations of the document named by their Rust names; or, when the description says
/// nothing (the issue tracker), that the document marks it deprecated.
pub fn deprecation_notes(doc: &mut Value) {
    let mut by_anchor: BTreeMap<String, String> = BTreeMap::new();
    for_each_operation(doc, &mut |path, method, op| {
        if let Some(name) = op["operationId"].as_str() {
            by_anchor.insert(reference_anchor(path, method), name.to_string());
        }
    });
    for_each_operation(doc, &mut |_, _, op| {
        if op["deprecated"] != true {
            return;
        }
        let description = op["description"].as_str().unwrap_or_default();
        let note = description
            .split("\n\n")
            .find_map(|paragraph| {
                let start = ["This endpoint", "This API"]
                    .iter()
                    .filter_map(|s| paragraph.find(s))
                    .min()?;
                paragraph[start..]
                    .contains("deprecated")
                    .then(|| plain_note(&paragraph[start..], &by_anchor))
            })
            .unwrap_or_else(|| {
                "Atlassian's OpenAPI document marks this operation deprecated.".into()
            });
        op["x-deprecation-note"] = Value::String(note);
    });
}

/// Sets `x-reference` on every operation: its page in Atlassian's REST reference, which its
/// docs link to (the group is its first tag, the anchor made from its path and method).
pub fn reference_links(doc: &mut Value) {
    for_each_operation(doc, &mut |path, method, op| {
        let group = op["tags"][0]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .replace(' ', "-");
        op["x-reference"] = Value::String(format!(
            "https://developer.atlassian.com/cloud/bitbucket/rest/api-group-{group}/#{}",
            reference_anchor(path, method)
        ));
    });
}

/// `api-repositories-workspace-get`: the anchor of an operation in Atlassian's REST reference.
pub fn reference_anchor(path: &str, method: &str) -> String {
    let slug: String = path
        .trim_start_matches('/')
        .chars()
        .filter(|c| *c != '{' && *c != '}')
        .map(|c| {
            if c == '/' || c == '_' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    format!("api-{slug}-{}", method.to_ascii_lowercase())
}

/// Markdown made plain for a `#[deprecated]` note: emphasis dropped, list items joined with
/// `;`, `[text](link)` as `text (`operation`)` for a link to an operation of the document or
/// `text <URL>` otherwise (rustdoc links it), whitespace collapsed.
fn plain_note(markdown: &str, by_anchor: &BTreeMap<String, String>) -> String {
    let mut text = markdown.replace("**", "");
    while let Some(open) = text.find('[') {
        let Some(close) = text[open..].find("](").map(|i| open + i) else {
            break;
        };
        let Some(end) = text[close..].find(')').map(|i| close + i) else {
            break;
        };
        let label = text[open + 1..close].to_string();
        let target = &text[close + 2..end];
        let named = target
            .split_once('#')
            .and_then(|(_, anchor)| by_anchor.get(anchor))
            .map(|name| format!("`{name}`"));
        let url = if target.starts_with('/') {
            format!("https://developer.atlassian.com{target}")
        } else {
            target.to_string()
        };
        let replacement = match named {
            Some(name) => format!("{label} ({name})"),
            None => format!("{label} <{url}>"),
        };
        text.replace_range(open..=end, &replacement);
    }
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = String::new();
    for line in lines {
        if let Some(item) = line.strip_prefix("* ").or_else(|| line.strip_prefix("- ")) {
            if !out.ends_with(':') {
                out.push(';');
            }
            out.push(' ');
            out.push_str(item);
        } else if !line.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(line);
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.ends_with('.') {
        out
    } else {
        format!("{out}.")
    }
}
