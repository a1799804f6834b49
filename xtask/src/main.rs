//! `cargo xtask`: maintenance tasks for the bitbucket-cloud crate.
//!
//! `cargo xtask trim [--from PATH|URL] [--check]` turns Atlassian's official OpenAPI document
//! into `spec/bitbucket.json`: the operations listed in `spec/operations.toml`, renamed, patched
//! and loosened so that generated types accept what Bitbucket really sends, with the type names
//! of `spec/types.toml`. It also records what the document said in `spec/upstream.json`, and
//! when the document differs from that record it first prints a report of the changes (see
//! `report.rs`), failing when a supported operation is gone.
//!
//! `cargo xtask dc-trim --from PATH|URL [--check]` does the same for Bitbucket Data Center
//! (`data-center/spec/`): see `data_center.rs`.
//!
//! `cargo xtask contract-spec --from PATH|URL --out FILE` writes the copy of the official
//! document that the contract tests' mock server (Prism) serves: see `contract.rs`.

mod contract;
mod data_center;
mod docs;
mod facts;
mod forms;
mod names;
mod report;
mod rules;
mod select;
mod source;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Where Atlassian publishes the document (used when `--from` is not given).
const UPSTREAM_URL: &str = "https://dac-static.atlassian.com/cloud/bitbucket/swagger.v3.json";

const USAGE: &str = "\
usage: cargo xtask trim [--from PATH|URL] [--check]
       cargo xtask dc-trim --from PATH|URL [--check]
       cargo xtask contract-spec --from PATH|URL --out FILE

