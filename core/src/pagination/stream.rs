//! The streams a list is read through: [`Pages`] (whole pages, the limits, the resume cursor)
//! and [`Items`] (their items one by one).

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use super::engine::{Arrived, Engine};
use super::{RawPage, Strategy};

/// The pages of a list in order, as a `Stream` of [`RawPage`]s: what a product's typed
/// `Pages<T>` wraps.
#[must_use = "streams do nothing unless polled"]
pub struct Pages<S: Strategy> {
    engine: Engine<S>,
    /// The link to the page after the last one handed out whole.
    position: Option<String>,
    yielded_pages: u64,
    yielded_items: u64,
    done: bool,
}

impl<S: Strategy> Pages<S> {
    /// The pages `strategy` asks for, up to `concurrency` requests at once (at least 1) when
    /// it knows the pages to come. `start` is the cursor before the first page (its link), or
    /// why the list cannot start: then the stream yields that error, and nothing else.
    pub fn new(strategy: S, concurrency: usize, start: Result<Option<String>, S::Error>) -> Self {
        let (position, error) = match start {
            Ok(position) => (position, None),
            Err(error) => (None, Some(error)),
        };
        Pages {
            engine: Engine::new(strategy, concurrency, error),
            position,
            yielded_pages: 0,
            yielded_items: 0,
            done: false,
        }
    }

    /// How many requests may be on their way at once when the strategy knows the pages to
    /// come (at least 1). Otherwise the next page is requested one ahead.
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

    /// The items of these pages, in order. `T` is the type the strategy's pages hold (the
    /// `Vec<T>` of [`RawPage::new`]); reading them as another type panics when a page arrives,
    /// so a product makes the stream and its strategy together, for one `T`.
    pub fn items<T: Send + 'static>(self) -> Items<S, T> {
        Items {
            pages: self,
            current: VecDeque::new(),
            current_cursor: None,
            item: PhantomData,
        }
    }

    /// The link to the page after the last one handed out whole. Before the first page it is
    /// the first page's link; `None` once the last page was handed out (nothing is left) or
    /// when the list could not start. A page cut short by [`Pages::max_items`] is not whole:
    /// the cursor then asks for it again.
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

impl<S: Strategy> Stream for Pages<S> {
    type Item = Result<RawPage<S::Meta>, S::Error>;

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
                this.yielded_pages = this.yielded_pages.saturating_add(1);
                // `limit_reached` said there is room for at least one more item.
                match this
                    .engine
                    .max_items
                    .map(|max| max.saturating_sub(this.yielded_items))
                {
                    // Cut short: not whole, so the position stays before it.
                    Some(room) if page.len() > room => page
                        .items
                        .truncate(usize::try_from(room).unwrap_or(usize::MAX)),
                    _ => this.position = cursor,
                }
                this.yielded_items = this.yielded_items.saturating_add(page.len());
                Poll::Ready(Some(Ok(page)))
            }
        }
    }
}

// Nothing is pinned in place: the requests on their way are boxed, the strategy is only ever
// used through `&mut`.
impl<S: Strategy> Unpin for Pages<S> {}

impl<S: Strategy> fmt::Debug for Pages<S> {
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

/// The items of a list across its pages, as a `Stream` of `T`s (the type the strategy decodes
/// the items as).
#[must_use = "streams do nothing unless polled"]
pub struct Items<S: Strategy, T> {
    pages: Pages<S>,
    current: VecDeque<T>,
    /// The cursor of the page being read (the position before it).
    current_cursor: Option<String>,
    item: PhantomData<fn() -> T>,
}

impl<S: Strategy, T> Items<S, T> {
    /// How many requests may be on their way at once. See [`Pages::concurrency`].
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

    /// The link to the page after the last one whose items were all yielded. When a page was
    /// read partly, resuming yields that page again in full. `None` once the last item was
    /// yielded.
    pub fn resume_cursor(&self) -> Option<&str> {
        if self.current.is_empty() {
            self.pages.resume_cursor()
        } else {
            self.current_cursor.as_deref()
        }
    }
}

impl<S: Strategy, T: Send + 'static> Stream for Items<S, T> {
    type Item = Result<T, S::Error>;

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
                    this.current = page.items.into_vec::<T>().into();
                }
            }
        }
    }
}

impl<S: Strategy, T> Unpin for Items<S, T> {}

impl<S: Strategy, T> fmt::Debug for Items<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("pages", &self.pages)
            .field("buffered", &self.current.len())
            .finish()
    }
}
