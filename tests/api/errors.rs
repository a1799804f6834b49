//! Errors over real HTTP on loopback: every recorded error body maps to an error that keeps
//! Bitbucket's message and says what to do; bodies that are text, HTML or empty keep their
//! status and headers; undecodable bodies keep a snippet and the operation name.

use crate::support;

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client, Error, types};
use support::{client, fixture_text as fixture, retrying_client};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server that answers every request with `status` and `body`.
async fn answering(status: u16, body: &str, content_type: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), content_type),
        )
        .mount(&server)
        .await;
    server
}

async fn fixture_server(status: u16, name: &str) -> MockServer {
    answering(status, &fixture(name), "application/json").await
}

/// The error of `create_pull_request` when Bitbucket answers 400 with the fixture `name`.
async fn create_pull_request_refused_with(name: &str) -> Error {
    let server = fixture_server(400, name).await;
    client(&server, Auth::access_token("t"))
        .repo("ws", "app")
        .create_pull_request()
        .body(types::PullRequest {
            title: Some("Fix".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap_err()
}

/// Every `error.*` fixture, with the status Bitbucket sent it with. A new fixture must be
/// added here (the test below fails until it is).
const ERROR_FIXTURES: &[(&str, u16)] = &[
    ("error.badrequest-nobranch.gildas-1.json", 400),
    ("error.badrequest.gildas-1.json", 400),
    ("error.forbidden-scopes.gildas-1.json", 403),
    ("error.get.go-scm-1.json", 404),
    ("error.notfound-noapi.gildas-1.json", 404),
];

#[test]
fn every_error_fixture_is_covered() {
    let dir = format!(
        "{}/tests/fixtures/real/responses",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("error."))
        .collect();
    found.sort();
    let covered: Vec<&str> = ERROR_FIXTURES.iter().map(|(n, _)| *n).collect();
    assert_eq!(found, covered);
}

#[tokio::test]
async fn every_error_fixture_keeps_bitbucket_s_message_and_operation() {
    for (name, status) in ERROR_FIXTURES {
        let server = fixture_server(*status, name).await;
        let error = client(&server, Auth::access_token("t"))
            .repo("ws", "app")
            .get_repository()
            .send()
            .await
            .unwrap_err();
        let api = error.api().unwrap_or_else(|| panic!("{name}: {error:?}"));
        assert_eq!(api.status().as_u16(), *status, "{name}");
        assert_eq!(api.operation(), "get_repository");
        let message = api
            .message()
            .unwrap_or_else(|| panic!("{name}: no message"));
        let text = error.to_string();
        assert!(text.starts_with("get_repository: "), "{name}: {text}");
        assert!(text.contains(message), "{name}: {text}");
        assert!(!api.hint().is_empty(), "{name}: no hint");
        assert!(api.raw_body().is_empty(), "{name}: decoded, so no raw body");
    }
}

#[tokio::test]
async fn a_400_names_the_rejected_fields() {
    // The field's problem as a list of strings.
    let error = create_pull_request_refused_with("error.badrequest-nobranch.gildas-1.json").await;
    let api = error.api().unwrap();
    assert_eq!(api.message(), Some("source: branch not found: dummy"));
    assert!(api.fields().unwrap().contains_key("source"));
    assert_eq!(
        error.to_string(),
        "create_pull_request: 400 Bad Request: source: branch not found: dummy. hint: Bitbucket \
         rejected the request's `source`: correct it and send it again"
    );

    // The field's problem as a string.
    let error = create_pull_request_refused_with("error.badrequest.gildas-1.json").await;
    let text = error.to_string();
    assert!(
        text.contains("Bad request; links.avatar: required key not provided"),
        "{text}"
    );
    assert!(text.contains("`links.avatar`"), "{text}");
}

#[tokio::test]
async fn a_403_names_the_missing_scope() {
    let server = fixture_server(403, "error.forbidden-scopes.gildas-1.json").await;
    let error = client(&server, Auth::access_token("t"))
        .workspace("ws")
        .get_project()
        .project_key("PRJ")
        .send()
        .await
        .unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(api.missing_scopes(), ["project"]);
    assert_eq!(
        api.detail().unwrap()["granted"].as_array().unwrap().len(),
        5,
        "the detail object is kept"
    );
    assert_eq!(
        error.to_string(),
        "get_project: 403 Forbidden: Your credentials lack one or more required privilege \
         scopes. hint: the credentials lack the scope `project`: create a token (or configure \
         the OAuth consumer) with it"
    );

    // With an API token, the granular scope is named too.
    let error = client(&server, Auth::api_token("me@example.com", "t"))
        .workspace("ws")
        .get_project()
        .project_key("PRJ")
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("as API-token scopes: `read:project:bitbucket`"),
        "{error}"
    );
}

#[tokio::test]
async fn a_403_without_detail_names_the_scope_the_operation_needs() {
    let body = r#"{"type":"error","error":{"message":"Forbidden"}}"#;
    let server = answering(403, body, "application/json").await;
    let approve = |auth| {
        let client = client(&server, auth);
        async move {
            client
                .repo("ws", "app")
                .approve_pull_request()
                .pull_request_id(1)
                .send()
                .await
                .unwrap_err()
                .to_string()
        }
    };
    // Access tokens and OAuth use the classic scopes, API tokens the granular ones.
    let text = approve(Auth::access_token("t")).await;
    assert!(
        text.contains("approve_pull_request needs the scope `pullrequest:write`"),
        "{text}"
    );
    let text = approve(Auth::api_token("me@example.com", "t")).await;
    assert!(
        text.contains(
            "needs the scopes `read:pullrequest:bitbucket`, `write:pullrequest:bitbucket`"
        ),
        "{text}"
    );
    assert!(text.contains("an API token as `me@example.com`"), "{text}");
    let text = approve(Auth::anonymous()).await;
    assert!(text.contains("needs credentials"), "{text}");
}

/// A merge that conflicts (409, no body) says to look again before repeating it.
#[tokio::test]
async fn a_409_says_to_fetch_again_before_repeating() {
    let server = answering(409, "", "text/plain").await;
    let error = client(&server, Auth::access_token("t"))
        .repo("ws", "app")
        .merge_pull_request()
        .pull_request_id(7)
        .send()
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("merge_pull_request: 409 Conflict"),
        "{text}"
    );
    assert!(text.contains("fetch it again"), "{text}");
}

#[tokio::test]
async fn a_404_says_private_resources_look_missing() {
    let server = fixture_server(404, "error.notfound-noapi.gildas-1.json").await;
    let error = client(&server, Auth::access_token("t"))
        .repo("ws", "secret-repo")
        .get_repository()
        .send()
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(
            "get_repository: 404 Not Found: Resource not found (There is no API hosted at this URL)"
        ),
        "{text}"
    );
    assert!(
        text.contains("private resources the credentials cannot see"),
        "{text}"
    );
}

