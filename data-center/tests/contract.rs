//! Contract tests: the request of every operation, as the crate builds it, checked against
//! Atlassian's Data Center 9.4 document by Stoplight Prism (a validator nobody here wrote).
//!
//! Each of the 546 operations has a test in `every` (`every::NAME`): a call through its typed
//! builder with every parameter and body made from the crate's document
//! (`bitbucket_testkit::Request`, as Cloud's contract and wire tests make theirs), from the
//! crate's generated `__operation_calls!`. The calls in `written` add realistic values for the
//! most used operations, as users write them. `every_operation_has_a_contract_test` (which
//! needs no Prism) fails when an operation has no test, or [`ALLOWED`] names something that is
//! not an operation.
//!
//! The judging is the workspace's (`bitbucket_testkit::prism`, shared with Cloud's contract
//! tests): a test fails when Prism finds that the request does not match the document (a 422,
//! a 415, a `request` entry in `sl-violations`), or it is not the operation's method and path,
//! unless the violation is one of the document's known defects in [`ALLOWED`], each with its
//! reason. An allowed defect that no longer shows up fails its test too.
//!
//! Run by `.ci/contract.sh` with `CONTRACT_PRODUCT=data-center`, which starts Prism and sets
//! `BITBUCKET_DC_CONTRACT_URL`; without it, the tests that need Prism return at once, saying so.

use std::sync::OnceLock;

use bitbucket_data_center::retry::RetryConfig;
use bitbucket_data_center::{Auth, Client, Error, operations};
use bitbucket_testkit::Request;
use bitbucket_testkit::prism::{Allowed, CALL_LIMIT, Cases, Contract, Outcome, Target, plain_http};
use serde_json::Value;

/// The known defects of the official document, each with its reason.
const ALLOWED: &[Allowed] = &[
    Allowed {
        operations: &["create_or_update_deployment"],
        location: "request.body.environment.type",
        message: "Request body property environment.type must match pattern \
                  \"DEVELOPMENT|TESTING|STAGING|PRODUCTION\"",
        reason: "the document contradicts itself: `RestDeploymentEnvironment.type` has the \
                 example `production`, which its own upper-case pattern refuses (the request \
                 carries the document's example)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &[
            "get_archive",
            "get_hook_script_content",
            "get_mesh_support_zip",
            "get_mesh_support_zips",
        ],
        location: "response",
        message: "Cannot find serializer for application/octet-stream",
        reason: "not the request: the document's 200 is a binary file (an archive, a script, a \
                 zip), which Prism cannot make up and answers 500 for. Prism checks the request \
                 before it makes up an answer (a violation would be a 422), so the request is \
                 still checked",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &["get_project_avatar"],
        location: "response",
        message: "Cannot find serializer for image/png",
        reason: "not the request: the same 500 for the document's PNG answer",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &[
            "add_commit_comment_reaction",
            "add_pull_request_comment_reaction",
        ],
        location: "response",
        message: "Schema too complex",
        reason: "not the request: the document's answer (`RestUserReaction`, whose comment \
                 refers to itself through its replies) is too deep for Prism to make up, and it \
                 answers 500 after accepting the request (a violation would be a 422)",
        cases: Cases::Generated,
    },
];

/// Requests the crate cannot yet make as the document describes: gaps of the crate, not of the
/// document, listed so that CI stays green while they are open; each fails its test once it
/// is closed (its violation no longer shows up), so that the list stays true.
const GAPS: &[Allowed] = &[];

/// The document the crate is generated from.
fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/spec/bitbucket-data-center.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).expect("the crate's document is JSON")
    })
}

// For every generated operation: a function that calls it through its typed builder (`call`).
macro_rules! calls {
    ($($rows:tt)*) => {
        bitbucket_testkit::typed_calls! { bitbucket_data_center; $($rows)* }
    };
}
bitbucket_data_center::__operation_calls!(calls);

/// The contract test of the operation `name`: the crate's client, talking to Prism (at
/// `BITBUCKET_DC_CONTRACT_URL`) through the recording proxy; `None`, after a note, when that is
/// not set. `generated`: whether the call is made from the document (`every`) or written here.
async fn start(name: &str, generated: bool) -> Option<Contract<Client>> {
    let op = operations::by_name(name).expect("an operation of the crate");
    // A path under `/rest` that is an instance of the operation's template.
    let matches = move |path: &str| {
        path.strip_prefix("/rest")
            .is_some_and(|p| op.matches_path(p))
    };
    let target = Target::new(op.name, &op.method, op.path, generated, matches);
    Contract::start("BITBUCKET_DC_CONTRACT_URL", target, |server_url| {
        Client::builder()
            .server_url(server_url)
            .auth(Auth::bearer("contract"))
            .retry(RetryConfig::disabled())
            .http_client(plain_http(CALL_LIMIT))
            .build()
            .expect("the client builds")
    })
    .await
}

/// The lists of the document's known defects the contract tests allow.
const KNOWN_DEFECTS: &[&[Allowed]] = &[ALLOWED, GAPS];

/// What the judge makes of an error of the crate: an error status or an answer that does not
/// decode is judged from what Prism answered; anything else is the call failing.
fn answered(error: &Error) -> fn(String) -> Outcome {
    match error {
        Error::Api(_) | Error::Decode { .. } => Outcome::Answered,
        _ => Outcome::Failed,
    }
}

