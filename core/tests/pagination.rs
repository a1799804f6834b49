//! The page-stream engine with a minimal strategy, over pure futures: each page's request
//! waits for a gate the test opens, so pages arrive in whatever order the test chooses, and
//! the stream is polled by hand (`now_or_never`), without a runtime or a network.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bitbucket_core::pagination::{
    Arrival, Fetched, Pages, RawPage, Request, Strategy, Then, query,
};
use futures_util::{FutureExt as _, StreamExt as _};
use reqwest::Url;
use tokio::sync::oneshot;

#[derive(Debug, PartialEq)]
enum TestError {
    Fetch(u64),
    Loop(u64),
}

type Gates = Arc<Mutex<BTreeMap<u64, oneshot::Sender<bool>>>>;

/// A list of `total` numbered pages of `per_page` items (item `i` is `i`), all known in
/// advance, so the engine may fetch them concurrently.
struct Numbered {
    total: u64,
    per_page: u64,
    next: u64,
    /// The requests on their way, by page number: send `true` to deliver the page, `false`
    /// to fail it.
    gates: Gates,
    sent: Arc<Mutex<Vec<u64>>>,
    /// The page whose link leads back to the first page.
    loops_at: Option<u64>,
}

fn link(page: u64) -> Url {
    Url::parse(&format!("https://h/list?page={page}")).unwrap()
}

impl Numbered {
    fn new(total: u64, per_page: u64) -> Self {
        Numbered {
            total,
            per_page,
            next: 0,
            gates: Gates::default(),
            sent: Arc::default(),
            loops_at: None,
        }
    }

    /// The list from a cursor.
    fn from(cursor: &str, total: u64, per_page: u64) -> Self {
        let mut list = Numbered::new(total, per_page);
        list.next = query::number(&Url::parse(cursor).unwrap(), "page").unwrap();
        list
    }
}

/// Delivers (or fails) the page on its way.
fn open(gates: &Gates, page: u64, deliver: bool) {
    let gate = gates.lock().unwrap().remove(&page).expect("page requested");
    gate.send(deliver).unwrap();
}

/// Delivers every page on its way.
fn open_all(gates: &Gates) {
    let pages: Vec<u64> = gates.lock().unwrap().keys().copied().collect();
    for page in pages {
        open(gates, page, true);
    }
}

impl Strategy for Numbered {
    type Meta = u64;
    type Error = TestError;

    fn next(&mut self) -> Option<Request<u64, TestError>> {
        let page = self.next;
        if page >= self.total {
            return None;
        }
        self.next += 1;
        let (gate, opened) = oneshot::channel();
        self.gates.lock().unwrap().insert(page, gate);
        self.sent.lock().unwrap().push(page);
        let per_page = self.per_page;
        Some(Request {
            url: link(page),
            fetch: async move {
                if opened.await != Ok(true) {
                    return Err(TestError::Fetch(page));
                }
                let first = page * per_page;
                let items: Vec<u64> = (first..first + per_page).collect();
                Ok(Fetched {
                    url: link(page),
                    page: RawPage::new(items, page),
                })
            }
            .boxed(),
        })
    }

    fn concurrent(&self) -> bool {
        true
    }

    fn arrived(
        &mut self,
        _requested: &Url,
        fetched: &Fetched<u64>,
        _upcoming: Option<&Url>,
    ) -> Arrival<TestError> {
        let page = fetched.page.meta;
        let last = page + 1 >= self.total;
        Arrival {
            cursor: (!last).then(|| link(page + 1).to_string()),
            follows: (self.loops_at == Some(page)).then(|| link(0)),
            then: if last { Then::End } else { Then::Continue },
        }
    }

    fn page_size(_: &u64) -> Option<u64> {
        None
    }

    fn looped(&self, pages: u64) -> TestError {
        TestError::Loop(pages)
    }
}

/// The cursor before the list's first page.
fn start(list: &Numbered) -> Result<Option<String>, TestError> {
    Ok(Some(link(list.next).to_string()))
}

/// Polls once: the next page's number if it is there.
fn poll(pages: &mut Pages<Numbered>) -> Option<Option<Result<u64, TestError>>> {
    pages
        .next()
        .now_or_never()
        .map(|page| page.map(|page| page.map(|page| page.meta)))
}

/// Every page, each request delivered as soon as it is sent.
fn drain(pages: &mut Pages<Numbered>, gates: &Gates) -> Vec<Result<u64, TestError>> {
    let mut got = Vec::new();
    loop {
        open_all(gates);
        match poll(pages) {
            Some(Some(page)) => got.push(page),
            Some(None) => return got,
            None => {}
        }
    }
}

