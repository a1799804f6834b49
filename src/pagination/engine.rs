//! The requests behind a list: which page to ask for next, how many may be on their way, and
//! the pages that arrived but were not taken yet.
//!
//! Two ways through a list, chosen when the first page arrives:
//!
//! - **numbered**: the first page says which page it is, its length and the list's `size`,
//!   and its `next` link asks for `page=<number + 1>`. The page count is known, so up to
//!   `concurrency` pages are requested at once, and handed out in order.
//! - **following**: anything else (opaque cursors such as `page=dbtR`, lists without `size`):
//!   each `next` link is requested as soon as the page carrying it arrives, one page ahead of
//!   the consumer.
//!
//! Memory is bounded: the pages requested or arrived but not taken never exceed `concurrency`
//! (one when following), so with the page the consumer is reading at most `concurrency + 1`
//! pages are held, whatever the length of the list.
//!
//! Nothing is spawned: the requests progress whenever the stream is polled (the item stream
//! polls them while it hands out the items of the current page too).
//!
//! The engine does not know the items' type: a page's items travel as a [`RawPage`], so one
//! copy of it serves every list (the crate has some sixty), instead of one per item type.

use std::any::Any;
use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher as _, RandomState};
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesOrdered;
use futures_util::{FutureExt as _, StreamExt as _};
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};

use super::{Page, links};
use crate::operations::Operation;
use crate::transport::{self, Response};
use crate::{Client, Error};

/// Turns an answer into a page: `Envelope::into_page` of the operation's envelope type.
pub(super) type Decode = fn(Response, &'static Operation) -> Result<RawPage, Error>;

/// A page whose items are of a type only the stream that asked for them knows.
pub(super) struct RawPage {
    /// A `Vec` of the items.
    items: Box<dyn Any + Send>,
    len: u64,
    pub next: Option<String>,
    pub page: Option<u64>,
    pub pagelen: Option<u64>,
    pub size: Option<u64>,
    previous: Option<String>,
}

impl RawPage {
    pub(super) fn erase<T: Send + 'static>(page: Page<T>) -> Self {
        RawPage {
            len: page.items.len() as u64,
            items: Box::new(page.items),
            next: page.next,
            page: page.page,
            pagelen: page.pagelen,
            size: page.size,
            previous: page.previous,
        }
    }

    /// The page, with its items as the type they were decoded as.
    ///
    /// # Panics
    ///
    /// When they were decoded as another type: a stream and its engine are made together with
    /// one decoder (`Pages::new`), so this cannot happen whatever the server sends.
    pub(super) fn restore<T: 'static>(self) -> Page<T> {
        let items = self
            .items
            .downcast::<Vec<T>>()
            .map(|items| *items)
            .unwrap_or_else(|_| unreachable!("a page's items are decoded by its own stream"));
        Page {
            items,
            next: self.next,
            previous: self.previous,
            page: self.page,
            pagelen: self.pagelen,
            size: self.size,
        }
    }
}

/// A page and the cursor after it: the link to the page that follows, `None` on the last page.
pub(super) struct Arrived {
    pub page: RawPage,
    pub cursor: Option<String>,
}

/// How the first page is asked for.
pub(super) enum Start {
    /// The builder's request. `default_pagelen` says that `pagelen` is ours, not the caller's:
    /// if Bitbucket refuses it, the request is repeated with Bitbucket's own default.
    Request {
        request: reqwest::Request,
        default_pagelen: bool,
    },
    /// A saved cursor, already checked to be on the client's origin.
    Cursor(Url),
}

enum Plan {
    /// Nothing was requested yet.
    Start(Start),
    /// A page whose successor is not known yet is on its way.
    Awaiting { first: bool },
    /// Following: the link to request next.
    Follow(Url),
    /// Numbered: pages `next..=last` remain, asked for with [`links::with_page`] on `template`.
    Numbered {
        template: Url,
        next: u64,
        last: u64,
        /// The list's pages carry no `next` link at all (Bitbucket's pipelines, BCLOUD-20639):
        /// a page without one is not the end, and cursors are the derived links.
        linkless: bool,
    },
    /// Nothing more to request.
    Finished,
}

