//! Rewrites progenitor's operation builders (`mod builder`) so that they fit the overlay.
//!
//! - `send` is split into `into_request` (progenitor's code that builds the
//!   `reqwest::Request`) and a `send` that runs it through `crate::transport` and returns
//!   `Result<T, crate::Error>`, `T` being what the operation's answer is (`x-answer`): the JSON
//!   type, `String`, `bytes::Bytes`, `()`, or a `Completion` for an answer that may come later.
//!   Paginated builders also get `pages()`, `stream()` and `resume()`.
//! - A body is kept as the type it is sent as (typify's per-type builders are gone, so are
//!   progenitor's `body_map` setters that took them), and a form body is encoded by
//!   `crate::form`, which repeats a key for each item of a list (`include=a&include=b`).
//!
//! Every shape this expects of progenitor's output is checked: what it does not find fails the
//! build with a message naming it, rather than generating something else.

use std::collections::BTreeMap;

use quote::{format_ident, quote};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Fields, ImplItem, Item, ItemMod, Stmt, Type, parse_quote};

use crate::docs::send_doc;
use crate::rewrite::{Envelope, generic_arg};
use crate::spec::{Answer, Operation};

/// What the rewrite of one builder learnt.
pub struct Rewritten {
    pub name: String,
    /// What `send()` decodes a JSON answer as (`types::Branch`), for a JSON answer.
    pub json: Option<Type>,
    /// The envelope a paginated operation's pages are, and what they hold.
    pub envelope: Option<Envelope>,
    /// The builder's parameters (path, query, body) and their types.
    pub params: Vec<(String, Type)>,
    /// Whether its body is a form (encoded by `crate::form`).
    pub form: bool,
}

/// What the operation's `send` of progenitor returned: `ResponseValue<T>`.
pub enum Success {
    Empty,
    Raw,
    Json(Box<Type>),
}

