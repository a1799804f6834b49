//! Multipart request bodies. progenitor makes none, so an operation whose document declares a
//! `multipart/form-data` body gets `x-request: multipart` and its form's fields as
//! `x-multipart` instead; the generator gives its builder a setter per field. Both products'
//! xtasks call this.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::rules::for_each_operation;

/// Replaces every `multipart/form-data` request body of `doc` by `x-request` and
/// `x-multipart` (the body's schema resolved in `doc` itself).
pub fn multipart_forms(doc: &mut Value) -> Result<()> {
    let components = doc.clone();
    let mut failed = Vec::new();
    for_each_operation(doc, &mut |path, method, op| {
        let multipart = op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
            .is_some_and(|content| content.contains_key("multipart/form-data"));
        if !multipart {
            return;
        }
        if let Err(error) = into_form(op, &components) {
            failed.push(format!("{method} {path}: {error:#}"));
        }
    });
    if !failed.is_empty() {
        anyhow::bail!(
            "multipart forms that cannot be read:\n  {}",
            failed.join("\n  ")
        );
    }
    Ok(())
}

/// Replaces `operation`'s multipart request body by `x-request: multipart` and its fields
/// (`x-multipart`), `$ref`s resolved in `document`.
pub fn into_form(operation: &mut Value, document: &Value) -> Result<()> {
    let fields = multipart_fields(operation, document)?;
    if let Some(obj) = operation.as_object_mut() {
        obj.remove("requestBody");
    }
    operation["x-request"] = Value::String("multipart".into());
    operation["x-multipart"] = fields;
    Ok(())
}

/// The fields of a multipart body, from its schema (`$ref`s to components resolved), in the
/// document's order: `name`, `file` (a file's content: `format: binary`, or a `content`
/// field, which the descriptions say is a file's: "containing the file in a form-field named
/// content"), `required` (in the schema's `required`, or the only field of a required body)
/// and `description`.
fn multipart_fields(operation: &Value, upstream: &Value) -> Result<Value> {
    let body = &operation["requestBody"];
    let media = body["content"]
        .as_object()
        .and_then(|content| content.values().next())
        .context("no request body content")?;
    let mut schema = &media["schema"];
    if let Some(reference) = schema["$ref"].as_str() {
        let pointer = reference
            .strip_prefix('#')
            .with_context(|| format!("`{reference}` is not in the document"))?;
        schema = upstream
            .pointer(pointer)
            .with_context(|| format!("`{reference}` is not in the document"))?;
    }
    let properties = schema["properties"]
        .as_object()
        .filter(|p| !p.is_empty())
        .context("the form's schema declares no fields")?;
    let required = |name: &str| {
        schema["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|n| n == name))
            || (body["required"] == json!(true) && properties.len() == 1)
    };
    let fields: Vec<Value> = properties
        .iter()
        .map(|(name, field)| {
            let description = field["description"]
                .as_str()
                .unwrap_or_default()
                .replace("<code>", "`")
                .replace("</code>", "`");
            json!({
                "name": name,
                "file": field["format"] == "binary" || name == "content",
                "required": required(name),
                "description": description,
            })
        })
        .collect();
    Ok(Value::Array(fields))
}