const PROJECT: &str = "BILL";
const REPO: &str = "billing-service";
const COMMIT: &str = "8d51122def5632836d1cb1026e879069e10a1e13";

// The most used operations, called as users write them, with realistic values; and `TESTED`,
// their names.
mod written {
    use bitbucket_data_center::types::{
        RestBranchCreateRequest, RestBuildStatusSetRequest, RestBuildStatusSetRequestState,
        RestComment, RestProject, RestPullRequest, RestPullRequestFromRef, RestPullRequestToRef,
        RestRepository,
    };
    use bitbucket_testkit::contract_tests;

    use super::{COMMIT, KNOWN_DEFECTS, PROJECT, REPO, answered, start};

    contract_tests! {
        get_projects(|client| client.get_projects().start(0).limit(25));
        create_project(|client| client.create_project().body(RestProject {
            key: Some(PROJECT.into()),
            name: Some("Billing".into()),
            ..Default::default()
        }));
        get_project(|client| client.get_project().project_key(PROJECT));
        get_repositories(|client| client.get_repositories().project_key(PROJECT));
        create_repository(|client| client
            .create_repository()
            .project_key(PROJECT)
            .body(RestRepository {
                name: Some(REPO.into()),
                scm_id: Some("git".into()),
                ..Default::default()
            }));
        get_repository(|client| client
            .get_repository()
            .project_key(PROJECT)
            .repository_slug(REPO));
        get_branches(|client| client
            .get_branches()
            .project_key(PROJECT)
            .repository_slug(REPO)
            .filter_text("feat"));
        create_branch(|client| client
            .create_branch()
            .project_key(PROJECT)
            .repository_slug(REPO)
            .body(RestBranchCreateRequest {
                name: Some("feature/login-form".into()),
                start_point: Some("main".into()),
                ..Default::default()
            }));
        list_pull_requests(|client| client
            .list_pull_requests()
            .project_key(PROJECT)
            .repository_slug(REPO)
            .state("OPEN"));
        create_pull_request(|client| client
            .create_pull_request()
            .project_key(PROJECT)
            .repository_slug(REPO)
            .body(RestPullRequest {
                title: Some("Log in with a form".into()),
                from_ref: Some(Box::new(RestPullRequestFromRef {
                    id: Some("refs/heads/feature/login-form".into()),
                    ..Default::default()
                })),
                to_ref: Some(Box::new(RestPullRequestToRef {
                    id: Some("refs/heads/main".into()),
                    ..Default::default()
                })),
                ..Default::default()
            }));
        get_pull_request(|client| client
            .get_pull_request()
            .project_key(PROJECT)
            .repository_slug(REPO)
            .pull_request_id("42"));
        create_pull_request_comment(|client| client
            .create_pull_request_comment()
            .project_key(PROJECT)
            .repository_slug(REPO)
            .pull_request_id("42")
            .body(RestComment {
                text: Some("Looks good".into()),
                ..Default::default()
            }));
        merge_pull_request(|client| client
            .merge_pull_request()
            .project_key(PROJECT)
            .repository_slug(REPO)
            .pull_request_id("42")
            .version("0"));
        create_build_status(|client| client
            .create_build_status()
            .project_key(PROJECT)
            .repository_slug(REPO)
            .commit_id(COMMIT)
            .body(RestBuildStatusSetRequest {
                key: Some("ci".into()),
                state: Some(RestBuildStatusSetRequestState::Successful),
                url: Some("https://ci.example.com/1".into()),
                ..Default::default()
            }));
    }

    /// The operations with a test here.
    pub const NAMES: &[&str] = TESTED;
}

/// Every operation, called with every parameter and body made from the crate's document, one
/// test each, named after it: `every::NAME`.
mod every {
    use super::*;

    /// The request made from the document.
    fn request(name: &str) -> Request {
        let op = operations::by_name(name).expect("an operation");
        Request::of(document(), op.name, op.method.as_str(), op.path)
    }

    use bitbucket_testkit::contract_cases;
    bitbucket_data_center::__operation_calls!(contract_cases);
}

/// Runs without Prism: every operation has a contract test made from the document, the
/// hand-written ones name operations, and every allowed defect names operations and says why.
#[test]
fn every_operation_has_a_contract_test() {
    let missing: Vec<&str> = operations::ALL
        .iter()
        .map(|op| op.name)
        .filter(|name| !every::TESTED.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} operations have no contract test: {missing:?}",
        missing.len(),
        operations::ALL.len()
    );
    assert_eq!(every::TESTED.len(), operations::ALL.len());
    assert_eq!(operations::ALL.len(), 546);
    let mut written = written::NAMES.to_vec();
    written.sort_unstable();
    written.dedup();
    assert_eq!(
        written.len(),
        written::NAMES.len(),
        "an operation has two written tests"
    );
    for name in &written {
        assert!(
            operations::by_name(name).is_some(),
            "the contract test `{name}` names no operation"
        );
    }
    for list in [ALLOWED, GAPS] {
        bitbucket_testkit::prism::check_allowed(list, |name| operations::by_name(name).is_some());
    }
}
