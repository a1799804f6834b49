//! Contract tests: the request of every supported operation, as the crate builds it, checked
//! against Atlassian's official OpenAPI document by a validator nobody here wrote,
//! [Stoplight Prism](https://github.com/stoplightio/prism) in mock mode.
//!
//! Each of the 331 operations has a test in `every` (`contract::every::NAME`): the call the
//! wire tests make ([`crate::cases`]), through its typed builder, with every parameter and
//! body made from the crate's document. The calls written out below (`contract::NAME`) add
//! realistic values for the most used operations, as users write them (bodies without the
//! `type` the document requires, repeated `state`s). `every_contract_test_is_an_operation`
//! fails when an operation has no test.
//!
//! Our other tests are written by us and can share our misunderstandings of the document;
//! Prism reads the document itself. `.ci/contract.sh` installs Prism, serves the official
//! document (with `/2.0` in front of its paths: `cargo xtask contract-spec`) and runs this file
//! with `BITBUCKET_CONTRACT_URL=http://127.0.0.1:<port>/2.0`. Without that variable the tests
//! that need Prism return at once, saying so.
//!
//! The client talks to Prism through a small recording proxy, which keeps the status and the
//! `sl-violations` header of every answer: the crate's `send()` returns neither for a success,
//! and Prism reports request *warnings* on a 2xx. (`prism mock --errors` does not help: it turns
//! violations of Prism's own *responses* into 500s, which judges the document's examples, not
//! our requests.) A test fails when
//! - Prism answers 400, 415 or 422 (the request does not match the document), 401 (the
//!   credentials do not satisfy its security schemes), or any other status it makes up (404
//!   for a path the document does not have, 405, 500);
//! - the `sl-violations` header lists an entry whose location starts with `request`;
//! - the request is not the operation's method and path, or Prism does not answer in time;
//!
//! unless the violation is one of the document's known defects in [`ALLOWED`], each with its
//! reason and the tests it shows up in. An allowed defect that no longer shows up fails its
//! test too, so that list stays true.
//!
//! Prism's pagination links point at example.com, so list operations fetch one page.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::types;
use bitbucket_cloud::{Auth, Client, Error, operations};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, TRANSFER_ENCODING};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// How long Prism may take to answer one request: it never answers some malformed ones.
const PRISM_LIMIT: Duration = Duration::from_secs(10);
/// How long one call through the crate may take, the proxy's wait for Prism included.
const CALL_LIMIT: Duration = Duration::from_secs(15);

/// A defect of the official document that makes Prism reject a request Bitbucket accepts.
/// Nothing else is tolerated.
struct Allowed {
    /// The operations whose requests meet it; each must (or the entry is stale).
    operations: &'static [&'static str],
    /// Where Prism locates the violation: `request.query.state`.
    location: &'static str,
    /// Prism's message, exactly.
    message: &'static str,
    /// Why the request is right and the document wrong.
    reason: &'static str,
    /// Which tests meet it: the hand-written calls of this file, the calls made from the
    /// document (`every`), or both.
    cases: Cases,
}

/// The two sets of contract tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cases {
    /// The calls written here, with realistic values (as users write them).
    Written,
    /// The calls made from the document for every operation (`crate::cases`).
    Generated,
    Both,
}

impl Cases {
    fn include(self, generated: bool) -> bool {
        match self {
            Cases::Written => !generated,
            Cases::Generated => generated,
            Cases::Both => true,
        }
    }
}

