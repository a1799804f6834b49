//! Rewrites progenitor's output so that it fits the overlay. The operation builders are
//! rewritten in `builders.rs` and the method docs written in `docs.rs`; this file holds the
//! rest and runs the whole.
//!
//! - typify's per-type builders (`types::builder`, `Type::builder()`) are removed: bodies are
//!   struct literals with `..Default::default()`, and the builders were a third of the code.
//! - String enums get an `Other(String)` variant, so values Bitbucket adds later decode, and
//!   are kept.
//! - Structs derive `Default` and `PartialEq` (every field is optional once the xtask is done);
//!   enums that hold values (`oneOf`) derive `PartialEq` too. A field holding another struct
//!   is an `Option<Box<T>>` (typify's `Box<Option<T>>` cycle breaks included), which keeps the
//!   types small and their decoding shallow on the stack.
//! - Structs get a `Debug` that prints each field through `crate::redact`, which applies the
//!   crate's redaction rules at run time: secret-named fields and JSON keys (`extra` included,
//!   at any depth) print `[redacted]`, as does the `value` of a type with a `secured` flag.
//!   One rule for every type, present and future, rather than a list of fields.
//! - The progenitor plumbing the overlay replaces (`ClientInfo`, `ClientHooks`, `Client::new`,
//!   the prelude) is removed.
//! - Each generated item says on docs.rs which cargo feature gives it.
//!
//! progenitor is pinned exactly: the rewrite depends on the shape of its output. Every shape
//! it expects is checked, and what it does not find fails the build naming it.

use std::collections::{BTreeMap, BTreeSet};

use quote::{format_ident, quote};
use syn::visit_mut::{self, VisitMut};
use syn::{
    Expr, Fields, ImplItem, Item, ItemEnum, ItemImpl, ItemMod, ItemStruct, Stmt, Type, parse_quote,
};

use crate::builders::{Rewritten, rewrite_builders};
use crate::docs::document_client_methods;
use crate::spec::Operation;

/// What the rewrite learnt that the other generated files need.
pub struct Generated {
    /// What each generated operation's builder became.
    pub operations: Vec<Rewritten>,
    /// Every envelope-shaped type (`values` beside `next`), by name.
    pub envelopes_by_name: BTreeMap<String, Envelope>,
    /// The struct and enum names of `types`.
    pub types: BTreeSet<String>,
}

impl Generated {
    /// What the builder of the operation `name` became.
    pub fn operation(&self, name: &str) -> Result<&Rewritten, String> {
        self.operations
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| format!("`{name}` was not generated"))
    }

    /// The envelopes of the paginated operations, once each.
    pub fn envelopes(&self) -> Vec<Envelope> {
        let mut out: Vec<Envelope> = Vec::new();
        for envelope in self.operations.iter().filter_map(|r| r.envelope.as_ref()) {
            if !out.iter().any(|e| e.ident == envelope.ident) {
                out.push(envelope.clone());
            }
        }
        out
    }
}

/// A paginated envelope type and what it holds.
#[derive(Clone)]
pub struct Envelope {
    pub ident: syn::Ident,
    pub item: Type,
    /// The field holding the items: `values` (Data Center also says `results` and `lines`).
    pub items: syn::Ident,
    /// Its fields (`next`, `page`, `size`, ...).
    pub fields: Vec<String>,
}

