//! Bitbucket's paged lists: `{"values", "pagelen", "next", ...}`.
//!
//! Most lists are numbered (`page=2`, with `size` and `previous`); some use opaque cursors
//! (commits, `/user/workspaces`), whose `next` carries a token instead of a number and which
//! do not count their items. `pagelen` is honoured up to [`MAX_PAGELEN`]. `next` links keep
//! every other parameter of the request (filters, sort, `pagelen`).

use axum::http::Uri;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::filter;

/// Bitbucket's page size when the request sets none.
pub(crate) const DEFAULT_PAGELEN: usize = 10;
/// The largest page Bitbucket serves; larger requests are capped.
pub(crate) const MAX_PAGELEN: usize = 100;

/// How a list moves from page to page.
#[derive(Clone, Copy)]
pub(crate) enum Paging {
    Numbered,
    /// Opaque cursors naming the first item of the next page by the key this function reads
    /// from an item (a commit's hash, a workspace's UUID).
    Cursor(fn(&Value) -> Option<String>),
}

/// The query of a list request, and the URL it came to.
pub(crate) struct ListQuery {
    url: String,
    pairs: Vec<(String, String)>,
}

impl ListQuery {
    /// `origin` is `http://127.0.0.1:PORT`; `uri` is the request's path and query.
    pub fn new(origin: &str, uri: &Uri) -> Self {
        let pairs = uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        ListQuery {
            url: format!("{origin}{}", uri.path()),
            pairs,
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter (`state=OPEN&state=MERGED`).
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn link(&self, page: &str, pagelen: usize) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if k != "page" && k != "pagelen" {
                query.append_pair(k, v);
            }
        }
        query.append_pair("pagelen", &pagelen.to_string());
        query.append_pair("page", page);
        format!("{}?{}", self.url, query.finish())
    }

    fn pagelen(&self) -> Result<usize, ApiError> {
        match self.get("pagelen") {
            None => Ok(DEFAULT_PAGELEN),
            // Larger numbers, however large, are capped as Bitbucket caps them.
            Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                match text.trim_start_matches('0') {
                    "" => Err(invalid_pagelen(text)),
                    digits => Ok(digits
                        .parse::<usize>()
                        .map_or(MAX_PAGELEN, |n| n.min(MAX_PAGELEN))),
                }
            }
            Some(text) => Err(invalid_pagelen(text)),
        }
    }
}

fn invalid_pagelen(text: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid pagelen: {text} (a number from 1 to {MAX_PAGELEN})"
    ))
}

/// Filters (`q`), sorts (`sort`) and pages `items` as the request asks.
pub(crate) fn page(
    mut items: Vec<Value>,
    query: &ListQuery,
    paging: Paging,
) -> Result<Value, ApiError> {
    if let Some(q) = query.get("q") {
        let filter = filter::parse(q).map_err(|e| {
            ApiError::bad_request(format!("Invalid query: {e}")).detail(format!("q={q}"))
        })?;
        items.retain(|item| filter.matches(item));
    }
    if let Some(sort) = query.get("sort") {
        filter::sort(&mut items, sort);
    }
    let pagelen = query.pagelen()?;
    match paging {
        Paging::Numbered => {
            let number = page_number(query.get("page"))?;
            let size = items.len();
            // `number` is at most u32::MAX and `pagelen` at most MAX_PAGELEN, so the start fits
            // in a u64; an item count does too. Past the end, the page is empty.
            let start = u64::from(number - 1) * pagelen as u64;
            let skip = usize::try_from(start).unwrap_or(usize::MAX);
            let values: Vec<Value> = items.into_iter().skip(skip).take(pagelen).collect();
            let mut body = json!({
                "size": size,
                "page": number,
                "pagelen": pagelen,
                "values": values,
            });
            let more = start.saturating_add(pagelen as u64) < size as u64;
            if let (true, Some(next)) = (more, number.checked_add(1)) {
                body["next"] = json!(query.link(&next.to_string(), pagelen));
            }
            if number > 1 {
                body["previous"] = json!(query.link(&(number - 1).to_string(), pagelen));
            }
            Ok(body)
        }
        Paging::Cursor(key) => {
            let start = match query.get("page") {
                None => 0,
                Some(cursor) => {
                    let wanted = decode_cursor(cursor).ok_or_else(|| {
                        ApiError::bad_request("Invalid page: not a cursor this list gave out")
                    })?;
                    items
                        .iter()
                        .position(|item| key(item).as_deref() == Some(wanted.as_str()))
                        .ok_or_else(|| {
                            ApiError::bad_request(
                                "Invalid page: the item this cursor points at is gone; start \
                                 the list again",
                            )
                        })?
                }
            };
            let mut rest = items.into_iter().skip(start);
            let values: Vec<Value> = rest.by_ref().take(pagelen).collect();
            let mut body = json!({ "pagelen": pagelen, "values": values });
            if let Some(next) = rest.next().as_ref().and_then(key) {
                body["next"] = json!(query.link(&encode_cursor(&next), pagelen));
            }
            Ok(body)
        }
    }
}

/// The `page` of a numbered list: 1 when absent; a 400 unless it is a number from 1 to
/// `u32::MAX` (page numbers beyond hold nothing, and arithmetic on them could overflow).
fn page_number(text: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = text else {
        return Ok(1);
    };
    text.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid page: {text} (a number from 1 to {})",
            u32::MAX
        ))
        .field("page", "a page number, from 1")
    })
}

fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes).ok()
}
