//! One exchange with a loopback server: what the client sent, exactly, and what it made of
//! the answer.

use bitbucket_cloud::error::ApiError;
use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client, Error};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The token every test client sends.
const TOKEN: &str = "t0ken";

pub use crate::support::fixture;

/// A paginated envelope holding `values`, as Bitbucket sends one.
pub fn page(values: Vec<Value>) -> Value {
    serde_json::json!({ "pagelen": 10, "page": 1, "size": values.len(), "values": values })
}

/// A JSON answer.
pub fn json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

/// An answer without a body (204 of a delete or stop).
pub fn no_content() -> ResponseTemplate {
    ResponseTemplate::new(204)
}

/// Serves `response` to every request, runs `call` against a client of that server, and
/// returns the result with the one request the call made.
pub async fn exchange<T>(
    response: ResponseTemplate,
    call: &impl AsyncFn(&Client) -> Result<T, Error>,
) -> (Result<T, Error>, Sent) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(response)
        .mount(&server)
        .await;
    let result = call(&client(&server)).await;
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(
        requests.len(),
        1,
        "expected exactly one request, got {requests:#?}"
    );
    (result, Sent(requests.remove(0)))
}

/// A client of `server`, authenticated with an access token, that never retries.
pub fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/2.0", server.uri()))
        .auth(Auth::access_token(TOKEN))
        .retry(RetryConfig::disabled())
        .build()
        .expect("a valid client")
}

/// [`exchange`] for a call that must succeed.
pub async fn ok<T>(
    response: ResponseTemplate,
    call: &impl AsyncFn(&Client) -> Result<T, Error>,
) -> (T, Sent) {
    let (result, sent) = exchange(response, call).await;
    match result {
        Ok(value) => (value, sent),
        Err(e) => panic!("the call failed: {e}\n{e:#?}\nit sent {sent:#?}"),
    }
}

/// Answers `call` with the recorded error body `fixture` and `status`, and checks that it
/// comes back as [`Error::Api`] naming `operation`, with the status and Bitbucket's message.
pub async fn rejects<T>(
    operation: &str,
    call: &impl AsyncFn(&Client) -> Result<T, Error>,
    status: u16,
    fixture_name: &str,
) -> Box<ApiError> {
    let body = fixture(fixture_name);
    let (result, _) = exchange(json(status, body.clone()), call).await;
    let error = match result {
        Err(Error::Api(error)) => error,
        Err(other) => panic!("{operation}: expected Error::Api, got {other:#?}"),
        Ok(_) => panic!("{operation}: a {status} answer was taken for a success"),
    };
    assert_eq!(error.status().as_u16(), status, "{error:#?}");
    assert_eq!(error.operation(), operation, "{error:#?}");
    assert_eq!(
        error.message(),
        body["error"]["message"].as_str(),
        "{error:#?}"
    );
    assert_eq!(error.detail(), body["error"].get("detail"), "{error:#?}");
    let shown = error.to_string();
    assert!(
        shown.starts_with(&format!("{operation}: {status}")),
        "{shown}"
    );
    error
}

/// The request the client sent, as the server received it.
#[derive(Debug)]
pub struct Sent(pub Request);

impl Sent {
    /// Checks everything that was sent: method, raw (percent-encoded) path, every query pair
    /// in order, and the body; `body: None` means no body at all. Every request must carry
    /// the client's credentials.
    #[track_caller]
    pub fn expect(
        &self,
        method: &str,
        raw_path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) {
        let request = &self.0;
        assert_eq!(request.method.as_str(), method, "method of {self:#?}");
        assert_eq!(request.url.path(), raw_path, "path of {self:#?}");
        let sent_query = self.query();
        let sent_query: Vec<(&str, &str)> = sent_query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(sent_query, query, "query of {}", request.url);
        assert_eq!(
            self.header("authorization").as_deref(),
            Some(format!("Bearer {TOKEN}").as_str()),
            "credentials of {}",
            request.url
        );
        match body {
            None => {
                assert!(
                    request.body.is_empty(),
                    "{} sent a body: {}",
                    request.url,
                    String::from_utf8_lossy(&request.body)
                );
                assert_eq!(self.header("content-type"), None, "{}", request.url);
            }
            Some(expected) => {
                assert_eq!(
                    self.header("content-type").as_deref(),
                    Some("application/json"),
                    "{}",
                    request.url
                );
                let sent: Value = serde_json::from_slice(&request.body).unwrap_or_else(|e| {
                    panic!(
                        "{} sent a body that is not JSON ({e}): {}",
                        request.url,
                        String::from_utf8_lossy(&request.body)
                    )
                });
                assert_eq!(sent, expected, "body sent to {}", request.url);
            }
        }
    }

    /// The query string exactly as sent.
    pub fn raw_query(&self) -> Option<&str> {
        self.0.url.query()
    }

    /// The decoded query pairs, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        self.0.url.query_pairs().into_owned().collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.0
            .headers
            .get(name)
            .map(|v| v.to_str().expect("a text header").to_string())
    }
}
