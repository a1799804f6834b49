//! Every request, allowed or denied, is a `tracing` event of target `bitbucket_cloud::audit`
//! whose message is the record's sentence.
//!
//! Alone in its test binary: a thread-scoped subscriber sees events reliably only when no
//! other test registers the same callsites at the same time.

use std::sync::{Arc, Mutex};

use bitbucket_cloud::audit::AuditRecord;
use bitbucket_cloud::policy::Policy;
use bitbucket_cloud::{Auth, Client, Error};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn every_call_is_a_tracing_event() {
    let (_subscriber, events) = capture_audit_events();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repositories/ws/app/pullrequests/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 42})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/ws/app/pullrequests/7"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let records: Arc<Mutex<Vec<AuditRecord>>> = Arc::default();
    let sink = records.clone();
    let client = Client::builder()
        .base_url(server.uri())
        .auth(Auth::access_token("token"))
        .agent("release-bot")
        .policy(Policy::allow_all().deny_operation("delete_branch"))
        .audit(move |record| sink.lock().unwrap().push(record.clone()))
        .build()
        .unwrap();

    let repo = client.repo("ws", "app");
    repo.get_pull_request()
        .pull_request_id(42)
        .send()
        .await
        .unwrap();
    let missing = repo.get_pull_request().pull_request_id(7).send().await;
    assert!(missing.is_err());
    let denied = repo.delete_branch().name("main").send().await;
    assert!(matches!(denied, Err(Error::Denied { .. })));

    let events = events.lock().unwrap();
    let seen: Vec<(&str, &str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e.level.as_str(),
                e.operation.as_str(),
                e.decision.as_str(),
                e.status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("INFO", "get_pull_request", "allowed", "200"),
            ("INFO", "get_pull_request", "allowed", "404"),
            ("WARN", "delete_branch", "denied", ""),
        ]
    );
    let records = records.lock().unwrap();
    for (event, record) in events.iter().zip(records.iter()) {
        assert_eq!(event.agent, "release-bot");
        assert_eq!(event.message, record.to_string());
    }
    assert!(
        events[2]
            .reason
            .contains("deny_operation(\"delete_branch\")")
    );
}

/// One audit event as a `tracing` subscriber sees it.
#[derive(Default)]
struct Event {
    level: String,
    agent: String,
    operation: String,
    decision: String,
    status: String,
    reason: String,
    message: String,
}

struct Capture(Arc<Mutex<Vec<Event>>>);

impl Visit for Event {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "agent" => self.agent = value.to_string(),
            "operation" => self.operation = value.to_string(),
            "decision" => self.decision = value.to_string(),
            _ => {}
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = value.to_string();
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "reason" => self.reason = format!("{value:?}"),
            _ => {}
        }
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() != "bitbucket_cloud::audit" {
            return;
        }
        let mut captured = Event {
            level: event.metadata().level().to_string(),
            ..Event::default()
        };
        event.record(&mut captured);
        self.0.lock().unwrap().push(captured);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

/// Installs, for this thread (the test runs on a current-thread runtime) and until the guard
/// drops, a subscriber that keeps the events of target `bitbucket_cloud::audit`.
fn capture_audit_events() -> (tracing::subscriber::DefaultGuard, Arc<Mutex<Vec<Event>>>) {
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let guard = tracing::subscriber::set_default(Capture(events.clone()));
    (guard, events)
}