/// Rewrites progenitor's output for `operations` (those of the enabled features). Every part
/// of the output it expects is checked; what it does not find is an error that names it.
pub fn rewrite(file: &mut syn::File, operations: &[&Operation]) -> Result<Generated, String> {
    let by_name: BTreeMap<&str, &Operation> = operations
        .iter()
        .map(|op| (op.name.as_str(), *op))
        .collect();
    let mut envelopes_by_name: BTreeMap<String, Envelope> = BTreeMap::new();

    // Types first: the sends need to know each envelope's item type.
    let types_index = file
        .items
        .iter()
        .position(|item| matches!(item, Item::Mod(m) if m.ident == "types"))
        .ok_or("progenitor generated no `mod types`")?;
    let Item::Mod(types) = &mut file.items[types_index] else {
        unreachable!("the position found is a module")
    };
    rewrite_types(types, &mut envelopes_by_name)?;
    let type_names = types
        .content
        .as_ref()
        .map(|(_, items)| struct_and_enum_names(items))
        .unwrap_or_default();

    // Then the builders, whose parameters the method docs use for their examples.
    let mut rewritten = None;
    for item in &mut file.items {
        if let Item::Mod(module) = item
            && module.ident == "builder"
        {
            rewritten = Some(rewrite_builders(module, &by_name, &envelopes_by_name)?);
        }
    }
    let rewritten = rewritten.ok_or("progenitor generated no `mod builder`")?;
    let params: BTreeMap<String, Vec<(String, Type)>> = rewritten
        .iter()
        .filter_map(|r| {
            let op = by_name.get(r.name.as_str())?;
            Some((op.builder().to_string(), r.params.clone()))
        })
        .collect();

    let mut kept = Vec::new();
    let mut client_struct = false;
    let mut documented = 0;
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
            Item::Impl(imp) if self_is(imp, "Client") => {
                documented += document_client_methods(imp, &by_name, &params)?;
            }
            Item::Struct(st) if st.ident == "Client" => {
                // The overlay documents `Client` and implements a `Debug` that shows no secret.
                st.attrs.retain(|a| !a.path().is_ident("doc"));
                if !remove_derive(&mut st.attrs, "Debug") {
                    return Err("progenitor's `Client` no longer derives `Debug`".into());
                }
                client_struct = true;
            }
            Item::Mod(module) if module.ident == "prelude" => continue,
            _ => {}
        }
        kept.push(item);
    }
    file.items = kept;
    if !client_struct {
        return Err("progenitor generated no `struct Client`".into());
    }
    if documented != operations.len() {
        return Err(format!(
            "{documented} operation methods were found on `Client` for {} operations",
            operations.len()
        ));
    }

    // Last, each type says on docs.rs which features give it.
    let Item::Mod(types) = file
        .items
        .iter_mut()
        .find(|item| matches!(item, Item::Mod(m) if m.ident == "types"))
        .expect("kept above")
    else {
        unreachable!("found as a module")
    };
    mark_type_features(types, operations, &rewritten);

    Ok(Generated {
        operations: rewritten,
        envelopes_by_name,
        types: type_names,
    })
}

