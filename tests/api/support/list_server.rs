//! A loopback server holding one paged list the way Bitbucket serves it (`values`, `next`,
//! `page`, `pagelen`, `size`), for the pagination tests and benchmark.
//!
//! Item `i` (from 0) is `{"build_number": i, ...}` with fields that decode into any list's
//! item type; [`index`] reads `i` back from a decoded item.

#![allow(dead_code)] // each user needs part of it

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// How pages are named and linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// `page=N`, with `page`, `pagelen` and `size` in the body (repositories, pull requests).
    Numbered,
    /// `page=N` links but no `size` in the body.
    NumberedWithoutSize,
    /// Opaque cursors (`page=x7919y`), no `size` (commits).
    Cursor,
    /// `page`, `pagelen` and `size` in the body but no `next` link at all (pipelines).
    Linkless,
}

/// The list and how the server misbehaves.
#[derive(Clone, Debug)]
pub struct List {
    pub total: u64,
    pub links: Links,
    /// Bitbucket's page size when the request has no `pagelen`.
    pub default_pagelen: u64,
    /// Above this, 400 "Invalid pagelen".
    pub max_pagelen: u64,
    pub delay: Duration,
    /// This page answers 500.
    pub fail_page: Option<u64>,
    /// This page's body has no `values`.
    pub page_without_values: Option<u64>,
    /// `next` links point to this origin instead of the server's.
    pub next_origin: Option<String>,
    /// A raw query segment Bitbucket adds to its `next` links (`fields=a%20b+c`).
    pub next_extra: Option<&'static str>,
    /// The `size` the body claims, when it is not `total` (a list that changed meanwhile).
    pub claimed_size: Option<u64>,
}

impl List {
    pub fn new(total: u64, links: Links) -> Self {
        List {
            total,
            links,
            default_pagelen: 10,
            max_pagelen: 100,
            delay: Duration::ZERO,
            fail_page: None,
            page_without_values: None,
            next_origin: None,
            next_extra: None,
            claimed_size: None,
        }
    }

    /// Serves the list at every path of a new loopback server.
    pub async fn serve(self) -> MockServer {
        let server = MockServer::start().await;
        let origin = server.uri();
        Mock::given(method("GET"))
            .respond_with(move |request: &Request| self.respond(request, &origin))
            .mount(&server)
            .await;
        server
    }

    fn respond(&self, request: &Request, origin: &str) -> ResponseTemplate {
        let url = &request.url;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let pagelen = match param("pagelen").map(|p| p.parse::<u64>()) {
            None => self.default_pagelen,
            Some(Ok(n)) if (1..=self.max_pagelen).contains(&n) => n,
            Some(_) => return error(400, "Invalid pagelen"),
        };
        let page = match (self.links, param("page")) {
            (_, None) => 1,
            (Links::Cursor, Some(token)) => match decode_cursor(&token) {
                Some(n) => n,
                None => return error(400, "Invalid cursor"),
            },
            (_, Some(n)) => match n.parse::<u64>() {
                Ok(n) if n >= 1 => n,
                _ => return error(400, "Invalid page"),
            },
        };
        if self.fail_page == Some(page) {
            return error(500, "Something went wrong");
        }
        let first = (page - 1) * pagelen;
        if first >= self.total && page > 1 {
            return error(404, "Invalid page");
        }
        let values: Vec<Value> = (first..self.total.min(first + pagelen)).map(item).collect();
        let mut body = json!({ "pagelen": pagelen });
        if self.page_without_values != Some(page) {
            body["values"] = Value::Array(values);
        }
        if self.links != Links::Cursor {
            body["page"] = json!(page);
        }
        if matches!(self.links, Links::Numbered | Links::Linkless) {
            body["size"] = json!(self.claimed_size.unwrap_or(self.total));
        }
        if first + pagelen < self.total && self.links != Links::Linkless {
            let token = match self.links {
                Links::Cursor => encode_cursor(page + 1),
                _ => (page + 1).to_string(),
            };
            // Like Bitbucket: the request's own query, with `page` replaced.
            let mut query: Vec<String> = url
                .query()
                .unwrap_or_default()
                .split('&')
                .filter(|s| !s.is_empty() && s.split('=').next() != Some("page"))
                .map(str::to_string)
                .collect();
            if let Some(extra) = self.next_extra
                && !query.iter().any(|s| s == extra)
            {
                query.push(extra.to_string());
            }
            query.push(format!("page={token}"));
            let origin = self.next_origin.as_deref().unwrap_or(origin);
            body["next"] = json!(format!("{origin}{}?{}", url.path(), query.join("&")));
        }
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(self.delay)
    }
}

fn error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({ "type": "error", "error": { "message": message } }))
}

/// An opaque cursor, like the `page=dbtR` of Bitbucket's commit lists.
pub fn encode_cursor(page: u64) -> String {
    format!("x{}y", page * 7919)
}

fn decode_cursor(token: &str) -> Option<u64> {
    let n: u64 = token.strip_prefix('x')?.strip_suffix('y')?.parse().ok()?;
    (n.is_multiple_of(7919) && n > 0).then_some(n / 7919)
}

/// Item `i`: fields of a repository, a commit and a pipeline.
pub fn item(i: u64) -> Value {
    json!({
        "build_number": i,
        "uuid": format!("{{00000000-0000-0000-0000-{i:012}}}"),
        "full_name": format!("ws/repo-{i}"),
        "hash": format!("{i:040x}"),
    })
}

/// `i` of an item decoded from [`item`]`(i)`.
pub fn index<T: serde::Serialize>(item: &T) -> u64 {
    serde_json::to_value(item).expect("items encode")["build_number"]
        .as_u64()
        .expect("an item of the list server")
}

/// The raw query of every request the server received, in order.
pub async fn queries(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_string())
        .collect()
}