/// The known defects of the official document, each with its reason.
const ALLOWED: &[Allowed] = &[
    Allowed {
        operations: &["list_pull_requests"],
        location: "request.query.state",
        message: "Request query parameter state must be string",
        reason: "`state` is declared a single string, but Bitbucket (and the parameter's own \
                 description) take it repeated, `state=OPEN&state=MERGED`; the crate sends a list \
                 (spec/patches/list-pull-requests-state-is-repeatable.json)",
        cases: Cases::Written,
    },
    Allowed {
        operations: &["list_pull_requests"],
        location: "request.query.state",
        message: "Request query parameter state must be equal to one of the allowed values: \
                  OPEN, MERGED, DECLINED, SUPERSEDED",
        reason: "the same repeated `state`: Prism checks the list, not each value, against the \
                 enum",
        cases: Cases::Written,
    },
    Allowed {
        operations: &[
            "create_repository",
            "update_repository",
            "create_pull_request",
            "update_pull_request",
            "merge_pull_request",
            "create_pull_request_comment",
            "create_issue",
            "run_pipeline",
        ],
        location: "request.body",
        message: "Request body must have required property 'type'",
        reason: "every body schema inherits `required: [type]` from the document's base `object` \
                 schema, which describes responses; Bitbucket does not need `type` in a request \
                 body (its own examples leave it out)",
        cases: Cases::Written,
    },
    Allowed {
        operations: &["create_pull_request"],
        location: "request.body.reviewers.0",
        message: "Request body property reviewers.0 must have required property 'type'",
        reason: "the same inherited `type`, on the `account` objects that name reviewers \
                 (`{\"uuid\": ...}` is what Bitbucket takes)",
        cases: Cases::Written,
    },
    Allowed {
        operations: &["create_repository"],
        location: "request.body.project",
        message: "Request body property project must have required property 'type'",
        reason: "the same inherited `type`, on the `project` a new repository goes in \
                 (`{\"key\": \"BILL\"}` is what Bitbucket takes)",
        cases: Cases::Written,
    },
    Allowed {
        operations: &["list_pipelines"],
        location: "request.query.sort",
        message: "Request query parameter sort must be equal to one of the allowed values: \
                  creator.uuid, created_on, run_creation_date",
        reason: "`sort` is declared an enum of ascending fields only, but Bitbucket sorts \
                 descending with a leading `-` (`-created_on`, latest first); the crate takes any \
                 string (spec/patches/list-pipelines-sort-is-ascending-only.json)",
        cases: Cases::Both,
    },
    Allowed {
        operations: &["create_branch", "create_webhook", "update_issue"],
        location: "request",
        message: "No supported content types, but request included a non-empty body",
        reason: "the document declares no request body for these, though each needs one (the \
                 branch's name and target, the hook's url and events, the issue's changed \
                 fields); spec/patches/ adds them",
        cases: Cases::Both,
    },
    Allowed {
        operations: &[
            "create_workspace_webhook",
            "update_webhook",
            "update_workspace_webhook",
        ],
        location: "request",
        message: "No supported content types, but request included a non-empty body",
        reason: "the same missing body: a hook is created and changed with its url, events and \
                 description (spec/patches/create-webhook-has-no-request-body.json, \
                 webhook-updates-have-no-request-body.json)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &[
            "create_deploy_key",
            "update_deploy_key",
            "create_project_deploy_key",
        ],
        location: "request",
        message: "No supported content types, but request included a non-empty body",
        reason: "the same missing body: a deploy key is added with its `key` and `label`, and \
                 relabelled with a body (spec/patches/deploy-key-writes-have-no-request-body.json)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &[
            "create_runner",
            "create_workspace_runner",
            "update_runner",
            "update_workspace_runner",
        ],
        location: "request",
        message: "No supported content types, but request included a non-empty body",
        reason: "the same missing body: a runner is registered and renamed with its name and \
                 labels (spec/patches/runner-writes-have-no-request-body.json)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &[
            "update_branching_model_settings",
            "update_project_branching_model_settings",
        ],
        location: "request",
        message: "No supported content types, but request included a non-empty body",
        reason: "the same missing body: the settings to change are sent as JSON, as the \
                 operation's description says \
                 (spec/patches/branching-model-settings-updates-have-no-request-body.json)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &["update_snippet", "update_snippet_revision"],
        location: "request",
        message: "No supported content types, but request included a non-empty body",
        reason: "the same missing body: a snippet's title and files are changed with a body \
                 (spec/patches/snippet-updates-have-no-request-body.json)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &[
            "list_commits_with_include_exclude",
            "list_commits_for_revision_with_include_exclude",
        ],
        location: "request",
        message: "No supported content types, but request included a non-empty body",
        reason: "the POST form of the commit list takes its `include` and `exclude` refs as form \
                 fields, so that long lists fit; the document declares no body \
                 (spec/patches/commit-list-posts-have-no-request-body.json)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &["create_commit"],
        location: "request",
        message: "No supported content types, but request included a non-empty body",
        reason: "a commit is made from form fields (its message, author, branch, and one field \
                 per file); the document declares no body \
                 (spec/patches/create-commit-fields-are-form-fields.json)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &["create_snippet", "create_workspace_snippet"],
        location: "request.body.id",
        message: "Request body property id must be integer",
        reason: "a snippet's `id` is its encoded string id (`kypj89`), as every real answer and \
                 its own path parameter `encoded_id` show; the document types it an integer \
                 (spec/patches/snippet-id-is-a-string.json)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &["create_snippet_comment", "update_snippet_comment"],
        location: "request.body.snippet.id",
        message: "Request body property snippet.id must be integer",
        reason: "the same string `id`, of the snippet a comment is on \
                 (spec/patches/snippet-id-is-a-string.json)",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &["list_pipelines"],
        location: "request.query.creator.uuid",
        message: "Request query parameter creator.uuid must match format \"uuid\"",
        reason: "Bitbucket writes every UUID in braces (`{3fa85f64-...}`), in answers and in the \
                 document's own path parameters; `format: uuid` refuses the braces",
        cases: Cases::Generated,
    },
    Allowed {
        operations: &["get_snippet_revision_file"],
        location: "response",
        message: "Cannot find serializer for string",
        reason: "not the request: the document's 200 is a file with no declared content type, \
                 and Prism answers 500 because it cannot make one up. Prism checks the request \
                 before it makes up an answer (a violation would be a 422), so the request is \
                 still checked",
        cases: Cases::Generated,
    },
];

