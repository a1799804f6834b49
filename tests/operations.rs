//! Every supported operation over real HTTP on loopback (a `wiremock` server per exchange).
//!
//! Each operation has a test named after it that checks what goes on the wire — method, path
//! with its parameters percent-encoded (`{uuid}` braces, slashes in branch names), every query
//! pair and nothing else, the JSON body exactly as set — then the decoded answer, and that an
//! error answer with Bitbucket's error body comes back as `Error::Api` naming the operation.
//! `every_operation_has_a_wire_test` keeps the list complete: an operation added to
//! `spec/operations.toml` fails it until it gets its test here.

mod support;
#[path = "operations/wire.rs"]
mod wire;

#[path = "operations/branches_and_commits.rs"]
mod branches_and_commits;
#[path = "operations/issues.rs"]
mod issues;
#[path = "operations/pipelines.rs"]
mod pipelines;
#[path = "operations/pull_requests.rs"]
mod pull_requests;
#[path = "operations/repositories.rs"]
mod repositories;
#[path = "operations/webhooks.rs"]
mod webhooks;
#[path = "operations/workspaces_and_users.rs"]
mod workspaces_and_users;

/// The test sources, searched for each operation's test.
const SOURCES: &[&str] = &[
    include_str!("operations/branches_and_commits.rs"),
    include_str!("operations/issues.rs"),
    include_str!("operations/pipelines.rs"),
    include_str!("operations/pull_requests.rs"),
    include_str!("operations/repositories.rs"),
    include_str!("operations/webhooks.rs"),
    include_str!("operations/workspaces_and_users.rs"),
];

#[test]
fn every_operation_has_a_wire_test() {
    // Without whitespace, so that formatting does not matter.
    let source: String = SOURCES.concat().split_whitespace().collect();
    let missing: Vec<&str> = bitbucket_cloud::operations::ALL
        .iter()
        .map(|op| op.name)
        .filter(|name| {
            // The test is named after the operation and checks its error mapping.
            !source.contains(&format!("#[tokio::test]asyncfn{name}()"))
                || !source.contains(&format!("rejects(\"{name}\","))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a wire test (a `#[tokio::test] async fn <name>()` that calls \
         `rejects(\"<name>\", ..)`): {missing:?}"
    );
}
