//! Cloud's paging strategy for the shared engine (`bitbucket_core::pagination`): which page to
//! ask for next, from the `next` links Bitbucket sends.
//!
//! Two ways through a list, chosen when the first page arrives:
//!
//! - **numbered**: the first page says which page it is, its length and the list's `size`,
//!   and its `next` link asks for `page=<number + 1>`. The page count is known, so the engine
//!   requests up to `concurrency` pages at once, and hands them out in order.
//! - **following**: anything else (opaque cursors such as `page=dbtR`, lists without `size`):
//!   each `next` link is requested as soon as the page carrying it arrives, one page ahead of
//!   the consumer.

use bitbucket_core::pagination::{Arrival, Fetch, Fetched, RawPage, Request, Strategy, Then};
use futures_util::FutureExt as _;
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};

use super::links;
use crate::operations::Operation;
use crate::transport::{self, Response};
use crate::{Client, Error};

/// What a Cloud page says besides its items.
pub(super) struct Meta {
    pub next: Option<String>,
    pub previous: Option<String>,
    pub page: Option<u64>,
    pub pagelen: Option<u64>,
    pub size: Option<u64>,
    /// The operation whose answer it is: the list's, or the one its first request redirected
    /// to (a pull request's diffstat is the repository's).
    answered_by: &'static Operation,
}

