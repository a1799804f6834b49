//! The generator shared by the workspace's API crates (`bitbucket-cloud`,
//! `bitbucket-data-center`): their build scripts call [`main`] with their [`Product`].
//!
//! From the document `cargo xtask` wrote into the crate's `spec/`:
//! 1. Reads what the overlay needs to know of each operation (`spec.rs`).
//! 2. Runs progenitor (builder interface) on a view of the document it can generate: the
//!    operations of the enabled cargo features (`CARGO_FEATURE_*`; each operation's feature
//!    is its `x-feature`) and the schemas they reach. A build pays only for what it enables.
//! 3. Rewrites the output with `syn` (`rewrite.rs`, `builders.rs`, `docs.rs`): sends go
//!    through the overlay and return `crate::Error`, enums accept values they do not list,
//!    docs gain examples and what each operation needs (scopes or permissions).
//! 4. Emits the operation table of every operation (as code, and as Markdown for the docs),
//!    the access enum (Cloud's `Scope`), pagination glue, handle methods, and the JSON answer
//!    types for the fixture tests (`tables.rs`).
//!
//! Everything is written to `OUT_DIR`, one item per line (`print.rs`): a formatter would be
//! one more crate for every user's clean build to compile. Set `BITBUCKET_GENERATED_RUSTFMT=1`
//! to have `rustfmt` lay the files out for reading. Nothing here touches the network or reads
//! outside the package.

mod builders;
mod docs;
mod print;
mod rewrite;
mod spec;
mod tables;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What differs between the products the generator serves.
#[derive(Debug)]
pub struct Product {
    /// The crate's name as Rust code spells it (`bitbucket_cloud`), for the docs' examples.
    pub crate_name: &'static str,
    /// The trimmed document `cargo xtask` writes, relative to the package.
    pub spec: &'static str,
    /// The schemas the hand-written overlay uses whatever the features: generated in every
    /// build.
    pub overlay_schemas: &'static [&'static str],
    /// How an operation says what it needs: Cloud's OAuth scopes or Data Center's permissions.
    pub access: Access,
    /// How lists are paged.
    pub paging: Paging,
    /// Whether text and bytes answers also get `send_streaming()`, which needs the crate's
    /// `body::Body` and `transport::execute_streaming`.
    pub streaming: bool,
}

/// How a product's lists are paged, and so which answers are page envelopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// Cloud: `values` beside a `next` link.
    NextLinks,
    /// Data Center: `values` (or `results`, `lines`) beside `isLastPage` and `nextPageStart`.
    StartLimit,
}

/// What an operation needs to be allowed, in the product's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Classic OAuth scopes (`security`) and granular API-token scopes
    /// (`x-atlassian-oauth2-scopes`); the table names `crate::Scope`s.
    Scopes,
    /// One product permission (`x-permission`: `REPO_READ`, `PROJECT_ADMIN`, ...); the table
    /// names a `crate::Permission`.
    Permissions,
}

/// Bitbucket Cloud (`bitbucket-cloud`, the workspace root).
pub const CLOUD: Product = Product {
    crate_name: "bitbucket_cloud",
    spec: "spec/bitbucket.json",
    overlay_schemas: &[
        "Account",
        "Comment",
        "Commit",
        "ErrorBody",
        "Issue",
        "Link",
        "PullRequest",
        "PullRequestComment",
        "Repository",
        "WebhookSubscription",
        "Workspace",
    ],
    access: Access::Scopes,
    paging: Paging::NextLinks,
    streaming: true,
};

/// Bitbucket Data Center (`bitbucket-data-center`, in `data-center/`).
pub const DATA_CENTER: Product = Product {
    crate_name: "bitbucket_data_center",
    spec: "spec/bitbucket-data-center.json",
    overlay_schemas: &["RestErrorMessage"],
    access: Access::Permissions,
    paging: Paging::StartLimit,
    streaming: true,
};

/// The product being generated: set once by [`main`], read by the docs and tables.
static PRODUCT: std::sync::OnceLock<&'static Product> = std::sync::OnceLock::new();

fn product() -> &'static Product {
    PRODUCT.get().copied().unwrap_or(&CLOUD)
}

/// The build script of a crate of `product`: generates its client into `OUT_DIR`, or exits
/// with the reason it cannot.
pub fn main(product: &'static Product) {
    if let Err(message) = run(product) {
        // A build script reports through its exit status; panicking would add a backtrace
        // hint that says nothing useful here.
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run(product: &'static Product) -> Result<(), String> {
    let _ = PRODUCT.set(product);
    let spec_path = Path::new(product.spec);
    println!("cargo:rerun-if-changed={}", spec_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={}", print::RUSTFMT_ENV);

    let text = std::fs::read_to_string(spec_path).map_err(|e| {
        format!(
            "reading {}: {e} (run `cargo xtask trim`, or `dc-trim` for Data Center)",
            spec_path.display()
        )
    })?;
    let document: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", spec_path.display()))?;
    let operations = spec::operations(&document)?;
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
    if product.access == Access::Scopes {
        let scopes = spec::classic_scopes(&document)?;
        write(&out.join("scope.rs"), &tables::scope_enum(&scopes))?;
        write(&out.join("handles.rs"), &tables::handles(&enabled))?;
    }
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
    write_text(path, &print::unparse(file))?;
    print::rustfmt_if_asked(path)
}

fn write_text(path: &Path, text: &str) -> Result<(), String> {
    // Unchanged output keeps its timestamp, so the crate is not recompiled for nothing.
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
