//! `stream()`, `pages()` and `resume(cursor)` over real HTTP against a loopback server that
//! pages a list the way Bitbucket does (see `support/list_server.rs`).

use crate::support::list_server;

use std::time::{Duration, Instant};

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Client, Error, builder};
use futures_util::{StreamExt as _, TryStreamExt as _};
use list_server::{Links, List, encode_cursor, index, queries};
use wiremock::MockServer;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.uri())
        .retry(RetryConfig::disabled())
        .build()
        .expect("a loopback client")
}

/// What a stream yielded: the items' indices, then the error that ended it, if any.
async fn drain<T: serde::Serialize>(
    mut stream: impl futures_util::Stream<Item = Result<T, Error>> + Unpin,
) -> (Vec<u64>, Option<Error>) {
    let mut items = Vec::new();
    while let Some(result) = stream.next().await {
        match result {
            Ok(item) => items.push(index(&item)),
            Err(error) => {
                assert!(
                    stream.next().await.is_none(),
                    "the stream ends after an error"
                );
                return (items, Some(error));
            }
        }
    }
    (items, None)
}

/// The list of repositories of `ws`, `pagelen` items a page: the list most tests read.
fn repos(client: &Client, pagelen: i64) -> builder::ListRepositories<'_> {
    client.list_repositories().workspace("ws").pagelen(pagelen)
}

fn range(from: u64, to: u64) -> Vec<u64> {
    (from..to).collect()
}

#[tokio::test]
async fn a_numbered_list_yields_every_item_once_in_order() {
    let server = List::new(250, Links::Numbered).serve().await;
    let client = client(&server);

    let (items, error) = drain(repos(&client, 7).stream()).await;

    assert!(error.is_none(), "{error:?}");
    assert_eq!(items, range(0, 250));
    let queries = queries(&server).await;
    assert_eq!(
        queries.len(),
        36,
        "ceil(250 / 7) pages, each asked for once"
    );
    assert_eq!(queries[0], "pagelen=7", "the builder's pagelen wins");
    let mut pages = queries[1..].to_vec();
    let mut expected: Vec<String> = (2..=36).map(|n| format!("pagelen=7&page={n}")).collect();
    pages.sort();
    expected.sort();
    assert_eq!(pages, expected);
}

#[tokio::test]
async fn the_default_page_size_is_the_largest_the_endpoint_accepts() {
    let server = List::new(5, Links::Numbered).serve().await;
    let client = client(&server);

    let repos: Vec<_> = client
        .list_repositories()
        .workspace("ws")
        .stream()
        .try_collect()
        .await
        .unwrap();
    let prs: Vec<_> = client
        .repo("ws", "app")
        .list_pull_requests()
        .stream()
        .try_collect()
        .await
        .unwrap();

    assert_eq!((repos.len(), prs.len()), (5, 5));
    assert_eq!(queries(&server).await, ["pagelen=100", "pagelen=50"]);
}

#[tokio::test]
async fn numbered_pages_are_fetched_concurrently() {
    // 9 pages of 100 ms each: one after the other they take 900 ms; with 4 at once, the first
    // page then two rounds of 4 take about 300 ms.
    let mut list = List::new(90, Links::Numbered);
    list.delay = Duration::from_millis(100);
    let server = list.serve().await;
    let client = client(&server);

    let started = Instant::now();
    let (items, error) = drain(repos(&client, 10).stream()).await;
    let elapsed = started.elapsed();

    assert!(error.is_none(), "{error:?}");
    assert_eq!(items, range(0, 90));
    assert!(
        elapsed < Duration::from_millis(700),
        "took {elapsed:?}; sequential would take at least 900 ms"
    );
}

