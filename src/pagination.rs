//! Streams over Bitbucket's paged lists.
//!
//! Lists come in pages (`values`, `next`, `page`, `pagelen`, `size`). Every paginated
//! operation's builder has `stream()`, yielding the items across pages, `pages()`, yielding
//! whole [`Page`]s, and `resume(cursor)`, which continues a list where an earlier stream
//! stopped.
//!
//! ```no_run
//! use futures_util::TryStreamExt as _;
//! # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
//! let repos: Vec<_> = client.list_repositories().workspace("ws").stream().try_collect().await?;
//!
//! // The 500 most recently updated pull requests, at most 8 requests at once.
//! let mut prs = client
//!     .repo("ws", "app")
//!     .list_pull_requests()
//!     .sort("-updated_on")
//!     .stream()
//!     .max_items(500)
//!     .concurrency(8);
//! while let Some(pr) = prs.try_next().await? {
//!     println!("{:?}", pr.title);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # How the pages are fetched
//!
//! - **Page size**: unless the builder sets `pagelen`, the largest the endpoint accepts is
//!   asked for (100; 50 for pull requests), ten times fewer requests against the hourly quota
//!   than Bitbucket's default of 10.
//! - **Links are followed as given, if they are the list's.** `next` is requested exactly as
//!   Bitbucket sent it (some lists use opaque cursors such as `page=dbtR`). A `next` on
//!   another origin (scheme, host, port) than the client's base URL ends the stream with
//!   [`Error::ForeignNextLink`]: the client's credentials are never sent elsewhere. A `next`
//!   (or a resumed cursor) whose path is not the operation's own (another repository, another
//!   operation, a file) ends it with [`Error::Denied`], whatever the policy, and nothing is
//!   sent (see [`crate::policy`]).
//! - **Loops end.** A `next` link this stream already requested (a page linking to itself, or
//!   a cycle) ends it with [`Error::PaginationLoop`] instead of requesting the same pages
//!   forever. A server can still send endless distinct links: bound such lists with
//!   [`Pages::max_pages`] or [`Pages::max_items`].
//! - **Concurrently when the list is numbered.** When the first page gives its number, its
//!   length and the list's `size`, and its `next` asks for the following page number, the
//!   remaining pages are fetched up to [`Pages::concurrency`] at once (4 by default), still
//!   handed out in order. Otherwise the next page is requested as soon as its link is known,
//!   while the current one is being read.
//! - **Bounded memory**: at most `concurrency + 1` pages are held, however long the list.
//! - The stream itself (ordered delivery, the bound, the limits, the cursors, loop detection)
//!   is `bitbucket_core::pagination`, shared with Data Center; what is Cloud's is the strategy
//!   above (links followed, numbered pages derived).
//! - Every request goes through the client like `send()` does (policy, authentication,
//!   retries, rate limits, audit), counted as the operation that started the list. Pages on
//!   their way when the stream is dropped (or stops at a limit or an error) are abandoned, and
//!   audited as cancelled.
//! - **Errors end the stream**: the pages before the failing one are yielded, then the error,
//!   then nothing.
//!
//! # Resuming
//!
//! [`Items::resume_cursor`] and [`Pages::resume_cursor`] give the link to the page after the
//! last one fully consumed. Keep it, and continue later with the builder's `resume(cursor)`:
//!
//! ```no_run
//! use futures_util::TryStreamExt as _;
//! # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
//! let mut commits = client.repo("ws", "app").list_commits().stream().max_items(1_000);
//! while let Some(commit) = commits.try_next().await? {
//!     // ...
//! #   let _ = commit;
//! }
//! if let Some(cursor) = commits.resume_cursor() {
//!     let rest: Vec<_> = client
//!         .repo("ws", "app")
//!         .list_commits()
//!         .resume(cursor)
//!         .items()
//!         .try_collect()
//!         .await?;
//! #   let _ = rest;
//! }
//! # Ok(())
//! # }
//! ```

pub(crate) mod links;
mod strategy;

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bitbucket_core::pagination as core;
use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::operations::Operation;
use crate::transport::Response;
use crate::{Client, Error};
use strategy::{Meta, NextLinks, Start};

