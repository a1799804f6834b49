//! Streams over Data Center's paged lists.
//!
//! A page is asked for with `start` (the index of its first item) and `limit`; the answer says
//! `isLastPage`, and `nextPageStart` when there is more. [`Pages`] follows `nextPageStart`
//! from the page the builder describes until the last page; [`Items`] yields the items one by
//! one. Pages are fetched one at a time (memory: one page), each through the client's
//! transport (policy, retries).
//!
//! ```no_run
//! # async fn run(client: bitbucket_data_center::Client) -> Result<(), bitbucket_data_center::Error> {
//! use futures_util::TryStreamExt as _;
//!
//! let mut pages = client.get_projects().pages().max_pages(3);
//! while let Some(page) = pages.try_next().await? {
//!     println!("{} projects from {:?}", page.items.len(), page.start);
//! }
//! // Where to continue later, in another process if need be:
//! let cursor = pages.resume_cursor();
//! # let _ = cursor;
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::operations::Operation;
use crate::{Client, Error};

/// What `limit` a stream asks for when the builder does not set one (the server may apply
/// less; it says so in the page's `limit`).
pub const DEFAULT_LIMIT: u32 = 100;

/// A page type of the document (`RestPage...`), generated for every paged answer.
pub trait Envelope: DeserializeOwned + Send + 'static {
    /// What the page holds.
    type Item: Send + 'static;
    /// The page's items and position.
    fn into_page(self) -> Page<Self::Item>;
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// Its items.
    pub items: Vec<T>,
    /// Whether it is the last page (`isLastPage`).
    pub is_last_page: Option<bool>,
    /// Where the next page starts (`nextPageStart`), when there is one.
    pub next_page_start: Option<u64>,
    /// The index of its first item (`start`).
    pub start: Option<u64>,
    /// The page size the server applied (`limit`).
    pub limit: Option<u64>,
    /// How many items it holds (`size`).
    pub size: Option<u64>,
}

include!(concat!(env!("OUT_DIR"), "/pagination.rs"));

type Fetch<T> = Pin<Box<dyn Future<Output = Result<(Page<T>, reqwest::Url), Error>> + Send>>;
type Decode<T> = fn(bytes::Bytes, &'static Operation) -> Result<Page<T>, Error>;

/// The pages of a list, as a [`Stream`] of `Result<Page<T>, Error>`. Ends after the last
/// page, after [`Pages::max_pages`], or after the first error.
#[must_use = "a stream does nothing unless polled"]
pub struct Pages<T> {
    client: Client,
    operation: &'static Operation,
    decode: Decode<T>,
    /// The next page's request, not sent yet.
    next: Option<Result<reqwest::Request, Error>>,
    in_flight: Option<Fetch<T>>,
    max_pages: Option<u64>,
    fetched: u64,
}

impl<T: Send + 'static> Pages<T> {
    #[doc(hidden)]
    pub fn new<E: Envelope<Item = T>>(
        client: &Client,
        request: Result<reqwest::Request, Error>,
        operation: &'static Operation,
    ) -> Self {
        let request = request.map(|mut request| {
            let has_limit = request.url().query_pairs().any(|(k, _)| k == "limit");
            if !has_limit {
                request
                    .url_mut()
                    .query_pairs_mut()
                    .append_pair("limit", &DEFAULT_LIMIT.to_string());
            }
            request
        });
        Pages {
            client: client.clone(),
            operation,
            decode: decode::<E>,
            next: Some(request),
            in_flight: None,
            max_pages: None,
            fetched: 0,
        }
    }

    #[doc(hidden)]
    pub fn resume<E: Envelope<Item = T>>(
        client: &Client,
        cursor: &str,
        operation: &'static Operation,
    ) -> Self {
        let request = reqwest::Url::parse(cursor)
            .map(|url| reqwest::Request::new(operation.method.clone(), url))
            .map_err(|e| Error::InvalidRequest {
                operation: operation.name,
                message: format!("the cursor is not a URL: {e}"),
            });
        Pages::new::<E>(client, request, operation)
    }

    /// Stops after `pages` pages.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max_pages = Some(pages);
        self
    }

    /// Where the list continues: the URL of the next page not fetched yet, to pass to the
    /// builder's `resume()` (in this process or another). `None` once the list is done.
    pub fn resume_cursor(&self) -> Option<String> {
        match &self.next {
            Some(Ok(request)) => Some(request.url().to_string()),
            _ => None,
        }
    }

    /// The items of every page, one by one.
    pub fn items(self) -> Items<T> {
        Items {
            pages: self,
            buffer: Vec::new().into_iter(),
            max_items: None,
            yielded: 0,
        }
    }
}

