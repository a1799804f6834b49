//! Rewrites progenitor's output so that it fits the overlay.
//!
//! - Every builder's `send` is split into `into_request` (progenitor's code that builds the
//!   `reqwest::Request`) and a `send` that runs it through `crate::transport` and returns
//!   `Result<T, crate::Error>`; paginated builders also get `pages()` and `stream()`.
//! - String enums get an `Other(String)` variant, so values Bitbucket adds later decode, and
//!   are kept.
//! - Structs derive `Default` and `PartialEq` (every field is optional once the xtask is done);
//!   enums that hold values (`oneOf`) derive `PartialEq` too. A field holding another struct
//!   is an `Option<Box<T>>` (typify's `Box<Option<T>>` cycle breaks included), which keeps the
//!   types small and their decoding shallow on the stack, and builders start with an empty `extra`, so requests
//!   carry only what the caller set.
//! - Structs with a secret field (`secret`, `password`, `token`, or a name ending in one of
//!   them) get a `Debug` that prints `[redacted]` in its place, so a logged value or error
//!   never shows it.
//! - The progenitor plumbing the overlay replaces (`ClientInfo`, `ClientHooks`, `Client::new`,
//!   the prelude) is removed, and each operation's docs gain its scopes and pagination.

use std::collections::BTreeMap;

use quote::{format_ident, quote};
use syn::visit_mut::{self, VisitMut};
use syn::{
    Expr, Fields, ImplItem, Item, ItemEnum, ItemImpl, ItemMod, ItemStruct, Stmt, Type, parse_quote,
};

use crate::spec::{Operation, upper_camel};
use crate::tables::code_list;

/// What the rewrite learnt that the other generated files need.
pub struct Generated {
    /// Paginated envelopes, e.g. `PaginatedPullRequests` of `PullRequest`.
    pub envelopes: Vec<Envelope>,
}

/// A paginated envelope type and what it holds.
#[derive(Clone)]
pub struct Envelope {
    pub ident: syn::Ident,
    pub item: Type,
    /// Its fields (`next`, `page`, `size`, ...).
    pub fields: Vec<String>,
}

pub fn rewrite(file: &mut syn::File, operations: &[Operation]) -> Result<Generated, String> {
    let by_name: BTreeMap<&str, &Operation> =
        operations.iter().map(|op| (op.name.as_str(), op)).collect();
    // Every type shaped like an envelope, by name; those a paginated operation returns are
    // the `envelopes` the pagination glue is generated for.
    let mut envelopes_by_name: BTreeMap<String, Envelope> = BTreeMap::new();
    let mut envelopes = Vec::new();

    // Types first: the sends need to know each envelope's item type.
    for item in &mut file.items {
        if let Item::Mod(module) = item
            && module.ident == "types"
        {
            rewrite_types(module, &mut envelopes_by_name);
        }
    }

    let mut kept = Vec::new();
    for mut item in std::mem::take(&mut file.items) {
        match &mut item {
            Item::Use(item_use) => {
                // `pub use progenitor_client::{Error, ResponseValue, ...}`: the generated code
                // still uses these names, users must not.
                item_use.vis = syn::Visibility::Inherited;
            }
            Item::Impl(imp)
                if is_trait_impl(imp, "ClientInfo") || is_trait_impl(imp, "ClientHooks") =>
            {
                continue;
            }
            Item::Impl(imp) if self_is(imp, "Client") && has_fn(imp, "new") => continue,
            Item::Impl(imp) if self_is(imp, "Client") => document_client_methods(imp, &by_name)?,
            Item::Struct(st) if st.ident == "Client" => {
                // The overlay documents `Client` and implements a `Debug` that shows no secret.
                st.attrs.retain(|a| !a.path().is_ident("doc"));
                remove_derive(&mut st.attrs, "Debug");
            }
            Item::Mod(module) if module.ident == "prelude" => continue,
            Item::Mod(module) if module.ident == "builder" => {
                rewrite_builders(module, &by_name, &envelopes_by_name, &mut envelopes)?;
            }
            _ => {}
        }
        kept.push(item);
    }
    file.items = kept;
    Ok(Generated { envelopes })
}