pub fn rewrite_builders(
    module: &mut ItemMod,
    by_name: &BTreeMap<&str, &Operation>,
    envelopes_by_name: &BTreeMap<String, Envelope>,
) -> Result<Vec<Rewritten>, String> {
    let Some((_, items)) = &mut module.content else {
        return Err("progenitor's `mod builder` has no content".into());
    };
    // The typify builders are gone: bodies are kept as their own types.
    BodiesAsTheirTypes.visit_item_mod_mut_items(items);
    let mut params_of: BTreeMap<String, Vec<(String, Type)>> = BTreeMap::new();
    for item in items.iter_mut() {
        match item {
            Item::Struct(st) => {
                let Fields::Named(fields) = &st.fields else {
                    continue;
                };
                let params = fields
                    .named
                    .iter()
                    .filter_map(|f| {
                        let name = f.ident.as_ref()?.to_string();
                        let ty = generic_arg(&f.ty, "Result")?;
                        Some((name, ty))
                    })
                    .collect();
                params_of.insert(st.ident.to_string(), params);
                // Docs of the builder: the feature it needs.
                let builder = st.ident.to_string();
                if let Some(op) = by_name.values().find(|op| op.builder() == builder) {
                    st.attrs.push(op.doc_cfg());
                    if !op.form_fields.is_empty() {
                        add_form_field(st, op)?;
                    }
                }
            }
            Item::Impl(imp) => {
                imp.items
                    .retain(|i| !matches!(i, ImplItem::Fn(f) if f.sig.ident == "body_map"));
                let builder = match &*imp.self_ty {
                    Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                };
                let with_form = by_name.values().find(|op| {
                    !op.form_fields.is_empty() && Some(op.builder().to_string()) == builder
                });
                if let Some(op) = with_form {
                    init_form_field(imp, op)?;
                }
            }
            _ => {}
        }
    }

    let mut out = Vec::new();
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
            unreachable!("the position found is a fn")
        };
        let name = operation_id(&send)
            .ok_or("a generated `send` has no `OperationInfo { operation_id: \"..\" }`")?;
        let op = by_name.get(name.as_str()).ok_or_else(|| {
            format!("progenitor generated `{name}`, which is not to be generated")
        })?;
        let builder = match &*imp.self_ty {
            Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        if builder.as_deref() != Some(op.builder().to_string().as_str()) {
            return Err(format!(
                "`{name}`: its `send` is on {builder:?}, not on the builder `{}`",
                op.builder()
            ));
        }
        let success = success_type(&send).ok_or_else(|| {
            format!("`{name}`: `send` does not return `Result<ResponseValue<T>, Error<..>>`")
        })?;
        check_answer(op, &success)?;

        // Progenitor's statements up to the built request, minus its `api-version` header
        // (Bitbucket does not use it; requests carry only what the caller set).
        let mut stmts = Vec::new();
        let mut reached_request = false;
        for stmt in send.block.stmts {
            let text = quote!(#stmt).to_string();
            if text.contains("OperationInfo") {
                reached_request = true;
                break;
            }
            if text.contains("\"api-version\"") {
                continue;
            }
            stmts.push(stmt);
        }
        if !reached_request {
            return Err(format!(
                "`{name}`: `send` has no `let info = OperationInfo {{ .. }}` after building the \
                 request, where the rewrite cuts it"
            ));
        }
        let built_request = stmts.iter().any(|stmt| {
            matches!(stmt, Stmt::Local(local)
                if matches!(&local.pat, syn::Pat::Ident(p) if p.ident == "request"))
        });
        if !built_request {
            return Err(format!("`{name}`: `send` builds no `let request = ..`"));
        }
        let mut forms = FormBodies { found: false };
        for stmt in &mut stmts {
            forms.visit_stmt_mut(stmt);
        }
        // A trailing `{path}` (a file in a repository, an attachment) keeps its slashes; one
        // glued to literal text in its segment (`compare/diff{path}`) also gets its leading
        // `/` (`compare/diff/src/lib.rs`).
        if op.path.ends_with("{path}") {
            let mut paths = FilePaths {
                found: false,
                glued: !op.path.ends_with("/{path}"),
            };
            for stmt in &mut stmts {
                paths.visit_stmt_mut(stmt);
            }
            if !paths.found {
                return Err(format!(
                    "`{name}`: its path ends with `{{path}}`, but `into_request` has no \
                     `encode_path(&path.to_string())` to keep its slashes"
                ));
            }
        }

        if !op.form_fields.is_empty() {
            let mut rest = DestructureWithRest { found: false };
            for stmt in &mut stmts {
                rest.visit_stmt_mut(stmt);
            }
            if !rest.found {
                return Err(format!(
                    "`{name}`: `send` has no `let Self {{ .. }} = self;` to leave its form out of"
                ));
            }
        }

        let constant = op.constant();
        let (ret, decode) = match (&success, op.answer) {
            (Success::Empty, _) => (quote!(()), quote!(empty)),
            (Success::Raw, Answer::Text) => (quote!(::std::string::String), quote!(text)),
            (Success::Raw, _) => (quote!(::bytes::Bytes), quote!(bytes)),
            (Success::Json(ty), _) if op.accepted_without_body => {
                (quote!(crate::Completion<#ty>), quote!(completion))
            }
            (Success::Json(ty), _) => (quote!(#ty), quote!(json)),
        };
        let send_doc = send_doc(op);
        let mut new_items: Vec<ImplItem> = vec![parse_quote! {
            /// Builds the HTTP request without sending it.
            pub(crate) fn into_request(self) -> ::std::result::Result<(&'a super::Client, ::reqwest::Request), Error> {
                #(#stmts)*
                Ok((client, request))
            }
        }];
        if op.form_fields.is_empty() {
            new_items.push(parse_quote! {
                #[doc = #send_doc]
                pub async fn send(self) -> ::std::result::Result<#ret, crate::Error> {
                    const OPERATION: &crate::Operation = &crate::operations::#constant;
                    let (client, request) = self
                        .into_request()
                        .map_err(|e| crate::Error::invalid_request(OPERATION, e))?;
                    crate::transport::execute(client, request, OPERATION).await?.#decode(OPERATION)
                }
            });
        } else {
            if matches!(success, Success::Raw) {
                return Err(format!(
                    "`{name}`: a multipart upload that answers a file is not supported"
                ));
            }
            let required = op
                .form_fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name.as_str());
            new_items.push(parse_quote! {
                #[doc = #send_doc]
                pub async fn send(mut self) -> ::std::result::Result<#ret, crate::Error> {
                    const OPERATION: &crate::Operation = &crate::operations::#constant;
                    let form = ::std::mem::take(&mut self.form);
                    let (client, request) = self
                        .into_request()
                        .map_err(|e| crate::Error::invalid_request(OPERATION, e))?;
                    let request = ::bitbucket_core::upload::with_form(
                        &client.client,
                        request,
                        form,
                        &[#(#required),*],
                    )
                    .await
                    .map_err(|message| crate::Error::InvalidRequest {
                        operation: OPERATION.name,
                        message,
                    })?;
                    crate::transport::execute(client, request, OPERATION).await?.#decode(OPERATION)
                }
            });
            for field in &op.form_fields {
                let setter = field.setter();
                if imp
                    .items
                    .iter()
                    .any(|i| matches!(i, ImplItem::Fn(f) if f.sig.ident == setter))
                {
                    return Err(format!(
                        "`{name}`: the form field `{}` would be set by `{setter}`, which the \
                         builder already has",
                        field.name
                    ));
                }
                let form_name = &field.name;
                let doc = form_field_doc(field);
                new_items.push(if field.file {
                    parse_quote! {
                        #[doc = #doc]
                        pub fn #setter<V>(mut self, file: V) -> Self
                        where
                            V: ::std::convert::Into<crate::upload::Upload>,
                        {
                            self.form = ::std::mem::take(&mut self.form).file(#form_name, file.into());
                            self
                        }
                    }
                } else {
                    parse_quote! {
                        #[doc = #doc]
                        pub fn #setter<V>(mut self, value: V) -> Self
                        where
                            V: ::std::convert::Into<::std::string::String>,
                        {
                            self.form = ::std::mem::take(&mut self.form).text(#form_name, value);
                            self
                        }
                    }
                });
            }
        }
        if matches!(success, Success::Raw) && crate::product().streaming {
            new_items.push(parse_quote! {
                /// Sends the request like `send()`, and returns the answer with its body still
                /// to be read: stream it chunk by chunk ([`crate::body::Body::chunk`],
                /// [`crate::body::Body::into_stream`]) in bounded memory, whatever its size, or
                /// read it whole ([`crate::body::Body::bytes`], [`crate::body::Body::text`]).
                /// No size limit applies. See [`crate::body`].
                pub async fn send_streaming(self) -> ::std::result::Result<crate::body::Body, crate::Error> {
                    const OPERATION: &crate::Operation = &crate::operations::#constant;
                    let (client, request) = self
                        .into_request()
                        .map_err(|e| crate::Error::invalid_request(OPERATION, e))?;
                    crate::transport::execute_streaming(client, request, OPERATION)
                        .await
                        .map(crate::body::Body::new)
                }
            });
        }
        imp.items.extend(new_items);

        let json = match &success {
            Success::Json(ty) => Some((**ty).clone()),
            _ => None,
        };
        let envelope = if op.paginated {
            let envelope = pagination_methods(imp, op, json.as_ref(), envelopes_by_name)?;
            Some(envelope)
        } else {
            None
        };
        out.push(Rewritten {
            name: name.clone(),
            json,
            envelope,
            params: params_of
                .get(&op.builder().to_string())
                .cloned()
                .unwrap_or_default()
                .into_iter()
                // A form's fields, as the tests set them: text (a file from its content).
                .chain(op.form_fields.iter().map(|field| {
                    (
                        field.setter().to_string(),
                        parse_quote!(::std::string::String),
                    )
                }))
                .collect(),
            form: forms.found,
        });
    }

    // Whatever the rewrite did not find is an error, not a silently different client.
    let mut found: Vec<&str> = out.iter().map(|r| r.name.as_str()).collect();
    found.sort_unstable();
    let missing: Vec<&&str> = by_name
        .keys()
        .filter(|name| found.binary_search(name).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no builder with a `send` was found for {} operation(s): {missing:?}",
            missing.len()
        ));
    }
    if out.len() != by_name.len() {
        return Err(format!(
            "{} `send`s were rewritten for {} operations",
            out.len(),
            by_name.len()
        ));
    }
    let mut leftover = TypifyBuilderPaths::default();
    leftover.visit_item_mod_mut(module);
    if let Some(path) = leftover.found {
        return Err(format!(
            "a builder still refers to a typify builder (`{path}`), which is not generated"
        ));
    }
    Ok(out)
}

/// Adds `pages()`, `stream()` and `resume()` to a paginated operation's builder; returns its
/// envelope.
fn pagination_methods(
    imp: &mut syn::ItemImpl,
    op: &Operation,
    json: Option<&Type>,
    envelopes_by_name: &BTreeMap<String, Envelope>,
) -> Result<Envelope, String> {
    let name = &op.name;
    let envelope_ident = match json {
        Some(Type::Path(path)) => path.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    }
    .ok_or_else(|| format!("`{name}` is paginated but does not return an envelope"))?;
    let envelope = envelopes_by_name
        .get(&envelope_ident.to_string())
        .ok_or_else(|| format!("`{name}`: no `values` beside `next` in {envelope_ident}"))?;
    let constant = op.constant();
    let item = &envelope.item;
    let item_path = crate::rewrite::item_type(item);
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
    // One `#[doc]` per line, as `///` lines would give.
    let resume_doc: &[&str] = match crate::product().paging {
        crate::Paging::NextLinks => &[
            " The pages of the list from a cursor saved with `resume_cursor()` (a link to",
            " a page, as the earlier stream gave it): the list continues where that stream",
            " stopped. The builder's parameters are not used: the cursor carries them. A",
            " cursor on another origin than the client's yields",
            " [`crate::Error::ForeignNextLink`], and one whose path is not this",
            " operation's yields [`crate::Error::Denied`]; neither sends anything.",
        ],
        crate::Paging::StartLimit => &[
            " The pages of the list from a cursor saved with `resume_cursor()` (the URL of",
            " the next page, with its `start`): the list continues where that stream",
            " stopped. The builder's parameters are not used: the cursor carries them. A",
            " cursor off the client's API root, or whose path is not this operation's,",
            " yields [`crate::Error::Denied`] and sends nothing.",
        ],
    };
    imp.items.push(parse_quote! {
        #(#[doc = #resume_doc])*
        pub fn resume(self, cursor: &str) -> crate::pagination::Pages<#item_path> {
            const OPERATION: &crate::Operation = &crate::operations::#constant;
            crate::pagination::Pages::resume::<types::#envelope_ident>(
                self.client,
                cursor,
                OPERATION,
            )
        }
    });
    Ok(envelope.clone())
}

