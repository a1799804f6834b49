//! A request body carries exactly the fields the caller set, whether it was written as a struct
//! literal over `Default` or with the type's builder. (Found by the contract tests: a
//! repository body carried `"parent": null`, and builders did not convert unless `extra` was
//! set.)

mod support;

use bitbucket_cloud::{Auth, Client, types};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn server_expecting(body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repositories/acme-corp/billing-service"))
        .and(body_json(body))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"type": "repository"})))
        .expect(1)
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> Client {
    support::client(server, Auth::access_token("repository-access-token"))
}

#[tokio::test]
async fn a_struct_literal_sends_only_the_fields_set() {
    let server = server_expecting(json!({
        "scm": "git",
        "is_private": true,
        "project": {"key": "BILL"},
    }))
    .await;
    client(&server)
        .repo("acme-corp", "billing-service")
        .create_repository()
        .body(types::Repository {
            scm: Some(types::Scm::Git),
            is_private: Some(true),
            project: Some(Box::new(types::Project {
                key: Some("BILL".into()),
                ..Default::default()
            })),
            ..Default::default()
        })
        .send()
        .await
        .expect("the body is exactly the fields set");
}

#[tokio::test]
async fn a_builder_sends_only_the_fields_set() {
    let server = server_expecting(json!({"description": "Invoices", "has_issues": false})).await;
    client(&server)
        .repo("acme-corp", "billing-service")
        .create_repository()
        .body(
            types::Repository::builder()
                .description("Invoices".to_string())
                .has_issues(false),
        )
        .send()
        .await
        .expect("a builder without `extra` converts, and sends only what was set");
}