#[tokio::test]
async fn only_the_page_number_of_next_links_changes() {
    let mut list = List::new(40, Links::Numbered);
    list.next_extra = Some("fields=%2Bvalues.a%20b+c");
    let server = list.serve().await;
    let client = client(&server);

    let (items, _) = drain(repos(&client, 10).stream()).await;

    assert_eq!(items, range(0, 40));
    let mut queries = queries(&server).await;
    queries.sort();
    assert_eq!(
        queries,
        [
            "pagelen=10",
            "pagelen=10&fields=%2Bvalues.a%20b+c&page=2",
            "pagelen=10&fields=%2Bvalues.a%20b+c&page=3",
            "pagelen=10&fields=%2Bvalues.a%20b+c&page=4",
        ]
    );
}

#[tokio::test]
async fn max_items_stops_the_requests() {
    let server = List::new(1000, Links::Numbered).serve().await;
    let client = client(&server);

    let (items, _) = drain(repos(&client, 10).stream().max_items(25)).await;

    assert_eq!(items, range(0, 25));
    assert_eq!(
        queries(&server).await.len(),
        3,
        "pages 1 to 3 hold the first 25 items; nothing more is asked for"
    );
}

#[tokio::test]
async fn max_pages_stops_the_requests() {
    let server = List::new(1000, Links::Numbered).serve().await;
    let client = client(&server);

    let pages: Vec<_> = repos(&client, 10)
        .pages()
        .max_pages(2)
        .concurrency(8)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1].page, Some(2));
    assert_eq!(queries(&server).await.len(), 2);
}

#[tokio::test]
async fn opaque_cursors_are_followed_exactly_as_given() {
    let server = List::new(95, Links::Cursor).serve().await;
    let client = client(&server);

    let (items, error) = drain(client.repo("ws", "app").list_commits().pagelen(10).stream()).await;

    assert!(error.is_none(), "{error:?}");
    assert_eq!(items, range(0, 95));
    let expected: Vec<String> = std::iter::once("pagelen=10".to_string())
        .chain((2..=10).map(|n| format!("pagelen=10&page={}", encode_cursor(n))))
        .collect();
    assert_eq!(
        queries(&server).await,
        expected,
        "one after the other, in order"
    );
}

#[tokio::test]
async fn a_list_without_size_is_followed_one_page_at_a_time() {
    let server = List::new(30, Links::NumberedWithoutSize).serve().await;
    let client = client(&server);

    let (items, _) = drain(repos(&client, 10).stream()).await;

    assert_eq!(items, range(0, 30));
    assert_eq!(
        queries(&server).await,
        ["pagelen=10", "pagelen=10&page=2", "pagelen=10&page=3"]
    );
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused_and_not_requested() {
    let elsewhere = List::new(100, Links::Numbered).serve().await;
    let mut list = List::new(100, Links::Numbered);
    list.next_origin = Some(elsewhere.uri());
    let server = list.serve().await;
    let client = client(&server);

    let (items, error) = drain(repos(&client, 10).stream()).await;

    assert_eq!(items, range(0, 10), "the first page is yielded");
    match error {
        Some(Error::ForeignNextLink {
            origin, expected, ..
        }) => {
            assert_eq!(origin, elsewhere.uri());
            assert_eq!(expected, server.uri());
        }
        other => panic!("expected ForeignNextLink, got {other:?}"),
    }
    assert!(
        queries(&elsewhere).await.is_empty(),
        "nothing was sent there"
    );
    assert_eq!(queries(&server).await.len(), 1);

    // A saved cursor is checked the same way.
    let cursor = format!("{}/repositories/ws?page=2", elsewhere.uri());
    let resumed: Vec<_> = client
        .list_repositories()
        .resume(&cursor)
        .collect::<Vec<_>>()
        .await;
    assert!(matches!(resumed[..], [Err(Error::ForeignNextLink { .. })]));
    assert!(queries(&elsewhere).await.is_empty());
}

#[tokio::test]
async fn an_error_on_page_7_is_yielded_after_pages_1_to_6_and_ends_the_stream() {
    for links in [Links::Numbered, Links::Cursor] {
        let mut list = List::new(200, links);
        list.fail_page = Some(7);
        let server = list.serve().await;
        let client = client(&server);

        let (items, error) = drain(repos(&client, 10).stream()).await;

        assert_eq!(items, range(0, 60), "{links:?}");
        let error = error.expect("page 7 fails");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(500), "{links:?}");
    }
}