/// A page: the URL that answered it, the page, and the operation whose answer it is (the
/// list's, or the one its first request redirected to: a pull request's diffstat is the
/// repository's).
type Fetched = (Url, RawPage, &'static Operation);

type Fetch = BoxFuture<'static, Result<Fetched, Error>>;

pub(super) struct Engine {
    client: Client,
    operation: &'static Operation,
    decode: Decode,
    /// At least 1 (`Pages::concurrency` sees to it).
    pub(super) concurrency: usize,
    pub(super) max_pages: Option<u64>,
    pub(super) max_items: Option<u64>,
    plan: Plan,
    in_flight: FuturesOrdered<Fetch>,
    ready: VecDeque<Result<Arrived, Error>>,
    requested: u64,
    received_items: u64,
    received_pages: u64,
    /// Items per page, from the first page: what a page on its way will bring.
    per_page: u64,
    /// The links requested so far, hashed: a `next` link among them is a loop. Eight bytes a
    /// page, so a list of a million pages costs 8 MB here at most.
    requested_links: HashSet<u64>,
    hasher: RandomState,
}

impl Engine {
    pub(super) fn new(
        client: Client,
        start: Result<Start, Error>,
        operation: &'static Operation,
        decode: Decode,
    ) -> Self {
        // A list that cannot start yields its error first, and nothing else.
        let (plan, ready) = match start {
            Ok(start) => (Plan::Start(start), VecDeque::new()),
            Err(error) => (Plan::Finished, VecDeque::from([Err(error)])),
        };
        Engine {
            client,
            operation,
            decode,
            concurrency: super::DEFAULT_CONCURRENCY,
            max_pages: None,
            max_items: None,
            plan,
            in_flight: FuturesOrdered::new(),
            ready,
            requested: 0,
            received_items: 0,
            received_pages: 0,
            per_page: 0,
            requested_links: HashSet::new(),
            hasher: RandomState::new(),
        }
    }

    /// The next page in order, once it has arrived; `None` when the list (or the limits) are
    /// exhausted.
    pub(super) fn poll_page(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Arrived, Error>>> {
        self.drive(cx);
        match self.ready.pop_front() {
            Some(arrived) => {
                // A slot is free: send the next request now, while the consumer reads this page.
                self.drive(cx);
                Poll::Ready(Some(arrived))
            }
            None if self.in_flight.is_empty() => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    /// Sends what may be sent and moves the pages that arrived, in order, to `ready`.
    pub(super) fn drive(&mut self, cx: &mut Context<'_>) {
        loop {
            self.refill();
            match self.in_flight.poll_next_unpin(cx) {
                Poll::Ready(Some(result)) => self.arrive(result),
                Poll::Ready(None) | Poll::Pending => return,
            }
        }
    }

    /// Drops the requests on their way; nothing more is requested.
    pub(super) fn stop(&mut self) {
        self.plan = Plan::Finished;
        self.in_flight = FuturesOrdered::new();
        self.ready.clear();
    }

    fn capacity(&self) -> usize {
        match self.plan {
            Plan::Numbered { .. } => self.concurrency,
            _ => 1,
        }
    }

    fn within_limits(&self) -> bool {
        let pages_ok = self.max_pages.is_none_or(|max| self.requested < max);
        let coming = (self.in_flight.len() as u64)
            .saturating_mul(self.per_page)
            .saturating_add(self.received_items);
        let items_ok = self.max_items.is_none_or(|max| coming < max);
        pages_ok && items_ok
    }

    fn refill(&mut self) {
        while self.ready.len() + self.in_flight.len() < self.capacity() && self.within_limits() {
            let (fetch, plan) = match std::mem::replace(&mut self.plan, Plan::Finished) {
                Plan::Start(Start::Request {
                    request,
                    default_pagelen,
                }) => {
                    self.remember(request.url());
                    (
                        self.first(request, default_pagelen),
                        Plan::Awaiting { first: true },
                    )
                }
                Plan::Start(Start::Cursor(url)) => (self.get(url), Plan::Awaiting { first: true }),
                Plan::Follow(url) => (self.get(url), Plan::Awaiting { first: false }),
                Plan::Numbered {
                    template,
                    next,
                    last,
                    linkless,
                } if next <= last => (
                    self.get(links::with_page(&template, next)),
                    Plan::Numbered {
                        template,
                        next: next + 1,
                        last,
                        linkless,
                    },
                ),
                waiting => {
                    self.plan = waiting;
                    return;
                }
            };
            self.plan = plan;
            self.requested += 1;
            self.in_flight.push_back(fetch);
        }
    }

    /// Notes that `url` was requested.
    fn remember(&mut self, url: &Url) {
        let hash = self.hasher.hash_one(url.as_str());
        self.requested_links.insert(hash);
    }

    /// Whether `url` was requested already by this stream.
    fn requested_before(&self, url: &Url) -> bool {
        self.requested_links
            .contains(&self.hasher.hash_one(url.as_str()))
    }

    /// A GET of `url` through the client's transport, decoded as a page.
    fn get(&mut self, url: Url) -> Fetch {
        self.remember(&url);
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        fetch(self.client.clone(), request, self.operation, self.decode).boxed()
    }

    /// The builder's request; repeated once without `pagelen` if Bitbucket refuses ours.
    fn first(&self, request: reqwest::Request, default_pagelen: bool) -> Fetch {
        let (client, operation, decode) = (self.client.clone(), self.operation, self.decode);
        async move {
            let fallback = if default_pagelen {
                request.try_clone()
            } else {
                None
            };
            match fetch(client.clone(), request, operation, decode).await {
                Err(Error::Api(e))
                    if e.status() == reqwest::StatusCode::BAD_REQUEST
                        && e.message()
                            .is_some_and(|m| m.to_ascii_lowercase().contains("pagelen")) =>
                {
                    let Some(mut again) = fallback else {
                        return Err(Error::Api(e));
                    };
                    tracing::warn!(
                        operation = operation.name,
                        message = e.message(),
                        "Bitbucket refused the default page size; using its own (set `.pagelen(n)` \
                         on the builder to the largest it accepts for fewer requests)"
                    );
                    *again.url_mut() = links::without_param(again.url(), "pagelen");
                    fetch(client, again, operation, decode).await
                }
                other => other,
            }
        }
        .boxed()
    }

    /// A page arrived (in order).
    fn arrive(&mut self, result: Result<Fetched, Error>) {
        let (url, page, answered_by) = match result {
            Ok(arrived) => arrived,
            Err(error) => {
                // Pages before this one stay in `ready`; those after it are dropped.
                self.plan = Plan::Finished;
                self.in_flight = FuturesOrdered::new();
                self.ready.push_back(Err(error));
                return;
            }
        };
        self.received_items = self.received_items.saturating_add(page.len);
        self.received_pages = self.received_pages.saturating_add(1);
        // The URL actually fetched (the first page may have been asked again without our
        // `pagelen`).
        self.remember(&url);
        let plan = match std::mem::replace(&mut self.plan, Plan::Finished) {
            Plan::Awaiting { first } => {
                if first {
                    self.per_page = page.pagelen.unwrap_or(page.len);
                    // The next pages are the redirect target's, admitted as its.
                    self.operation = answered_by;
                }
                self.after(&url, &page, first)
            }
            linkless @ Plan::Numbered { linkless: true, .. } => Ok(linkless),
            Plan::Numbered { .. } if page.next.is_none() => {
                // The list shrank since the first page: this is its end now, and the pages
                // requested after it are not.
                self.in_flight = FuturesOrdered::new();
                Ok(Plan::Finished)
            }
            Plan::Numbered { next, last, .. } if next > last && self.in_flight.is_empty() => {
                // The last counted page links further: the list grew. Follow it.
                self.after(&url, &page, false)
            }
            other => Ok(other),
        };
        let refused = match plan {
            Ok(plan) => {
                self.plan = plan;
                None
            }
            Err(error) => Some(error),
        };
        let cursor = match &self.plan {
            // Linkless pages have no `next`: the cursor is the link to the following page.
            Plan::Numbered {
                template,
                last,
                linkless: true,
                ..
            } => page
                .page
                .and_then(|n| n.checked_add(1))
                .filter(|n| n <= last)
                .map(|n| links::with_page(template, n).to_string()),
            _ => page.next.clone(),
        };
        self.ready.push_back(Ok(Arrived { page, cursor }));
        if let Some(error) = refused {
            self.ready.push_back(Err(error));
        }
    }

    /// The plan after a page whose successor is not requested yet.
    fn after(&self, url: &Url, page: &RawPage, first: bool) -> Result<Plan, Error> {
        let Some(link) = page.next.as_deref() else {
            if first
                && self.operation.page_parameter
                && let Some((number, last)) = count(page).filter(|(n, last)| n < last)
            {
                // Bitbucket's pipelines list counts its pages but links none of them: ask for
                // them by number on our own request, the way its documented `page` parameter
                // says.
                tracing::debug!(
                    operation = self.operation.name,
                    pages = last,
                    "numbered list without `next` links"
                );
                return Ok(Plan::Numbered {
                    template: url.clone(),
                    next: number + 1,
                    last,
                    linkless: true,
                });
            }
            return Ok(Plan::Finished);
        };
        let next = links::same_origin(&self.client, Some(url), link, self.operation)?;
        if self.requested_before(&next) {
            return Err(Error::PaginationLoop {
                operation: self.operation.name,
                pages: self.received_pages,
            });
        }
        if first
            && let Some((number, last)) = count(page)
            && number < last
            && links::page_number(&next) == Some(number + 1)
        {
            // The one place a link is derived rather than followed: `next` itself says the
            // list is numbered (`page=<n + 1>`), and `size` says how many pages there are,
            // so page k is `next` with `page=k`, every other parameter exactly as Bitbucket
            // sent it. Fetching k while k - 1 is on its way is what makes the list fast;
            // opaque cursors (`page=dbtR`) never take this path.
            tracing::debug!(
                operation = self.operation.name,
                pages = last,
                concurrency = self.concurrency,
                "numbered list: fetching pages concurrently"
            );
            return Ok(Plan::Numbered {
                template: next,
                next: number + 1,
                last,
                linkless: false,
            });
        }
        Ok(Plan::Follow(next))
    }
}

/// `(page, last page)` when the page says its number, its length and the list's size.
fn count(page: &RawPage) -> Option<(u64, u64)> {
    let number = page.page?;
    let pagelen = page.pagelen.filter(|n| *n > 0)?;
    // Capped so that counting up to it never overflows, whatever the server says.
    let last = page.size?.div_ceil(pagelen).min(u64::MAX - 1);
    Some((number, last))
}

async fn fetch(
    client: Client,
    request: reqwest::Request,
    operation: &'static Operation,
    decode: Decode,
) -> Result<Fetched, Error> {
    let response = transport::execute(&client, request, operation).await?;
    let (url, answered_by) = (response.url.clone(), response.operation);
    Ok((url, decode(response, answered_by)?, answered_by))
}
