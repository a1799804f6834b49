//! Data Center's paging strategy for the shared engine (`bitbucket_core::pagination`): pages
//! asked for by `start`, the next one at the `nextPageStart` the page before it said.
//!
//! Once a page says its `limit`, the next pages' `start`s are guessed (`limit` apart, from the
//! last one asked for), so the engine may have several on their way. A page whose
//! `nextPageStart` is not where the next guess starts drops the guesses, and the list goes on
//! from what the server said.

use bitbucket_core::pagination::query;
use bitbucket_core::pagination::{Arrival, Fetched, RawPage, Request, Strategy, Then};
use reqwest::Url;

use crate::operations::Operation;
use crate::{Client, Error};

/// What a Data Center page says besides its items.
pub(super) struct Meta {
    pub is_last_page: Option<bool>,
    pub next_page_start: Option<u64>,
    pub start: Option<u64>,
    pub limit: Option<u64>,
    pub size: Option<u64>,
}

/// Turns an answer's body into a page: `Envelope::into_page` of the operation's page type.
pub(super) type Decode =
    fn(crate::transport::Response, &'static Operation) -> Result<RawPage<Meta>, Error>;

/// A decoded page, its items erased.
pub(super) fn erase<T: Send + 'static>(page: super::Page<T>) -> RawPage<Meta> {
    let meta = Meta {
        is_last_page: page.is_last_page,
        next_page_start: page.next_page_start,
        start: page.start,
        limit: page.limit,
        size: page.size,
    };
    RawPage::new(page.items, meta)
}

/// Data Center's lists: `start` moved to each page's `nextPageStart`, guessed ahead once
/// `limit` is known.
pub(super) struct StartLimit {
    client: Client,
    operation: &'static Operation,
    decode: Decode,
    /// The builder's request (or the resumed cursor's), not sent yet.
    first: Option<reqwest::Request>,
    /// The next page's link, from the page before it, not sent yet.
    pending: Option<Url>,
    /// The last link sent and its `start`: guesses go on from there.
    last_sent: Option<(Url, u64)>,
    /// The page size the server applied, once a page said it.
    limit: Option<u64>,
    finished: bool,
}

impl StartLimit {
    /// The list from `first`; `None` for a list that cannot start (nothing is requested).
    pub(super) fn new(
        client: Client,
        first: Option<reqwest::Request>,
        operation: &'static Operation,
        decode: Decode,
    ) -> Self {
        StartLimit {
            client,
            operation,
            decode,
            first,
            pending: None,
            last_sent: None,
            limit: None,
            finished: false,
        }
    }

    fn send(&mut self, request: reqwest::Request) -> Request<Meta, Error> {
        let url = request.url().clone();
        self.last_sent = Some((url.clone(), start_of(&url)));
        let (client, operation, decode) = (self.client.clone(), self.operation, self.decode);
        let asked = url.clone();
        Request {
            url,
            fetch: Box::pin(async move {
                let answer = crate::transport::execute(&client, request, operation).await?;
                Ok(Fetched {
                    url: asked,
                    page: decode(answer, operation)?,
                })
            }),
        }
    }

    fn get(&mut self, url: Url) -> Request<Meta, Error> {
        self.send(reqwest::Request::new(self.operation.method.clone(), url))
    }
}

impl Strategy for StartLimit {
    type Meta = Meta;
    type Error = Error;

    fn next(&mut self) -> Option<Request<Meta, Error>> {
        if self.finished {
            return None;
        }
        if let Some(request) = self.first.take() {
            return Some(self.send(request));
        }
        if let Some(url) = self.pending.take() {
            return Some(self.get(url));
        }
        // A guess: the page after the last one asked for, `limit` further.
        let limit = self.limit?;
        let (url, start) = self.last_sent.as_ref()?;
        let guess = with_start(url, start.checked_add(limit)?);
        Some(self.get(guess))
    }

    fn concurrent(&self) -> bool {
        self.limit.is_some()
    }

    fn arrived(
        &mut self,
        requested: &Url,
        fetched: &Fetched<Meta>,
        upcoming: Option<&Url>,
    ) -> Arrival<Error> {
        let meta = &fetched.page.meta;
        if self.limit.is_none() {
            self.limit = meta.limit.filter(|l| *l > 0);
        }
        let end = |then| Arrival {
            cursor: None,
            follows: None,
            then,
        };
        let next = match meta.next_page_start {
            Some(next) if meta.is_last_page == Some(false) => next,
            // The last page: requests sent past it are dropped.
            _ => {
                self.finished = true;
                return end(Then::End);
            }
        };
        // Past both the start this page was asked for and the one it says it has: a server
        // that ignores `start` cannot make the stream loop.
        let asked = start_of(requested);
        let current = meta.start.unwrap_or(0).max(asked);
        if next <= current {
            self.finished = true;
            return end(Then::Fail(Error::InvalidRequest {
                operation: self.operation.name,
                message: format!(
                    "the server's nextPageStart ({next}) does not move past this page's start \
                     ({current}); the list stops here"
                ),
            }));
        }
        let url = with_start(requested, next);
        let cursor = Some(url.to_string());
        match upcoming {
            // The guess on its way is the page the server says comes next.
            Some(guess) if start_of(guess) == next => Arrival {
                cursor,
                follows: None,
                then: Then::Continue,
            },
            upcoming => {
                // Nothing on its way, or guesses for another page size: go on from what the
                // server said.
                self.pending = Some(url.clone());
                Arrival {
                    cursor,
                    follows: Some(url),
                    then: if upcoming.is_some() {
                        Then::Restart
                    } else {
                        Then::Continue
                    },
                }
            }
        }
    }

    fn page_size(meta: &Meta) -> Option<u64> {
        meta.limit
    }

    fn looped(&self, pages: u64) -> Error {
        Error::InvalidRequest {
            operation: self.operation.name,
            message: format!(
                "the server's nextPageStart leads back to a page already read (after {pages} \
                 pages); the list stops here"
            ),
        }
    }
}

/// The `start` a page's URL asks for (0 when it says none).
fn start_of(url: &Url) -> u64 {
    query::number(url, "start").unwrap_or(0)
}

/// `url` asking for the page at `start`; every other byte of its query is kept.
fn with_start(url: &Url, start: u64) -> Url {
    query::with_number(url, "start", start)
}
