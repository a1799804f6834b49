//! Page streams, whatever the product's paging: the engine behind both crates' `pages()`,
//! `stream()` and `resume(cursor)`.
//!
//! A product describes how its lists are paged with a [`Strategy`] (Cloud follows `next`
//! links, and numbers pages when it can; Data Center moves `start` by `limit`), which also
//! sends the requests through the product's transport. The rest is here, the same for both:
//!
//! - [`Pages`]: the `Stream` of pages, in list order, with `max_pages`, `max_items` (the last
//!   page cut short) and the resume cursor (the page after the last one handed out whole);
//! - [`Items`]: the items of those pages, one by one, the next pages still coming while the
//!   current one is read;
//! - the engine under them: up to `concurrency` requests on their way when the strategy
//!   knows the pages to come, one ahead otherwise; pages that arrive early wait for those
//!   before them; at most `concurrency + 1` pages held, whatever the length of the list; a
//!   link the stream already read ends it with the strategy's loop error; the first error
//!   ends it (the pages before it are yielded, then the error, then nothing);
//! - [`query`]: the raw query editing pagination links need (`page=`, `start=`), every other
//!   byte of the link kept.
//!
//! Nothing is spawned: requests progress while the stream is polled. The engine does not know
//! the items' type (pages carry them as [`AnyItems`]), so a product needs one engine whatever
//! the number of its lists.

mod engine;
mod items;
pub mod query;
mod strategy;
mod stream;

pub use items::{AnyItems, RawPage};
pub use strategy::{Arrival, Fetch, Fetched, Request, Strategy, Then};
pub use stream::{Items, Pages};
