//! A request body carries exactly the fields the caller set (found by the contract tests: a
//! repository body carried `"parent": null`), and a form body repeats a field for each item
//! of a list, as Bitbucket reads it.

use crate::support;

use bitbucket_cloud::{Auth, Client, types};
use serde_json::json;
use wiremock::matchers::{body_json, body_string, header, method, path};
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
async fn a_form_body_repeats_a_field_for_each_item_of_a_list() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repositories/acme-corp/billing-service/commits"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(
            "exclude=main&include=feature%2Flogin&include=v1.2",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"values": [], "pagelen": 0})))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .repo("acme-corp", "billing-service")
        .list_commits_with_include_exclude()
        .body(types::ListCommitsWithIncludeExcludeBody {
            include: Some(vec!["feature/login".into(), "v1.2".into()]),
            exclude: Some(vec!["main".into()]),
            ..Default::default()
        })
        .send()
        .await
        .expect("the form carries every ref, in order");
}