fn is_trait_impl(imp: &ItemImpl, name: &str) -> bool {
    imp.trait_
        .as_ref()
        .is_some_and(|(path, _)| path.segments.last().is_some_and(|s| s.ident == name))
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

fn rewrite_types(
    module: &mut ItemMod,
    envelopes_by_name: &mut BTreeMap<String, Envelope>,
) -> Result<(), String> {
    remove_typify_builders(module)?;
    // Before anything looks at field types: `add_struct_derives` needs every field an `Option`.
    BoxedOptions.visit_item_mod_mut(module);
    let structs = struct_names(module);
    BoxedStructFields { structs: &structs }.visit_item_mod_mut(module);
    let Some((_, items)) = &mut module.content else {
        return Err("progenitor's `mod types` has no content".into());
    };
    let mut open_enums = Vec::new();
    let mut deserializers = Vec::new();
    let mut from_str = Vec::new();
    for item in items.iter_mut() {
        match item {
            Item::Enum(e) if is_string_enum(e) => {
                deserializers.push(open_enum(e)?);
                open_enums.push(e.ident.to_string());
            }
            Item::Enum(e) => add_derive(&mut e.attrs, "PartialEq"),
            Item::Struct(st) => {
                skip_unset_boxed_fields(st);
                add_struct_derives(st);
                if let Some(envelope) = envelope(st) {
                    envelopes_by_name.insert(st.ident.to_string(), envelope);
                }
                if let Some(decode) = decode_through_a_map(st) {
                    deserializers.push(decode);
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
            if open_enums.contains(&name) && open_enum_impl(imp) {
                from_str.push(name);
            }
        }
    }
    if let Some(missing) = open_enums.iter().find(|name| !from_str.contains(name)) {
        return Err(format!(
            "typify generated no `FromStr` for the enum `{missing}`, which its `Deserialize` uses"
        ));
    }
    items.extend(deserializers);
    redacting_debug(items);
    items.push(parse_quote! {
        /// One field of a JSON object being decoded (see `decode_through_a_map` in the build):
        /// taken out of the object, so that what remains is the struct's `extra`; `null` is
        /// `None`, like an absent field. A value that does not fit the field's type (the
        /// document is wrong about it, or Bitbucket changed it) goes back into the object, so
        /// it is kept in `extra` as sent rather than failing the whole answer, and is logged.
        fn field<T: ::serde::de::DeserializeOwned>(
            fields: &mut ::serde_json::Map<::std::string::String, ::serde_json::Value>,
            object: &'static str,
            name: &'static str,
        ) -> ::std::option::Option<T> {
            let value = fields.remove(name)?;
            if value.is_null() {
                return None;
            }
            match T::deserialize(&value) {
                Ok(decoded) => Some(decoded),
                Err(_) => {
                    misfit(object, name, ::std::any::type_name::<T>(), &value);
                    fields.insert(name.to_string(), value);
                    None
                }
            }
        }
    });
    items.push(parse_quote! {
        /// Logs a field that does not fit its type (one function, not one per field type).
        /// Not serde's message, which may quote the value (a secret, say): what kind of value
        /// came instead.
        #[cold]
        fn misfit(object: &str, field: &str, expected: &str, value: &::serde_json::Value) {
            let sent = match value {
                ::serde_json::Value::Bool(_) => "a boolean",
                ::serde_json::Value::Number(_) => "a number",
                ::serde_json::Value::String(_) => "a string",
                ::serde_json::Value::Array(_) => "a list",
                ::serde_json::Value::Object(_) => "an object",
                ::serde_json::Value::Null => "null",
            };
            ::tracing::warn!(
                object,
                field,
                expected,
                sent,
                "a field Bitbucket sent does not fit its declared type; kept as sent in `extra`"
            );
        }
    });
    Ok(())
}

/// Removes typify's per-type builders (`mod builder` in `types`, and each type's
/// `fn builder()`): request bodies are written as struct literals with
/// `..Default::default()`, and the builders were a third of the generated code.
fn remove_typify_builders(module: &mut ItemMod) -> Result<(), String> {
    let Some((_, items)) = &mut module.content else {
        return Err("progenitor's `mod types` has no content".into());
    };
    let before = items.len();
    items.retain(|item| !matches!(item, Item::Mod(m) if m.ident == "builder"));
    let had_builders = items.len() < before;
    items.retain(|item| {
        let Item::Impl(imp) = item else { return true };
        let only_builder_fn = imp.trait_.is_none()
            && imp.items.len() == 1
            && matches!(&imp.items[0], ImplItem::Fn(f) if f.sig.ident == "builder");
        !only_builder_fn
    });
    let has_structs = items.iter().any(|item| matches!(item, Item::Struct(_)));
    if has_structs && !had_builders {
        return Err(
            "typify generated no `types::builder` module: its output changed shape (the \
             builders are expected, and removed)"
                .into(),
        );
    }
    let mut leftover = BuilderPaths::default();
    for item in items.iter_mut() {
        leftover.visit_item_mut(item);
    }
    if let Some(path) = leftover.found {
        return Err(format!(
            "`types` still refers to a typify builder after removing them: `{path}`"
        ));
    }
    Ok(())
}

/// Finds a path through `builder::` in the types.
#[derive(Default)]
struct BuilderPaths {
    found: Option<String>,
}

impl VisitMut for BuilderPaths {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.segments.iter().any(|s| s.ident == "builder") {
            self.found = Some(quote!(#path).to_string());
        }
        visit_mut::visit_path_mut(self, path);
    }
}

/// The names of the structs and enums among `items`.
fn struct_and_enum_names(items: &[Item]) -> BTreeSet<String> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(st) => Some(st.ident.to_string()),
            Item::Enum(e) => Some(e.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// Marks each type that only some features reach with
/// `#[cfg_attr(docsrs, doc(cfg(any(feature = "..", ..))))]`: the features whose operations
/// use it (as a parameter, a body or an answer, directly or through another type). Types that
/// every feature of the build reaches are left unmarked.
fn mark_type_features(module: &mut ItemMod, operations: &[&Operation], rewritten: &[Rewritten]) {
    let Some((_, items)) = &mut module.content else {
        return;
    };
    let names = struct_and_enum_names(items);
    // Which types each type refers to.
    let mut refers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in items.iter_mut() {
        let ident = match item {
            Item::Struct(st) => st.ident.to_string(),
            Item::Enum(e) => e.ident.to_string(),
            _ => continue,
        };
        let mut found = TypeNames::new(&names);
        found.visit_item_mut(item);
        found.found.remove(&ident);
        refers.insert(ident, found.found);
    }
    let by_name: BTreeMap<&str, &Operation> = operations
        .iter()
        .map(|op| (op.name.as_str(), *op))
        .collect();
    let mut features_of: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for r in rewritten {
        let Some(op) = by_name.get(r.name.as_str()) else {
            continue;
        };
        let mut roots = TypeNames::new(&names);
        for (_, ty) in &r.params {
            roots.visit_type_mut(&mut ty.clone());
        }
        if let Some(ty) = &r.json {
            roots.visit_type_mut(&mut ty.clone());
        }
        let mut pending: Vec<String> = roots.found.into_iter().collect();
        let mut seen = BTreeSet::new();
        while let Some(name) = pending.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            features_of
                .entry(name.clone())
                .or_default()
                .insert(op.feature.as_str());
            pending.extend(refers.get(&name).into_iter().flatten().cloned());
        }
    }
    let all: BTreeSet<&str> = operations.iter().map(|op| op.feature.as_str()).collect();
    for item in items.iter_mut() {
        let (ident, attrs) = match item {
            Item::Struct(st) => (st.ident.to_string(), &mut st.attrs),
            Item::Enum(e) => (e.ident.to_string(), &mut e.attrs),
            _ => continue,
        };
        let Some(features) = features_of.get(&ident) else {
            continue;
        };
        if *features == all {
            continue;
        }
        let features = features.iter();
        attrs.push(parse_quote!(#[cfg_attr(docsrs, doc(cfg(any(#(feature = #features),*))))]));
    }
}

/// The names of `types` that a piece of code mentions.
struct TypeNames<'a> {
    names: &'a BTreeSet<String>,
    found: BTreeSet<String>,
}

impl<'a> TypeNames<'a> {
    fn new(names: &'a BTreeSet<String>) -> Self {
        Self {
            names,
            found: BTreeSet::new(),
        }
    }
}

impl VisitMut for TypeNames<'_> {
    fn visit_path_segment_mut(&mut self, segment: &mut syn::PathSegment) {
        let ident = segment.ident.to_string();
        if self.names.contains(&ident) {
            self.found.insert(ident);
        }
        visit_mut::visit_path_segment_mut(self, segment);
    }
}

/// A struct whose fields are all optional beside a flattened `extra` map (every response type
/// once the xtask is done) is decoded through a JSON map: the object is read as a
/// `serde_json::Map`, each field is taken out of it by name and decoded, and what remains is
/// `extra`. serde's derive, for the same result, writes a visitor per struct and per
/// deserializer that buffers unknown fields field by field: a third of the crate's code and
/// compile time. A field whose value does not fit its type is kept in `extra` as sent (and
/// logged), so an answer is never refused, nor anything lost, for one wrong field. Returns
/// the `Deserialize` impl, having removed the derive; `None` (the derive stays) for any other
/// shape of struct or field attribute.
fn decode_through_a_map(st: &mut ItemStruct) -> Option<Item> {
    let Fields::Named(fields) = &st.fields else {
        return None;
    };
    let mut takes = Vec::new();
    let mut extra = None;
    let object = st.ident.to_string();
    for field in &fields.named {
        let ident = field.ident.as_ref()?;
        let mut name = ident.to_string();
        let mut flatten = false;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
            let mut understood = true;
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let value: syn::LitStr = meta.value()?.parse()?;
                    name = value.value();
                } else if meta.path.is_ident("skip_serializing_if") {
                    let _: syn::LitStr = meta.value()?.parse()?;
                } else if meta.path.is_ident("flatten") {
                    flatten = true;
                } else if !meta.path.is_ident("default") {
                    understood = false;
                }
                Ok(())
            })
            .ok()?;
            if !understood {
                return None;
            }
        }
        let ty = &field.ty;
        let is_map = quote!(#ty)
            .to_string()
            .replace(' ', "")
            .contains("serde_json::Map<");
        match (flatten, generic_arg(&field.ty, "Option")) {
            (true, _) if ident == "extra" && is_map => extra = Some(ident.clone()),
            (false, Some(_)) => takes.push(quote!(#ident: field(&mut fields, #object, #name))),
            _ => return None,
        }
    }
    let extra = extra?;
    if !remove_derive(&mut st.attrs, "::serde::Deserialize") {
        return None;
    }
    let ident = &st.ident;
    Some(parse_quote! {
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let mut fields = <::serde_json::Map<::std::string::String, ::serde_json::Value>
                    as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self {
                    #(#takes,)*
                    #extra: fields,
                })
            }
        }
    })
}

