//! The shared loop over real HTTP (a loopback server), for a minimal product: what it retries,
//! what it records, what it sends again after a 401.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitbucket_core::audit::{AuditRecord, Audited, Auditor, Outcome};
use bitbucket_core::error::{ApiError, Details, Error};
use bitbucket_core::policy::{Admission, Decision};
use bitbucket_core::rate_limit::RateLimit;
use bitbucket_core::retry::RetryConfig;
use bitbucket_core::transport::{self, Payload, Read, Service};
use reqwest::{Method, StatusCode, Url};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The test product's operations.
#[derive(Debug)]
struct Op {
    name: &'static str,
    method: Method,
}

static GET_THING: Op = Op {
    name: "get_thing",
    method: Method::GET,
};
static CREATE_THING: Op = Op {
    name: "create_thing",
    method: Method::POST,
};

impl Audited for Op {
    fn name(&self) -> &'static str {
        self.name
    }

    fn trace(record: &AuditRecord<Self>) {
        bitbucket_core::__audit_event!("test_product::audit", record);
    }
}

/// The test product's error body: `{"message": ...}`.
#[derive(Debug, Default)]
struct Said {
    message: String,
}

impl Details for Said {
    fn parse(body: &[u8]) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        Some(Said {
            message: value["message"].as_str()?.to_string(),
        })
    }

    fn summary(&self) -> String {
        self.message.clone()
    }
}

type TestError = Error<Said>;

struct Product {
    http: reqwest::Client,
    retry: RetryConfig,
    auditor: Arc<Auditor<Op>>,
    rate_limit: Mutex<Option<RateLimit>>,
    /// Admission refuses everything.
    deny: bool,
    /// `renew_after_unauthorized` renews (once it has, the token is `fresh`).
    renewed: AtomicBool,
}

/// What the tests check of each audit record.
#[derive(Clone, Debug)]
struct Seen {
    attempt: u32,
    status: Option<u16>,
    outcome: Outcome,
    error: Option<String>,
    path: String,
}

type Records = Arc<Mutex<Vec<Seen>>>;

fn product() -> (Product, Records) {
    // Built with the workspace, reqwest has the products' `rustls-no-provider` feature, and
    // needs a provider; an error means another test installed one meanwhile, as good.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let records: Records = Arc::default();
    let sink = records.clone();
    let product = Product {
        http: reqwest::Client::new(),
        retry: RetryConfig::default().backoff(Duration::from_millis(1), Duration::from_millis(5)),
        auditor: Auditor::new(
            Some("test".into()),
            Some(Arc::new(move |record: &AuditRecord<Op>| {
                sink.lock().unwrap().push(Seen {
                    attempt: record.attempt,
                    status: record.status.map(|s| s.as_u16()),
                    outcome: record.outcome,
                    error: record.error.clone(),
                    path: record.path.clone(),
                })
            })),
        ),
        rate_limit: Mutex::new(None),
        deny: false,
        renewed: AtomicBool::new(false),
    };
    (product, records)
}

impl Service for Product {
    type Operation = Op;
    type Details = Said;
    type Credentials = ();

    fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn retry(&self) -> &RetryConfig {
        &self.retry
    }

    fn auditor(&self) -> &Arc<Auditor<Op>> {
        &self.auditor
    }

    fn rate_limit(&self) -> &Mutex<Option<RateLimit>> {
        &self.rate_limit
    }

    fn describe(operation: &Op) -> (&Method, &'static str) {
        (&operation.method, "/thing")
    }

    fn admit(&self, _operation: &'static Op, url: &Url) -> Admission {
        Admission {
            path: url.path().to_string(),
            params: None,
            decision: if self.deny {
                Decision::Denied("the test denies it".into())
            } else {
                Decision::Allowed
            },
        }
    }

    async fn authorize(
        &self,
        request: &mut reqwest::Request,
        _operation: &'static Op,
    ) -> Result<(), TestError> {
        let token = if self.renewed.load(Ordering::SeqCst) {
            "fresh"
        } else {
            "stale"
        };
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        Ok(())
    }

    async fn renew_after_unauthorized(
        &self,
        _credentials: (),
        _operation: &'static Op,
    ) -> Result<bool, TestError> {
        Ok(!self.renewed.swap(true, Ordering::SeqCst))
    }

