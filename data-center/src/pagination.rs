//! Streams over Data Center's paged lists.
//!
//! A page is asked for with `start` (the index of its first item) and `limit`; the answer says
//! `isLastPage`, and `nextPageStart` when there is more. [`Pages`] follows `nextPageStart`
//! from the page the builder describes until the last page; [`Items`] yields the items one by
//! one. Each page goes through the client's transport (policy, retries).
//!
//! Pages are fetched one at a time unless [`Pages::concurrency`] allows more: once a page
//! says its `limit`, the next pages' `start`s are known (`nextPageStart`, then `limit` apart),
//! and up to that many are fetched at once, yielded in order. Memory stays bounded by that
//! number of pages; past the last page at most `concurrency - 1` requests are wasted, and a
//! page whose `nextPageStart` is not where the prefetch guessed drops the guesses and goes on
//! from what the server said.
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

/// A page being fetched (or fetched and not yielded yet), and the `start` it asked for.
struct Pending<T> {
    start: u64,
    url: reqwest::Url,
    fetch: Fetch<T>,
    done: Option<Result<(Page<T>, reqwest::Url), Error>>,
}
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
    /// Pages being fetched, in list order.
    in_flight: std::collections::VecDeque<Pending<T>>,
    max_pages: Option<u64>,
    /// Pages sent for (yielded or in flight).
    fetched: u64,
    concurrency: usize,
    /// The page size the server applied, once a page said it.
    limit: Option<u64>,
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
            in_flight: std::collections::VecDeque::new(),
            max_pages: None,
            fetched: 0,
            concurrency: 1,
            limit: None,
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

    /// Fetches up to `pages` pages at once (at least 1, the default), yielded in order.
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.concurrency = pages.max(1);
        self
    }

    /// Where the list continues: the URL of the next page not yielded yet, to pass to the
    /// builder's `resume()` (in this process or another). `None` once the list is done.
    pub fn resume_cursor(&self) -> Option<String> {
        if let Some(pending) = self.in_flight.front() {
            return Some(pending.url.to_string());
        }
        match &self.next {
            Some(Ok(request)) => Some(request.url().to_string()),
            _ => None,
        }
    }

    fn send(&self, request: reqwest::Request) -> Pending<T> {
        let client = self.client.clone();
        let operation = self.operation;
        let decode = self.decode;
        let url = request.url().clone();
        Pending {
            start: start_of(&url),
            url,
            done: None,
            fetch: Box::pin(async move {
                let url = request.url().clone();
                let answer = crate::transport::execute(&client, request, operation).await?;
                Ok((decode(answer.body, operation)?, url))
            }),
        }
    }

    /// Whether another page may be sent for, under `max_pages`.
    fn may_send(&self) -> bool {
        self.max_pages.is_none_or(|max| self.fetched < max)
    }

    /// Sends for the next page, and, when the page size is known, for the ones after it, up
    /// to `concurrency` in flight.
    fn top_up(&mut self) {
        if self.in_flight.is_empty() && self.may_send() {
            match self.next.take() {
                Some(Ok(request)) => {
                    let pending = self.send(request);
                    self.in_flight.push_back(pending);
                    self.fetched = self.fetched.saturating_add(1);
                }
                other => self.next = other,
            }
        }
        let Some(limit) = self.limit.filter(|l| *l > 0) else {
            return;
        };
        while self.in_flight.len() < self.concurrency && self.may_send() {
            let Some(last) = self.in_flight.back() else {
                return;
            };
            let start = last.start.saturating_add(limit);
            let request =
                reqwest::Request::new(self.operation.method.clone(), with_start(&last.url, start));
            let pending = self.send(request);
            self.in_flight.push_back(pending);
            self.fetched = self.fetched.saturating_add(1);
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
    let asked = start_of(url);
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
    Some(Ok(reqwest::Request::new(
        operation.method.clone(),
        with_start(url, next),
    )))
}

/// The `start` a page's URL asks for (0 when it says none).
fn start_of(url: &reqwest::Url) -> u64 {
    url.query_pairs()
        .find(|(k, _)| k == "start")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(0)
}

/// `url` asking for the page at `start`.
fn with_start(url: &reqwest::Url, start: u64) -> reqwest::Url {
    let mut url = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "start")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("start", &start.to_string());
    url
}

impl<T: Send + 'static> Stream for Pages<T> {
    type Item = Result<Page<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.in_flight.is_empty() {
            if matches!(this.next, Some(Err(_)))
                && let Some(Err(error)) = this.next.take()
            {
                return Poll::Ready(Some(Err(error)));
            }
            this.top_up();
        }
        // Every page in flight makes progress; they are yielded in order.
        for pending in this.in_flight.iter_mut().filter(|p| p.done.is_none()) {
            if let Poll::Ready(result) = pending.fetch.as_mut().poll(cx) {
                pending.done = Some(result);
            }
        }
        let Some(front) = this.in_flight.front_mut() else {
            return Poll::Ready(None);
        };
        let Some(result) = front.done.take() else {
            return Poll::Pending;
        };
        this.in_flight.pop_front();
        let (page, url) = match result {
            Ok(done) => done,
            Err(error) => {
                // The list stops at its first error; guesses past it are dropped.
                this.in_flight.clear();
                this.next = None;
                return Poll::Ready(Some(Err(error)));
            }
        };
        if this.limit.is_none() {
            this.limit = page.limit.filter(|l| *l > 0);
        }
        match next_request(this.operation, &url, &page) {
            None => {
                // The last page: requests sent past it are cancelled.
                this.in_flight.clear();
                this.next = None;
            }
            Some(Ok(request)) => {
                let expected = start_of(request.url());
                if this.in_flight.front().is_some_and(|p| p.start != expected) {
                    // The prefetch guessed wrong (a server with another page size): go on
                    // from what the server said.
                    let dropped = u64::try_from(this.in_flight.len()).unwrap_or(u64::MAX);
                    this.fetched = this.fetched.saturating_sub(dropped);
                    this.in_flight.clear();
                }
                if this.in_flight.is_empty() {
                    this.next = Some(Ok(request));
                }
            }
            Some(Err(error)) => {
                this.in_flight.clear();
                this.next = Some(Err(error));
            }
        }
        this.top_up();
        Poll::Ready(Some(Ok(page)))
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

    /// Fetches up to `pages` pages at once (see [`Pages::concurrency`]).
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.pages = self.pages.concurrency(pages);
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
