//! Generates the client from `spec/bitbucket.json` (written by `cargo xtask trim`).
//!
//! 1. Reads what the overlay needs to know of each operation (`build/spec.rs`).
//! 2. Runs progenitor (builder interface) on a view of the document it can generate: the
//!    operations of the enabled cargo features (`CARGO_FEATURE_*`; each operation's feature
//!    is its `x-feature`) and the schemas they reach. A build pays only for what it enables.
//! 3. Rewrites the output with `syn` (`build/rewrite.rs`, `build/builders.rs`,
//!    `build/docs.rs`): sends go through the overlay and return `crate::Error`, enums accept
//!    values they do not list, docs gain examples and scopes.
//! 4. Emits the operation table of every operation (as code, and as Markdown for the docs),
//!    the `Scope` enum, pagination glue, handle methods, and the JSON answer types for the
//!    fixture tests (`build/tables.rs`).
//!
//! Everything is formatted with prettyplease and written to `OUT_DIR`. Nothing here touches
//! the network or reads outside the package.

#[path = "build/builders.rs"]
mod builders;
#[path = "build/docs.rs"]
mod docs;
#[path = "build/rewrite.rs"]
mod rewrite;
#[path = "build/spec.rs"]
mod spec;
#[path = "build/tables.rs"]
mod tables;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn main() {
    if let Err(message) = run() {
        // A build script reports through its exit status; panicking would add a backtrace
        // hint that says nothing useful here.
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let spec_path = Path::new("spec/bitbucket.json");
    println!("cargo:rerun-if-changed={}", spec_path.display());
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=build.rs");

    let text = std::fs::read_to_string(spec_path).map_err(|e| {
        format!(
            "reading {}: {e} (run `cargo xtask trim`)",
            spec_path.display()
        )
    })?;
    let document: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", spec_path.display()))?;
    let operations = spec::operations(&document)?;
    let scopes = spec::classic_scopes(&document)?;
    let enabled: Vec<&spec::Operation> = operations
        .iter()
        .filter(|op| std::env::var_os(spec::feature_env(&op.feature)).is_some())
        .collect();
    let generate: BTreeSet<&str> = enabled.iter().map(|op| op.name.as_str()).collect();

    let view: openapiv3::OpenAPI =
        serde_json::from_value(spec::progenitor_view(&document, &generate)?).map_err(|e| {
            format!(
                "{} is not an OpenAPI 3.0 document: {e}",
                spec_path.display()
            )
        })?;
    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(quote::quote!(crate::client::Shared));
    let tokens = progenitor::Generator::new(&settings)
        .generate_tokens(&view)
        .map_err(|e| format!("progenitor: {e}"))?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("parsing progenitor's output: {e}"))?;
    let generated = rewrite::rewrite(&mut file, &enabled)?;

    // What the overlay compiles depends on what was generated: the form encoder only for
    // operations with a form body; and a build without any operation leaves most of the
    // overlay unused, which is no reason for warnings.
    println!(
        "cargo:rustc-check-cfg=cfg(bitbucket_form_bodies, bitbucket_lists, bitbucket_no_operations)"
    );
    if enabled.iter().any(|op| op.paginated) {
        println!("cargo:rustc-cfg=bitbucket_lists");
    }
    if generated.operations.iter().any(|r| r.form) {
        println!("cargo:rustc-cfg=bitbucket_form_bodies");
    }
    if enabled.is_empty() {
        println!("cargo:rustc-cfg=bitbucket_no_operations");
    }

    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    write(&out.join("client.rs"), &file)?;
    write(
        &out.join("operations.rs"),
        &tables::operation_table(&operations),
    )?;
    write_text(
        &out.join("operations.md"),
        &tables::operation_docs(&operations, &generate),
    )?;
    write(&out.join("scope.rs"), &tables::scope_enum(&scopes))?;
    write(&out.join("handles.rs"), &tables::handles(&enabled))?;
    write(
        &out.join("pagination.rs"),
        &tables::envelopes(&generated.envelopes()),
    )?;
    write_text(
        &out.join("answers.rs"),
        &tables::json_answers(&enabled, &generated)?,
    )?;
    write_text(
        &out.join("calls.rs"),
        &tables::operation_calls(&enabled, &generated)?,
    )?;
    Ok(())
}

fn write(path: &Path, file: &syn::File) -> Result<(), String> {
    write_text(path, &prettyplease::unparse(file))
}

fn write_text(path: &Path, text: &str) -> Result<(), String> {
    // Unchanged output keeps its timestamp, so the crate is not recompiled for nothing.
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