#[tokio::test]
async fn an_empty_list_yields_nothing() {
    let server = List::new(0, Links::Numbered).serve().await;
    let client = client(&server);

    let (items, error) = drain(client.list_repositories().workspace("ws").stream()).await;

    assert!(items.is_empty() && error.is_none());
    assert_eq!(queries(&server).await.len(), 1);
}

#[tokio::test]
async fn a_page_without_values_has_no_items_and_the_list_goes_on() {
    let mut list = List::new(30, Links::Numbered);
    list.page_without_values = Some(2);
    let server = list.serve().await;
    let client = client(&server);

    let pages: Vec<_> = repos(&client, 10).pages().try_collect().await.unwrap();
    let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
    assert_eq!(sizes, [10, 0, 10]);

    let (items, error) = drain(repos(&client, 10).stream()).await;
    assert!(error.is_none());
    assert_eq!(items, [range(0, 10), range(20, 30)].concat());
}

#[tokio::test]
async fn pipelines_without_next_links_are_read_by_page_number() {
    let server = List::new(35, Links::Linkless).serve().await;
    let client = client(&server);

    let (items, error) = drain(
        client
            .repo("ws", "app")
            .list_pipelines()
            .pagelen(10)
            .stream(),
    )
    .await;

    assert!(error.is_none(), "{error:?}");
    assert_eq!(items, range(0, 35));
    let mut queries = queries(&server).await;
    queries.sort();
    assert_eq!(
        queries,
        [
            "pagelen=10",
            "pagelen=10&page=2",
            "pagelen=10&page=3",
            "pagelen=10&page=4"
        ]
    );
}