const WORKSPACE: &str = "acme-corp";
const REPO: &str = "billing-service";
const PULL_REQUEST: i64 = 42;
const COMMIT: &str = "7b9e1f0c2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c";
/// A branch name with a slash, as most are: the crate must send it as one path segment.
const BRANCH: &str = "feature/login-form";
const PIPELINE: &str = "{3fa85f64-5717-4562-b3fc-2c963f66afa6}";
const WEBHOOK: &str = "{d3e7ac4f-1b2c-4d5e-8f90-a1b2c3d4e5f6}";

/// One test per operation, named after it, calling it through the crate's public API; and the
/// list of their names, which [`every_operation_has_a_contract_test`] compares with the crate's.
macro_rules! contract_tests {
    ($($operation:ident(|$client:ident| $call:expr);)+) => {
        $(
            #[tokio::test]
            // The issue tracker is deprecated upstream, and still checked.
            #[allow(deprecated)]
            async fn $operation() {
                let Some(contract) = Contract::start(stringify!($operation), false).await else {
                    return;
                };
                let $client = &contract.client;
                let outcome = tokio::time::timeout(CALL_LIMIT, $call.send()).await;
                contract.judge(outcome.map(|result| result.map(drop)));
            }
        )+

        const TESTED: &[&str] = &[$(stringify!($operation)),+];
    };
}