fn is_trait_impl(imp: &ItemImpl, name: &str) -> bool {
    imp.trait_
        .as_ref()
        .is_some_and(|(_, path, _)| path.segments.last().is_some_and(|s| s.ident == name))
}

fn self_is(imp: &ItemImpl, name: &str) -> bool {
    imp.trait_.is_none() && matches!(&*imp.self_ty, Type::Path(p) if p.path.is_ident(name))
}

fn has_fn(imp: &ItemImpl, name: &str) -> bool {
    imp.items
        .iter()
        .any(|i| matches!(i, ImplItem::Fn(f) if f.sig.ident == name))
}

// -------------------------------------------------------------------------------------------
// types
// -------------------------------------------------------------------------------------------

/// typify's struct builders start the flattened `extra` map as "no value supplied", so a body
/// built without touching `extra` fails to convert. An empty map is the right default.
struct EmptyExtraByDefault;

impl VisitMut for EmptyExtraByDefault {
    fn visit_expr_struct_mut(&mut self, node: &mut syn::ExprStruct) {
        for field in &mut node.fields {
            let is_extra = matches!(&field.member, syn::Member::Named(name) if name == "extra");
            let is_err = matches!(&field.expr, Expr::Call(call)
                if matches!(&*call.func, Expr::Path(p) if p.path.is_ident("Err")));
            if is_extra && is_err {
                field.expr = parse_quote!(Ok(Default::default()));
            }
        }
        visit_mut::visit_expr_struct_mut(self, node);
    }
}

fn rewrite_types(module: &mut ItemMod, envelopes_by_name: &mut BTreeMap<String, Envelope>) {
    // Before anything looks at field types: `add_struct_derives` needs every field an `Option`.
    BoxedOptions.visit_item_mod_mut(module);
    let structs = struct_names(module);
    BoxedStructFields { structs: &structs }.visit_item_mod_mut(module);
    let Some((_, items)) = &mut module.content else {
        return;
    };
    let mut open_enums = Vec::new();
    for item in items.iter_mut() {
        match item {
            Item::Enum(e) if is_string_enum(e) => {
                open_enum(e);
                open_enums.push(e.ident.to_string());
            }
            Item::Enum(e) => add_derive(&mut e.attrs, "PartialEq"),
            Item::Struct(st) => {
                skip_unset_boxed_fields(st);
                add_struct_derives(st);
                if let Some(envelope) = envelope(st) {
                    envelopes_by_name.insert(st.ident.to_string(), envelope);
                }
            }
            _ => {}
        }
    }
    for item in items.iter_mut() {
        if let Item::Impl(imp) = item {
            let Type::Path(ty) = &*imp.self_ty else {
                continue;
            };
            let Some(name) = ty.path.get_ident().map(|i| i.to_string()) else {
                continue;
            };
            if open_enums.contains(&name) {
                open_enum_impl(imp);
            }
        }
    }
    redact_secrets(items, quote!(Redacted));
    for item in items.iter_mut() {
        if let Item::Mod(builders) = item
            && builders.ident == "builder"
        {
            EmptyExtraByDefault.visit_item_mod_mut(builders);
            if let Some((_, builder_items)) = &mut builders.content {
                redact_secrets(builder_items, quote!(super::Redacted));
            }
        }
    }
    items.push(parse_quote! {
        /// Printed by `Debug` in place of a secret.
        struct Redacted;
    });
    items.push(parse_quote! {
        impl ::std::fmt::Debug for Redacted {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str("[redacted]")
            }
        }
    });
}

/// Whether a field named `name` holds a secret: `secret`, `password`, `token`, or a name
/// ending in `_secret`, `_password`, `_token`.
fn is_secret_field(name: &str) -> bool {
    ["secret", "password", "token"]
        .iter()
        .any(|s| name == *s || name.ends_with(&format!("_{s}")))
}

