//! `spec/operations.toml`: which operations are supported and what they are called.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Map, Value};

/// HTTP methods as they appear as keys of an OpenAPI path item.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    #[serde(rename = "operation")]
    pub list: Vec<Operation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub name: String,
    pub method: String,
    pub path: String,
    #[serde(default)]
    #[allow(dead_code)] // documentation for readers of the file
    pub note: Option<String>,
    /// The largest `pagelen` the list accepts, when it is not Bitbucket's usual 100.
    #[serde(default)]
    pub max_pagelen: Option<u64>,
    /// The cargo feature that generates it, when it is not its first tag in kebab case.
    #[serde(default)]
    pub feature: Option<String>,
    /// What a success carries (`json`, `text`, `bytes`, `empty`), when the document does not
    /// say or is wrong; see `rules::answers`.
    #[serde(default)]
    pub answer: Option<String>,
    /// Where a 3xx answer leads: `storage`, or the operation it redirects to.
    #[serde(default)]
    pub redirect: Option<String>,
}

/// The kinds of answer an operation can have (`x-answer`).
pub const ANSWERS: &[&str] = &["json", "text", "bytes", "empty"];

/// `Pullrequests` -> `pullrequests`, `Issue tracker` -> `issue-tracker`: a tag as a cargo
/// feature name.
pub fn feature_of_tag(tag: &str) -> String {
    tag.trim().to_ascii_lowercase().replace(' ', "-")
}

impl Operations {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let ops: Operations =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        ops.validate()?;
        Ok(ops)
    }

    fn validate(&self) -> Result<()> {
        let mut names = BTreeSet::new();
        let mut routes = BTreeSet::new();
        for op in &self.list {
            let valid_name = !op.name.is_empty()
                && op.name.starts_with(|c: char| c.is_ascii_lowercase())
                && op
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid_name {
                bail!("operation name `{}` is not snake_case", op.name);
            }
            if !names.insert(op.name.as_str()) {
                bail!("operation name `{}` is used twice", op.name);
            }
            if !METHODS.contains(&op.method.to_ascii_lowercase().as_str()) {
                bail!("`{}`: unknown method `{}`", op.name, op.method);
            }
            if !routes.insert((op.method.to_ascii_lowercase(), op.path.as_str())) {
                bail!("`{} {}` is listed twice", op.method, op.path);
            }
            if let Some(answer) = &op.answer
                && !ANSWERS.contains(&answer.as_str())
            {
                bail!(
                    "`{}`: unknown answer `{answer}` (one of {})",
                    op.name,
                    ANSWERS.join(", ")
                );
            }
            if let Some(feature) = &op.feature
                && (feature.is_empty()
                    || !feature.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            {
                bail!("`{}`: feature `{feature}` is not kebab-case", op.name);
            }
        }
        for op in &self.list {
            match op.redirect.as_deref() {
                None | Some("storage") => {}
                Some(target) if target == op.name => {
                    bail!("`{}` redirects to itself", op.name)
                }
                Some(target) if !names.contains(target) => bail!(
                    "`{}` redirects to `{target}`, which is neither `storage` nor an operation",
                    op.name
                ),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// A copy of `upstream` with only the listed operations (named as listed) under `paths`.
    /// Components are kept whole here; unreachable ones are pruned after patching.
    pub fn select(&self, upstream: &Value) -> Result<Value> {
        let up_paths = upstream
            .get("paths")
            .and_then(Value::as_object)
            .context("the document has no `paths`")?;
        let mut missing = Vec::new();
        let mut paths = Map::new();
        for op in &self.list {
            let method = op.method.to_ascii_lowercase();
            let Some(operation) = up_paths.get(&op.path).and_then(|item| item.get(&method)) else {
                missing.push(format!("{} {} ({})", op.method, op.path, op.name));
                continue;
            };
            let mut operation = operation.clone();
            operation["operationId"] = Value::String(op.name.clone());
            if let Some(max) = op.max_pagelen {
                operation["x-max-pagelen"] = max.into();
            }
            let feature = match &op.feature {
                Some(feature) => feature.clone(),
                None => operation["tags"][0]
                    .as_str()
                    .map(feature_of_tag)
                    .with_context(|| {
                        format!("`{}` has no tag to name its feature after", op.name)
                    })?,
            };
            operation["x-feature"] = Value::String(feature);
            if let Some(answer) = &op.answer {
                operation["x-answer"] = Value::String(answer.clone());
            }
            if let Some(redirect) = &op.redirect {
                operation["x-redirect"] = Value::String(redirect.clone());
            }
            let item = paths.entry(op.path.clone()).or_insert_with(|| {
                // Path-level fields (shared parameters, summary) come along with the first
                // selected operation of the path.
                let mut item = up_paths[&op.path].clone();
                if let Some(item) = item.as_object_mut() {
                    item.retain(|key, _| !METHODS.contains(&key.as_str()));
                }
                item
            });
            item[method.as_str()] = operation;
        }
        if !missing.is_empty() {
            bail!(
                "{} operation(s) of spec/operations.toml are not in the document (removed or \
                 renamed upstream?):\n  {}",
                missing.len(),
                missing.join("\n  ")
            );
        }
        let mut doc = Map::new();
        for (key, value) in upstream
            .as_object()
            .context("the document is not an object")?
        {
            match key.as_str() {
                "paths" => {
                    doc.insert(key.clone(), Value::Object(std::mem::take(&mut paths)));
                }
                "tags" => {
                    doc.insert(key.clone(), self.used_tags(value, upstream));
                }
                // Narrative pages for the developer site; not part of the API.
                "x-atlassian-narrative" => {}
                _ => {
                    doc.insert(key.clone(), value.clone());
                }
            }
        }
        Ok(Value::Object(doc))
    }

    /// The tag definitions that the selected operations use.
    fn used_tags(&self, tags: &Value, upstream: &Value) -> Value {
        let used: BTreeSet<&str> = self
            .list
            .iter()
            .filter_map(|op| {
                upstream["paths"][&op.path][op.method.to_ascii_lowercase()]["tags"].as_array()
            })
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let kept = tags
            .as_array()
            .into_iter()
            .flatten()
            .filter(|tag| tag["name"].as_str().is_some_and(|n| used.contains(n)))
            .cloned()
            .collect();
        Value::Array(kept)
    }
}

pub fn count_operations(doc: &Value) -> usize {
    doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .map(|item| {
            item.keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .count()
        })
        .sum()
}
