//! Answers that are not one JSON type: a file's bytes (or a directory's JSON listing) from the
//! source, a redirect to another operation's list, and JSON the document gives no schema.

use bitbucket_cloud::Client;
use bitbucket_cloud::types::PaginatedTreeEntries;
use futures_util::TryStreamExt as _;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::wire::{client, fixture, json, ok, rejects};

#[tokio::test]
async fn get_source() {
    // A file is its bytes, as sent (not UTF-8 here), whatever its content type.
    let bytes: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00";
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .get_source()
            .commit("7b9e1f0c2d3a")
            .path("assets/logo.png")
            .send()
            .await
    };
    let (file, sent) = ok(
        ResponseTemplate::new(200).set_body_raw(bytes, "image/png"),
        &call,
    )
    .await;
    sent.expect(
        "GET",
        "/2.0/repositories/acme/web-app/src/7b9e1f0c2d3a/assets/logo.png",
        &[],
        None,
    );
    assert_eq!(&file[..], bytes);

    // A directory is JSON, which decodes as the listing the document declares.
    let listing = fixture("src.list.go-scm-1.json");
    let (body, _) = ok(json(200, listing.clone()), &call).await;
    let page: PaginatedTreeEntries = serde_json::from_slice(&body).expect("a directory listing");
    assert_eq!(
        page.values.unwrap_or_default().len(),
        listing["values"].as_array().unwrap().len()
    );

    rejects("get_source", &call, 404, "error.get.go-scm-1.json").await;
}

#[tokio::test]
async fn get_pull_request_diffstat() {
    // Bitbucket answers with a redirect to the repository's diffstat, whose pages the stream
    // then reads.
    let server = MockServer::start().await;
    let redirected =
        "/2.0/repositories/acme/web-app/diffstat/acme/web-app:2ae150fc05f8%0D67a6aa42721a";
    Mock::given(method("GET"))
        .and(path(
            "/2.0/repositories/acme/web-app/pullrequests/2/diffstat",
        ))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "Location",
            format!("{}{redirected}?from_pullrequest_id=2", server.uri()),
        ))
        .mount(&server)
        .await;
    let diffstat = fixture("diffstat.list.bbsource-1.json");
    Mock::given(method("GET"))
        .and(path(redirected))
        .and(query_param("from_pullrequest_id", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(diffstat.to_string(), "application/json"),
        )
        .mount(&server)
        .await;
    let files: Vec<_> = client(&server)
        .repo("acme", "web-app")
        .get_pull_request_diffstat()
        .pull_request_id(2)
        .stream()
        .try_collect()
        .await
        .expect("the diffstat");
    assert_eq!(files.len(), diffstat["values"].as_array().unwrap().len());
    assert_eq!(files[1].old, None, "an added file has no old side");
    let requests = server.received_requests().await.expect("recording is on");
    // Its page size is the diffstat's own default, asked for explicitly.
    assert_eq!(requests[0].url.query(), Some("pagelen=500"));

    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .get_pull_request_diffstat()
            .pull_request_id(2)
            .send()
            .await
    };
    rejects(
        "get_pull_request_diffstat",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn list_current_user_emails() {
    // The document declares only an error answer: whatever JSON comes is kept, whole.
    let emails = json!({
        "pagelen": 10,
        "values": [{
            "type": "email",
            "email": "ada@example.com",
            "is_primary": true,
            "is_confirmed": true,
            "links": {"self": {"href": "https://api.bitbucket.org/2.0/user/emails/ada@example.com"}}
        }],
        "page": 1,
        "size": 1
    });
    let call = async |c: &Client| c.list_current_user_emails().send().await;
    let (value, sent) = ok(json(200, emails.clone()), &call).await;
    sent.expect("GET", "/2.0/user/emails", &[], None);
    assert_eq!(value, emails);

    rejects(
        "list_current_user_emails",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
}