contract_tests! {
    list_repositories(|client| client
        .list_repositories()
        .workspace(WORKSPACE)
        .role(types::ListRepositoriesRole::Member)
        .q(r#"project.key = "BILL" AND updated_on > 2024-01-01"#)
        .sort("-updated_on")
        .pagelen(50));
    get_repository(|client| client.repo(WORKSPACE, REPO).get_repository());
    create_repository(|client| client
        .repo(WORKSPACE, REPO)
        .create_repository()
        .body(types::Repository {
            scm: Some(types::Scm::Git),
            is_private: Some(true),
            description: Some("Invoices and payment runs".into()),
            fork_policy: Some(types::RepositoryForkPolicy::NoPublicForks),
            language: Some("rust".into()),
            project: Some(Box::new(types::Project {
                key: Some("BILL".into()),
                ..Default::default()
            })),
            ..Default::default()
        }));
    update_repository(|client| client
        .repo(WORKSPACE, REPO)
        .update_repository()
        .body(types::Repository {
            description: Some("Invoices, payment runs and dunning".into()),
            has_issues: Some(false),
            ..Default::default()
        }));
    list_pull_requests(|client| client
        .repo(WORKSPACE, REPO)
        .list_pull_requests()
        .state(vec![types::PullRequestState::Open, types::PullRequestState::Merged])
        .q(r#"author.nickname = "jdoe""#)
        .sort("-updated_on")
        .pagelen(50));
    create_pull_request(|client| client
        .repo(WORKSPACE, REPO)
        .create_pull_request()
        .body(types::PullRequest {
            title: Some("Add the login form".into()),
            // The document's `pullrequest` lacks `description`, which Bitbucket takes:
            // fields it does not list go in `extra`.
            extra: [("description".to_string(), "Closes #17.".into())].into_iter().collect(),
            source: Some(Box::new(endpoint(BRANCH))),
            destination: Some(Box::new(endpoint("main"))),
            close_source_branch: Some(true),
            reviewers: Some(vec![types::Account {
                uuid: Some("{b9e4b5a2-0c1d-4e7f-9a3b-5c6d7e8f9a0b}".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }));
    get_pull_request(|client| client
        .repo(WORKSPACE, REPO)
        .get_pull_request()
        .pull_request_id(PULL_REQUEST));
    update_pull_request(|client| client
        .repo(WORKSPACE, REPO)
        .update_pull_request()
        .pull_request_id(PULL_REQUEST)
        .body(types::PullRequest {
            title: Some("Add the login form (with remember me)".into()),
            draft: Some(false),
            ..Default::default()
        }));
    merge_pull_request(|client| client
        .repo(WORKSPACE, REPO)
        .merge_pull_request()
        .pull_request_id(PULL_REQUEST)
        .async_(true)
        .body(types::PullRequestMergeParameters {
            merge_strategy: Some(types::MergeStrategy::Squash),
            message: Some("Add the login form (#42)".into()),
            close_source_branch: Some(true),
            ..Default::default()
        }));
    approve_pull_request(|client| client
        .repo(WORKSPACE, REPO)
        .approve_pull_request()
        .pull_request_id(PULL_REQUEST));
    decline_pull_request(|client| client
        .repo(WORKSPACE, REPO)
        .decline_pull_request()
        .pull_request_id(PULL_REQUEST));
    request_changes_on_pull_request(|client| client
        .repo(WORKSPACE, REPO)
        .request_changes_on_pull_request()
        .pull_request_id(PULL_REQUEST));
    list_pull_request_comments(|client| client
        .repo(WORKSPACE, REPO)
        .list_pull_request_comments()
        .pull_request_id(PULL_REQUEST)
        .q("deleted = false")
        .sort("created_on")
        .pagelen(100));
    create_pull_request_comment(|client| client
        .repo(WORKSPACE, REPO)
        .create_pull_request_comment()
        .pull_request_id(PULL_REQUEST)
        .body(types::PullRequestComment {
            content: Some(Box::new(types::RenderedText {
                raw: Some("This should use `constant_time_eq`.".into()),
                ..Default::default()
            })),
            inline: Some(Box::new(types::CommentInline {
                path: Some("src/auth/login.rs".into()),
                to: Some(57),
                ..Default::default()
            })),
            ..Default::default()
        }));
    list_pull_request_commits(|client| client
        .repo(WORKSPACE, REPO)
        .list_pull_request_commits()
        .pull_request_id(PULL_REQUEST)
        .pagelen(50));
    get_pull_request_diff(|client| client
        .repo(WORKSPACE, REPO)
        .get_pull_request_diff()
        .pull_request_id(PULL_REQUEST));
    list_commits(|client| client
        .repo(WORKSPACE, REPO)
        .list_commits()
        .include(vec![BRANCH.to_string()])
        .exclude(vec!["main".to_string()])
        .path("src/auth/login.rs")
        .pagelen(30));
    get_commit(|client| client.repo(WORKSPACE, REPO).get_commit().commit(COMMIT));
    list_branches(|client| client
        .repo(WORKSPACE, REPO)
        .list_branches()
        .q(r#"name ~ "feature/""#)
        .sort("-target.date")
        .pagelen(100));
    create_branch(|client| client
        .repo(WORKSPACE, REPO)
        .create_branch()
        .body(types::Branch {
            name: Some(BRANCH.into()),
            target: Some(Box::new(types::Commit {
                hash: Some(COMMIT.into()),
                ..Default::default()
            })),
            ..Default::default()
        }));
    get_branch(|client| client.repo(WORKSPACE, REPO).get_branch().name(BRANCH));
    delete_branch(|client| client.repo(WORKSPACE, REPO).delete_branch().name(BRANCH));
    list_issues(|client| client
        .repo(WORKSPACE, REPO)
        .list_issues()
        .q(r#"state = "new" AND kind = "bug""#)
        .sort("-priority")
        .pagelen(50));
    create_issue(|client| client
        .repo(WORKSPACE, REPO)
        .create_issue()
        .body(types::Issue {
            title: Some("Login form accepts an empty password".into()),
            content: Some(Box::new(types::RenderedText {
                raw: Some("Steps: open /login, submit without a password.".into()),
                ..Default::default()
            })),
            kind: Some(types::IssueKind::Bug),
            priority: Some(types::IssuePriority::Critical),
            ..Default::default()
        }));
    get_issue(|client| client.repo(WORKSPACE, REPO).get_issue().issue_id(17));
    update_issue(|client| client
        .repo(WORKSPACE, REPO)
        .update_issue()
        .issue_id(17)
        .body(types::Issue {
            priority: Some(types::IssuePriority::Major),
            ..Default::default()
        }));
    list_pipelines(|client| client
        .repo(WORKSPACE, REPO)
        .list_pipelines()
        .target_branch("main")
        .status(types::ListPipelinesStatus::Failed)
        .trigger_type(types::ListPipelinesTriggerType::Push)
        .sort("-created_on")
        .pagelen(20));
    run_pipeline(|client| client
        .repo(WORKSPACE, REPO)
        .run_pipeline()
        .body(types::Pipeline {
            target: Some(Box::new(types::PipelineTarget {
                type_: Some("pipeline_ref_target".into()),
                ref_type: Some(types::PipelineRefType::Branch),
                ref_name: Some("main".into()),
                selector: Some(Box::new(types::PipelineSelector {
                    type_: Some(types::PipelineSelectorType::Custom),
                    pattern: Some("deploy-staging".into()),
                    ..Default::default()
                })),
                ..Default::default()
            })),
            ..Default::default()
        }));
    get_pipeline(|client| client
        .repo(WORKSPACE, REPO)
        .get_pipeline()
        .pipeline_uuid(PIPELINE));
    stop_pipeline(|client| client
        .repo(WORKSPACE, REPO)
        .stop_pipeline()
        .pipeline_uuid(PIPELINE));
    list_webhooks(|client| client.repo(WORKSPACE, REPO).list_webhooks().pagelen(50));
    create_webhook(|client| client
        .repo(WORKSPACE, REPO)
        .create_webhook()
        .body(types::WebhookSubscription {
            description: Some("release bot".into()),
            url: Some("https://bots.example.com/bitbucket/events".into()),
            active: Some(true),
            secret: Some("whsec-9f8e7d6c5b4a".into()),
            events: Some(vec![
                types::EventKey::RepoPush,
                types::EventKey::PullrequestFulfilled,
            ]),
            ..Default::default()
        }));
    delete_webhook(|client| client.repo(WORKSPACE, REPO).delete_webhook().uid(WEBHOOK));
    list_workspaces(|client| client
        .list_workspaces()
        .administrator(true)
        .sort("workspace.slug")
        .pagelen(100));
    get_workspace(|client| client.get_workspace().workspace(WORKSPACE));
    list_projects(|client| client.list_projects().workspace(WORKSPACE).pagelen(100));
    get_project(|client| client.get_project().workspace(WORKSPACE).project_key("BILL"));
    get_current_user(|client| client.get_current_user());
}

/// Every operation, called as the wire tests call it ([`crate::cases`]: every parameter and
/// body made from the crate's document), one test each, named after it: `contract::every::NAME`.
mod every {
    use super::*;

    /// Checks the case of `name` against Prism.
    async fn check(name: &str) {
        let Some(contract) = Contract::start(name, true).await else {
            return;
        };
        let mut case = crate::cases::Case::of(contract.operation);
        // OpenAPI's path parameters are one segment each, so Prism cannot route a file path
        // with slashes, which Bitbucket takes (the wire tests send one): here the file is at
        // the root.
        for param in &mut case.params {
            if param.location == crate::cases::In::Path && param.name == "path" {
                param.value = serde_json::json!("login form.rs");
            }
        }
        let outcome =
            tokio::time::timeout(CALL_LIMIT, crate::cases::call(&contract.client, &case)).await;
        contract.judge(outcome.map(|result| result.map(drop)));
    }

    macro_rules! contract_cases {
        ($($name:ident $kind:ident [$($json:ty)?] [$($field:ident: $ty:ty),*];)*) => {
            $(
                #[tokio::test]
                async fn $name() {
                    check(stringify!($name)).await;
                }
            )*

            /// The operations with a test here.
            pub const TESTED: &[&str] = &[$(stringify!($name)),*];
        };
    }
    bitbucket_cloud::__operation_calls!(contract_cases);
}

/// A pull request's source or destination: a branch of the same repository.
fn endpoint(branch: &str) -> types::PullRequestEndpoint {
    types::PullRequestEndpoint {
        branch: Some(Box::new(types::PullRequestBranch {
            name: Some(branch.into()),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// Runs without Prism: every operation has a contract test made from the document, the
/// hand-written ones name operations, once each, and every allowed defect names operations and
/// says why.
#[test]
fn every_contract_test_is_an_operation() {
    let mut tested = TESTED.to_vec();
    tested.sort_unstable();
    let before = tested.len();
    tested.dedup();
    assert_eq!(tested.len(), before, "an operation has two contract tests");
    for name in &tested {
        assert!(
            operations::by_name(name).is_some(),
            "the contract test `{name}` names no operation"
        );
    }
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
    assert!(
        tested.len() >= 38,
        "hand-written contract tests were lost: {tested:?}"
    );
    for allowed in ALLOWED {
        for operation in allowed.operations {
            assert!(
                operations::by_name(operation).is_some(),
                "ALLOWED names `{operation}`, which is not an operation"
            );
        }
        assert!(!allowed.reason.trim().is_empty());
    }
}

/// One test's client, proxy, and the operation it calls.
struct Contract {
    client: Client,
    proxy: Proxy,
    operation: &'static operations::Operation,
    /// Whether the call is made from the document (`every`) rather than written here.
    generated: bool,
}

impl Contract {
    /// `None`, after a note, when `BITBUCKET_CONTRACT_URL` is not set.
    async fn start(operation: &str, generated: bool) -> Option<Contract> {
        let Some(url) = std::env::var("BITBUCKET_CONTRACT_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
        else {
            eprintln!(
                "{operation}: skipped, BITBUCKET_CONTRACT_URL is not set (.ci/contract.sh runs \
                 these tests against Prism)"
            );
            return None;
        };
        let url = reqwest::Url::parse(&url)
            .unwrap_or_else(|e| panic!("BITBUCKET_CONTRACT_URL `{url}` is not a URL: {e}"));
        let origin = url.origin().ascii_serialization();
        let proxy = Proxy::start(origin).await;
        // Redirects are not followed: what is checked is the request the crate builds, and the
        // only redirect the document declares (the diff's 302) points outside Prism.
        let http = plain_http(CALL_LIMIT);
        let client = Client::builder()
            .base_url(format!("http://{}{}", proxy.addr, url.path()))
            .auth(Auth::api_token(
                "release-bot@acme.example",
                "ATATT3xFfGF0-contract",
            ))
            .retry(RetryConfig::disabled())
            .http_client(http)
            .build()
            .expect("the client builds");
        let operation = operations::by_name(operation)
            .unwrap_or_else(|| panic!("`{operation}` is not an operation of the crate"));
        Some(Contract {
            client,
            proxy,
            operation,
            generated,
        })
    }

    /// Panics with every problem found, or returns when Prism accepted the request.
    fn judge(self, outcome: Result<Result<(), Error>, tokio::time::error::Elapsed>) {
        let name = self.operation.name;
        let exchanges = std::mem::take(&mut *self.proxy.exchanges.lock().unwrap());
        let mut problems = Vec::new();
        match &outcome {
            Err(_) => problems.push(format!("the call did not end within {CALL_LIMIT:?}")),
            // An error status is judged below from what Prism sent. Whether the body decodes
            // is not judged: Prism's bodies are made up from the schemas, not what Bitbucket
            // sends (a recursive schema cut off as `"parents": [null]`, an empty 200 where the
            // document declares no content).
            Ok(Ok(()) | Err(Error::Api(_) | Error::Decode { .. })) => {}
            // Prism answers the 302 the document declares without a `Location`, which the
            // crate refuses to follow: the request itself is judged below.
            Ok(Err(Error::Redirect { .. })) => {}
            Ok(Err(_)) => problems.push(format!("the call failed: {}", outcome_text(&outcome))),
        }
        // A redirect the crate followed (to the `Location` Prism makes up) is a second
        // request: the operation's own is the first.
        let followed_redirect = exchanges.len() > 1
            && exchanges[0]
                .answer
                .as_ref()
                .is_ok_and(|a| (300..400).contains(&a.status));
        let exchanges = if followed_redirect {
            &exchanges[..1]
        } else {
            &exchanges[..]
        };
        let [exchange] = exchanges else {
            problems.push(format!(
                "expected one request to reach Prism, saw {}: {:?}",
                exchanges.len(),
                exchanges
                    .iter()
                    .map(|e| format!("{} {}", e.method, e.target))
                    .collect::<Vec<_>>()
            ));
            fail(name, &problems);
        };
        if !exchange.matches(self.operation) {
            problems.push(format!(
                "sent {} {}, which is not {} {}",
                exchange.method, exchange.target, self.operation.method, self.operation.path
            ));
        }
        let answer = match &exchange.answer {
            Ok(answer) => answer,
            Err(why) => {
                problems.push(why.clone());
                fail(name, &problems);
            }
        };

        let violations = match answer.request_violations() {
            Ok(violations) => violations,
            Err(why) => {
                problems.push(why);
                Vec::new()
            }
        };
        let allowed_here: Vec<&Allowed> = ALLOWED
            .iter()
            .filter(|a| a.operations.contains(&name) && a.cases.include(self.generated))
            .collect();
        let mut seen = vec![false; allowed_here.len()];
        let mut unexplained = Vec::new();
        for violation in &violations {
            match allowed_here.iter().position(|a| violation.is(a)) {
                Some(i) => seen[i] = true,
                None => unexplained.push(violation),
            }
        }
        for violation in &unexplained {
            problems.push(format!(
                "Prism: {} ({}): {}",
                violation.location, violation.code, violation.message
            ));
        }
        let status = answer.status;
        let explained = !violations.is_empty() && unexplained.is_empty();
        match status {
            200..=399 => {}
            400 | 415 | 422 | 500 if explained => {}
            _ => problems.push(format!(
                "Prism answered {status}: {}",
                String::from_utf8_lossy(&answer.body)
            )),
        }
        for (allowed, seen) in allowed_here.iter().zip(seen) {
            if !seen {
                problems.push(format!(
                    "the allowed defect `{}: {}` no longer shows up: remove it from ALLOWED",
                    allowed.location, allowed.message
                ));
            }
        }
        if !problems.is_empty() {
            fail(name, &problems);
        }
        println!(
            "{name}: {} {} -> {status}; {}",
            exchange.method,
            exchange.target,
            outcome_text(&outcome)
        );
    }
}

fn outcome_text(outcome: &Result<Result<(), Error>, tokio::time::error::Elapsed>) -> String {
    match outcome {
        Ok(Ok(())) => "the crate decoded the answer".into(),
        Ok(Err(error)) => format!("the crate returned: {error}"),
        Err(_) => "no outcome".into(),
    }
}

fn fail(operation: &str, problems: &[String]) -> ! {
    panic!(
        "{operation}: the request does not satisfy the official document:\n  - {}",
        problems.join("\n  - ")
    );
}

/// One violation Prism reports about a request.
#[derive(Debug)]
struct Violation {
    /// `request.query.state`, `request.body.target`, `request`.
    location: String,
    code: String,
    message: String,
}

impl Violation {
    fn is(&self, allowed: &Allowed) -> bool {
        self.location == allowed.location && self.message == allowed.message
    }

    /// Reads Prism's violation objects (`{"location": [..], "code", "message"}`); `prefix` goes
    /// in front of each location (a 422 body's are relative to the request).
    fn parse_all(list: &Value, prefix: &[&str]) -> Result<Vec<Violation>, String> {
        let items = list
            .as_array()
            .ok_or_else(|| format!("Prism's violations are not a list: {list}"))?;
        items
            .iter()
            .map(|item| {
                let parts = item["location"]
                    .as_array()
                    .ok_or_else(|| format!("a violation without a location: {item}"))?;
                let location: Vec<String> = prefix
                    .iter()
                    .map(|p| p.to_string())
                    .chain(parts.iter().map(text))
                    .collect();
                Ok(Violation {
                    location: location.join("."),
                    code: text(&item["code"]),
                    message: text(&item["message"]),
                })
            })
            .collect()
    }
}

/// A JSON string as is, anything else (a number) as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A request that went through the proxy, and what came back.
#[derive(Debug)]
struct Exchange {
    method: String,
    /// The path and query as sent, still percent-encoded.
    target: String,
    answer: Result<Answer, String>,
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Exchange {
    /// Whether the request is `operation`'s: same method, and a path under `/2.0` that is an
    /// instance of its template ([`operations::Operation::match_path`]).
    fn matches(&self, operation: &operations::Operation) -> bool {
        let path = self.target.split('?').next().unwrap_or_default();
        self.method == operation.method.as_str()
            && path
                .strip_prefix("/2.0")
                .and_then(|path| operation.match_path(path))
                .is_some()
    }
}

impl Answer {
    /// What Prism says is wrong with the request: the `request...` entries of its
    /// `sl-violations` header, and the list in the body of a 422 it made up.
    fn request_violations(&self) -> Result<Vec<Violation>, String> {
        let mut found = Vec::new();
        if let Some(header) = self.header("sl-violations") {
            let list: Value = serde_json::from_str(header)
                .map_err(|_| format!("sl-violations is not a JSON list: {header}"))?;
            found.extend(
                Violation::parse_all(&list, &[])?
                    .into_iter()
                    .filter(|v| v.location.split('.').next() == Some("request")),
            );
        }
        if let Some(problem) = self.prisms_own_problem() {
            match problem["type"].as_str().and_then(|t| t.rsplit_once('#')) {
                Some((_, "UNPROCESSABLE_ENTITY")) => {
                    found.extend(Violation::parse_all(&problem["validation"], &["request"])?);
                }
                Some((_, "INVALID_CONTENT_TYPE")) => found.push(Violation {
                    location: "request".into(),
                    code: "415".into(),
                    message: problem["detail"].as_str().unwrap_or_default().into(),
                }),
                // Prism could not make up an answer (after it accepted the request): listed so that
                // an allowed defect of the document's answer can name it.
                Some((_, "UNKNOWN")) => found.push(Violation {
                    location: "response".into(),
                    code: "500".into(),
                    message: problem["title"].as_str().unwrap_or_default().into(),
                }),
                _ => {}
            }
        }
        Ok(found)
    }
}

/// An HTTP client that does not follow redirects and gives up after `timeout`.
fn plain_http(timeout: Duration) -> reqwest::Client {
    // reqwest needs a process-wide crypto provider with the crate's `rustls` feature, even for
    // plain HTTP; `Err` means one is installed already.
    #[cfg(feature = "rustls")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .expect("a plain HTTP client builds")
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body of an error Prism made up itself (rather than took from the document):
    /// `application/problem+json` with a `type` under `https://stoplight.io/prism/errors#`.
    fn prisms_own_problem(&self) -> Option<Value> {
        let problem_json = self
            .header(CONTENT_TYPE.as_str())
            .is_some_and(|t| t.starts_with("application/problem+json"));
        let problem: Value = serde_json::from_slice(&self.body)
            .ok()
            .filter(|_| problem_json)?;
        let from_prism = problem["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://stoplight.io/prism/errors#"));
        from_prism.then_some(problem)
    }
}

/// A reverse proxy on loopback that forwards to Prism and records every exchange.
struct Proxy {
    addr: SocketAddr,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
}

impl Proxy {
    /// Listens on a free port; forwards to `upstream` (`http://127.0.0.1:4010`). Its tasks end
    /// with the test's runtime.
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let http = plain_http(PRISM_LIMIT);
        let log = Arc::clone(&exchanges);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (http, upstream, log) = (http.clone(), upstream.clone(), Arc::clone(&log));
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        forward(request, http.clone(), upstream.clone(), Arc::clone(&log))
                    });
                    // A connection the client drops midway is the test's business: its
                    // request, if any, is missing from the record and the test says so.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Proxy { addr, exchanges }
    }
}

/// Sends `request` on to Prism, records the exchange, and hands Prism's answer back.
async fn forward(
    request: hyper::Request<Incoming>,
    http: reqwest::Client,
    upstream: String,
    log: Arc<Mutex<Vec<Exchange>>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let method = parts.method.to_string();
    let answer = relay(&http, &upstream, &target, parts, body).await;
    let response = match &answer {
        Ok(answer) => {
            let mut response = hyper::Response::new(Full::new(answer.body.clone()));
            *response.status_mut() =
                hyper::StatusCode::from_u16(answer.status).expect("a status reqwest accepted");
            let headers = response.headers_mut();
            for (name, value) in &answer.headers {
                if ![CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING].contains(name) {
                    headers.append(name, value.clone());
                }
            }
            response
        }
        Err(why) => {
            let mut response = hyper::Response::new(Full::new(Bytes::from(why.clone())));
            *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            response
        }
    };
    log.lock().unwrap().push(Exchange {
        method,
        target,
        answer,
    });
    Ok(response)
}

async fn relay(
    http: &reqwest::Client,
    upstream: &str,
    target: &str,
    parts: hyper::http::request::Parts,
    body: Incoming,
) -> Result<Answer, String> {
    let body = body
        .collect()
        .await
        .map_err(|e| format!("reading the request body: {e}"))?
        .to_bytes();
    let mut headers = parts.headers;
    for hop in [HOST, CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING] {
        headers.remove(hop);
    }
    let mut request = http
        .request(parts.method, format!("{upstream}{target}"))
        .headers(headers);
    if !body.is_empty() {
        request = request.body(body);
    }
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            format!("Prism did not answer within {PRISM_LIMIT:?}")
        } else {
            format!("Prism could not be reached at {upstream}: {e}")
        }
    })?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading Prism's answer: {e}"))?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}