/// Requests on their way at once for a numbered list, unless [`Pages::concurrency`] says
/// otherwise.
const DEFAULT_CONCURRENCY: usize = 4;

/// The page size asked for when the builder does not set `pagelen`: the largest the endpoint
/// accepts, as the operation table says (`max_pagelen` in `spec/operations.toml`).
fn default_pagelen(operation: &Operation) -> u32 {
    operation.max_pagelen.unwrap_or(100)
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The page's items (`values`; none when Bitbucket left `values` out).
    pub items: Vec<T>,
    /// The link to the next page, exactly as Bitbucket sent it; `None` on the last page.
    pub next: Option<String>,
    /// The link to the previous page, when Bitbucket sends one.
    pub previous: Option<String>,
    /// The page number, when the list is numbered.
    pub page: Option<u64>,
    /// The page size Bitbucket used.
    pub pagelen: Option<u64>,
    /// The total number of items, when Bitbucket counts them.
    pub size: Option<u64>,
}

/// A paginated response type of [`crate::types`] (`PaginatedPullRequests`, ...): what
/// `send()` returns on a paginated operation.
///
/// ```no_run
/// use bitbucket_cloud::pagination::Envelope as _;
/// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
/// let page = client.list_workspaces().send().await?.into_page();
/// println!("{} of {:?}", page.items.len(), page.size);
/// # Ok(())
/// # }
/// ```
pub trait Envelope: DeserializeOwned + Send + 'static {
    /// What `values` holds.
    type Item: Send + 'static;
    /// The page, in the crate's uniform shape.
    fn into_page(self) -> Page<Self::Item>;
}

include!(concat!(env!("OUT_DIR"), "/pagination.rs"));

/// The stream of a list, from where it starts (or why it cannot). Not generic: one copy
/// serves every list.
fn stream(
    client: &Client,
    start: Result<Start, Error>,
    position: Option<String>,
    operation: &'static Operation,
    decode: strategy::Decode,
) -> core::Pages<NextLinks> {
    let (start, position) = match start {
        Ok(start) => (Some(start), Ok(position)),
        Err(error) => (None, Err(error)),
    };
    let strategy = NextLinks::new(client.clone(), start, operation, decode);
    core::Pages::new(strategy, DEFAULT_CONCURRENCY, position)
}

/// The stream of a list from its first request.
fn first_page(
    client: &Client,
    request: Result<reqwest::Request, Error>,
    operation: &'static Operation,
    decode: strategy::Decode,
) -> core::Pages<NextLinks> {
    let start = request.map(|mut request| {
        // The builder's own `pagelen` wins; otherwise ask for the largest page.
        let ours = !links::has_param(request.url(), "pagelen");
        if ours {
            let pagelen = default_pagelen(operation).to_string();
            request
                .url_mut()
                .query_pairs_mut()
                .append_pair("pagelen", &pagelen);
        }
        Start::Request {
            request,
            default_pagelen: ours,
        }
    });
    // The position a stream reports before its first page.
    let position = match &start {
        Ok(Start::Request { request, .. }) => Some(request.url().to_string()),
        _ => None,
    };
    stream(client, start, position, operation, decode)
}

/// The stream of a list continued from a saved cursor.
fn from_cursor(
    client: &Client,
    cursor: &str,
    operation: &'static Operation,
    decode: strategy::Decode,
) -> core::Pages<NextLinks> {
    let start = links::same_origin(client, None, cursor, operation).map(Start::Cursor);
    stream(client, start, Some(cursor.to_string()), operation, decode)
}

fn decode<E: Envelope>(
    response: Response,
    operation: &'static Operation,
) -> Result<core::RawPage<Meta>, Error> {
    response
        .json::<E, _, _>(operation)
        .map(|envelope| strategy::erase(envelope.into_page(), operation))
}