#[tokio::test]
async fn pipelines_resume_from_a_derived_cursor() {
    // Pipelines pages link nothing: the cursor is the link the crate derives for the next page.
    let server = List::new(35, Links::Linkless).serve().await;
    let client = client(&server);
    let pipelines = || client.repo("ws", "app").list_pipelines().pagelen(10);

    let mut stream = pipelines().stream().max_items(15);
    let (first, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(first, range(0, 15));
    // Page 2 was read partly: the cursor asks for it again.
    let cursor = stream.resume_cursor().expect("more to read").to_string();
    assert!(cursor.ends_with("?pagelen=10&page=2"), "{cursor}");

    // Pages 2 and 3, whole: the cursor is page 4, the last.
    let mut pages = pipelines().resume(&cursor).max_pages(2);
    let mut second = Vec::new();
    while let Some(page) = pages.try_next().await.unwrap() {
        second.extend(page.items.iter().map(index));
    }
    assert_eq!(second, range(10, 30));
    let cursor = pages.resume_cursor().expect("page 4 is left").to_string();
    assert!(cursor.ends_with("?pagelen=10&page=4"), "{cursor}");

    let mut rest = pipelines().resume(&cursor).items();
    let (third, error) = drain(&mut rest).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(third, range(30, 35));
    assert_eq!(rest.resume_cursor(), None, "nothing is left");
}

#[tokio::test]
async fn no_more_than_concurrency_plus_one_pages_are_held() {
    let server = List::new(200, Links::Numbered).serve().await;
    let client = client(&server);
    let concurrency = 2;

    let mut stream = repos(&client, 10).stream().concurrency(concurrency);
    for i in 0..200u64 {
        let item = stream.try_next().await.unwrap().expect("200 items");
        assert_eq!(index(&item), i);
        if i % 10 == 4 {
            // Give any request the stream had sent time to arrive before counting.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let page = i / 10 + 1;
            let requested = queries(&server).await.len() as u64;
            assert!(
                requested <= page + concurrency as u64,
                "reading page {page}: {requested} pages requested"
            );
        }
    }
    assert!(stream.try_next().await.unwrap().is_none());
    assert_eq!(queries(&server).await.len(), 20);
}

#[tokio::test]
async fn a_stream_resumes_from_its_cursor() {
    for links in [Links::Numbered, Links::Cursor] {
        let server = List::new(100, links).serve().await;
        let client = client(&server);

        let mut stream = repos(&client, 10).stream().max_items(35);
        assert!(
            stream
                .resume_cursor()
                .is_some_and(|c| c.ends_with("/repositories/ws?pagelen=10")),
            "before the first page, the cursor is the first page"
        );
        let (first, _) = drain(&mut stream).await;
        assert_eq!(first, range(0, 35));
        // Page 4 was read partly: the cursor asks for it again.
        let cursor = stream.resume_cursor().expect("more to read").to_string();

        let mut rest = client.list_repositories().resume(&cursor).items();
        let (second, error) = drain(&mut rest).await;
        assert!(error.is_none(), "{links:?}: {error:?}");
        assert_eq!(second, range(30, 100), "{links:?}");
        assert_eq!(rest.resume_cursor(), None, "nothing is left");

        // Whole pages: the cursor after page 2 is page 3.
        let mut pages = repos(&client, 10).pages().max_pages(2);
        while pages.try_next().await.unwrap().is_some() {}
        let cursor = pages.resume_cursor().expect("more to read").to_string();
        let (rest, _) = drain(client.list_repositories().resume(&cursor).items()).await;
        assert_eq!(rest, range(20, 100), "{links:?}");
    }
}

#[tokio::test]
async fn a_refused_default_page_size_falls_back_to_bitbucket_default() {
    let mut list = List::new(30, Links::Numbered);
    list.max_pagelen = 50;
    let server = list.serve().await;
    let client = client(&server);

    let (items, error) = drain(client.list_repositories().workspace("ws").stream()).await;

    assert!(error.is_none(), "{error:?}");
    assert_eq!(items, range(0, 30));
    let queries = queries(&server).await;
    assert_eq!(queries[..2], ["pagelen=100", ""]);
    assert_eq!(queries.len(), 4, "the refused request, then 3 pages of 10");

    // A page size the caller chose is not second-guessed.
    let (items, error) = drain(repos(&client, 80).stream()).await;
    assert!(items.is_empty());
    assert_eq!(
        error.and_then(|e| e.status()).map(|s| s.as_u16()),
        Some(400)
    );
}

#[tokio::test]
async fn a_list_that_changed_since_its_first_page_is_read_to_its_real_end() {
    // Shrunk: the first page counts 50 items, only 30 are left. Page 3 is the last; the
    // pages requested after it (404 now) are dropped.
    let mut list = List::new(30, Links::Numbered);
    list.claimed_size = Some(50);
    let server = list.serve().await;
    let (items, error) = drain(repos(&client(&server), 10).stream()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(items, range(0, 30));

    // Grown: the first page counts 20 items, 50 are there. The last counted page links on.
    let mut list = List::new(50, Links::Numbered);
    list.claimed_size = Some(20);
    let server = list.serve().await;
    let (items, error) = drain(repos(&client(&server), 10).stream()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(items, range(0, 50));
}

#[tokio::test]
async fn a_builder_missing_a_parameter_yields_its_error_and_sends_nothing() {
    let server = List::new(10, Links::Numbered).serve().await;
    let client = client(&server);

    let results: Vec<_> = client.list_repositories().stream().collect().await;

    assert!(
        matches!(&results[..], [Err(Error::InvalidRequest { message, .. })] if message.contains("workspace")),
        "{results:?}"
    );
    assert!(queries(&server).await.is_empty());
}
