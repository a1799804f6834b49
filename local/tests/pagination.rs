//! Paged lists: numbered pages, opaque cursors, `pagelen` honoured and capped, `next` links
//! that keep the request's parameters, and the client's streams across them.

mod common;

use bitbucket_cloud::pagination::Page;
use bitbucket_cloud_local::LocalBitbucket;
use futures_util::TryStreamExt as _;
use serde_json::Value;

use common::admin;

fn url_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

#[tokio::test]
async fn numbered_pages() {
    let bb = LocalBitbucket::start().await;
    for i in 0..25 {
        bb.create_repository("acme", &format!("repo-{i:02}"));
    }
    let client = admin(&bb);
    let acme = client.workspace("acme");

    let first = acme.list_repositories().pagelen(10).send().await.unwrap();
    assert_eq!(
        (first.page, first.pagelen, first.size),
        (Some(1), Some(10), Some(25))
    );
    assert_eq!(first.values.unwrap().len(), 10);
    let next = first.next.unwrap();
    assert!(next.starts_with(&bb.base_url()), "{next}");
    assert_eq!(url_param(&next, "page").as_deref(), Some("2"));
    assert_eq!(url_param(&next, "pagelen").as_deref(), Some("10"));
    assert!(first.previous.is_none());

    let pages: Vec<Page<_>> = acme
        .list_repositories()
        .pagelen(10)
        .pages()
        .try_collect()
        .await
        .unwrap();
    let lens: Vec<_> = pages.iter().map(|p| p.items.len()).collect();
    assert_eq!(lens, [10, 10, 5]);
    assert!(pages[1].previous.is_some());
    assert!(pages[2].next.is_none());

    // The stream asks for the largest page, so one request does.
    let before = bb.requests().len();
    let all: Vec<_> = acme
        .list_repositories()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 25);
    assert_eq!(bb.requests().len() - before, 1);
    let names: Vec<_> = all.iter().filter_map(|r| r.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[tokio::test]
async fn pagelen_is_capped_and_checked() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let page = client
        .workspace("acme")
        .list_repositories()
        .pagelen(500)
        .send()
        .await
        .unwrap();
    assert_eq!(page.pagelen, Some(100));

    let http = common::http();
    let zero = http
        .get(format!("{}/repositories/acme?pagelen=0", bb.base_url()))
        .bearer_auth(bb.token(bitbucket_cloud::Scope::ALL))
        .send()
        .await
        .unwrap();
    assert_eq!(zero.status().as_u16(), 400);
    let body: Value = zero.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pagelen")
    );
}

#[tokio::test]
async fn next_links_keep_filters_and_sort() {
    let bb = LocalBitbucket::start().await;
    for i in 0..12 {
        bb.create_repository("acme", &format!("svc-{i:02}"));
        bb.create_repository("acme", &format!("lib-{i:02}"));
    }
    let client = admin(&bb);
    let acme = client.workspace("acme");
    let first = acme
        .list_repositories()
        .q(r#"name ~ "svc""#)
        .sort("-name")
        .pagelen(5)
        .send()
        .await
        .unwrap();
    assert_eq!(first.size, Some(12));
    assert_eq!(first.values.unwrap()[0].name.as_deref(), Some("svc-11"));
    let next = first.next.unwrap();
    assert!(next.contains("sort=-name") && next.contains("q="), "{next}");

    let all: Vec<_> = acme
        .list_repositories()
        .q(r#"name ~ "svc" AND name > "svc-05""#)
        .sort("-name")
        .pagelen(4)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<_> = all.into_iter().filter_map(|r| r.name).collect();
    assert_eq!(
        names,
        ["svc-11", "svc-10", "svc-09", "svc-08", "svc-07", "svc-06"]
    );

    let bad = acme
        .list_repositories()
        .q("name ~")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.status().unwrap().as_u16(), 400);
}

#[tokio::test]
async fn commits_page_with_opaque_cursors() {
    let bb = LocalBitbucket::start().await;
    let mut hashes = vec![bb.create_repository("acme", "app")];
    for i in 0..14 {
        hashes.push(bb.push(
            "acme",
            "app",
            "main",
            &format!("Commit {i}"),
            &[("n.txt", &i.to_string())],
        ));
    }
    hashes.reverse();
    let client = admin(&bb);
    let repo = client.repo("acme", "app");

    let first = repo.list_commits().pagelen(6).send().await.unwrap();
    assert_eq!(first.pagelen, Some(6));
    assert!(
        first.size.is_none() && first.page.is_none(),
        "cursor pages are not counted"
    );
    let cursor = url_param(first.next.as_deref().unwrap(), "page").unwrap();
    assert!(
        cursor.parse::<u64>().is_err(),
        "an opaque cursor, not a number: {cursor}"
    );

    let pages: Vec<Page<_>> = repo
        .list_commits()
        .pagelen(6)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(),
        [6, 6, 3]
    );
    let listed: Vec<_> = pages
        .into_iter()
        .flat_map(|p| p.items)
        .filter_map(|c| c.hash)
        .collect();
    assert_eq!(listed, hashes);

    // A cursor stays valid while new commits arrive: the next page starts where it pointed.
    let next = first.next.unwrap();
    bb.push("acme", "app", "main", "Newer", &[("n.txt", "newer")]);
    let http = common::http();
    let page: Value = http
        .get(&next)
        .bearer_auth(bb.token(bitbucket_cloud::Scope::ALL))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["values"][0]["hash"], hashes[6].as_str());
}

#[tokio::test]
async fn workspaces_page_with_cursors() {
    let bb = LocalBitbucket::start().await;
    for name in ["a", "b", "c"] {
        bb.create_workspace(name, &name.to_uppercase());
    }
    let client = admin(&bb);
    let first = client.list_workspaces().pagelen(2).send().await.unwrap();
    assert!(first.size.is_none());
    assert!(url_param(first.next.as_deref().unwrap(), "page").is_some());
    let all: Vec<_> = client
        .list_workspaces()
        .pagelen(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let slugs: Vec<_> = all
        .into_iter()
        .filter_map(|a| a.workspace.and_then(|w| w.slug))
        .collect();
    assert_eq!(slugs, ["a", "b", "c"]);
}
