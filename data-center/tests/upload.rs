//! Uploads over real HTTP on loopback (wiremock): the operations whose body is a
//! `multipart/form-data` form send the fields the document declares, files as bytes, from disk
//! or from a stream; a required field that is missing fails before anything is sent; an upload
//! is sent once, never retried.

use std::time::Duration;

#[cfg(feature = "security")]
use bitbucket_data_center::Error;
use bitbucket_data_center::retry::RetryConfig;
use bitbucket_data_center::upload::Upload;
use bitbucket_data_center::{Auth, Client};
use serde_json::json;
use wiremock::matchers::{header_regex, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn client(server: &MockServer) -> Client {
    Client::builder()
        .server_url(server.uri())
        .auth(Auth::bearer("t0ken"))
        .retry(
            RetryConfig::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .max_retries(3),
        )
        .build()
        .expect("a loopback URL")
}

/// The parts of a multipart body: each part's `Content-Disposition` and content.
fn parts(request: &Request) -> Vec<(String, String)> {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .expect("a content type");
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("a multipart boundary");
    let body = String::from_utf8_lossy(&request.body).into_owned();
    body.split(&format!("--{boundary}"))
        .filter_map(|part| {
            let part = part.strip_prefix("\r\n")?;
            let (head, content) = part.split_once("\r\n\r\n")?;
            let disposition = head
                .lines()
                .find(|line| line.to_ascii_lowercase().starts_with("content-disposition"))?
                .to_string();
            Some((
                disposition,
                content.strip_suffix("\r\n").unwrap_or(content).to_string(),
            ))
        })
        .collect()
}

#[cfg(feature = "security")]
#[tokio::test]
async fn a_certificate_is_sent_in_the_form_field_the_document_names() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/latest/signing/x509-certificates"))
        .and(header_regex(
            "content-type",
            "^multipart/form-data; boundary=",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": 7 })))
        .expect(1)
        .mount(&server)
        .await;
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let certificate = client(&server)
        .create_certificate()
        .certificate(Upload::bytes(pem).file_name("ca.pem"))
        .send()
        .await
        .unwrap();
    assert_eq!(certificate.id, Some(7));

    let requests = server.received_requests().await.unwrap();
    let parts = parts(&requests[0]);
    assert_eq!(
        parts,
        [(
            r#"Content-Disposition: form-data; name="certificate"; filename="ca.pem""#.into(),
            pem.into()
        )],
        "{parts:?}"
    );
    assert!(requests[0].headers.contains_key("authorization"));
}

#[tokio::test]
async fn an_edited_file_sends_every_field_with_the_file_from_disk() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(
            "/rest/api/latest/projects/PROJ/repos/repo/browse/docs/index.md",
        ))
        .and(header_regex(
            "content-type",
            "^multipart/form-data; boundary=",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "abc123" })))
        .expect(1)
        .mount(&server)
        .await;
    let file = std::env::temp_dir().join(format!("dc-upload-{}.md", std::process::id()));
    std::fs::write(&file, "# Docs\n").unwrap();
    let commit = client(&server)
        .edit_file()
        .project_key("PROJ")
        .repository_slug("repo")
        .path("docs/index.md")
        .content(Upload::path(&file).file_name("index.md"))
        .branch("main")
        .message("Update the docs")
        .source_commit_id("5636641a50b")
        .send()
        .await
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(commit.id.as_deref(), Some("abc123"));

    let requests = server.received_requests().await.unwrap();
    let parts = parts(&requests[0]);
    let fields: Vec<(&str, &str)> = parts
        .iter()
        .map(|(disposition, content)| (disposition.as_str(), content.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (
                r#"Content-Disposition: form-data; name="content"; filename="index.md""#,
                "# Docs\n"
            ),
            (r#"Content-Disposition: form-data; name="branch""#, "main"),
            (
                r#"Content-Disposition: form-data; name="message""#,
                "Update the docs"
            ),
            (
                r#"Content-Disposition: form-data; name="sourceCommitId""#,
                "5636641a50b"
            ),
        ]
    );
}

#[tokio::test]
async fn an_avatar_streams_and_is_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/latest/projects/PROJ/avatar.png"))
        .respond_with(ResponseTemplate::new(429))
        .expect(1)
        .mount(&server)
        .await;
    let chunks = [&b"\x89PNG"[..], &b"\r\n\x1a\n"[..]]
        .map(|chunk| Ok::<_, std::io::Error>(bytes::Bytes::from_static(chunk)));
    let error = client(&server)
        .upload_project_avatar()
        .project_key("PROJ")
        .avatar(Upload::stream(futures_util::stream::iter(chunks)).file_name("logo.png"))
        .send()
        .await
        .unwrap_err();
    // A 429 is retried, whatever the method; a streamed body is not.
    assert!(error.to_string().contains("sent once"), "{error}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let parts = parts(&requests[0]);
    assert_eq!(
        parts[0].0,
        r#"Content-Disposition: form-data; name="avatar"; filename="logo.png""#
    );
    assert!(requests[0].body.windows(4).any(|w| w == b"\x89PNG"));
}

#[cfg(feature = "security")]
#[tokio::test]
async fn a_missing_required_field_fails_before_sending() {
    let server = MockServer::start().await;
    let error = client(&server)
        .create_certificate()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidRequest { message, .. } if message.contains("`certificate`")),
        "{error:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