/// The answer the document declares (`x-answer`) must be the one progenitor generated for.
fn check_answer(op: &Operation, success: &Success) -> Result<(), String> {
    let matches = matches!(
        (op.answer, success),
        (Answer::Json, Success::Json(_))
            | (Answer::Text | Answer::Bytes, Success::Raw)
            | (Answer::Empty, Success::Empty)
    );
    if matches {
        return Ok(());
    }
    let generated = match success {
        Success::Empty => "no body".to_string(),
        Success::Raw => "a raw body".to_string(),
        Success::Json(ty) => format!("`{}`", quote!(#ty)),
    };
    Err(format!(
        "`{}`: its answer is {:?}, but progenitor generated {generated}",
        op.name, op.answer
    ))
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
        Type::Path(p) if p.path.is_ident("ByteStream") => Success::Raw,
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
        if !s.path.is_ident("OperationInfo") {
            return None;
        }
        s.fields.iter().find_map(|field| match &field.expr {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => Some(lit.value()),
            _ => None,
        })
    })
}

/// `types::builder::Pullrequest` → `types::Pullrequest`: a body is built as its own type.
struct BodiesAsTheirTypes;

impl BodiesAsTheirTypes {
    fn visit_item_mod_mut_items(&mut self, items: &mut [Item]) {
        for item in items {
            self.visit_item_mut(item);
        }
    }
}