#[tokio::test]
#[allow(deprecated)]
async fn a_401_says_which_credential_was_sent_and_the_usual_mistake() {
    let server = answering(401, "", "text/plain").await;
    let me = |auth| {
        let client = client(&server, auth);
        async move { client.get_current_user().send().await.unwrap_err() }
    };

    let error = me(Auth::api_token("jdoe", "ATATT-secret-token")).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    let text = error.to_string();
    assert!(
        text.contains("did not accept an API token as `jdoe` (HTTP Basic)"),
        "{text}"
    );
    assert!(
        text.contains("the Atlassian account's email (not the Bitbucket username)"),
        "{text}"
    );
    assert!(
        !text.contains("ATATT-secret-token")
            && !format!("{error:?}").contains("ATATT-secret-token")
    );

    let text = me(Auth::app_password("jdoe", "app-secret"))
        .await
        .to_string();
    assert!(
        text.contains("app passwords were disabled on 9 June 2026"),
        "{text}"
    );
    assert!(!text.contains("app-secret"));

    let text = me(Auth::access_token("ATCTT-secret")).await.to_string();
    assert!(text.contains("an access token (Bearer)"), "{text}");

    let text = me(Auth::anonymous()).await.to_string();
    assert!(text.contains("this resource needs credentials"), "{text}");
}

#[tokio::test]
async fn text_and_empty_bodies_keep_status_and_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(
            ResponseTemplate::new(502)
                .insert_header("X-Request-Id", "abc123")
                .set_body_raw(
                    b"<html><body>Bad gateway</body></html>".to_vec(),
                    "text/html",
                ),
        )
        .mount(&server)
        .await;
    let error = retrying_client(&server, RetryConfig::disabled())
        .get_current_user()
        .send()
        .await
        .unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(api.status().as_u16(), 502);
    assert_eq!(api.headers()["x-request-id"], "abc123");
    assert_eq!(api.raw_body(), "<html><body>Bad gateway</body></html>");
    assert!(api.body().is_none());
    let text = error.to_string();
    assert!(
        text.starts_with("get_current_user: 502 Bad Gateway: <html>"),
        "{text}"
    );
    assert!(text.contains("server-side problem"), "{text}");

    let server = answering(500, "", "text/plain").await;
    let error = retrying_client(&server, RetryConfig::disabled())
        .get_current_user()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.api().unwrap().raw_body(), "");
    assert!(
        error
            .to_string()
            .starts_with("get_current_user: 500 Internal Server Error. hint:"),
        "{error}"
    );
}

#[tokio::test]
async fn a_long_body_is_cut_to_a_snippet() {
    let long = "x".repeat(10_000);
    let server = answering(500, &long, "text/plain").await;
    let error = retrying_client(&server, RetryConfig::disabled())
        .get_current_user()
        .send()
        .await
        .unwrap_err();
    let raw = error.api().unwrap().raw_body();
    assert!(raw.chars().count() <= 201 && raw.ends_with('…'), "{raw}");
}

#[tokio::test]
async fn a_success_that_does_not_decode_keeps_a_snippet_and_the_operation() {
    let server = answering(200, "<html>maintenance page</html>", "text/html").await;
    let error = client(&server, Auth::anonymous())
        .get_current_user()
        .send()
        .await
        .unwrap_err();
    match &error {
        Error::Decode {
            operation,
            status,
            snippet,
            ..
        } => {
            assert_eq!(*operation, "get_current_user");
            assert_eq!(status.as_u16(), 200);
            assert_eq!(snippet, "<html>maintenance page</html>");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.operation(), Some("get_current_user"));
    assert!(
        error
            .to_string()
            .starts_with("get_current_user: the 200 OK response body does not decode")
    );
}

#[tokio::test]
async fn a_missing_parameter_is_an_invalid_request_and_nothing_is_sent() {
    let server = answering(200, "{}", "application/json").await;
    let error = client(&server, Auth::anonymous())
        .get_pull_request()
        .workspace("ws")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidRequest {
                operation: "get_pull_request",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn a_base_url_that_is_not_an_absolute_http_url_fails_the_build() {
    for url in ["api.bitbucket.org/2.0", "ftp://example.com/2.0", "http://"] {
        let error = Client::builder().base_url(url).build().unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{url}: {error:?}");
        let text = error.to_string();
        assert!(text.contains(&format!("base URL `{url}`")), "{text}");
        assert!(
            text.contains("such as https://api.bitbucket.org/2.0"),
            "{text}"
        );
    }
}