#[test]
fn pages_come_in_list_order_whatever_order_they_arrive_in() {
    let list = Numbered::new(5, 10);
    let (gates, sent) = (list.gates.clone(), list.sent.clone());
    let mut pages = Pages::new(list, 3, Ok(None));

    assert_eq!(poll(&mut pages), None, "nothing arrived yet");
    assert_eq!(*sent.lock().unwrap(), [0, 1, 2], "three at once");
    open(&gates, 2, true);
    open(&gates, 1, true);
    assert_eq!(poll(&mut pages), None, "pages 1 and 2 wait for page 0");
    open(&gates, 0, true);
    assert_eq!(poll(&mut pages), Some(Some(Ok(0))));
    assert_eq!(poll(&mut pages), Some(Some(Ok(1))));
    assert_eq!(poll(&mut pages), Some(Some(Ok(2))));
    open(&gates, 4, true);
    assert_eq!(poll(&mut pages), None, "page 4 waits for page 3");
    open(&gates, 3, true);
    assert_eq!(poll(&mut pages), Some(Some(Ok(3))));
    assert_eq!(poll(&mut pages), Some(Some(Ok(4))));
    assert_eq!(poll(&mut pages), Some(None));
    assert_eq!(pages.resume_cursor(), None, "nothing is left");
}

#[test]
fn no_more_than_concurrency_plus_one_pages_are_held() {
    let concurrency = 3;
    let list = Numbered::new(40, 10);
    let (gates, sent) = (list.gates.clone(), list.sent.clone());
    let mut items = Pages::new(list, concurrency, Ok(None)).items::<u64>();

    for expected in 0..400u64 {
        let item = loop {
            // Every request on its way arrives at once: only the bound holds the engine back.
            open_all(&gates);
            if let Some(item) = items.next().now_or_never() {
                break item;
            }
        };
        assert_eq!(item, Some(Ok(expected)));
        let reading = expected / 10;
        let requested = sent.lock().unwrap().len() as u64;
        assert!(
            requested <= reading + 1 + concurrency as u64,
            "reading page {reading}: {requested} pages requested"
        );
    }
    assert_eq!(items.next().now_or_never(), Some(None));
    assert_eq!(sent.lock().unwrap().len(), 40);
}

#[test]
fn a_stream_cut_short_resumes_from_its_cursor() {
    let list = Numbered::new(10, 10);
    let (gates, sent) = (list.gates.clone(), list.sent.clone());
    let first = start(&list);
    let mut items = Pages::new(list, 4, first).items::<u64>().max_items(25);
    assert!(items.resume_cursor().unwrap().ends_with("?page=0"));

    let mut got = Vec::new();
    loop {
        open_all(&gates);
        match items.next().now_or_never() {
            Some(Some(item)) => got.push(item.unwrap()),
            Some(None) => break,
            None => {}
        }
    }
    assert_eq!(got, (0..25).collect::<Vec<_>>());
    assert_eq!(
        *sent.lock().unwrap(),
        [0, 1, 2],
        "no page past the 25th item is asked for"
    );
    // Page 2 was read partly: the cursor asks for it again.
    let cursor = items.resume_cursor().unwrap().to_string();
    assert!(cursor.ends_with("?page=2"), "{cursor}");

    let rest = Numbered::from(&cursor, 10, 10);
    let gates = rest.gates.clone();
    let position = start(&rest);
    let mut pages = Pages::new(rest, 4, position).max_pages(3);
    assert_eq!(drain(&mut pages, &gates), [Ok(2), Ok(3), Ok(4)]);
    let cursor = pages.resume_cursor().unwrap();
    assert!(cursor.ends_with("?page=5"), "{cursor}");
}

#[test]
fn an_error_is_yielded_after_the_pages_before_it_and_ends_the_stream() {
    let list = Numbered::new(6, 10);
    let gates = list.gates.clone();
    let mut pages = Pages::new(list, 3, Ok(None));

    assert_eq!(poll(&mut pages), None);
    open(&gates, 2, true);
    open(&gates, 1, false);
    open(&gates, 0, true);
    assert_eq!(poll(&mut pages), Some(Some(Ok(0))));
    assert_eq!(poll(&mut pages), Some(Some(Err(TestError::Fetch(1)))));
    assert_eq!(
        poll(&mut pages),
        Some(None),
        "page 2 arrived, but after the error"
    );
    assert!(
        gates.lock().unwrap().is_empty(),
        "nothing more was asked for"
    );
}

#[test]
fn a_link_back_to_a_page_read_ends_the_stream_with_the_loop_error() {
    let mut list = Numbered::new(6, 10);
    list.loops_at = Some(1);
    let gates = list.gates.clone();
    let mut pages = Pages::new(list, 1, Ok(None));

    assert_eq!(
        drain(&mut pages, &gates),
        [Ok(0), Ok(1), Err(TestError::Loop(2))]
    );
}

#[test]
fn a_list_that_cannot_start_yields_its_error_alone() {
    let list = Numbered::new(3, 10);
    let sent = list.sent.clone();
    let mut pages = Pages::new(list, 4, Err(TestError::Fetch(0)));
    assert_eq!(poll(&mut pages), Some(Some(Err(TestError::Fetch(0)))));
    assert_eq!(poll(&mut pages), Some(None));
    assert!(sent.lock().unwrap().is_empty());
}
