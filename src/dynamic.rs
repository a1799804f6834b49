//! Any operation of [`crate::operations`], called with its parameters as data and its answer
//! as JSON: for gateways, scripts and tools that choose the operation at run time.
//!
//! [`Client::operation`] returns an [`OperationRequest`]. Its requests take the same path as
//! the typed builders' (policy, credentials, retries, rate limits, audit), and fail with the
//! same [`Error`]s.
//!
//! ```no_run
//! use bitbucket_cloud::operations;
//! use futures_util::TryStreamExt as _;
//! use serde_json::json;
//!
//! # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
//! let pr = client
//!     .operation(&operations::GET_PULL_REQUEST)
//!     .path_param("workspace", "acme")
//!     .path_param("repo_slug", "app")
//!     .path_param("pull_request_id", "7")
//!     .send()
//!     .await?;
//! println!("{}", pr["title"]);
//!
//! // Lists page through the crate's pagination engine.
//! let open: Vec<serde_json::Value> = client
//!     .operation(&operations::LIST_PULL_REQUESTS)
//!     .path_param("workspace", "acme")
//!     .path_param("repo_slug", "app")
//!     .query_param("state", "OPEN")
//!     .stream()
//!     .max_items(50)
//!     .try_collect()
//!     .await?;
//!
//! // An operation chosen at run time, by name (from a configuration, a model's tool call).
//! let comment = operations::by_name("create_pull_request_comment").expect("a supported operation");
//! client
//!     .operation(comment)
//!     .path_param("workspace", "acme")
//!     .path_param("repo_slug", "app")
//!     .path_param("pull_request_id", "7")
//!     .body(json!({"content": {"raw": "Looks good"}}))
//!     .send()
//!     .await?;
//! # let _ = open;
//! # Ok(())
//! # }
//! ```
//!
//! # What is checked here, and what is not
//!
//! The path parameters must be exactly those of the operation's template, none empty, `.` or
//! `..` (which URL parsing would resolve into another path): a missing or unknown one fails with [`Error::InvalidRequest`] before anything is sent. Query
//! parameters and bodies are sent as given; Bitbucket judges them. A cursor given to
//! [`OperationRequest::resume`] must be a link of the same operation.

use std::fmt;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use crate::operations::Operation;
use crate::pagination::{Envelope, Items, Page, Pages};
use crate::transport::{self, Response};
use crate::{Client, Error};

/// What the operation's answer may be: JSON first, then text (diffs, patches).
const ACCEPT_ANY: &str = "application/json, text/plain;q=0.9, */*;q=0.8";

impl Client {
    /// A request for `operation`, whose parameters and body are set as data. See
    /// [`crate::dynamic`].
    ///
    /// ```
    /// # fn run(client: bitbucket_cloud::Client) {
    /// let request = client.operation(&bitbucket_cloud::operations::GET_CURRENT_USER);
    /// # let _ = request;
    /// # }
    /// ```
    pub fn operation(&self, operation: &'static Operation) -> OperationRequest<'_> {
        OperationRequest {
            client: self,
            operation,
            path: Vec::new(),
            query: Vec::new(),
            body: None,
        }
    }
}

/// A request for one operation, with its parameters as data. Made by [`Client::operation`];
/// see [`crate::dynamic`].
#[derive(Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct OperationRequest<'a> {
    client: &'a Client,
    operation: &'static Operation,
    path: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

impl fmt::Debug for OperationRequest<'_> {
    /// Without the body, which may hold secrets (a pipeline variable's value).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationRequest")
            .field("operation", &self.operation.name)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body", &self.body.as_ref().map(|_| "[not shown]"))
            .finish()
    }
}

