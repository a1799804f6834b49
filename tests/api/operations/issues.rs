//! The issue tracker: list, create, get, update.
//!
//! Deprecated upstream, and still tested.
#![allow(deprecated)]

use bitbucket_cloud::Client;
use bitbucket_cloud::types::{self, IssueKind, IssuePriority, IssueState};
use serde_json::json;

use super::wire::{fixture, json, ok, rejects};

#[tokio::test]
async fn list_issues() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .list_issues()
            .q(r#"state = "new" AND priority = "critical""#)
            .sort("-updated_on")
            .pagelen(100)
            .send()
            .await
    };
    let (issues, sent) = ok(json(200, fixture("issue.list.devlake-synth-1.json")), &call).await;
    sent.expect(
        "GET",
        "/2.0/repositories/acme/web-app/issues",
        &[
            ("pagelen", "100"),
            ("q", r#"state = "new" AND priority = "critical""#),
            ("sort", "-updated_on"),
        ],
        None,
    );
    let issues = issues.values.expect("values");
    let priorities: Vec<_> = issues.iter().map(|i| i.priority.clone()).collect();
    assert_eq!(
        priorities,
        [
            Some(IssuePriority::Trivial),
            Some(IssuePriority::Critical),
            Some(IssuePriority::Blocker)
        ]
    );

    rejects(
        "list_issues",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn create_issue() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .create_issue()
            .body(types::Issue {
                title: Some("Login form loses the e-mail on error".into()),
                kind: Some(IssueKind::Bug),
                priority: Some(IssuePriority::Major),
                content: Some(Box::new(types::RenderedText {
                    raw: Some("Steps:\n1. enter a wrong password".into()),
                    ..Default::default()
                })),
                ..Default::default()
            })
            .send()
            .await
    };
    let (issue, sent) = ok(json(201, fixture("issue.list-item.devlake-1.json")), &call).await;
    sent.expect(
        "POST",
        "/2.0/repositories/acme/web-app/issues",
        &[],
        Some(json!({
            "title": "Login form loses the e-mail on error",
            "kind": "bug",
            "priority": "major",
            "content": { "raw": "Steps:\n1. enter a wrong password" },
        })),
    );
    assert_eq!(issue.id, Some(30));

    rejects("create_issue", &call, 400, "error.badrequest.gildas-1.json").await;
}

#[tokio::test]
async fn get_issue() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .get_issue()
            .issue_id(30)
            .send()
            .await
    };
    let (issue, sent) = ok(json(200, fixture("issue.list-item.devlake-1.json")), &call).await;
    sent.expect("GET", "/2.0/repositories/acme/web-app/issues/30", &[], None);
    assert_eq!(issue.title.as_deref(), Some("issue test027"));
    assert_eq!(issue.kind, Some(IssueKind::Task));
    assert_eq!(issue.state, Some(IssueState::New));
    assert!(issue.assignee.is_some());
    assert_eq!(issue.extra["watches"], json!(1));

    rejects(
        "get_issue",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn update_issue() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .update_issue()
            .issue_id(30)
            .body(types::Issue {
                state: Some(IssueState::OnHold),
                ..Default::default()
            })
            .send()
            .await
    };
    let mut updated = fixture("issue.list-item.devlake-1.json");
    updated["state"] = json!("on hold");
    let (issue, sent) = ok(json(200, updated), &call).await;
    sent.expect(
        "PUT",
        "/2.0/repositories/acme/web-app/issues/30",
        &[],
        Some(json!({ "state": "on hold" })),
    );
    assert_eq!(issue.state, Some(IssueState::OnHold));

    rejects(
        "update_issue",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
}
