//! The requests behind a list: how many may be on their way, the pages that arrived but were
//! not taken yet, in list order, and the links already read.
//!
//! Memory is bounded: the pages requested or arrived but not taken never exceed the capacity
//! (`concurrency` while the strategy knows the pages to come, one otherwise), so with the page
//! the consumer is reading at most `concurrency + 1` pages are held, whatever the length of
//! the list.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher as _, RandomState};
use std::task::{Context, Poll};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesOrdered;
use reqwest::Url;

use super::{Fetch, Fetched, RawPage, Strategy, Then};

/// A page and the cursor after it: the link to the page that follows, `None` on the last page.
pub(super) struct Arrived<M> {
    pub page: RawPage<M>,
    pub cursor: Option<String>,
}

/// A page in order, or the error that ends the list.
pub(super) type Next<S> = Result<Arrived<<S as Strategy>::Meta>, <S as Strategy>::Error>;

pub(super) struct Engine<S: Strategy> {
    strategy: S,
    /// At least 1 (`Pages::concurrency` sees to it).
    pub(super) concurrency: usize,
    pub(super) max_pages: Option<u64>,
    pub(super) max_items: Option<u64>,
    /// Nothing more is requested.
    finished: bool,
    in_flight: FuturesOrdered<Fetch<S::Meta, S::Error>>,
    /// The links `in_flight` asked for, in the same order.
    in_flight_links: VecDeque<Url>,
    ready: VecDeque<Next<S>>,
    /// Requests sent, less those dropped as wrong guesses.
    requested: u64,
    received_items: u64,
    received_pages: u64,
    /// Items per page, from the first page: what a page on its way will bring.
    per_page: u64,
    /// The links of the pages read so far (asked for, and answered from when that differs),
    /// hashed: a link among them is a loop. Eight bytes a link.
    read: HashSet<u64>,
    hasher: RandomState,
}

impl<S: Strategy> Engine<S> {
    /// The engine of a list; one that cannot start yields `error` first, and nothing else.
    pub(super) fn new(strategy: S, concurrency: usize, error: Option<S::Error>) -> Self {
        let finished = error.is_some();
        Engine {
            strategy,
            concurrency: concurrency.max(1),
            max_pages: None,
            max_items: None,
            finished,
            in_flight: FuturesOrdered::new(),
            in_flight_links: VecDeque::new(),
            ready: error.map(Err).into_iter().collect(),
            requested: 0,
            received_items: 0,
            received_pages: 0,
            per_page: 0,
            read: HashSet::new(),
            hasher: RandomState::new(),
        }
    }

    /// The next page in order, once it has arrived; `None` when the list (or the limits) are
    /// exhausted.
    pub(super) fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Next<S>>> {
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

    /// Drops the requests on their way and the pages not taken; nothing more is requested.
    pub(super) fn stop(&mut self) {
        self.finished = true;
        self.drop_in_flight();
        self.ready.clear();
    }

    /// Drops the requests on their way; returns how many there were.
    fn drop_in_flight(&mut self) -> u64 {
        let dropped = u64::try_from(self.in_flight.len()).unwrap_or(u64::MAX);
        self.in_flight = FuturesOrdered::new();
        self.in_flight_links.clear();
        dropped
    }

    fn capacity(&self) -> usize {
        if self.strategy.concurrent() {
            self.concurrency
        } else {
            1
        }
    }

    fn within_limits(&self) -> bool {
        let pages_ok = self.max_pages.is_none_or(|max| self.requested < max);
        let coming = u64::try_from(self.in_flight.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(self.per_page)
            .saturating_add(self.received_items);
        // Before the first page, what a page holds is unknown: one at a time then.
        let items_ok = self.max_items.is_none_or(|max| {
            coming < max && (self.received_pages > 0 || self.in_flight.is_empty())
        });
        pages_ok && items_ok
    }

    fn refill(&mut self) {
        while !self.finished
            && self.ready.len() + self.in_flight.len() < self.capacity()
            && self.within_limits()
        {
            let Some(request) = self.strategy.next() else {
                return;
            };
            self.requested = self.requested.saturating_add(1);
            self.in_flight_links.push_back(request.url);
            self.in_flight.push_back(request.fetch);
        }
    }

    /// Notes that the page at `url` was read.
    fn remember(&mut self, url: &Url) {
        let hash = self.hasher.hash_one(url.as_str());
        self.read.insert(hash);
    }

    /// Whether the page at `url` was read already by this stream.
    fn read_before(&self, url: &Url) -> bool {
        self.read.contains(&self.hasher.hash_one(url.as_str()))
    }

    /// A page arrived (in order).
    fn arrive(&mut self, result: Result<Fetched<S::Meta>, S::Error>) {
        let requested = self.in_flight_links.pop_front();
        let fetched = match result {
            Ok(fetched) => fetched,
            Err(error) => {
                // Pages before this one stay in `ready`; those after it are dropped.
                self.finished = true;
                self.drop_in_flight();
                self.ready.push_back(Err(error));
                return;
            }
        };
        let len = fetched.page.len();
        self.received_items = self.received_items.saturating_add(len);
        self.received_pages = self.received_pages.saturating_add(1);
        if self.received_pages == 1 {
            self.per_page = S::page_size(&fetched.page.meta).unwrap_or(len);
        }
        // Both the link asked for and the one that answered (a retry without a parameter, a
        // redirect) were read.
        let requested = requested.unwrap_or_else(|| fetched.url.clone());
        self.remember(&requested);
        self.remember(&fetched.url);
        let arrival = self
            .strategy
            .arrived(&requested, &fetched, self.in_flight_links.front());
        let mut failure = None;
        match arrival.then {
            Then::Continue => {}
            Then::Restart => {
                let dropped = self.drop_in_flight();
                self.requested = self.requested.saturating_sub(dropped);
            }
            Then::End => {
                self.finished = true;
                self.drop_in_flight();
            }
            Then::Fail(error) => failure = Some(error),
        }
        if failure.is_none()
            && let Some(link) = &arrival.follows
            && self.read_before(link)
        {
            failure = Some(self.strategy.looped(self.received_pages));
        }
        self.ready.push_back(Ok(Arrived {
            page: fetched.page,
            cursor: arrival.cursor,
        }));
        if let Some(error) = failure {
            self.finished = true;
            self.drop_in_flight();
            self.ready.push_back(Err(error));
        }
    }
}
