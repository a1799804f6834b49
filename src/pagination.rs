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
//! - **Links are followed as given.** `next` is requested exactly as Bitbucket sent it (some
//!   lists use opaque cursors such as `page=dbtR`). A `next` on another origin (scheme, host,
//!   port) than the client's base URL ends the stream with [`Error::ForeignNextLink`]: the
//!   client's credentials are never sent elsewhere.
//! - **Concurrently when the list is numbered.** When the first page gives its number, its
//!   length and the list's `size`, and its `next` asks for the following page number, the
//!   remaining pages are fetched up to [`Pages::concurrency`] at once (4 by default), still
//!   handed out in order. Otherwise the next page is requested as soon as its link is known,
//!   while the current one is being read.
//! - **Bounded memory**: at most `concurrency + 1` pages are held, however long the list.
//! - Every request goes through the client like `send()` does (authentication, retries,
//!   rate limits), counted as the operation that started the list.
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

mod engine;
mod links;

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::operations::Operation;
use crate::transport::Response;
use crate::{Client, Error};
use engine::{Arrived, Engine, Start};

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

fn decode<E: Envelope>(
    response: Response,
    operation: &'static Operation,
) -> Result<Page<E::Item>, Error> {
    response.json::<E>(operation).map(Envelope::into_page)
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
    engine: Engine<T>,
    /// The link to the page after the last one handed out whole.
    position: Option<String>,
    yielded_pages: u64,
    yielded_items: u64,
    done: bool,
}

impl<T: Send + 'static> Pages<T> {
    /// The pages from the builder's request (or the reason it could not be built). Used by
    /// the generated `pages()`.
    pub(crate) fn new<E: Envelope<Item = T>>(
        client: &Client,
        request: Result<reqwest::Request, Error>,
        operation: &'static Operation,
    ) -> Self {
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
        let position = match &start {
            Ok(Start::Request { request, .. }) => Some(request.url().to_string()),
            _ => None,
        };
        Self::with(
            Engine::new(client.clone(), start, operation, decode::<E>),
            position,
        )
    }

    /// The pages from a saved cursor. Used by the generated `resume(cursor)`.
    pub(crate) fn resume<E: Envelope<Item = T>>(
        client: &Client,
        cursor: &str,
        operation: &'static Operation,
    ) -> Self {
        let start = links::same_origin(client, None, cursor, operation).map(Start::Cursor);
        let position = start.as_ref().ok().map(|_| cursor.to_string());
        Self::with(
            Engine::new(client.clone(), start, operation, decode::<E>),
            position,
        )
    }

    fn with(engine: Engine<T>, position: Option<String>) -> Self {
        Pages {
            engine,
            position,
            yielded_pages: 0,
            yielded_items: 0,
            done: false,
        }
    }
}

impl<T> Pages<T> {
    /// How many requests may be on their way at once when the list is numbered (4 by
    /// default; at least 1). Lists read by following `next` links are requested one page
    /// ahead.
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.engine.concurrency = requests.max(1);
        self
    }

    /// Stops after this many pages: no request is sent for the pages after them.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.engine.max_pages = Some(pages);
        self
    }

    /// Stops after this many items (the last page is cut short): no request is sent for pages
    /// that would only bring items past the limit.
    pub fn max_items(mut self, items: u64) -> Self {
        self.engine.max_items = Some(items);
        self
    }

    /// The items of these pages, in order.
    pub fn items(self) -> Items<T> {
        Items {
            pages: self,
            current: VecDeque::new(),
            current_cursor: None,
        }
    }

    /// The link to the page after the last one handed out whole: pass it to the builder's
    /// `resume(cursor)` to continue from there. Before the first page it is the first page's
    /// link; `None` once the last page was handed out (nothing is left) or when the list could
    /// not start.
    ///
    /// A page cut short by [`Pages::max_items`] is not whole: the cursor then asks for it
    /// again.
    pub fn resume_cursor(&self) -> Option<&str> {
        self.position.as_deref()
    }

    fn limit_reached(&self) -> bool {
        let engine = &self.engine;
        engine
            .max_pages
            .is_some_and(|max| self.yielded_pages >= max)
            || engine
                .max_items
                .is_some_and(|max| self.yielded_items >= max)
    }
}

impl<T: Send + 'static> Stream for Pages<T> {
    type Item = Result<Page<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.limit_reached() {
            this.done = true;
            this.engine.stop();
            return Poll::Ready(None);
        }
        match ready!(this.engine.poll_page(cx)) {
            None => {
                this.done = true;
                Poll::Ready(None)
            }
            Some(Err(error)) => {
                this.done = true;
                this.engine.stop();
                Poll::Ready(Some(Err(error)))
            }
            Some(Ok(Arrived { mut page, cursor })) => {
                this.yielded_pages += 1;
                // `limit_reached` said there is room for at least one more item.
                match this.engine.max_items.map(|max| max - this.yielded_items) {
                    // Cut short: not whole, so the position stays before it.
                    Some(room) if page.items.len() as u64 > room => {
                        page.items.truncate(room as usize)
                    }
                    _ => this.position = cursor,
                }
                this.yielded_items += page.items.len() as u64;
                Poll::Ready(Some(Ok(page)))
            }
        }
    }
}

impl<T> Unpin for Pages<T> {}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("concurrency", &self.engine.concurrency)
            .field("max_pages", &self.engine.max_pages)
            .field("max_items", &self.engine.max_items)
            .field("resume_cursor", &self.position)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// The items of a list across its pages, as a `Stream`. Returned by `stream()` on every
/// paginated builder.
#[must_use = "streams do nothing unless polled"]
pub struct Items<T> {
    pages: Pages<T>,
    current: VecDeque<T>,
    /// The cursor of the page being read (the position before it).
    current_cursor: Option<String>,
}

impl<T> Items<T> {
    /// How many requests may be on their way at once when the list is numbered (4 by
    /// default). See [`Pages::concurrency`].
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.pages = self.pages.concurrency(requests);
        self
    }

    /// Stops after this many pages. See [`Pages::max_pages`].
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.pages = self.pages.max_pages(pages);
        self
    }

    /// Stops after this many items: no request is sent for pages that would only bring items
    /// past the limit.
    pub fn max_items(mut self, items: u64) -> Self {
        self.pages = self.pages.max_items(items);
        self
    }

    /// The link to the page after the last one whose items were all yielded: pass it to the
    /// builder's `resume(cursor)` to continue from there. When a page was read partly, resuming
    /// yields that page again in full. `None` once the last item was yielded.
    pub fn resume_cursor(&self) -> Option<&str> {
        if self.current.is_empty() {
            self.pages.resume_cursor()
        } else {
            self.current_cursor.as_deref()
        }
    }
}

impl<T: Send + 'static> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.current.pop_front() {
                if !this.pages.done {
                    // Keep the next pages coming while this one is read.
                    this.pages.engine.drive(cx);
                }
                return Poll::Ready(Some(Ok(item)));
            }
            let before = this.pages.position.clone();
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                None => return Poll::Ready(None),
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                Some(Ok(page)) => {
                    this.current_cursor = before;
                    this.current = page.items.into();
                }
            }
        }
    }
}

impl<T> Unpin for Items<T> {}

impl<T> fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("pages", &self.pages)
            .field("buffered", &self.current.len())
            .finish()
    }
}
