//! Generated files beside the client: the operation table (as code and as documentation),
//! the `Scope` enum, the handle methods, the pagination glue, and the JSON answer types the
//! fixture tests decode with.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;

use crate::rewrite::{Envelope, Generated, generic_arg};
use crate::spec::{Answer, Operation, upper_camel};

fn file(tokens: TokenStream) -> syn::File {
    syn::parse2(tokens).expect("generated tokens parse")
}

/// `repository:write` → `RepositoryWrite`.
fn scope_variant(scope: &str) -> syn::Ident {
    format_ident!("{}", upper_camel(scope))
}

/// `operations.rs`: one constant per operation and `ALL`, sorted by name.
pub fn operation_table(ops: &[Operation]) -> syn::File {
    if crate::product().access == crate::Access::Permissions {
        return permission_table(ops);
    }
    let constants = ops.iter().map(|op| {
        let constant = op.constant();
        let name = &op.name;
        let method = format_ident!("{}", op.method);
        let path = &op.path;
        let tags = &op.tags;
        let summary = &op.summary;
        let scopes = op.classic_scopes.iter().map(|s| scope_variant(s));
        let granular = &op.granular_scopes;
        let paginated = op.paginated;
        let max_pagelen = match op.max_pagelen {
            Some(n) => {
                let n = n as u32;
                quote!(Some(#n))
            }
            None => quote!(None),
        };
        let page_parameter = op.page_parameter;
        let deprecated = op.deprecated;
        let feature = &op.feature;
        let answer = op.answer.variant();
        let redirect = match op.redirect.as_deref() {
            None => quote!(None),
            Some("storage") => quote!(Some(Redirect::Storage)),
            Some(target) => quote!(Some(Redirect::To(#target))),
        };
        let doc = format!("`{} {}`: {}", op.method, op.path, op.summary);
        quote! {
            #[doc = #doc]
            pub const #constant: Operation = Operation {
                name: #name,
                method: ::reqwest::Method::#method,
                path: #path,
                tags: &[#(#tags),*],
                summary: #summary,
                scopes: &[#(crate::Scope::#scopes),*],
                granular_scopes: &[#(#granular),*],
                paginated: #paginated,
                max_pagelen: #max_pagelen,
                page_parameter: #page_parameter,
                deprecated: #deprecated,
                feature: #feature,
                answer: Answer::#answer,
                redirect: #redirect,
            };
        }
    });
    let names = ops.iter().map(Operation::constant);
    file(quote! {
        #(#constants)*

        /// Every operation of the API, sorted by name. Each one's method on
        /// [`Client`](crate::Client) is generated when its [`feature`](Operation::feature) is
        /// enabled.
        pub static ALL: &[Operation] = &[#(#names),*];
    })
}

/// `Permission` variant of a Data Center permission: `REPO_READ` → `RepoRead`.
fn permission_variant(permission: &str) -> syn::Ident {
    format_ident!("{}", upper_camel(&permission.to_ascii_lowercase()))
}

/// Data Center's `operations.rs`: each operation with the permission it needs.
fn permission_table(ops: &[Operation]) -> syn::File {
    let constants = ops.iter().map(|op| {
        let constant = op.constant();
        let name = &op.name;
        let method = format_ident!("{}", op.method);
        let path = &op.path;
        let tags = &op.tags;
        let summary = &op.summary;
        let permission = permission_variant(op.permission.as_deref().unwrap_or("UNKNOWN"));
        let also = &op.permission_or;
        let paginated = op.paginated;
        let deprecated = op.deprecated;
        let feature = &op.feature;
        let answer = op.answer.variant();
        let doc = format!("`{} {}`: {}", op.method, op.path, op.summary);
        quote! {
            #[doc = #doc]
            pub const #constant: Operation = Operation {
                name: #name,
                method: ::reqwest::Method::#method,
                path: #path,
                tags: &[#(#tags),*],
                summary: #summary,
                permission: crate::Permission::#permission,
                also_allowed: &[#(#also),*],
                paginated: #paginated,
                deprecated: #deprecated,
                feature: #feature,
                answer: Answer::#answer,
            };
        }
    });
    let names = ops.iter().map(Operation::constant);
    file(quote! {
        #(#constants)*

        /// Every operation of the API, sorted by name. Each one's method on
        /// [`Client`](crate::Client) is generated when its [`feature`](Operation::feature) is
        /// enabled.
        pub static ALL: &[Operation] = &[#(#names),*];
    })
}

/// `operations.md`: the operation table as Markdown, for the docs of `crate::operations`.
/// Operations this build generates link to their method.
pub fn operation_docs(ops: &[Operation], generated: &BTreeSet<&str>) -> String {
    let permissions = crate::product().access == crate::Access::Permissions;
    let mut out = String::from(if permissions {
        "| Operation | Request | Permission | Feature |\n|---|---|---|---|\n"
    } else {
        "| Operation | Request | Classic scopes | API token scopes | Feature |\n\
         |---|---|---|---|---|\n"
    });
    for op in ops {
        let mut notes = Vec::new();
        if op.paginated {
            notes.push("paginated");
        }
        if op.deprecated {
            notes.push("deprecated");
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        let name = if generated.contains(op.name.as_str()) {
            format!("[`{0}`](crate::Client::{0})", op.name)
        } else {
            format!("`{}`", op.name)
        };
        if permissions {
            let mut needs = vec![op.permission.clone().unwrap_or_else(|| "UNKNOWN".into())];
            needs.extend(op.permission_or.iter().cloned());
            out.push_str(&format!(
                "| {name}{notes} | `{method} {path}` | {needs} | `{feature}` |\n",
                method = op.method,
                path = op.path,
                needs = code_list(&needs, "none").replace(", ", " or "),
                feature = op.feature,
            ));
            continue;
        }
        out.push_str(&format!(
            "| {name}{notes} | `{method} {path}` | {classic} | {granular} | `{feature}` |\n",
            method = op.method,
            path = op.path,
            classic = code_list(&op.classic_scopes, "none"),
            granular = code_list(&op.granular_scopes, "none"),
            feature = op.feature,
        ));
    }
    out
}

/// `` `a`, `b` `` for a list in the docs, `none` when it is empty.
pub fn code_list(items: &[String], none: &str) -> String {
    if items.is_empty() {
        return none.to_string();
    }
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `scope.rs`: the classic OAuth scopes the document defines.
pub fn scope_enum(scopes: &[(String, String)]) -> syn::File {
    // By name, whatever order the JSON map keeps, so the enum's `Ord` is documented and stable.
    let mut scopes = scopes.to_vec();
    scopes.sort();
    let variants: Vec<syn::Ident> = scopes.iter().map(|(s, _)| scope_variant(s)).collect();
    let names: Vec<&String> = scopes.iter().map(|(s, _)| s).collect();
    let docs = scopes.iter().map(|(s, d)| format!("`{s}`: {d}."));
    file(quote! {
        /// A classic OAuth 2.0 scope, as Bitbucket spells it (`Display` and `FromStr` use that
        /// spelling: `pullrequest:write`).
        ///
        /// These are the scopes of OAuth consumers and of repository, project and workspace
        /// access tokens. API tokens use granular scopes instead (`read:pullrequest:bitbucket`),
        /// listed beside these in [`crate::operations`]. Scopes are ordered by name;
        /// [`Scope::implies`] tells which ones include others.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Scope {
            #(#[doc = #docs] #variants,)*
        }

        impl Scope {
            /// Every scope, sorted by name.
            pub const ALL: &'static [Scope] = &[#(Scope::#variants),*];

            /// Bitbucket's spelling: `pullrequest:write`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    #(Scope::#variants => #names,)*
                }
            }
        }
    })
}

/// `handles.rs`: the operations of a repository on `RepoHandle`, and those of a workspace on
/// `WorkspaceHandle`, with their path parameters filled in.
pub fn handles(ops: &[&Operation]) -> syn::File {
    let mut repo = Vec::new();
    let mut workspace = Vec::new();
    for op in ops {
        let method = format_ident!("{}", op.name);
        let builder = op.builder();
        let params: Vec<&str> = op.path_params.iter().map(String::as_str).collect();
        if op.path.starts_with("/repositories/{workspace}/{repo_slug}") {
            let doc = format!(
                "[`Client::{0}`](crate::Client::{0}) for this repository.",
                op.name
            );
            let attrs = handle_attrs(op);
            repo.push(quote! {
                #[doc = #doc]
                #(#attrs)*
                pub fn #method(&self) -> crate::builder::#builder<'a> {
                    self.client.#method().workspace(self.workspace.as_str()).repo_slug(self.repo_slug.as_str())
                }
            });
        } else if params.first() == Some(&"workspace") && !params.contains(&"repo_slug") {
            let doc = format!(
                "[`Client::{0}`](crate::Client::{0}) for this workspace.",
                op.name
            );
            let attrs = handle_attrs(op);
            workspace.push(quote! {
                #[doc = #doc]
                #(#attrs)*
                pub fn #method(&self) -> crate::builder::#builder<'a> {
                    self.client.#method().workspace(self.workspace.as_str())
                }
            });
        }
    }
    file(quote! {
        impl<'a> RepoHandle<'a> {
            #(#repo)*
        }
        impl<'a> WorkspaceHandle<'a> {
            #(#workspace)*
        }
    })
}

/// The attributes of a handle method: the feature it needs on docs.rs, and a deprecated
/// operation's `#[deprecated]` (the call inside is allowed: it is the same operation).
fn handle_attrs(op: &Operation) -> Vec<syn::Attribute> {
    let mut attrs = vec![op.doc_cfg()];
    if let Some(deprecated) = op.deprecated_attr() {
        attrs.push(deprecated);
        attrs.push(syn::parse_quote!(#[allow(deprecated)]));
    }
    attrs
}

/// `answers.rs`: `__json_answers!`, a macro that hands its callback, for every generated
/// operation whose answer is JSON (or, like `get_source`, holds JSON in some cases), its name,
/// method, path template, the type the JSON decodes as, and for a list the type of its items:
///
/// ```text
/// get_branch "GET" "/repositories/{workspace}/{repo_slug}/refs/branches/{name}" [$crate::types::Branch] [];
/// ```
///
/// The fixture tests decode every recorded body with the type of the operation it was
/// recorded from, without a list of types kept by hand. A macro costs the crate nothing to
/// compile: the decoding is instantiated in the test that expands it.
pub fn json_answers(ops: &[&Operation], generated: &Generated) -> Result<String, String> {
    let mut rows = String::new();
    for op in ops {
        let rewritten = generated.operation(&op.name)?;
        let (answer, envelope): (Option<syn::Type>, Option<&Envelope>) = match op.answer {
            Answer::Json => (rewritten.json.clone(), rewritten.envelope.as_ref()),
            Answer::Bytes => match &op.json_component {
                Some(component) => {
                    let ident = upper_camel(component);
                    if !generated.types.contains(&ident) {
                        return Err(format!(
                            "`{}` holds `{component}` JSON, but no type `{ident}` was generated",
                            op.name
                        ));
                    }
                    let ident = format_ident!("{ident}");
                    (
                        Some(syn::parse_quote!(types::#ident)),
                        generated.envelopes_by_name.get(&ident.to_string()),
                    )
                }
                None => (None, None),
            },
            Answer::Text | Answer::Empty => (None, None),
        };
        let Some(answer) = answer else { continue };
        let item = envelope.map(|e| crate_path(crate::rewrite::item_type(&e.item)));
        rows += &format!(
            "            {} {:?} {:?} [{}] [{}];\n",
            op.name,
            op.method,
            op.path,
            crate_path(answer),
            item.unwrap_or_default()
        );
    }
    Ok(format!(
        "/// For every generated operation whose answer is JSON: its name, method, path, the type \
         its\n/// JSON decodes as, and for a list its item type. For the crate's own fixture \
         tests; not part\n/// of the API.\n#[doc(hidden)]\n#[macro_export]\nmacro_rules! \
         __json_answers {{\n    ($callback:ident) => {{\n        $callback! {{\n{rows}        }}\n    \
         }};\n}}\n"
    ))
}

/// `calls.rs`: `__operation_calls!`, a macro that hands its callback, for every generated
/// operation, its name, what `send()` returns (`json`, `completion` for a JSON answer that may
/// come later, `text`, `bytes`, `empty`) with the JSON type where there is one, and each of its
/// builder's setters with the type it takes (`Option` removed):
///
/// ```text
/// get_branch json [$crate::types::Branch] [workspace: ::std::string::String, ...];
/// ```
///
/// The wire and contract tests call every operation through its typed builder with values
/// made from the document, without a call written by hand per operation.
pub fn operation_calls(ops: &[&Operation], generated: &Generated) -> Result<String, String> {
    let mut rows = String::new();
    for op in ops {
        let rewritten = generated.operation(&op.name)?;
        let kind = match op.answer {
            Answer::Json if op.accepted_without_body => "completion",
            Answer::Json => "json",
            Answer::Text => "text",
            Answer::Bytes => "bytes",
            Answer::Empty => "empty",
        };
        let json = match (&rewritten.json, op.answer) {
            (Some(ty), Answer::Json) => crate_path(ty.clone()),
            _ => String::new(),
        };
        let params: Vec<String> = rewritten
            .params
            .iter()
            .map(|(name, ty)| {
                let ty = generic_arg(ty, "Option").unwrap_or_else(|| ty.clone());
                // A raw body (`text/plain`) is set from its text.
                if quote!(#ty).to_string().replace(' ', "") == "reqwest::Body" {
                    return format!("{name}: ::std::string::String");
                }
                format!("{name}: {}", crate_path(ty))
            })
            .collect();
        rows += &format!(
            "            {} {kind} [{json}] [{}];\n",
            op.name,
            params.join(", ")
        );
    }
    Ok(format!(
        "/// For every generated operation: its name, what `send()` returns, and its builder's \
         setters\n/// with their types. For the crate's own wire and contract tests; not part of \
         the API.\n#[doc(hidden)]\n#[macro_export]\nmacro_rules! __operation_calls {{\n    \
         ($callback:ident) => {{\n        $callback! {{\n{rows}        }}\n    }};\n}}\n"
    ))
}

/// `types::Branch` (as the builders name it) → `$crate::types::Branch`, as a macro of the crate
/// must.
fn crate_path(mut ty: syn::Type) -> String {
    struct FromCrateRoot;
    impl VisitMut for FromCrateRoot {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            syn::visit_mut::visit_path_mut(self, path);
            if path.leading_colon.is_none()
                && path.segments.first().is_some_and(|s| s.ident == "types")
            {
                path.segments.insert(0, syn::parse_quote!(__crate_root__));
            }
        }
    }
    FromCrateRoot.visit_type_mut(&mut ty);
    quote!(#ty)
        .to_string()
        .replace("__crate_root__", "$crate")
        .replace(" :: ", "::")
}

/// `pagination.rs`: `Envelope` for each paginated response type.
pub fn envelopes(envelopes: &[Envelope]) -> syn::File {
    if crate::product().paging == crate::Paging::StartLimit {
        return start_limit_envelopes(envelopes);
    }
    let impls = envelopes.iter().map(|e| {
        let ident = &e.ident;
        let item = &e.item;
        let has = |f: &str| e.fields.iter().any(|x| x == f);
        let number = |f: &str| {
            let field = format_ident!("{f}");
            if has(f) {
                quote!(self.#field.and_then(|n| u64::try_from(n).ok()))
            } else {
                quote!(None)
            }
        };
        let text = |f: &str| {
            let field = format_ident!("{f}");
            if has(f) {
                quote!(self.#field)
            } else {
                quote!(None)
            }
        };
        let (page, pagelen, size) = (number("page"), number("pagelen"), number("size"));
        let (next, previous) = (text("next"), text("previous"));
        quote! {
            impl Envelope for crate::types::#ident {
                type Item = crate::types::#item;
                fn into_page(self) -> Page<Self::Item> {
                    Page {
                        items: self.values.unwrap_or_default(),
                        next: #next,
                        previous: #previous,
                        page: #page,
                        pagelen: #pagelen,
                        size: #size,
                    }
                }
            }
        }
    });
    file(quote! { #(#impls)* })
}

/// Data Center's `pagination.rs`: `Envelope` for each page type (`isLastPage`,
/// `nextPageStart`, `start`, `limit`, `size`, and the items).
fn start_limit_envelopes(envelopes: &[Envelope]) -> syn::File {
    let impls = envelopes.iter().map(|e| {
        let ident = &e.ident;
        let item = match &e.item {
            syn::Type::Path(p) if p.path.leading_colon.is_none() && p.path.segments.len() == 1 => {
                quote!(crate::types::#p)
            }
            other => quote!(#other),
        };
        let items = &e.items;
        let has = |f: &str| e.fields.iter().any(|x| x == f);
        let number = |f: &str| {
            let field = format_ident!("{f}");
            if has(f) {
                quote!(self.#field.and_then(|n| u64::try_from(n).ok()))
            } else {
                quote!(None)
            }
        };
        let (start, limit, size, next) = (
            number("start"),
            number("limit"),
            number("size"),
            number("next_page_start"),
        );
        quote! {
            impl Envelope for crate::types::#ident {
                type Item = #item;
                fn into_page(self) -> Page<Self::Item> {
                    Page {
                        items: self.#items.unwrap_or_default(),
                        is_last_page: self.is_last_page,
                        next_page_start: #next,
                        start: #start,
                        limit: #limit,
                        size: #size,
                    }
                }
            }
        }
    });
    file(quote! { #(#impls)* })
}
