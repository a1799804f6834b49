//! What a product says about its lists: which page to ask for next, how it is fetched, and
//! what a page that arrived means for the ones after it.

use futures_util::future::BoxFuture;
use reqwest::Url;

use super::RawPage;

/// A page fetched: the URL that answered (after any redirect or retry of the request) and
/// the page decoded.
#[derive(Debug)]
pub struct Fetched<M> {
    /// The URL that answered.
    pub url: Url,
    /// The page.
    pub page: RawPage<M>,
}

/// A page on its way: the product's transport sending the request and decoding the answer.
pub type Fetch<M, E> = BoxFuture<'static, Result<Fetched<M>, E>>;

/// A request the strategy wants sent.
pub struct Request<M, E> {
    /// The link it asks for. Once its page has arrived, a link leading back to it is a loop.
    pub url: Url,
    /// The request itself.
    pub fetch: Fetch<M, E>,
}

/// What the requests on their way become after a page arrived.
#[derive(Debug)]
pub enum Then<E> {
    /// They stay; more may be sent as [`Strategy::next`] says.
    Continue,
    /// They were sent for the wrong pages (guesses the page contradicts): dropped, and the
    /// list goes on from what [`Strategy::next`] says now.
    Restart,
    /// This page is the list's last: the requests past it are dropped, none is sent again.
    End,
    /// The list cannot go on: this page is yielded, then this error, and nothing else.
    Fail(E),
}

/// What a page that arrived says about the list.
#[derive(Debug)]
pub struct Arrival<E> {
    /// The cursor after this page: a link to the page that follows it, for `resume(cursor)`;
    /// `None` when it is the last.
    pub cursor: Option<String>,
    /// The link the page leads to, when the strategy will follow it (not one it derived or
    /// guessed): if the stream read that link already, the list loops, and ends with
    /// [`Strategy::looped`] after this page.
    pub follows: Option<Url>,
    /// What becomes of the requests on their way.
    pub then: Then<E>,
}

/// How a product's lists are paged, and how their pages are fetched.
///
/// The engine asks [`Strategy::next`] for requests while it has room (one on its way, or up
/// to the stream's concurrency when [`Strategy::concurrent`] says the pages to come are
/// known), and hands each page to [`Strategy::arrived`] in list order, whatever order they
/// arrived in.
pub trait Strategy: Send + 'static {
    /// What the product's envelope says about a page besides its items.
    type Meta: Send + 'static;
    /// The product's error.
    type Error: Send + 'static;

    /// The next request, when it is known now: `None` to wait for the pages on their way (or
    /// when the list has no more).
    fn next(&mut self) -> Option<Request<Self::Meta, Self::Error>>;

    /// Whether the requests [`Strategy::next`] gives may be on their way together (the pages
    /// to come are known, or guessed): then up to the stream's concurrency are sent at once.
    fn concurrent(&self) -> bool;

    /// The page that `requested` asked for arrived as `fetched`, in list order; `upcoming` is
    /// the link of the request after it, when one is on its way.
    fn arrived(
        &mut self,
        requested: &Url,
        fetched: &Fetched<Self::Meta>,
        upcoming: Option<&Url>,
    ) -> Arrival<Self::Error>;

    /// The page size a page says the list uses (what the next pages will hold), if it says.
    fn page_size(meta: &Self::Meta) -> Option<u64>;

    /// The error a list ends with when a page leads to a link the stream already read, after
    /// `pages` pages.
    fn looped(&self, pages: u64) -> Self::Error;
}
