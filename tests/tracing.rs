//! What the client records with `tracing`: one span per request with the operation, method,
//! path template, attempt, status and duration; never a secret nor the query string.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client, OAuth, OAuthTokens};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Field names and their values as `Debug` prints them.
type FieldList = Vec<(String, String)>;

/// Every span (name and fields) and event (fields) recorded on this thread.
#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<HashMap<u64, (String, FieldList)>>>,
    events: Arc<Mutex<Vec<FieldList>>>,
    next_id: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut FieldList);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .push((field.name().to_string(), format!("{value:?}")));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = Vec::new();
        span.record(&mut Fields(&mut fields));
        self.spans
            .lock()
            .unwrap()
            .insert(id, (span.metadata().name().to_string(), fields));
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some((_, fields)) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.events.lock().unwrap().push(fields);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn one_span_per_request_without_secrets_or_query() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/site/oauth2/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "fresh-access-s3cret", "refresh_token": "refresh-2-s3cret",
            "expires_in": 7200
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/ws"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/ws"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"values": []}))
                .insert_header("X-RateLimit-NearLimit", "true"),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .auth(Auth::oauth(
            OAuth::new("consumer-key", "consumer-s3cret")
                .token_url(format!("{}/site/oauth2/access_token", server.uri()))
                .tokens(
                    OAuthTokens::new("expired-access-s3cret")
                        .with_refresh_token("refresh-1-s3cret")
                        .with_expires_at(SystemTime::now() - Duration::from_secs(1)),
                ),
        ))
        .retry(RetryConfig::default().backoff(Duration::from_millis(1), Duration::from_millis(2)))
        .build()
        .unwrap();

    let capture = Capture::default();
    let guard = tracing::subscriber::set_default(capture.clone());
    client
        .list_repositories()
        .workspace("ws")
        .q("name ~ \"query-s3cret\"")
        .send()
        .await
        .unwrap();
    drop(guard);

    let spans = capture.spans.lock().unwrap();
    let requests: Vec<&FieldList> = spans
        .values()
        .filter(|(name, _)| name == "bitbucket.request")
        .map(|(_, fields)| fields)
        .collect();
    assert_eq!(requests.len(), 1, "one span per call");
    let field = |name: &str| -> Vec<&str> {
        requests[0]
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(field("operation"), ["\"list_repositories\""]);
    assert_eq!(field("method"), ["GET"]);
    assert_eq!(field("path"), ["\"/repositories/{workspace}\""]);
    assert_eq!(
        field("attempt"),
        ["1", "2"],
        "the attempt is recorded as it goes"
    );
    assert_eq!(field("status"), ["503", "200"]);
    assert_eq!(field("duration_ms").len(), 1);

    let events = capture.events.lock().unwrap();
    let everything = format!("{:?} {:?}", *spans, *events);
    assert!(
        everything.contains("rate limit is near"),
        "the near-limit warning"
    );
    assert!(
        !everything.contains("s3cret"),
        "a secret was recorded: {everything}"
    );
    assert!(
        !everything.contains("pagelen="),
        "a query string was recorded: {everything}"
    );
}
