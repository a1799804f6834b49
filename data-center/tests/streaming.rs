//! `send_streaming()` over real HTTP on loopback: a raw file read as it arrives, chunk by
//! chunk or as a `Stream`, through the same admission, audit and errors as `send()`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitbucket_data_center::audit::{AuditRecord, Outcome};
use bitbucket_data_center::retry::RetryConfig;
use bitbucket_data_center::{Auth, Client, Error, Policy};
use futures_util::TryStreamExt as _;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RAW: &str = "/rest/api/latest/projects/PRJ/repos/app/raw/assets/big.bin";

/// A body of `len` bytes that is not one byte repeated (a chunk out of order would show).
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn client(server: &MockServer, policy: Option<Policy>) -> (Client, Arc<Mutex<Vec<AuditRecord>>>) {
    let records: Arc<Mutex<Vec<AuditRecord>>> = Arc::default();
    let sink = records.clone();
    let mut builder = Client::builder()
        .server_url(server.uri())
        .auth(Auth::bearer("t0ken"))
        .retry(
            RetryConfig::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .max_retries(1),
        )
        .audit(move |record| sink.lock().unwrap().push(record.clone()));
    if let Some(policy) = policy {
        builder = builder.policy(policy);
    }
    (builder.build().unwrap(), records)
}

/// `get_raw_file` of `path` in `PRJ/app`.
fn raw<'a>(client: &'a Client, path: &str) -> bitbucket_data_center::builder::GetRawFile<'a> {
    client
        .get_raw_file()
        .project_key("PRJ")
        .repository_slug("app")
        .path(path.to_string())
}

async fn serve_file(server: &MockServer, body: Vec<u8>) {
    Mock::given(method("GET"))
        .and(path(RAW))
        .and(query_param("at", "refs/heads/main"))
        .and(header("authorization", "Bearer t0ken"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/octet-stream")
                .set_body_bytes(body),
        )
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_raw_file_is_read_chunk_by_chunk_as_it_arrives() {
    let server = MockServer::start().await;
    let expected = content(3 * 1024 * 1024 + 17);
    serve_file(&server, expected.clone()).await;
    let (client, records) = client(&server, None);

    let mut body = raw(&client, "assets/big.bin")
        .at("refs/heads/main")
        .send_streaming()
        .await
        .unwrap();
    assert_eq!(body.status().as_u16(), 200);
    assert_eq!(body.operation().name, "get_raw_file");
    assert_eq!(body.content_length(), Some(expected.len() as u64));
    assert_eq!(body.content_type(), Some("application/octet-stream"));
    // The request is recorded once its status is in, before the body is read.
    {
        let records = records.lock().unwrap();
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0].outcome, Outcome::Answered);
        assert_eq!(
            records[0].path,
            "/api/latest/projects/PRJ/repos/app/raw/assets/big.bin"
        );
        assert_eq!(
            records[0].params.as_ref().unwrap().get("path"),
            Some("assets/big.bin")
        );
        assert!(records[0].succeeded());
    }

    let mut read = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = body.chunk().await.unwrap() {
        assert!(!chunk.is_empty());
        read.extend_from_slice(&chunk);
        chunks += 1;
    }
    assert!(chunks > 1, "a 3 MiB body came in {chunks} chunk");
    assert_eq!(read, expected);
    // The end is the end.
    assert!(body.chunk().await.unwrap().is_none());
}

#[tokio::test]
async fn a_raw_file_is_a_stream_of_bytes_or_read_whole() {
    let server = MockServer::start().await;
    let expected = content(200_000);
    Mock::given(method("GET"))
        .and(path(RAW))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(expected.clone()))
        .expect(2)
        .mount(&server)
        .await;
    let (client, _) = client(&server, None);
    let request = || raw(&client, "assets/big.bin");

    let chunks: Vec<bytes::Bytes> = request()
        .send_streaming()
        .await
        .unwrap()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.concat(), expected);

    let whole = request()
        .send_streaming()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(whole.as_ref(), expected.as_slice());
}

#[tokio::test]
async fn a_text_answer_streams_as_text() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/rest/api/latest/projects/PRJ/repos/app/raw/README.md",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/plain; charset=UTF-8")
                .set_body_bytes(b"# app\n\xffnot utf-8\n".to_vec()),
        )
        .mount(&server)
        .await;
    let (client, _) = client(&server, None);
    let text = raw(&client, "README.md")
        .send_streaming()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "# app\n\u{FFFD}not utf-8\n");
}

#[tokio::test]
async fn an_error_status_is_the_calls_error_and_a_5xx_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(RAW))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(RAW))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"after a retry".to_vec()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/PRJ/repos/app/raw/missing.txt"))
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
            "errors": [{ "message": "The path \"missing.txt\" does not exist at revision \"main\"" }]
        })))
        .mount(&server)
        .await;
    let (client, records) = client(&server, None);

    let body = raw(&client, "assets/big.bin")
        .send_streaming()
        .await
        .unwrap();
    assert_eq!(body.text().await.unwrap(), "after a retry");

    let error = raw(&client, "missing.txt")
        .send_streaming()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("does not exist"), "{error}");
    assert!(matches!(error, Error::Api(_)), "{error:?}");

    let attempts: Vec<(u32, Option<u16>)> = records
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.attempt, r.status.map(|s| s.as_u16())))
        .collect();
    assert_eq!(attempts, [(1, Some(503)), (2, Some(200)), (1, Some(404))]);
}

#[tokio::test]
async fn the_policy_refuses_a_streamed_call_before_anything_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let policy = Policy::new().allow_operation("get_project");
    let (client, records) = client(&server, Some(policy));
    let error = raw(&client, "assets/big.bin")
        .send_streaming()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Denied { .. }), "{error:?}");
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::Denied);
}

#[tokio::test]
async fn an_archive_is_an_async_read() {
    use tokio::io::AsyncReadExt as _;

    let server = MockServer::start().await;
    let expected = content(500_000);
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/PRJ/repos/app/archive"))
        .and(query_param("format", "tar.gz"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/x-tar")
                .set_body_bytes(expected.clone()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, None);
    let archive = client
        .get_archive()
        .project_key("PRJ")
        .repository_slug("app")
        .format("tar.gz")
        .send_streaming()
        .await
        .unwrap();
    let mut read = Vec::new();
    archive
        .into_async_read()
        .read_to_end(&mut read)
        .await
        .unwrap();
    assert_eq!(read, expected);
}
