//! Generated files beside the client: the operation table (as code and as documentation),
//! the `Scope` enum, the handle methods and the pagination glue.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::rewrite::Envelope;
use crate::spec::{Operation, upper_camel};

fn file(tokens: TokenStream) -> syn::File {
    syn::parse2(tokens).expect("generated tokens parse")
}

/// `repository:write` → `RepositoryWrite`.
fn scope_variant(scope: &str) -> syn::Ident {
    format_ident!("{}", upper_camel(scope))
}

/// `operations.rs`: one constant per operation and `ALL`, sorted by name.
pub fn operation_table(ops: &[Operation]) -> syn::File {
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
            };
        }
    });
    let names = ops.iter().map(Operation::constant);
    file(quote! {
        #(#constants)*

        /// Every supported operation, sorted by name.
        pub static ALL: &[Operation] = &[#(#names),*];
    })
}

/// `operations.md`: the operation table as Markdown, for the docs of `crate::operations`.
pub fn operation_docs(ops: &[Operation]) -> String {
    let mut out = String::from(
        "| Operation | Request | Classic scopes | API token scopes | Tags |\n\
         |---|---|---|---|---|\n",
    );
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
        out.push_str(&format!(
            "| [`{name}`](crate::Client::{name}){notes} | `{method} {path}` | {classic} | {granular} | {tags} |\n",
            name = op.name,
            method = op.method,
            path = op.path,
            classic = code_list(&op.classic_scopes, "none"),
            granular = code_list(&op.granular_scopes, "none"),
            tags = op.tags.join(", "),
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
pub fn handles(ops: &[Operation]) -> syn::File {
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
            repo.push(quote! {
                #[doc = #doc]
                pub fn #method(&self) -> crate::builder::#builder<'a> {
                    self.client.#method().workspace(self.workspace.as_str()).repo_slug(self.repo_slug.as_str())
                }
            });
        } else if params.first() == Some(&"workspace") && !params.contains(&"repo_slug") {
            let doc = format!(
                "[`Client::{0}`](crate::Client::{0}) for this workspace.",
                op.name
            );
            workspace.push(quote! {
                #[doc = #doc]
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

/// `pagination.rs`: `Envelope` for each paginated response type.
pub fn envelopes(envelopes: &[Envelope]) -> syn::File {
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