/// Replaces the derived `Debug` of every struct in `items` that has a secret field with one
/// that prints `redacted` (a path to the `Redacted` marker) in its place: `Some([redacted])`
/// or `None` for an `Option`, `[redacted]` otherwise.
fn redact_secrets(items: &mut Vec<Item>, redacted: proc_macro2::TokenStream) {
    let mut impls: Vec<Item> = Vec::new();
    for item in items.iter_mut() {
        let Item::Struct(st) = item else { continue };
        let Fields::Named(fields) = &st.fields else {
            continue;
        };
        if !fields.named.iter().any(|f| {
            f.ident
                .as_ref()
                .is_some_and(|i| is_secret_field(&i.to_string()))
        }) {
            continue;
        }
        if !remove_derive(&mut st.attrs, "Debug") {
            continue;
        }
        let ident = &st.ident;
        let name = ident.to_string();
        let (impl_generics, ty_generics, where_clause) = st.generics.split_for_impl();
        let entries = fields.named.iter().filter_map(|f| {
            let field = f.ident.as_ref()?;
            let label = field.to_string().trim_end_matches('_').to_string();
            Some(if !is_secret_field(&label) {
                quote!(.field(#label, &self.#field))
            } else if generic_arg(&f.ty, "Option").is_some() {
                quote!(.field(#label, &self.#field.as_ref().map(|_| #redacted)))
            } else {
                quote!(.field(#label, &#redacted))
            })
        });
        impls.push(parse_quote! {
            impl #impl_generics ::std::fmt::Debug for #ident #ty_generics #where_clause {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(#name) #(#entries)* .finish()
                }
            }
        });
    }
    items.extend(impls);
}

/// The derives of `attrs`' `#[derive(...)]`, and a way to write them back.
fn derives(attrs: &mut [syn::Attribute]) -> Option<(&mut syn::Attribute, Vec<syn::Path>)> {
    let attr = attrs.iter_mut().find(|a| a.path().is_ident("derive"))?;
    // A list that does not parse is left alone rather than rewritten as empty.
    let list: syn::punctuated::Punctuated<syn::Path, syn::Token![,]> = attr
        .parse_args_with(syn::punctuated::Punctuated::parse_terminated)
        .ok()?;
    Some((attr, list.into_iter().collect()))
}

fn add_derive(attrs: &mut [syn::Attribute], name: &str) {
    if let Some((attr, mut all)) = derives(attrs)
        && !all.iter().any(|p| p.is_ident(name))
    {
        let ident = format_ident!("{name}");
        all.push(parse_quote!(#ident));
        *attr = parse_quote!(#[derive(#(#all),*)]);
    }
}

/// Removes `name` from the derives; whether it was there.
fn remove_derive(attrs: &mut [syn::Attribute], name: &str) -> bool {
    let Some((attr, all)) = derives(attrs) else {
        return false;
    };
    let kept: Vec<&syn::Path> = all.iter().filter(|p| !p.is_ident(name)).collect();
    if kept.len() == all.len() {
        return false;
    }
    *attr = parse_quote!(#[derive(#(#kept),*)]);
    true
}

/// typify breaks a type's cycle through itself (`repository.parent` is a `repository`) by
/// boxing the `Option`: `Box<Option<Repository>>`. That field is then not an `Option`, so it
/// has no `skip_serializing_if` (every request body carried `"parent": null`) and the struct
/// gets no `Default`. `Option<Box<Repository>>` breaks the cycle as well; this rewrites the
/// type everywhere in `types` (fields, builders, setter bounds), where values only move.
struct BoxedOptions;

impl VisitMut for BoxedOptions {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        visit_mut::visit_type_mut(self, ty);
        if let Some(inner) = generic_arg(ty, "Box").and_then(|t| generic_arg(&t, "Option")) {
            *ty = parse_quote!(::std::option::Option<::std::boxed::Box<#inner>>);
        }
    }
}

/// The names of the structs of the `types` module.
fn struct_names(module: &ItemMod) -> Vec<String> {
    let Some((_, items)) = &module.content else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(st) => Some(st.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// `Option<S>` for a generated struct `S` becomes `Option<Box<S>>`, in the types and their
/// builders alike. Nested inline, the types grow to kilobytes (a pull request holds two
/// endpoints, each a repository and a commit, ...), and serde's decoding of them takes that
/// much stack per level: half a megabyte of a debug build's 2 MiB thread for one pull request.
/// Boxed, each level holds pointers.
struct BoxedStructFields<'a> {
    structs: &'a [String],
}

impl VisitMut for BoxedStructFields<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        visit_mut::visit_type_mut(self, ty);
        let Some(inner) = generic_arg(ty, "Option") else {
            return;
        };
        let is_struct = matches!(&inner, Type::Path(p)
            if p.qself.is_none()
                && p.path.segments.last().is_some_and(|s| {
                    s.arguments.is_empty() && self.structs.iter().any(|name| s.ident == name)
                })
                && p.path.segments.iter().all(|s| s.ident == "super" || self.structs.iter().any(|n| s.ident == n)));
        if is_struct {
            *ty = parse_quote!(::std::option::Option<::std::boxed::Box<#inner>>);
        }
    }
}

/// The fields [`BoxedOptions`] turned into `Option<Box<T>>` still have typify's bare
/// `#[serde(default)]`: leave them out of what is sent when unset, like every other field.
fn skip_unset_boxed_fields(st: &mut ItemStruct) {
    let Fields::Named(fields) = &mut st.fields else {
        return;
    };
    for field in &mut fields.named {
        let boxed_option = generic_arg(&field.ty, "Option")
            .and_then(|t| generic_arg(&t, "Box"))
            .is_some();
        if !boxed_option {
            continue;
        }
        for attr in &mut field.attrs {
            let bare_default = attr.path().is_ident("serde")
                && attr
                    .meta
                    .require_list()
                    .is_ok_and(|list| list.tokens.to_string() == "default");
            if bare_default {
                *attr = parse_quote!(
                    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                );
            }
        }
    }
}

/// typify's enums for `type: string, enum: [...]`: unit variants only.
fn is_string_enum(e: &ItemEnum) -> bool {
    !e.variants.is_empty() && e.variants.iter().all(|v| matches!(v.fields, Fields::Unit))
}

fn open_enum(e: &mut ItemEnum) {
    // `Other(String)` is not `Copy`.
    remove_derive(&mut e.attrs, "Copy");
    e.variants.push(parse_quote! {
        /// A value this version of the crate does not know (Bitbucket added it later), kept
        /// exactly as sent.
        #[serde(untagged)]
        Other(::std::string::String)
    });
}

/// Makes `Display` and `FromStr` cover the `Other` variant.
fn open_enum_impl(imp: &mut ItemImpl) {
    let Some((_, path, _)) = &imp.trait_ else {
        return;
    };
    let Some(trait_name) = path.segments.last().map(|s| s.ident.to_string()) else {
        return;
    };
    for item in &mut imp.items {
        let ImplItem::Fn(f) = item else { continue };
        let Some(Stmt::Expr(Expr::Match(m), _)) = f.block.stmts.last_mut() else {
            continue;
        };
        match trait_name.as_str() {
            "Display" => m
                .arms
                .push(parse_quote!(Self::Other(ref value) => f.write_str(value),)),
            "FromStr" => {
                if let Some(last) = m.arms.last_mut() {
                    *last.body = parse_quote!(Ok(Self::Other(value.to_string())));
                }
            }
            _ => {}
        }
    }
}

fn add_struct_derives(st: &mut ItemStruct) {
    let Fields::Named(fields) = &st.fields else {
        return;
    };
    // The flattened `extra` map is the only field that is not an `Option`.
    let all_optional = fields.named.iter().all(|f| {
        generic_arg(&f.ty, "Option").is_some() || f.ident.as_ref().is_some_and(|i| i == "extra")
    });
    if all_optional {
        add_derive(&mut st.attrs, "Default");
    }
    add_derive(&mut st.attrs, "PartialEq");
}

/// `st` as a paginated envelope (`values: Option<Vec<T>>` beside `next`), if it is one.
fn envelope(st: &ItemStruct) -> Option<Envelope> {
    let Fields::Named(fields) = &st.fields else {
        return None;
    };
    let fields: Vec<(String, &Type)> = fields
        .named
        .iter()
        .filter_map(|f| Some((f.ident.as_ref()?.to_string(), &f.ty)))
        .collect();
    if !fields.iter().any(|(name, _)| name == "next") {
        return None;
    }
    let (_, values) = fields.iter().find(|(name, _)| name == "values")?;
    let item = generic_arg(&generic_arg(values, "Option")?, "Vec")?;
    Some(Envelope {
        ident: st.ident.clone(),
        item,
        fields: fields.into_iter().map(|(name, _)| name).collect(),
    })
}

/// `Wrapper<T>` → `T`.
fn generic_arg(ty: &Type, wrapper: &str) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

// -------------------------------------------------------------------------------------------
// builders
// -------------------------------------------------------------------------------------------

fn rewrite_builders(
    module: &mut ItemMod,
    by_name: &BTreeMap<&str, &Operation>,
    envelopes_by_name: &BTreeMap<String, Envelope>,
    envelopes: &mut Vec<Envelope>,
) -> Result<(), String> {
    let Some((_, items)) = &mut module.content else {
        return Ok(());
    };
    for item in items.iter_mut() {
        let Item::Impl(imp) = item else { continue };
        let Some(index) = imp
            .items
            .iter()
            .position(|i| matches!(i, ImplItem::Fn(f) if f.sig.ident == "send"))
        else {
            continue;
        };
        let ImplItem::Fn(send) = imp.items.remove(index) else {
            unreachable!()
        };
        let name = operation_id(&send).ok_or("a generated send has no operation id")?;
        let op = by_name
            .get(name.as_str())
            .ok_or_else(|| format!("unknown operation `{name}`"))?;
        let success =
            success_type(&send).ok_or_else(|| format!("`{name}`: unexpected send signature"))?;

        // Progenitor's statements up to the built request, minus its `api-version` header
        // (Bitbucket does not use it; requests carry only what the caller set).
        let mut stmts = Vec::new();
        for stmt in send.block.stmts {
            let text = quote!(#stmt).to_string();
            if text.contains("OperationInfo") {
                break;
            }
            if text.contains("\"api-version\"") {
                continue;
            }
            stmts.push(stmt);
        }
        let constant = op.constant();
        let (ret, decode) = match &success {
            Success::Empty => (quote!(()), quote!(empty)),
            Success::Text => (quote!(::std::string::String), quote!(text)),
            Success::Json(ty) if op.accepted_without_body => {
                (quote!(crate::Completion<#ty>), quote!(completion))
            }
            Success::Json(ty) => (quote!(#ty), quote!(json)),
        };
        let send_doc = send_doc(op, &success);
        let new_items: Vec<ImplItem> = vec![
            parse_quote! {
                /// Builds the HTTP request without sending it.
                pub(crate) fn into_request(self) -> ::std::result::Result<(&'a super::Client, ::reqwest::Request), Error> {
                    #(#stmts)*
                    Ok((client, request))
                }
            },
            parse_quote! {
                #[doc = #send_doc]
                pub async fn send(self) -> ::std::result::Result<#ret, crate::Error> {
                    const OPERATION: &crate::Operation = &crate::operations::#constant;
                    let (client, request) = self
                        .into_request()
                        .map_err(|e| crate::Error::invalid_request(OPERATION, e))?;
                    crate::transport::execute(client, request, OPERATION).await?.#decode(OPERATION)
                }
            },
        ];
        imp.items.extend(new_items);

        if op.paginated {
            let envelope_ident = match &success {
                Success::Json(ty) => match &**ty {
                    Type::Path(path) => path.path.segments.last().map(|s| s.ident.clone()),
                    _ => None,
                },
                _ => None,
            }
            .ok_or_else(|| format!("`{name}` is paginated but does not return an envelope"))?;
            let envelope = envelopes_by_name
                .get(&envelope_ident.to_string())
                .ok_or_else(|| format!("`{name}`: no `values` in {envelope_ident}"))?;
            let item = &envelope.item;
            let item_path: Type = parse_quote!(types::#item);
            imp.items.push(parse_quote! {
                /// Every page of the list, starting with the one this builder describes. See
                /// [`crate::pagination`] for the options (`max_pages`, `max_items`,
                /// `concurrency`) and how pages are fetched.
                pub fn pages(self) -> crate::pagination::Pages<#item_path> {
                    const OPERATION: &crate::Operation = &crate::operations::#constant;
                    let client = self.client;
                    crate::pagination::Pages::new::<types::#envelope_ident>(
                        client,
                        self.into_request()
                            .map(|(_, request)| request)
                            .map_err(|e| crate::Error::invalid_request(OPERATION, e)),
                        OPERATION,
                    )
                }
            });
            imp.items.push(parse_quote! {
                /// Every item of the list, in order, across pages:
                /// `.stream().max_items(500).try_collect::<Vec<_>>().await?`. See
                /// [`crate::pagination`] for the options and how pages are fetched.
                pub fn stream(self) -> crate::pagination::Items<#item_path> {
                    self.pages().items()
                }
            });
            imp.items.push(parse_quote! {
                /// The pages of the list from a cursor saved with `resume_cursor()` (a link to
                /// a page, as the earlier stream gave it): the list continues where that stream
                /// stopped. The builder's parameters are not used: the cursor carries them. A
                /// cursor on another origin than the client's yields
                /// [`crate::Error::ForeignNextLink`] and sends nothing.
                pub fn resume(self, cursor: &str) -> crate::pagination::Pages<#item_path> {
                    const OPERATION: &crate::Operation = &crate::operations::#constant;
                    crate::pagination::Pages::resume::<types::#envelope_ident>(
                        self.client,
                        cursor,
                        OPERATION,
                    )
                }
            });
            if !envelopes.iter().any(|e| e.ident == envelope_ident) {
                envelopes.push(envelope.clone());
            }
        }
    }
    Ok(())
}

enum Success {
    Empty,
    Text,
    Json(Box<Type>),
}

/// `Result<ResponseValue<T>, Error<..>>` → what `T` means.
fn success_type(send: &syn::ImplItemFn) -> Option<Success> {
    let syn::ReturnType::Type(_, ty) = &send.sig.output else {
        return None;
    };
    let response_value = generic_arg(ty, "Result")?;
    let inner = generic_arg(&response_value, "ResponseValue")?;
    Some(match &inner {
        Type::Tuple(t) if t.elems.is_empty() => Success::Empty,
        Type::Path(p) if p.path.is_ident("ByteStream") => Success::Text,
        _ => Success::Json(Box::new(inner)),
    })
}

/// The `operation_id` of `let info = OperationInfo { operation_id: "..." }`.
fn operation_id(send: &syn::ImplItemFn) -> Option<String> {
    send.block.stmts.iter().find_map(|stmt| {
        let Stmt::Local(local) = stmt else {
            return None;
        };
        let Expr::Struct(s) = &*local.init.as_ref()?.expr else {
            return None;
        };
        s.fields.iter().find_map(|field| match &field.expr {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => Some(lit.value()),
            _ => None,
        })
    })
}

fn send_doc(op: &Operation, success: &Success) -> String {
    let what = match success {
        Success::Empty => {
            "Bitbucket answers without a body; `Ok(())` means it succeeded.".to_string()
        }
        Success::Text => "Returns the body as text.".to_string(),
        Success::Json(_) if op.accepted_without_body => {
            "Returns [`Completion::Done`](crate::Completion::Done) with the result, or \
             [`Completion::Accepted`](crate::Completion::Accepted) when Bitbucket answers 202 \
             and finishes the work later."
                .to_string()
        }
        Success::Json(_) if op.paginated => {
            "Returns one page. `stream()` yields every item across pages and `pages()` every page."
                .to_string()
        }
        Success::Json(_) => "Returns the decoded response.".to_string(),
    };
    format!(
        " Sends `{} {}` through the client (authentication, retries, policy).\n\n {what}\n\n \
         Fails with a [`crate::Error`] that keeps the status, Bitbucket's error body and a hint.",
        op.method, op.path
    )
}

// -------------------------------------------------------------------------------------------
// docs of the operation methods
// -------------------------------------------------------------------------------------------

fn document_client_methods(
    imp: &mut ItemImpl,
    by_name: &BTreeMap<&str, &Operation>,
) -> Result<(), String> {
    for item in &mut imp.items {
        let ImplItem::Fn(f) = item else { continue };
        let name = f.sig.ident.to_string();
        let op = by_name
            .get(name.as_str())
            .ok_or_else(|| format!("unknown operation method `{name}`"))?;
        // progenitor's example (`ignore`d: its arguments are placeholders) gives way to one
        // that compiles.
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
            }
        }
        let extra = operation_doc(op);
        f.attrs.push(parse_quote!(#[doc = #extra]));
    }
    Ok(())
}

/// A compiled (`no_run`) example calling the operation with plausible arguments.
fn example(op: &Operation) -> String {
    let mut call = format!("client\n    .{}()", op.name);
    for param in &op.path_params {
        let value = match param.as_str() {
            "workspace" => "\"my-workspace\"",
            "repo_slug" => "\"my-repo\"",
            "commit" => "\"7b9e1f0c2d3a\"",
            "name" => "\"feature/login\"",
            "pipeline_uuid" => "\"{3fa85f64-5717-4562-b3fc-2c963f66afa6}\"",
            "uid" => "\"{d3e7ac4f-1b2c-4d5e-8f90-a1b2c3d4e5f6}\"",
            "project_key" => "\"PROJ\"",
            _ if op.integer_params.contains(param) => "42",
            _ => "\"...\"",
        };
        call += &format!("\n    .{param}({value})");
    }
    if let Some(schema) = &op.body_schema {
        let ty = upper_camel(schema);
        call += &format!(
            "\n    .body(types::{ty} {{\n        // the fields to send; the others stay unset\n        ..Default::default()\n    }})"
        );
    }
    let (binding, tail, imports) = if op.paginated {
        (
            "let items: Vec<_> = ",
            "\n    .stream()\n    .try_collect()\n    .await?;",
            "use futures_util::TryStreamExt as _;\n",
        )
    } else if op.no_content {
        ("", "\n    .send()\n    .await?;", "")
    } else {
        ("let answer = ", "\n    .send()\n    .await?;", "")
    };
    let uses_types = if op.body_schema.is_some() {
        "use bitbucket_cloud::types;\n"
    } else {
        ""
    };
    format!(
        "```no_run\n{imports}{uses_types}# async fn example(client: &bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {{\n{binding}{call}{tail}\n# Ok(())\n# }}\n```\n"
    )
}

/// The sections appended to an operation's docs: scopes, pagination, deprecation, reference.
fn operation_doc(op: &Operation) -> String {
    let mut doc = format!("\n\n# Example\n\n{}\n# Scopes\n\n", example(op));
    doc += &format!(
        "- OAuth 2.0 and access tokens (classic): {}\n",
        code_list(&op.classic_scopes, "none listed")
    );
    doc += &format!(
        "- API tokens (granular): {}\n",
        code_list(&op.granular_scopes, "none listed")
    );
    if op.paginated {
        doc += "\n# Pagination\n\nPaginated. `send()` returns one page; `stream()` yields every item \
                across pages, `pages()` every page, and `resume(cursor)` continues a list where an \
                earlier stream stopped. See [`crate::pagination`].\n";
    }
    if op.deprecated {
        doc += "\n# Deprecated upstream\n\nAtlassian marks this operation deprecated in the official \
                document. It still works; expect it to be removed in a future version of the API.\n";
    }
    doc += &format!("\nReference: <{}>\n", reference_url(op));
    doc
}

/// The operation's page in Atlassian's REST reference.
fn reference_url(op: &Operation) -> String {
    let group = op
        .tags
        .first()
        .map(|t| t.to_ascii_lowercase().replace(' ', "-"))
        .unwrap_or_default();
    let anchor: String = op
        .path
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
    format!(
        "https://developer.atlassian.com/cloud/bitbucket/rest/api-group-{group}/#api-{anchor}-{}",
        op.method.to_ascii_lowercase()
    )
}