    fn hint(&self, api: &ApiError<Said>, _operation: &'static Op) -> String {
        format!("the test hint for {}", api.status().as_u16())
    }
}

fn request(server: &MockServer, op: &Op) -> reqwest::Request {
    let url = Url::parse(&format!("{}/thing?cursor=secret", server.uri())).unwrap();
    reqwest::Request::new(op.method.clone(), url)
}

/// `op`'s request sent through the shared loop, its answer read whole.
async fn send(
    product: &Product,
    server: &MockServer,
    op: &'static Op,
) -> Result<transport::Answer, Error<Said>> {
    transport::call(product, request(server, op), op, Read::Whole).await
}

/// (attempt, status, outcome) of each record.
fn summary(records: &Records) -> Vec<(u32, Option<u16>, Outcome)> {
    records
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.attempt, r.status, r.outcome))
        .collect()
}

#[tokio::test]
async fn a_503_is_retried_for_a_get_but_not_for_a_post_with_one_record_per_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(200).set_body_string("done"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/thing"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(serde_json::json!({"message": "busy"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let (product, records) = product();
    let answer = send(&product, &server, &GET_THING).await.unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    let Payload::Whole(body) = answer.body else {
        panic!("a whole read answer is read whole")
    };
    assert_eq!(body, "done");
    assert_eq!(
        summary(&records),
        [
            (1, Some(503), Outcome::Answered),
            (2, Some(200), Outcome::Answered)
        ]
    );
    // A retried answer is not the call's failure.
    assert!(records.lock().unwrap().iter().all(|r| r.error.is_none()));

    records.lock().unwrap().clear();
    let error = send(&product, &server, &CREATE_THING).await.unwrap_err();
    let Error::Api(api) = &error else {
        panic!("{error}")
    };
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.attempts(), 1);
    assert_eq!(api.message, "busy");
    assert!(api.gave_up().is_some(), "{api:?}");
    assert_eq!(
        error.to_string(),
        "create_thing: 503 Service Unavailable: busy. hint: the test hint for 503"
    );
    assert_eq!(summary(&records), [(1, Some(503), Outcome::Answered)]);
    let record = records.lock().unwrap()[0].clone();
    assert_eq!(record.error.as_deref(), Some(error.to_string().as_str()));
    // The query (a cursor) stays out of the record.
    assert_eq!(record.path, "/thing");
}

#[tokio::test]
async fn a_refused_request_is_recorded_as_denied_and_not_sent() {
    let server = MockServer::start().await;
    let (mut product, records) = product();
    product.deny = true;
    let error = send(&product, &server, &GET_THING).await.unwrap_err();
    assert!(
        matches!(&error, Error::Denied { operation: "get_thing", reason } if reason == "the test denies it"),
        "{error}"
    );
    assert_eq!(summary(&records), [(1, None, Outcome::Denied)]);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_401_is_sent_once_more_after_the_credentials_are_renewed() {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer stale"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer fresh"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let (product, records) = product();
    // A POST too: a 401 was not processed, so sending it again is safe.
    let answer = send(&product, &server, &CREATE_THING).await.unwrap();
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_eq!(
        summary(&records),
        [
            (1, Some(401), Outcome::Answered),
            (2, Some(204), Outcome::Answered)
        ]
    );
}

#[tokio::test]
async fn a_401_whose_credentials_cannot_be_renewed_is_the_answer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_string("<html>no</html>"))
        .expect(3)
        .mount(&server)
        .await;
    let (product, records) = product();
    // Renewed once already: the next 401 is final.
    product.renewed.store(true, Ordering::SeqCst);
    let error = send(&product, &server, &GET_THING).await.unwrap_err();
    let Error::Api(api) = &error else {
        panic!("{error}")
    };
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.raw_body(), "<html>no</html>");
    assert_eq!(summary(&records), [(1, Some(401), Outcome::Answered)]);

    // A fresh product renews once, then the second 401 is the answer.
    let (product, records) = self::product();
    let error = send(&product, &server, &GET_THING).await.unwrap_err();
    assert_eq!(
        summary(&records),
        [
            (1, Some(401), Outcome::Answered),
            (2, Some(401), Outcome::Answered)
        ]
    );
    assert!(error.to_string().contains("(after 2 attempts)"), "{error}");
}