impl VisitMut for BodiesAsTheirTypes {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        visit_mut::visit_path_mut(self, path);
        let idents: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if idents.len() == 3 && idents[0] == "types" && idents[1] == "builder" {
            let last = path.segments[2].clone();
            path.segments = parse_quote!(types::#last);
        }
    }
}

/// Finds a path through a typify builder (`types::builder::..`) left behind.
#[derive(Default)]
struct TypifyBuilderPaths {
    found: Option<String>,
}

impl VisitMut for TypifyBuilderPaths {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        let mut idents = path.segments.iter().map(|s| s.ident.to_string());
        if idents.next().as_deref() == Some("types") && idents.next().as_deref() == Some("builder")
        {
            self.found = Some(quote!(#path).to_string());
        }
        visit_mut::visit_path_mut(self, path);
    }
}

/// `request.form_urlencoded(&body)?` → the body encoded by `crate::form::urlencoded`, which
/// repeats a key for each item of a list (serde_urlencoded, which progenitor calls, refuses
/// lists).
struct FormBodies {
    found: bool,
}

impl VisitMut for FormBodies {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        let Expr::Try(attempt) = expr else { return };
        let Expr::MethodCall(call) = &*attempt.expr else {
            return;
        };
        if call.method != "form_urlencoded" {
            return;
        }
        let receiver = &call.receiver;
        let args = &call.args;
        let form_ident = format_ident!("urlencoded");
        self.found = true;
        *expr = parse_quote! {
            #receiver
                .header(
                    ::reqwest::header::CONTENT_TYPE,
                    ::reqwest::header::HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body(crate::form::#form_ident(#args).map_err(Error::InvalidRequest)?)
        };
    }
}

/// `encode_path(&path.to_string())` → `crate::transport::encode_file_path(..)`: a file path
/// keeps its slashes (`src/lib.rs`, not `src%2Flib.rs`). A `{path}` glued to literal text in
/// its segment (`compare/diff{path}`, Data Center's) becomes
/// `bitbucket_core::endpoint::encode_glued_file_path(..)`, which also gives it the leading `/`
/// the server expects there (`compare/diff/src/lib.rs`).
struct FilePaths {
    found: bool,
    glued: bool,
}

impl VisitMut for FilePaths {
    // The URL is built by `format!`, whose arguments are tokens to syn: rewritten as such.
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        visit_mut::visit_macro_mut(self, mac);
        if !mac.path.is_ident("format") {
            return;
        }
        let from = quote!(encode_path(&path.to_string())).to_string();
        let tokens = mac.tokens.to_string();
        if !tokens.contains(&from) {
            return;
        }
        let to = if self.glued {
            quote!(::bitbucket_core::endpoint::encode_glued_file_path(
                &path.to_string()
            ))
        } else {
            quote!(crate::transport::encode_file_path(&path.to_string()))
        }
        .to_string();
        if let Ok(rewritten) = tokens.replace(&from, &to).parse() {
            mac.tokens = rewritten;
            self.found = true;
        }
    }
}

/// The doc of a form field's setter: the document's words, its name in the form, and what it
/// takes.
fn form_field_doc(field: &crate::spec::FormField) -> String {
    let mut doc = field.description.trim().to_string();
    if !doc.is_empty() && !doc.ends_with('.') {
        doc.push('.');
    }
    if !doc.is_empty() {
        doc.push_str("\n\n");
    }
    doc += &if field.file {
        format!(
            "The form field `{}`: a file, from a [`crate::upload::Upload`] (bytes, a file on \
             disk, a stream) or anything that converts into one (`&str`, `String`, \
             `Vec<u8>`, `Bytes`).",
            field.name
        )
    } else {
        format!("The form field `{}`, as text.", field.name)
    };
    if field.required {
        doc += " Required: `send()` fails without it.";
    }
    doc
}

/// Gives the builder of an upload its form (`form: Form`, filled by the fields' setters and
/// sent by `send()`). A form may hold a stream, which cannot be cloned: so neither can the
/// builder.
fn add_form_field(st: &mut syn::ItemStruct, op: &Operation) -> Result<(), String> {
    let Fields::Named(fields) = &mut st.fields else {
        return Err(format!("`{}`: its builder has no named fields", op.name));
    };
    let form: syn::FieldsNamed = parse_quote!({ form: ::bitbucket_core::upload::Form });
    fields.named.extend(form.named);
    let mut derived = false;
    for attr in &mut st.attrs {
        if attr.path().is_ident("derive") {
            *attr = parse_quote!(#[derive(Debug)]);
            derived = true;
        }
    }
    if !derived {
        return Err(format!("`{}`: its builder derives nothing", op.name));
    }
    Ok(())
}

/// `new()` of an upload's builder starts with an empty form.
fn init_form_field(imp: &mut syn::ItemImpl, op: &Operation) -> Result<(), String> {
    struct Init {
        found: bool,
    }
    impl VisitMut for Init {
        fn visit_expr_struct_mut(&mut self, expr: &mut syn::ExprStruct) {
            if expr.path.is_ident("Self") {
                expr.fields
                    .push(parse_quote!(form: ::std::default::Default::default()));
                self.found = true;
            }
        }
    }
    let Some(ImplItem::Fn(new)) = imp
        .items
        .iter_mut()
        .find(|i| matches!(i, ImplItem::Fn(f) if f.sig.ident == "new"))
    else {
        return Ok(());
    };
    let mut init = Init { found: false };
    init.visit_block_mut(&mut new.block);
    if init.found {
        Ok(())
    } else {
        Err(format!(
            "`{}`: its builder's `new` makes no `Self {{ .. }}`",
            op.name
        ))
    }
}

/// `let Self { client, .. } = self;`: the request is built from the builder's parameters, the
/// form is sent apart.
struct DestructureWithRest {
    found: bool,
}

impl VisitMut for DestructureWithRest {
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        if let syn::Pat::Struct(pat) = &mut local.pat
            && pat.path.is_ident("Self")
        {
            pat.rest = Some(syn::PatRest {
                attrs: Vec::new(),
                dot2_token: Default::default(),
            });
            self.found = true;
        }
    }
}
