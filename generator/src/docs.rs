//! The docs of the generated operation methods: a compiled example, the scopes, pagination,
//! deprecation (with upstream's words) and the link to Atlassian's reference; and the docs of
//! each `send()`.

use std::collections::BTreeMap;

use quote::quote;
use syn::{Expr, ImplItem, ItemImpl, Type, parse_quote};

use crate::rewrite::generic_arg;
use crate::spec::{Answer, Operation};
use crate::tables::code_list;

/// The docs of an operation's `send()`: what it returns.
pub fn send_doc(op: &Operation) -> String {
    let what = match op.answer {
        Answer::Empty => {
            "Bitbucket answers without a body; `Ok(())` means it succeeded.".to_string()
        }
        Answer::Text => "Returns the body as text.".to_string(),
        Answer::Bytes => match &op.json_component {
            Some(json) => format!(
                "Returns the body as bytes, as sent. When Bitbucket answers JSON instead (a \
                 directory, for the source), the bytes decode as \
                 [`types::{json}`](crate::types::{json}): \
                 `serde_json::from_slice::<types::{json}>(&bytes)`."
            ),
            None => "Returns the body as bytes, as sent.".to_string(),
        },
        Answer::Json if op.accepted_without_body => {
            "Returns [`Completion::Done`](crate::Completion::Done) with the result, or \
             [`Completion::Accepted`](crate::Completion::Accepted) when Bitbucket answers 202 \
             and finishes the work later."
                .to_string()
        }
        Answer::Json if op.paginated => {
            "Returns one page. `stream()` yields every item across pages and `pages()` every page."
                .to_string()
        }
        Answer::Json => "Returns the decoded response.".to_string(),
    };
    format!(
        " Sends `{} {}` through the client (authentication, retries, policy).\n\n {what}\n\n \
         Fails with a [`crate::Error`] that keeps the status, Bitbucket's error body and a hint.",
        op.method, op.path
    )
}

