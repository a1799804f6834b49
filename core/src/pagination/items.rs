//! A page whose items are of a type only the stream that asked for them knows.

use std::any::Any;
use std::fmt;

/// A `Vec` of items, of a type erased so that one engine serves every list.
trait AnyVec: Send {
    fn len(&self) -> usize;
    fn truncate(&mut self, len: usize);
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Send + 'static> AnyVec for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// A page's items, whatever their type: made with [`AnyItems::new`] from a `Vec<T>`, read back
/// with [`AnyItems::into_vec`] as that `T`.
pub struct AnyItems(Box<dyn AnyVec>);

impl AnyItems {
    /// The items of a page.
    pub fn new<T: Send + 'static>(items: Vec<T>) -> Self {
        AnyItems(Box::new(items))
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Keeps the first `len` items.
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    /// The items, as the type they were made from.
    ///
    /// # Panics
    ///
    /// When `T` is not that type. A product's stream and the strategy that decodes its pages
    /// are made together for one item type, so this cannot happen whatever a server sends.
    pub fn into_vec<T: 'static>(self) -> Vec<T> {
        match self.0.into_any().downcast::<Vec<T>>() {
            Ok(items) => *items,
            Err(_) => unreachable!("a page's items are read as the type its stream decoded"),
        }
    }
}

impl fmt::Debug for AnyItems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnyItems({} items)", self.len())
    }
}

/// A page as the engine carries it: its items, and what the product's envelope says about it
/// (`M`: Cloud's `next`, `page`, `pagelen`, ...; Data Center's `start`, `limit`, ...).
#[derive(Debug)]
pub struct RawPage<M> {
    /// The page's items.
    pub items: AnyItems,
    /// The rest of the page.
    pub meta: M,
}

impl<M> RawPage<M> {
    /// A page of `items`.
    pub fn new<T: Send + 'static>(items: Vec<T>, meta: M) -> Self {
        RawPage {
            items: AnyItems::new(items),
            meta,
        }
    }

    /// How many items it holds.
    pub fn len(&self) -> u64 {
        u64::try_from(self.items.len()).unwrap_or(u64::MAX)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