/// Turns an answer into a page: `Envelope::into_page` of the operation's envelope type.
pub(super) type Decode = fn(Response, &'static Operation) -> Result<RawPage<Meta>, Error>;

/// A decoded page, its items erased.
pub(super) fn erase<T: Send + 'static>(
    page: super::Page<T>,
    answered_by: &'static Operation,
) -> RawPage<Meta> {
    let meta = Meta {
        next: page.next,
        previous: page.previous,
        page: page.page,
        pagelen: page.pagelen,
        size: page.size,
        answered_by,
    };
    RawPage::new(page.items, meta)
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

/// Cloud's lists: `next` links followed exactly as sent, numbered pages fetched concurrently.
pub(super) struct NextLinks {
    client: Client,
    operation: &'static Operation,
    decode: Decode,
    plan: Plan,
}

impl NextLinks {
    /// The list from `start`; `None` for a list that cannot start (nothing is requested).
    pub(super) fn new(
        client: Client,
        start: Option<Start>,
        operation: &'static Operation,
        decode: Decode,
    ) -> Self {
        NextLinks {
            client,
            operation,
            decode,
            plan: start.map_or(Plan::Finished, Plan::Start),
        }
    }

    /// A GET of `url` through the client's transport, decoded as a page.
    fn get(&self, url: Url) -> Request<Meta, Error> {
        let mut request = reqwest::Request::new(reqwest::Method::GET, url.clone());
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        Request {
            url,
            fetch: fetch(self.client.clone(), request, self.operation, self.decode).boxed(),
        }
    }

    /// The builder's request; repeated once without `pagelen` if Bitbucket refuses ours.
    fn first(&self, request: reqwest::Request, default_pagelen: bool) -> Request<Meta, Error> {
        let (client, operation, decode) = (self.client.clone(), self.operation, self.decode);
        let url = request.url().clone();
        let fetch: Fetch<Meta, Error> = async move {
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
        .boxed();
        Request { url, fetch }
    }

    /// The plan after a page whose successor is not requested yet, and the link it follows.
    fn after(
        &self,
        url: &Url,
        page: &RawPage<Meta>,
        first: bool,
    ) -> Result<(Plan, Option<Url>), Error> {
        let Some(link) = page.meta.next.as_deref() else {
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
                let plan = Plan::Numbered {
                    template: url.clone(),
                    next: number.saturating_add(1),
                    last,
                    linkless: true,
                };
                return Ok((plan, None));
            }
            return Ok((Plan::Finished, None));
        };
        let next = links::same_origin(&self.client, Some(url), link, self.operation)?;
        if first
            && let Some((number, last)) = count(page)
            && number < last
            && links::page_number(&next) == number.checked_add(1)
        {
            // The one place a link is derived rather than followed: `next` itself says the
            // list is numbered (`page=<n + 1>`), and `size` says how many pages there are,
            // so page k is `next` with `page=k`, every other parameter exactly as Bitbucket
            // sent it. Fetching k while k - 1 is on its way is what makes the list fast;
            // opaque cursors (`page=dbtR`) never take this path.
            tracing::debug!(
                operation = self.operation.name,
                pages = last,
                "numbered list: fetching pages concurrently"
            );
            let plan = Plan::Numbered {
                template: next.clone(),
                next: number.saturating_add(1),
                last,
                linkless: false,
            };
            return Ok((plan, Some(next)));
        }
        Ok((Plan::Follow(next.clone()), Some(next)))
    }
}

impl Strategy for NextLinks {
    type Meta = Meta;
    type Error = Error;

    fn next(&mut self) -> Option<Request<Meta, Error>> {
        let (request, plan) = match std::mem::replace(&mut self.plan, Plan::Finished) {
            Plan::Start(Start::Request {
                request,
                default_pagelen,
            }) => (
                self.first(request, default_pagelen),
                Plan::Awaiting { first: true },
            ),
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
                    // `last` is at most `u64::MAX - 1` (see `count`).
                    next: next.saturating_add(1),
                    last,
                    linkless,
                },
            ),
            waiting => {
                self.plan = waiting;
                return None;
            }
        };
        self.plan = plan;
        Some(request)
    }

    fn concurrent(&self) -> bool {
        matches!(self.plan, Plan::Numbered { .. })
    }

    fn arrived(
        &mut self,
        _requested: &Url,
        fetched: &Fetched<Meta>,
        upcoming: Option<&Url>,
    ) -> Arrival<Error> {
        // The URL actually fetched: the first page may have been asked again without our
        // `pagelen`, and links are relative to it.
        let (url, page) = (&fetched.url, &fetched.page);
        let planned = match std::mem::replace(&mut self.plan, Plan::Finished) {
            Plan::Awaiting { first } => {
                if first {
                    // The next pages are the redirect target's, admitted as its.
                    self.operation = page.meta.answered_by;
                }
                self.after(url, page, first)
            }
            linkless @ Plan::Numbered { linkless: true, .. } => Ok((linkless, None)),
            Plan::Numbered { .. } if page.meta.next.is_none() => {
                // The list shrank since the first page: this is its end now, and the pages
                // requested after it are not.
                return Arrival {
                    cursor: None,
                    follows: None,
                    then: Then::End,
                };
            }
            Plan::Numbered { next, last, .. } if next > last && upcoming.is_none() => {
                // The last counted page links further: the list grew. Follow it.
                self.after(url, page, false)
            }
            other => Ok((other, None)),
        };
        let (then, follows) = match planned {
            Ok((plan, follows)) => {
                self.plan = plan;
                (Then::Continue, follows)
            }
            Err(error) => (Then::Fail(error), None),
        };
        let cursor = match &self.plan {
            // Linkless pages have no `next`: the cursor is the link to the following page.
            Plan::Numbered {
                template,
                last,
                linkless: true,
                ..
            } => page
                .meta
                .page
                .and_then(|n| n.checked_add(1))
                .filter(|n| n <= last)
                .map(|n| links::with_page(template, n).to_string()),
            _ => page.meta.next.clone(),
        };
        Arrival {
            cursor,
            follows,
            then,
        }
    }

    fn page_size(meta: &Meta) -> Option<u64> {
        meta.pagelen
    }

    fn looped(&self, pages: u64) -> Error {
        Error::PaginationLoop {
            operation: self.operation.name,
            pages,
        }
    }
}

/// `(page, last page)` when the page says its number, its length and the list's size.
fn count(page: &RawPage<Meta>) -> Option<(u64, u64)> {
    let meta = &page.meta;
    let number = meta.page?;
    let pagelen = meta.pagelen.filter(|n| *n > 0)?;
    // Capped so that counting up to it never overflows, whatever the server says.
    let last = meta.size?.div_ceil(pagelen).min(u64::MAX - 1);
    Some((number, last))
}

async fn fetch(
    client: Client,
    request: reqwest::Request,
    operation: &'static Operation,
    decode: Decode,
) -> Result<Fetched<Meta>, Error> {
    let (response, answered_by, url) = transport::execute_at(&client, request, operation).await?;
    Ok(Fetched {
        url,
        page: decode(response, answered_by)?,
    })
}