/// Gives each operation method of `Client` its docs (a compiled example instead of
/// progenitor's placeholder, scopes, ...), `#[deprecated]` with upstream's words when the
/// document deprecates it, and the feature it needs on docs.rs.
pub fn document_client_methods(
    imp: &mut ItemImpl,
    by_name: &BTreeMap<&str, &Operation>,
    params: &BTreeMap<String, Vec<(String, Type)>>,
) -> Result<usize, String> {
    let mut documented = 0;
    for item in &mut imp.items {
        let ImplItem::Fn(f) = item else { continue };
        let name = f.sig.ident.to_string();
        let op = by_name
            .get(name.as_str())
            .ok_or_else(|| format!("`Client::{name}` is not an operation to be generated"))?;
        // progenitor's example (`ignore`d: its arguments are placeholders) gives way to one
        // that compiles.
        let mut replaced_example = false;
        for attr in &mut f.attrs {
            if let syn::Meta::NameValue(meta) = &mut attr.meta
                && meta.path.is_ident("doc")
                && let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) = &meta.value
                && let Some(start) = text.value().find("```ignore")
            {
                let kept = text.value()[..start].trim_end().to_string();
                meta.value = parse_quote!(#kept);
                replaced_example = true;
            }
        }
        if !replaced_example {
            return Err(format!(
                "`Client::{name}`: progenitor's docs have no ```ignore example to replace"
            ));
        }
        let no_params = Vec::new();
        let extra = operation_doc(
            op,
            params.get(&op.builder().to_string()).unwrap_or(&no_params),
        );
        f.attrs.push(parse_quote!(#[doc = #extra]));
        f.attrs.push(op.doc_cfg());
        if let Some(deprecated) = op.deprecated_attr() {
            f.attrs.push(deprecated);
        }
        documented += 1;
    }
    Ok(documented)
}

/// A plausible value for a path parameter in an example, by its name and type.
fn sample(param: &str, ty: &Type) -> String {
    let ty_text = quote!(#ty).to_string().replace(' ', "");
    if ["i64", "i32", "u64", "u32", "f64"].contains(&ty_text.as_str()) {
        return "42".into();
    }
    match param {
        "workspace" => "\"my-workspace\"",
        "repo_slug" => "\"my-repo\"",
        "commit" => "\"7b9e1f0c2d3a\"",
        "name" => "\"feature/login\"",
        "pipeline_uuid" => "\"{3fa85f64-5717-4562-b3fc-2c963f66afa6}\"",
        "uid" => "\"{d3e7ac4f-1b2c-4d5e-8f90-a1b2c3d4e5f6}\"",
        "project_key" => "\"PROJ\"",
        "spec" => "\"main..feature/login\"",
        "path" => "\"src/main.rs\"",
        "selected_user" | "target_username" | "member" => "\"{account-uuid}\"",
        "key" => "\"ci-build\"",
        "projectKey" | "project_key_" => "\"PROJ\"",
        "repositorySlug" => "\"my-repo\"",
        "pullRequestId" | "commentId" => "42",
        _ => "\"...\"",
    }
    .into()
}

/// A compiled (`no_run`) example calling the operation with plausible arguments.
fn example(op: &Operation, params: &[(String, Type)]) -> String {
    let mut call = format!("client\n    .{}()", op.name);
    for param in &op.path_params {
        // progenitor names the setter in snake case (`reportId` is `report_id`).
        let plain = |name: &str| name.replace('_', "").to_ascii_lowercase();
        let (setter, ty) = params
            .iter()
            .find(|(name, _)| plain(name) == plain(param))
            .cloned()
            .unwrap_or_else(|| (param.clone(), parse_quote!(String)));
        call += &format!("\n    .{setter}({})", sample(&setter, &ty));
    }
    let body = params
        .iter()
        .find(|(name, _)| name == "body")
        .map(|(_, ty)| ty);
    let mut uses_types = false;
    if let Some(body) = body {
        let element = generic_arg(body, "Vec");
        let value_of = |ty: &Type| -> Option<String> {
            let Type::Path(path) = ty else { return None };
            let first = path.path.segments.first()?;
            (first.ident == "types" && path.path.segments.len() == 2).then(|| {
                let ident = &path.path.segments[1].ident;
                format!(
                    "types::{ident} {{\n        // the fields to send; the others stay unset\n        ..Default::default()\n    }}"
                )
            })
        };
        let value = match &element {
            Some(element) => value_of(element).map(|v| format!("vec![{v}]")),
            None => value_of(body),
        };
        if let Some(value) = value {
            uses_types = true;
            call += &format!("\n    .body({value})");
        }
    }
    let (binding, tail, imports) = if op.paginated {
        (
            "let items: Vec<_> = ",
            "\n    .stream()\n    .try_collect()\n    .await?;",
            "use futures_util::TryStreamExt as _;\n",
        )
    } else if op.answer == Answer::Empty {
        ("", "\n    .send()\n    .await?;", "")
    } else {
        ("let answer = ", "\n    .send()\n    .await?;", "")
    };
    let allow = if op.deprecated {
        "#![allow(deprecated)]\n"
    } else {
        ""
    };
    let krate = crate::product().crate_name;
    let uses_types = if uses_types {
        format!("use {krate}::types;\n")
    } else {
        String::new()
    };
    format!(
        "```no_run\n{allow}{imports}{uses_types}# async fn example(client: &{krate}::Client) -> Result<(), {krate}::Error> {{\n{binding}{call}{tail}\n# Ok(())\n# }}\n```\n"
    )
}

/// The sections appended to an operation's docs: scopes, pagination, deprecation, reference.
fn operation_doc(op: &Operation, params: &[(String, Type)]) -> String {
    let mut doc = format!("\n\n# Example\n\n{}", example(op, params));
    if crate::product().access == crate::Access::Permissions {
        let permission = op.permission.as_deref().unwrap_or("UNKNOWN");
        doc += &format!("\n# Permission\n\n`{permission}`");
        if !op.permission_or.is_empty() {
            doc += &format!(", or: {}", code_list(&op.permission_or, ""));
        }
        doc += " (see [`crate::Permission`]).\n";
    } else {
        doc += "\n# Scopes\n\n";
        doc += &format!(
            "- OAuth 2.0 and access tokens (classic): {}\n",
            code_list(&op.classic_scopes, "none listed")
        );
        doc += &format!(
            "- API tokens (granular): {}\n",
            code_list(&op.granular_scopes, "none listed")
        );
    }
    if op.paginated {
        doc += "\n# Pagination\n\nPaginated. `send()` returns one page; `stream()` yields every item \
                across pages, `pages()` every page, and `resume(cursor)` continues a list where an \
                earlier stream stopped. See [`crate::pagination`].\n";
    }
    match (op.answer, op.redirect.as_deref()) {
        (_, Some("storage")) => {
            doc += "\n# Redirect\n\nBitbucket answers with a redirect to the file on a storage host; \
                    the answer is what the redirect leads to.\n";
        }
        (_, Some(target)) => {
            doc += &format!(
                "\n# Redirect\n\nBitbucket answers with a redirect to `{target}` \
                 ([`operations::{constant}`](crate::operations::{constant})) for the right spec; \
                 the answer is that operation's.\n",
                constant = target.to_ascii_uppercase()
            );
        }
        _ => {}
    }
    if !op.form_fields.is_empty() {
        let fields: Vec<String> = op
            .form_fields
            .iter()
            .map(|field| {
                format!(
                    "`{}` (`.{}()`{}{})",
                    field.name,
                    field.setter(),
                    if field.file { ", a file" } else { "" },
                    if field.required { ", required" } else { "" },
                )
            })
            .collect();
        doc += &format!(
            "\n# Body\n\nA `multipart/form-data` form with the fields the document declares, each \
             set by the builder's setter of the same name: {}. A file is a \
             [`crate::upload::Upload`] (bytes, a file on disk streamed from it, a stream). The \
             body is a stream, so the request is sent once and never retried (see \
             [`crate::upload`]).\n",
            fields.join(", ")
        );
    }
    if op.deprecated {
        let note = op.deprecation_note.as_deref().unwrap_or_default();
        doc += &format!(
            "\n# Deprecated upstream\n\n{note} It still works; expect it to be removed in a \
             future version of the API.\n"
        );
    }
    doc += &format!("\nReference: <{}>\n", op.reference);
    doc
}