/// Replaces the derived `Debug` of every struct with named fields in `items` by one that
/// prints each field through `crate::redact` (see its docs for the rules): `json` for fields
/// holding JSON or form fields (`extra`, `serde_json::Value`), `secured` for the `value` of a struct with a
/// `secured` flag, `field` for the others.
fn redacting_debug(items: &mut Vec<Item>) {
    let mut impls: Vec<Item> = Vec::new();
    for item in items.iter_mut() {
        let Item::Struct(st) = item else { continue };
        let Fields::Named(fields) = &st.fields else {
            continue;
        };
        if !remove_derive(&mut st.attrs, "Debug") {
            continue;
        }
        let has = |name: &str| {
            fields
                .named
                .iter()
                .any(|f| f.ident.as_ref().is_some_and(|i| i == name))
        };
        let secured = has("secured") && has("value");
        let ident = &st.ident;
        let name = ident.to_string();
        let (impl_generics, ty_generics, where_clause) = st.generics.split_for_impl();
        let entries = fields.named.iter().filter_map(|f| {
            let field = f.ident.as_ref()?;
            let label = field.to_string().trim_end_matches('_').to_string();
            let ty = &f.ty;
            let ty = quote!(#ty).to_string();
            Some(if ty.contains("serde_json") || ty.contains("HashMap") {
                quote!(.field(#label, &crate::redact::json(#label, &self.#field)))
            } else if secured && field == "value" {
                quote!(.field(#label, &crate::redact::secured(&self.secured, #label, &self.#field)))
            } else {
                quote!(.field(#label, &crate::redact::field(#label, &self.#field)))
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

/// Removes `name` (`Debug`, or a path such as `::serde::Deserialize`) from the derives;
/// whether it was there.
fn remove_derive(attrs: &mut [syn::Attribute], name: &str) -> bool {
    let Some((attr, all)) = derives(attrs) else {
        return false;
    };
    let is_it = |p: &syn::Path| p.is_ident(name) || quote!(#p).to_string().replace(' ', "") == name;
    let kept: Vec<&syn::Path> = all.iter().filter(|p| !is_it(p)).collect();
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

fn open_enum(e: &mut ItemEnum) -> Result<Item, String> {
    // `Other(String)` is not `Copy`.
    remove_derive(&mut e.attrs, "Copy");
    // Decoded from a string through `FromStr` (below), rather than by serde's derive, whose
    // untagged `Other` buffers every value to try each variant in turn: far more code, in
    // every enum, for the same result.
    if !remove_derive(&mut e.attrs, "::serde::Deserialize") {
        return Err(format!(
            "typify's enum `{}` no longer derives `Deserialize`",
            e.ident
        ));
    }
    let ident = &e.ident;
    let deserialize: Item = parse_quote! {
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let value = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                match <Self as ::std::str::FromStr>::from_str(&value) {
                    Ok(known) => Ok(known),
                    Err(_) => Ok(Self::Other(value)),
                }
            }
        }
    };
    e.variants.push(parse_quote! {
        /// A value this version of the crate does not know (Bitbucket added it later), kept
        /// exactly as sent.
        #[serde(untagged)]
        Other(::std::string::String)
    });
    Ok(deserialize)
}

/// Makes `Display` and `FromStr` cover the `Other` variant; whether this is the `FromStr`.
fn open_enum_impl(imp: &mut ItemImpl) -> bool {
    let Some((path, _)) = &imp.trait_ else {
        return false;
    };
    let Some(trait_name) = path.segments.last().map(|s| s.ident.to_string()) else {
        return false;
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
                return true;
            }
            _ => {}
        }
    }
    false
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
    // Cloud's pages link to the next one; Data Center's say whether they are the last.
    let (marker, item_fields): (&str, &[&str]) = match crate::product().paging {
        crate::Paging::NextLinks => ("next", &["values"]),
        crate::Paging::StartLimit => ("is_last_page", &["values", "results", "lines"]),
    };
    if !fields.iter().any(|(name, _)| name == marker) {
        return None;
    }
    let (items, values) = fields
        .iter()
        .find(|(name, _)| item_fields.contains(&name.as_str()))?;
    let item = generic_arg(&generic_arg(values, "Option")?, "Vec")?;
    Some(Envelope {
        ident: st.ident.clone(),
        item,
        items: format_ident!("{items}"),
        fields: fields.iter().map(|(name, _)| name.clone()).collect(),
    })
}

/// `Wrapper<T>` → `T`.
pub fn generic_arg(ty: &Type, wrapper: &str) -> Option<Type> {
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

/// How generated code names an envelope's item type: `types::RestBranch` for one of the
/// document's types, the type itself for an untyped item (`::serde_json::Value`).
pub fn item_type(item: &Type) -> Type {
    let named = matches!(item, Type::Path(p) if p.qself.is_none()
        && p.path.leading_colon.is_none()
        && p.path.segments.len() == 1);
    if named {
        syn::parse_quote!(types::#item)
    } else {
        item.clone()
    }
}