trim: writes spec/bitbucket.json (and spec/upstream.json, what the document said)
from the official document; when the document is not the one spec/ was made from,
first prints what changed, and stops when a supported operation is gone
  --from PATH|URL  the official OpenAPI document (default: the upstream URL,
                   https://dac-static.atlassian.com/cloud/bitbucket/swagger.v3.json)
  --check          write nothing; fail when spec/ differs from what this would write

dc-trim: writes data-center/spec/bitbucket-data-center.json from Atlassian's Bitbucket
Data Center document, with the names and facts of data-center/spec/operations.toml
  --from PATH|URL  the Data Center OpenAPI document (9.4)
  --check          write nothing; fail when the file differs from what this would write

contract-spec: writes the official document with its base path (/2.0) in front of
every path, for the contract tests' mock server (Prism ignores the base path)
  --from PATH|URL  the official OpenAPI document
  --out FILE       where to write the copy";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<ExitCode> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("trim") => run_trim(args),
        Some("contract-spec") => run_contract_spec(args),
        Some("dc-trim") => run_dc_trim(args),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

fn run_trim(mut args: impl Iterator<Item = String>) -> Result<ExitCode> {
    let mut from = UPSTREAM_URL.to_string();
    let mut check = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--from" => from = args.next().context("--from needs a path or URL")?,
            "--check" => check = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    let root = workspace_root();
    trim(&root, &from, check)
}

fn run_dc_trim(mut args: impl Iterator<Item = String>) -> Result<ExitCode> {
    let mut from = None;
    let mut check = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--from" => from = Some(args.next().context("--from needs a path or URL")?),
            "--check" => check = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    let from = from.context("dc-trim needs --from (the Data Center 9.4 document)")?;
    data_center::trim(&workspace_root(), &from, check)
}

fn run_contract_spec(mut args: impl Iterator<Item = String>) -> Result<ExitCode> {
    let mut from = None;
    let mut out = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--from" => from = Some(args.next().context("--from needs a path or URL")?),
            "--out" => out = Some(PathBuf::from(args.next().context("--out needs a path")?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    let (Some(from), Some(out)) = (from, out) else {
        bail!("contract-spec needs --from and --out\n\n{USAGE}");
    };
    let mut doc = source::load(&from)?;
    let (prefix, paths) = contract::prefix_paths(&mut doc)?;
    let glued = contract::separate_glued_file_paths(&mut doc);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&out, serde_json::to_string(&doc)?)
        .with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {}: {paths} paths under {prefix}", out.display());
    if glued > 0 {
        println!("  {glued} file paths glued to literal text routed after a `/`");
    }
    Ok(ExitCode::SUCCESS)
}

/// The repository root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn trim(root: &Path, from: &str, check: bool) -> Result<ExitCode> {
    let spec_dir = root.join("spec");
    let upstream = source::load(from)?;
    let operations = select::Operations::load(&spec_dir.join("operations.toml"))?;
    let patches = rules::load_patches(&spec_dir.join("patches"))?;
    let names = names::TypeNames::load(&spec_dir.join("types.toml"))?;

    // What changed upstream since spec/ was made, before anything can fail on it.
    let facts = facts::Facts::of(&upstream);
    let facts_path = spec_dir.join("upstream.json");
    let facts_text = facts.to_text()?;
    match std::fs::read_to_string(&facts_path) {
        Ok(recorded) if recorded == facts_text => {}
        Ok(recorded) => {
            let recorded = facts::Facts::parse(&recorded)?;
            let report = report::Report::compare(
                &recorded,
                (&facts, &upstream, from),
                &operations,
                &names,
                &patches,
            );
            println!("{report}");
            if report.is_failure() {
                eprintln!(
                    "error: {} supported operation(s) are not in {from}; nothing was written",
                    report.vanished.len()
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        Err(_) => println!(
            "spec/upstream.json is missing: no record of the document spec/ was made from, so \
             no change report"
        ),
    }

    let output = transform(upstream, &operations, &patches, &names)?;
    let mut text = serde_json::to_string_pretty(&output.doc)?;
    text.push('\n');

    let target = spec_dir.join("bitbucket.json");
    let summary = format!(
        "{} operations, {} schemas, {} patches applied (upstream x-revision {})",
        output.operations, output.schemas, output.patches, output.revision
    );
    if check {
        let current = std::fs::read_to_string(&target).unwrap_or_default();
        let recorded = std::fs::read_to_string(&facts_path).unwrap_or_default();
        if current == text && recorded == facts_text {
            println!("spec/bitbucket.json and spec/upstream.json are up to date: {summary}");
            return Ok(ExitCode::SUCCESS);
        }
        if current != text {
            eprintln!(
                "spec/bitbucket.json differs from what `cargo xtask trim` writes from {from}:"
            );
            let current: Value = serde_json::from_str(&current).unwrap_or(Value::Null);
            for line in describe_differences(&current, &output.doc) {
                eprintln!("  {line}");
            }
        }
        if recorded != facts_text {
            eprintln!("spec/upstream.json does not record {from} (see the report above)");
        }
        eprintln!("run `cargo xtask trim --from {from}` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    std::fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
    std::fs::write(&facts_path, facts_text)
        .with_context(|| format!("writing {}", facts_path.display()))?;
    println!("wrote spec/bitbucket.json and spec/upstream.json: {summary}");
    Ok(ExitCode::SUCCESS)
}

/// The trimmed document and a few counts for the summary line.
struct Output {
    doc: Value,
    operations: usize,
    schemas: usize,
    patches: usize,
    revision: String,
}

/// The whole pipeline, in order. Each step is a small named function so a reader can see what
/// the output owes to which decision.
fn transform(
    upstream: Value,
    operations: &select::Operations,
    patches: &[rules::Patch],
    names: &names::TypeNames,
) -> Result<Output> {
    let revision = upstream
        .get("x-revision")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    // Keep the chosen operations (with all components, so patches can refer to any schema).
    let mut doc = operations.select(&upstream)?;
    rules::inline_request_bodies(&mut doc)?;
    // Fix what is wrong upstream, one patch per defect.
    for patch in patches {
        patch.apply(&mut doc)?;
    }
    // Uploads the document (as patched) declares become the generator's form fields.
    forms::multipart_forms(&mut doc)?;
    // Make the types tolerant of what the real API sends, and readable once generated.
    rules::widen_polymorphic_bases(&mut doc, rules::POLYMORPHIC_BASES)?;
    // Give inline objects and enums a reviewed name before `allOf`s are flattened, so that
    // subtypes inherit a reference to one type rather than a copy each.
    names.hoist_inline(&mut doc)?;
    rules::flatten_all_of(&mut doc)?;
    rules::reuse_link_component(&mut doc);
    rules::answers(&mut doc)?;
    rules::deprecation_notes(&mut doc);
    rules::reference_links(&mut doc);
    rules::pagelen_parameter(&mut doc)?;
    rules::prune_unreachable_components(&mut doc);
    rules::open_objects(&mut doc);
    rules::no_required_properties(&mut doc);
    rules::nullable_properties(&mut doc);
    rules::no_validation_constraints(&mut doc);
    rules::strings_stay_strings(&mut doc);
    rules::defaults_in_descriptions(&mut doc);
    docs::rustdoc_friendly_descriptions(&mut doc);
    // Last: the Rust names of spec/types.toml, so every rule above sees upstream's names.
    names.rename(&mut doc)?;

    let operations = select::count_operations(&doc);
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map_or(0, |s| s.len());
    Ok(Output {
        doc,
        operations,
        schemas,
        patches: patches.len(),
        revision,
    })
}

/// A short list of what differs between the committed document and the expected one, by
/// operation and schema, so a failing check says where to look.
fn describe_differences(current: &Value, expected: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    if current.is_null() {
        lines.push("spec/bitbucket.json is missing or is not JSON".to_string());
        return lines;
    }
    for section in ["/paths", "/components/schemas"] {
        let empty = serde_json::Map::new();
        let a = current
            .pointer(section)
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let b = expected
            .pointer(section)
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (key, value) in b {
            match a.get(key) {
                None => lines.push(format!("{section}: `{key}` would be added")),
                Some(old) if old != value => lines.push(format!("{section}: `{key}` would change")),
                Some(_) => {}
            }
        }
        for key in a.keys().filter(|k| !b.contains_key(*k)) {
            lines.push(format!("{section}: `{key}` would be removed"));
        }
    }
    if lines.is_empty() {
        lines.push("the text differs (formatting or top-level fields)".to_string());
    }
    lines
}