impl<'a> OperationRequest<'a> {
    /// The operation this request is for.
    pub fn operation(&self) -> &'static Operation {
        self.operation
    }

    /// Sets the path parameter `name` (`workspace`, `repo_slug`, `pull_request_id`, ...) to
    /// `value`, unencoded: it is percent-encoded as one path segment (a `/` becomes `%2F`), as
    /// the typed builders do, except a trailing `{path}` (a file's), whose slashes are kept and
    /// whose segments are encoded one by one.
    pub fn path_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        let value = value.into();
        match self.path.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.path.push((name, value)),
        }
        self
    }

    /// Adds the query parameter `name=value`. Call it again with the same name to repeat a
    /// parameter (`state=OPEN&state=MERGED`).
    pub fn query_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// The JSON request body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sends the request and returns the answer: its JSON, its text when it is not JSON (a
    /// diff), or `null` when it has no body (a 204).
    pub async fn send(self) -> Result<Value, Error> {
        let (client, operation) = (self.client, self.operation);
        let request = self.into_request()?;
        let response = transport::execute(client, request, operation).await?;
        into_json(response, operation)
    }

    /// The pages of a paginated operation's list, starting with the one this request
    /// describes, through the crate's pagination engine (see [`crate::pagination`]: page size,
    /// concurrency, `max_items`, `max_pages`, resume cursors). For an operation that is not
    /// paginated, the stream yields one [`Error::InvalidRequest`].
    pub fn pages(self) -> Pages<Value> {
        let (client, operation) = (self.client, self.operation);
        let request = if operation.paginated {
            self.into_request()
        } else {
            Err(not_paginated(operation))
        };
        Pages::new::<JsonPage>(client, request, operation)
    }

    /// The items of a paginated operation's list across its pages: [`Self::pages`] as items.
    pub fn stream(self) -> Items<Value> {
        self.pages().items()
    }

    /// Continues a list from a cursor given by [`Pages::resume_cursor`] or
    /// [`Items::resume_cursor`] (parameters set on this request are not used: the cursor
    /// carries them). The cursor must be on the client's origin and a link of this
    /// operation: a link to another path is refused before anything is sent.
    pub fn resume(self, cursor: &str) -> Pages<Value> {
        let (client, operation) = (self.client, self.operation);
        if !operation.paginated {
            return Pages::new::<JsonPage>(client, Err(not_paginated(operation)), operation);
        }
        match cursor_path(client, cursor) {
            Some(path) if operation.match_path(&path).is_some() => {
                Pages::resume::<JsonPage>(client, cursor, operation)
            }
            _ => {
                let refused = Error::InvalidRequest {
                    operation: operation.name,
                    message: format!(
                        "the cursor is not a link of `{}` ({} under the client's base URL); \
                         pass a cursor this operation's list gave",
                        operation.name, operation.path
                    ),
                };
                Pages::new::<JsonPage>(client, Err(refused), operation)
            }
        }
    }

    /// The HTTP request, with the path parameters checked against the template.
    fn into_request(self) -> Result<reqwest::Request, Error> {
        let operation = self.operation;
        let invalid = |message: String| Error::InvalidRequest {
            operation: operation.name,
            message,
        };
        let names: Vec<&str> = bitbucket_core::path::template_params(operation.path).collect();
        if let Some((unknown, _)) = self.path.iter().find(|(n, _)| !names.contains(&n.as_str())) {
            return Err(invalid(format!(
                "`{unknown}` is not a path parameter of `{}` ({}); its parameters are: {}",
                operation.name,
                operation.path,
                list(&names)
            )));
        }
        let mut path = String::with_capacity(operation.path.len() + 32);
        let mut rest = operation.path;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|i| open + i) else {
                break;
            };
            path.push_str(&rest[..open]);
            let name = &rest[open + 1..close];
            let value = self
                .path
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default();
            if value.is_empty() {
                return Err(invalid(format!(
                    "the path parameter `{name}` is missing or empty; `{}` needs {}",
                    operation.name,
                    list(&names)
                )));
            }
            // URL parsing resolves dot segments: `hooks/..` would become another path (the
            // repository itself) than the one the operation and the policy are about.
            if value == "." || value == ".." {
                return Err(invalid(format!(
                    "the path parameter `{name}` cannot be `{value}`: it would change the request's \
                     path"
                )));
            }
            rest = &rest[close + 1..];
            if name == "path" && rest.is_empty() {
                // A file's path keeps its slashes, as the typed builders send it.
                path.push_str(&crate::transport::encode_file_path(value));
            } else {
                path.push_str(&progenitor_client::encode_path(value));
            }
        }
        path.push_str(rest);

        let client = self.client;
        let mut builder = client
            .client
            .request(
                operation.method.clone(),
                format!("{}{path}", client.baseurl),
            )
            .header(ACCEPT, HeaderValue::from_static(ACCEPT_ANY));
        if !self.query.is_empty() {
            builder = builder.query(&self.query);
        }
        if let Some(body) = &self.body {
            builder = builder.json(body);
        }
        builder
            .build()
            .map_err(|e| invalid(format!("the request cannot be built: {e}")))
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn not_paginated(operation: &Operation) -> Error {
    Error::InvalidRequest {
        operation: operation.name,
        message: format!("`{}` does not return a list: use send()", operation.name),
    }
}

/// The path of `cursor` under the client's base URL, if it is an absolute URL under it.
fn cursor_path(client: &Client, cursor: &str) -> Option<String> {
    let url = reqwest::Url::parse(cursor).ok()?;
    let base = client.inner.base.path().trim_end_matches('/');
    url.path().strip_prefix(base).map(str::to_string)
}

/// The answer as JSON: parsed when it says it is JSON (or has no type and parses), its text
/// otherwise, `null` when empty.
fn into_json(response: Response, operation: &'static Operation) -> Result<Value, Error> {
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let content_type = response
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    match content_type {
        Some(t) if t.contains("json") => response.json(operation),
        Some(_) => response.text(operation).map(Value::String),
        None => match serde_json::from_slice(&response.body) {
            Ok(value) => Ok(value),
            Err(_) => response.text(operation).map(Value::String),
        },
    }
}

/// A page of any list, with its items as JSON.
#[derive(Deserialize)]
struct JsonPage {
    #[serde(default)]
    values: Option<Vec<Value>>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    previous: Option<String>,
    #[serde(default)]
    page: Option<Value>,
    #[serde(default)]
    pagelen: Option<Value>,
    #[serde(default)]
    size: Option<Value>,
}

impl Envelope for JsonPage {
    type Item = Value;

    fn into_page(self) -> Page<Value> {
        // Numbers that are not counts (negative, fractional, strings) are as good as absent.
        let count = |v: Option<Value>| v.and_then(|v| v.as_u64());
        Page {
            items: self.values.unwrap_or_default(),
            next: self.next,
            previous: self.previous,
            page: count(self.page),
            pagelen: count(self.pagelen),
            size: count(self.size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_page_numbers_are_ignored() {
        let page: JsonPage =
            serde_json::from_value(serde_json::json!({"values": [1], "page": -1, "size": "3"}))
                .unwrap();
        let page = page.into_page();
        assert_eq!((page.page, page.size, page.items.len()), (None, None, 1));
    }
}
