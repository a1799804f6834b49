//! Streams over Bitbucket's paged lists.
//!
//! Lists come in pages (`values`, `next`, `page`, `pagelen`, `size`). Every paginated
//! operation's builder has `stream()`, yielding items across pages, and `pages()`, yielding
//! whole [`Page`]s. Both follow `next` exactly as Bitbucket gives it, and refuse a `next` on
//! another origin than the client's (credentials are never sent elsewhere).
//!
//! ```no_run
//! use futures_util::TryStreamExt as _;
//! # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
//! let repos: Vec<_> = client.list_repositories().workspace("ws").stream().try_collect().await?;
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use serde::de::DeserializeOwned;

use crate::operations::Operation;
use crate::{Client, Error, transport};

/// The page size asked for when the caller did not set `pagelen`: the largest Bitbucket
/// accepts on most lists, ten times fewer requests than its default of 10.
pub const DEFAULT_PAGELEN: u32 = 100;

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The page's items (`values`).
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

/// A paginated response type of [`crate::types`] (`PaginatedPullrequests`, ...).
pub trait Envelope: DeserializeOwned + Send + 'static {
    /// What `values` holds.
    type Item: Send + 'static;
    /// The page, in the crate's uniform shape.
    fn into_page(self) -> Page<Self::Item>;
}

include!(concat!(env!("OUT_DIR"), "/pagination.rs"));

/// The pages of a list, as a `Stream` of [`Page`]s. Returned by `pages()` on every paginated
/// builder.
#[must_use = "streams do nothing unless polled"]
pub struct Pages<E: Envelope> {
    state: PagesState<E>,
}

enum PagesState<E: Envelope> {
    Pending {
        start: Box<Result<(Client, reqwest::Request), Error>>,
        operation: &'static Operation,
    },
    Running(BoxStream<'static, Result<Page<E::Item>, Error>>),
    Done,
}

impl<E: Envelope> Pages<E> {
    #[doc(hidden)]
    pub fn new(
        start: Result<(&Client, reqwest::Request), Error>,
        operation: &'static Operation,
    ) -> Self {
        let start = start.map(|(client, request)| (client.clone(), request));
        Pages {
            state: PagesState::Pending {
                start: Box::new(start),
                operation,
            },
        }
    }

    /// The items of these pages, in order.
    pub fn items(self) -> Items<E::Item> {
        Items {
            pages: self.boxed(),
            buffer: VecDeque::new(),
            done: false,
        }
    }

    fn boxed(self) -> BoxStream<'static, Result<Page<E::Item>, Error>> {
        match self.state {
            PagesState::Pending { start, operation } => run::<E>(*start, operation).boxed(),
            PagesState::Running(stream) => stream,
            PagesState::Done => futures_util::stream::empty().boxed(),
        }
    }
}

impl<E: Envelope> Stream for Pages<E> {
    type Item = Result<Page<E::Item>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let PagesState::Pending { .. } = this.state {
            let PagesState::Pending { start, operation } =
                std::mem::replace(&mut this.state, PagesState::Done)
            else {
                unreachable!()
            };
            this.state = PagesState::Running(run::<E>(*start, operation).boxed());
        }
        match &mut this.state {
            PagesState::Running(stream) => stream.poll_next_unpin(cx),
            _ => Poll::Ready(None),
        }
    }
}

/// Fetches the first page, then each `next`, one after the other; ends after an error.
fn run<E: Envelope>(
    start: Result<(Client, reqwest::Request), Error>,
    operation: &'static Operation,
) -> impl Stream<Item = Result<Page<E::Item>, Error>> + Send + 'static {
    enum Step {
        First(Result<(Client, reqwest::Request), Error>),
        Next(Client, reqwest::Request),
        End,
    }
    let first = start.map(|(client, mut request)| {
        set_default_pagelen(&mut request);
        (client, request)
    });
    futures_util::stream::unfold(Step::First(first), move |step| async move {
        let (client, request) = match step {
            Step::End => return None,
            Step::First(Err(error)) => return Some((Err(error), Step::End)),
            Step::First(Ok((client, request))) | Step::Next(client, request) => (client, request),
        };
        let template = request.try_clone();
        let page = match transport::execute(&client, request, operation)
            .await
            .and_then(|r| r.json::<E>(operation))
        {
            Ok(envelope) => envelope.into_page(),
            Err(error) => return Some((Err(error), Step::End)),
        };
        let next = match (&page.next, template) {
            (Some(next), Some(template)) => {
                match next_request(&client, template, next, operation) {
                    Ok(request) => Step::Next(client, request),
                    Err(error) => return Some((Err(error), Step::End)),
                }
            }
            _ => Step::End,
        };
        Some((Ok(page), next))
    })
}

/// Adds `pagelen=100` unless the caller chose a page size.
fn set_default_pagelen(request: &mut reqwest::Request) {
    if !request.url().query_pairs().any(|(k, _)| k == "pagelen") {
        request
            .url_mut()
            .query_pairs_mut()
            .append_pair("pagelen", &DEFAULT_PAGELEN.to_string());
    }
}

/// A GET of `next` with the headers of the first request, if `next` is on the client's
/// origin.
fn next_request(
    client: &Client,
    template: reqwest::Request,
    next: &str,
    operation: &'static Operation,
) -> Result<reqwest::Request, Error> {
    let url = reqwest::Url::parse(next).map_err(|e| Error::InvalidRequest {
        operation: operation.name,
        message: format!("Bitbucket's `next` link is not a URL ({e})"),
    })?;
    let base = &client.inner.base;
    if url.origin() != base.origin() {
        return Err(Error::ForeignNextLink {
            operation: operation.name,
            origin: url.origin().ascii_serialization(),
            expected: base.origin().ascii_serialization(),
        });
    }
    let mut request = reqwest::Request::new(reqwest::Method::GET, url);
    *request.headers_mut() = template.headers().clone();
    *request.timeout_mut() = template.timeout().copied();
    Ok(request)
}

/// The items of a list across its pages, as a `Stream`. Returned by `stream()` on every
/// paginated builder.
#[must_use = "streams do nothing unless polled"]
pub struct Items<T> {
    pages: BoxStream<'static, Result<Page<T>, Error>>,
    buffer: VecDeque<T>,
    done: bool,
}

impl<T> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match this.pages.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.done = true,
                Poll::Ready(Some(Err(error))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(Ok(page))) => this.buffer.extend(page.items),
            }
        }
    }
}

impl<T> Unpin for Items<T> {}
