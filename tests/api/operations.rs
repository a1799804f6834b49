//! Every supported operation over real HTTP on loopback (a `wiremock` server per exchange).
//!
//! `every` has a test for each of the 331 operations, made from data (`crate::cases`): what
//! goes on the wire — method, path with its parameters percent-encoded (`{uuid}` braces,
//! slashes in branch names), every query pair and nothing else, the body exactly as set — then
//! the decoded answer (a real recording where there is one), and that an error answer with
//! Bitbucket's error body comes back as `Error::Api` naming the operation. Its
//! `every_operation_has_a_wire_test` fails when an operation has none.
//!
//! The other modules hold hand-written tests of chosen operations, with chosen values and
//! assertions on typed fields; `hand_written_tests_are_operations` checks that each is named
//! after an operation and checks its error mapping.

mod wire;

mod answers;
mod branches_and_commits;
mod every;
mod issues;
mod pipelines;
mod pull_requests;
mod repositories;
mod webhooks;
mod workspaces_and_users;

/// The test sources, searched for each operation's test.
const SOURCES: &[&str] = &[
    include_str!("operations/answers.rs"),
    include_str!("operations/branches_and_commits.rs"),
    include_str!("operations/issues.rs"),
    include_str!("operations/pipelines.rs"),
    include_str!("operations/pull_requests.rs"),
    include_str!("operations/repositories.rs"),
    include_str!("operations/webhooks.rs"),
    include_str!("operations/workspaces_and_users.rs"),
];

#[test]
fn hand_written_tests_are_operations() {
    let source: String = SOURCES.concat().split_whitespace().collect();
    let tested: Vec<&str> = bitbucket_cloud::operations::ALL
        .iter()
        .map(|op| op.name)
        .filter(|name| source.contains(&format!("#[tokio::test]asyncfn{name}()")))
        .collect();
    for name in &tested {
        assert!(
            source.contains(&format!("rejects(\"{name}\",")),
            "the wire test of `{name}` does not check its error mapping (`rejects(\"{name}\", ..)`)"
        );
    }
    assert!(
        tested.len() >= 38,
        "hand-written wire tests were lost: {tested:?}"
    );
}