fn decode<E: Envelope>(
    body: bytes::Bytes,
    operation: &'static Operation,
) -> Result<Page<E::Item>, Error> {
    serde_json::from_slice::<E>(&body)
        .map(Envelope::into_page)
        .map_err(|source| Error::Decode {
            operation: operation.name,
            status: reqwest::StatusCode::OK,
            snippet: crate::error::snippet(&body),
            source,
        })
}

/// The request for the page after `page`, fetched from `url`; `None` after the last page.
/// A `nextPageStart` that does not move forward ends the list with an error rather than
/// looping.
fn next_request(
    operation: &'static Operation,
    url: &reqwest::Url,
    page: &Page<impl Sized>,
) -> Option<Result<reqwest::Request, Error>> {
    if page.is_last_page != Some(false) {
        return None;
    }
    let next = page.next_page_start?;
    // Past both the start this page was asked for and the one it says it has: a server that
    // ignores `start` cannot make the stream loop.
    let asked = url
        .query_pairs()
        .find(|(k, _)| k == "start")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(0);
    let current = page.start.unwrap_or(0).max(asked);
    if next <= current {
        return Some(Err(Error::InvalidRequest {
            operation: operation.name,
            message: format!(
                "the server's nextPageStart ({next}) does not move past this page's start \
                 ({current}); the list stops here"
            ),
        }));
    }
    let mut url = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "start")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("start", &next.to_string());
    Some(Ok(reqwest::Request::new(operation.method.clone(), url)))
}

impl<T: Send + 'static> Stream for Pages<T> {
    type Item = Result<Page<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.in_flight.is_none() {
            if this.max_pages.is_some_and(|max| this.fetched >= max) {
                return Poll::Ready(None);
            }
            let request = match this.next.take() {
                None => return Poll::Ready(None),
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                Some(Ok(request)) => request,
            };
            let client = this.client.clone();
            let operation = this.operation;
            let decode = this.decode;
            this.in_flight = Some(Box::pin(async move {
                let url = request.url().clone();
                let answer = crate::transport::execute(&client, request, operation).await?;
                Ok((decode(answer.body, operation)?, url))
            }));
        }
        let Some(fetch) = this.in_flight.as_mut() else {
            return Poll::Ready(None);
        };
        match fetch.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                this.in_flight = None;
                this.fetched = this.fetched.saturating_add(1);
                Poll::Ready(Some(result.map(|(page, url)| {
                    this.next = next_request(this.operation, &url, &page);
                    page
                })))
            }
        }
    }
}

/// The items of a list, across pages, as a [`Stream`] of `Result<T, Error>`.
#[must_use = "a stream does nothing unless polled"]
pub struct Items<T> {
    pages: Pages<T>,
    buffer: std::vec::IntoIter<T>,
    max_items: Option<u64>,
    yielded: u64,
}

impl<T: Send + 'static> Items<T> {
    /// Stops after `items` items.
    pub fn max_items(mut self, items: u64) -> Self {
        self.max_items = Some(items);
        self
    }

    /// Stops after `pages` pages.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.pages = self.pages.max_pages(pages);
        self
    }
}

impl<T: Send + 'static> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.max_items.is_some_and(|max| this.yielded >= max) {
                return Poll::Ready(None);
            }
            if let Some(item) = this.buffer.next() {
                this.yielded = this.yielded.saturating_add(1);
                return Poll::Ready(Some(Ok(item)));
            }
            match Pin::new(&mut this.pages).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(Some(Ok(page))) => this.buffer = page.items.into_iter(),
            }
        }
    }
}

// The streams hold no self-references: the in-flight fetch is boxed.
impl<T> Unpin for Pages<T> {}
impl<T> Unpin for Items<T> {}