/// The pages of a list, as a `Stream` of [`Page`]s. Returned by `pages()` and `resume(cursor)`
/// on every paginated builder; [`Pages::items`] turns it into a stream of items.
///
/// Configure it before polling:
///
/// ```no_run
/// use futures_util::TryStreamExt as _;
/// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
/// let mut pages = client.list_repositories().workspace("ws").pages().max_pages(3).concurrency(8);
/// while let Some(page) = pages.try_next().await? {
///     println!("page {:?}: {} repositories", page.page, page.items.len());
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Pages<T> {
    inner: core::Pages<NextLinks>,
    item: PhantomData<fn() -> T>,
}

impl<T: Send + 'static> Pages<T> {
    /// The pages from the builder's request (or the reason it could not be built). Used by
    /// the generated `pages()`.
    pub(crate) fn new<E: Envelope<Item = T>>(
        client: &Client,
        request: Result<reqwest::Request, Error>,
        operation: &'static Operation,
    ) -> Self {
        Self::with(first_page(client, request, operation, decode::<E>))
    }

    /// The pages from a saved cursor. Used by the generated `resume(cursor)`.
    pub(crate) fn resume<E: Envelope<Item = T>>(
        client: &Client,
        cursor: &str,
        operation: &'static Operation,
    ) -> Self {
        Self::with(from_cursor(client, cursor, operation, decode::<E>))
    }

    fn with(inner: core::Pages<NextLinks>) -> Self {
        Pages {
            inner,
            item: PhantomData,
        }
    }

    /// The items of these pages, in order.
    pub fn items(self) -> Items<T> {
        Items {
            inner: self.inner.items(),
        }
    }
}

impl<T> Pages<T> {
    /// How many requests may be on their way at once when the list is numbered (4 by
    /// default; at least 1). Lists read by following `next` links are requested one page
    /// ahead.
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.inner = self.inner.concurrency(requests);
        self
    }

    /// Stops after this many pages: no request is sent for the pages after them.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.inner = self.inner.max_pages(pages);
        self
    }

    /// Stops after this many items (the last page is cut short): no request is sent for pages
    /// that would only bring items past the limit.
    pub fn max_items(mut self, items: u64) -> Self {
        self.inner = self.inner.max_items(items);
        self
    }

    /// The link to the page after the last one handed out whole: pass it to the builder's
    /// `resume(cursor)` to continue from there. Before the first page it is the first page's
    /// link; `None` once the last page was handed out (nothing is left) or when the list could
    /// not start.
    ///
    /// A page cut short by [`Pages::max_items`] is not whole: the cursor then asks for it
    /// again.
    pub fn resume_cursor(&self) -> Option<&str> {
        self.inner.resume_cursor()
    }
}

impl<T: Send + 'static> Stream for Pages<T> {
    type Item = Result<Page<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let page = ready!(Pin::new(&mut self.inner).poll_next(cx));
        Poll::Ready(page.map(|page| {
            page.map(|core::RawPage { items, meta }| Page {
                items: items.into_vec(),
                next: meta.next,
                previous: meta.previous,
                page: meta.page,
                pagelen: meta.pagelen,
                size: meta.size,
            })
        }))
    }
}

impl<T> Unpin for Pages<T> {}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The items of a list across its pages, as a `Stream`. Returned by `stream()` on every
/// paginated builder.
#[must_use = "streams do nothing unless polled"]
pub struct Items<T> {
    inner: core::Items<NextLinks, T>,
}

impl<T> Items<T> {
    /// How many requests may be on their way at once when the list is numbered (4 by
    /// default). See [`Pages::concurrency`].
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.inner = self.inner.concurrency(requests);
        self
    }

    /// Stops after this many pages. See [`Pages::max_pages`].
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.inner = self.inner.max_pages(pages);
        self
    }

    /// Stops after this many items: no request is sent for pages that would only bring items
    /// past the limit.
    pub fn max_items(mut self, items: u64) -> Self {
        self.inner = self.inner.max_items(items);
        self
    }

    /// The link to the page after the last one whose items were all yielded: pass it to the
    /// builder's `resume(cursor)` to continue from there. When a page was read partly, resuming
    /// yields that page again in full. `None` once the last item was yielded.
    pub fn resume_cursor(&self) -> Option<&str> {
        self.inner.resume_cursor()
    }
}

impl<T: Send + 'static> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl<T> Unpin for Items<T> {}

impl<T> fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
