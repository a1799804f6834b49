//! Streams over Data Center's paged lists.
//!
//! A page is asked for with `start` (the index of its first item) and `limit`; the answer says
//! `isLastPage`, and `nextPageStart` when there is more. [`Pages`] follows `nextPageStart`
//! from the page the builder describes until the last page; [`Items`] yields the items one by
//! one. Each page goes through the client's transport (policy, retries).
//!
//! Pages are fetched one at a time unless [`Pages::concurrency`] allows more: once a page
//! says its `limit`, the next pages' `start`s are known (`nextPageStart`, then `limit` apart),
//! and up to that many are fetched at once, yielded in order. At most `concurrency + 1` pages
//! are held, whatever the length of the list; past the last page at most `concurrency - 1`
//! requests are wasted, and a page whose `nextPageStart` is not where the prefetch guessed
//! drops the guesses and goes on from what the server said. [`Pages::max_pages`] and
//! [`Pages::max_items`] stop the requests, not just the stream. The first error ends the
//! stream: the pages before it are yielded, then the error, then nothing.
//!
//! The stream itself (ordered delivery, the bound, the limits, the cursors) is
//! `bitbucket_core::pagination`, shared with `bitbucket-cloud`; what is Data Center's is the
//! paging strategy (`start`, `limit`, `nextPageStart`).
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

mod start_limit;

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bitbucket_core::pagination as core;
use bitbucket_core::pagination::query;
use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::operations::Operation;
use crate::{Client, Error};
use start_limit::{Meta, StartLimit};

/// What `limit` a stream asks for when the builder does not set one (the server may apply
/// less; it says so in the page's `limit`).
pub const DEFAULT_LIMIT: u32 = 100;

/// Requests on their way at once, unless [`Pages::concurrency`] says otherwise.
const DEFAULT_CONCURRENCY: usize = 1;

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

fn decode<E: Envelope>(
    response: crate::transport::Response,
    operation: &'static Operation,
) -> Result<core::RawPage<Meta>, Error> {
    response
        .json::<E, _, _>(operation)
        .map(|envelope| start_limit::erase(envelope.into_page()))
}

/// The pages of a list, as a [`Stream`] of `Result<Page<T>, Error>`. Ends after the last
/// page, after [`Pages::max_pages`] or [`Pages::max_items`], or after the first error.
#[must_use = "a stream does nothing unless polled"]
pub struct Pages<T> {
    inner: core::Pages<StartLimit>,
    item: PhantomData<fn() -> T>,
}

impl<T: Send + 'static> Pages<T> {
    #[doc(hidden)]
    pub fn new<E: Envelope<Item = T>>(
        client: &Client,
        request: Result<reqwest::Request, Error>,
        operation: &'static Operation,
    ) -> Self {
        let request = request.map(|mut request| {
            if !query::has_param(request.url(), "limit") {
                request
                    .url_mut()
                    .query_pairs_mut()
                    .append_pair("limit", &DEFAULT_LIMIT.to_string());
            }
            request
        });
        let (first, position) = match request {
            Ok(request) => {
                let position = Some(request.url().to_string());
                (Some(request), Ok(position))
            }
            Err(error) => (None, Err(error)),
        };
        let strategy = StartLimit::new(client.clone(), first, operation, decode::<E>);
        Pages {
            inner: core::Pages::new(strategy, DEFAULT_CONCURRENCY, position),
            item: PhantomData,
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

    /// The items of every page, one by one.
    pub fn items(self) -> Items<T> {
        Items {
            inner: self.inner.items(),
        }
    }
}

impl<T> Pages<T> {
    /// Stops after `pages` pages: no request is sent for the pages after them.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.inner = self.inner.max_pages(pages);
        self
    }

    /// Stops after `items` items (the last page is cut short): no request is sent for pages
    /// that would only bring items past the limit.
    pub fn max_items(mut self, items: u64) -> Self {
        self.inner = self.inner.max_items(items);
        self
    }

    /// Fetches up to `pages` pages at once (at least 1, the default), yielded in order.
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.inner = self.inner.concurrency(pages);
        self
    }

    /// Where the list continues: the URL of the page after the last one yielded whole, to pass
    /// to the builder's `resume()` (in this process or another). Before the first page it is
    /// the first page's URL; `None` once the list is done. A page cut short by
    /// [`Pages::max_items`] is not whole: the cursor then asks for it again.
    pub fn resume_cursor(&self) -> Option<String> {
        self.inner.resume_cursor().map(str::to_owned)
    }
}

impl<T: Send + 'static> Stream for Pages<T> {
    type Item = Result<Page<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let page = ready!(Pin::new(&mut self.inner).poll_next(cx));
        Poll::Ready(page.map(|page| {
            page.map(|core::RawPage { items, meta }| Page {
                items: items.into_vec(),
                is_last_page: meta.is_last_page,
                next_page_start: meta.next_page_start,
                start: meta.start,
                limit: meta.limit,
                size: meta.size,
            })
        }))
    }
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The items of a list, across pages, as a [`Stream`] of `Result<T, Error>`.
#[must_use = "a stream does nothing unless polled"]
pub struct Items<T> {
    inner: core::Items<StartLimit, T>,
}

impl<T: Send + 'static> Items<T> {
    /// Stops after `items` items: no request is sent for pages that would only bring items
    /// past the limit.
    pub fn max_items(mut self, items: u64) -> Self {
        self.inner = self.inner.max_items(items);
        self
    }

    /// Stops after `pages` pages.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.inner = self.inner.max_pages(pages);
        self
    }

    /// Fetches up to `pages` pages at once (see [`Pages::concurrency`]).
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.inner = self.inner.concurrency(pages);
        self
    }

    /// Where the list continues: the URL of the page after the last one whose items were all
    /// yielded (a page read partly is yielded again in full). `None` once the last item was
    /// yielded.
    pub fn resume_cursor(&self) -> Option<String> {
        self.inner.resume_cursor().map(str::to_owned)
    }
}

impl<T: Send + 'static> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl<T> fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

// The streams hold no self-references: the pages on their way are boxed.
impl<T> Unpin for Pages<T> {}
impl<T> Unpin for Items<T> {}
