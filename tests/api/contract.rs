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
//! The judging is the workspace's (`bitbucket_testkit::prism`, shared with Data Center's
//! contract tests): a test fails when Prism finds the request does not match the document, or
//! it is not the operation's, unless the violation is one of the document's known defects in
//! [`ALLOWED`], each with its reason and the tests it shows up in. An allowed defect that no
//! longer shows up fails its test too, so that list stays true.
//!
//! Prism's pagination links point at example.com, so list operations fetch one page.

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::types;
use bitbucket_cloud::{Auth, Client, Error, operations};
use bitbucket_testkit::prism::{Allowed, CALL_LIMIT, Cases, Contract, Outcome, Target, plain_http};

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
        operations: &[
            "import_issues",
            "upload_download",
            "upload_issue_attachment",
        ],
        location: "request",
        message: "No supported content types, but request included a non-empty body",
        reason: "uploads: each takes its files as a `multipart/form-data` body (the issue \
                 import's `archive`, downloads' and attachments' `files`), as their descriptions \
                 say; the document declares no body (spec/patches/import-issues-has-no-request-body.json, \
                 upload-download-has-no-request-body.json, \
                 upload-issue-attachment-has-no-request-body.json)",
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

// One test per operation, named after it, calling it through the crate's public API; and the
// list of their names, which `every_contract_test_is_an_operation` compares with the crate's.
use bitbucket_testkit::contract_tests;

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

    use crate::cases::{Case, call};

    /// The call the wire tests make.
    fn request(name: &str) -> Case {
        Case::of(operations::by_name(name).expect("an operation"))
    }

    use bitbucket_testkit::contract_cases;
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
    bitbucket_testkit::prism::check_allowed(ALLOWED, |name| operations::by_name(name).is_some());
}

/// The contract test of the operation `name`: the crate's client, talking to Prism (at
/// `BITBUCKET_CONTRACT_URL`) through the recording proxy; `None`, after a note, when that is not
/// set. `generated`: whether the call is made from the document (`every`) or written here.
async fn start(name: &str, generated: bool) -> Option<Contract<Client>> {
    let op = operations::by_name(name).expect("an operation of the crate");
    // A path under `/2.0` that is an instance of the operation's template.
    let matches = move |path: &str| {
        path.strip_prefix("/2.0")
            .and_then(|p| op.match_path(p))
            .is_some()
    };
    let target = Target::new(op.name, &op.method, op.path, generated, matches);
    Contract::start("BITBUCKET_CONTRACT_URL", target, |base_url| {
        Client::builder()
            .base_url(base_url)
            .auth(Auth::api_token(
                "release-bot@acme.example",
                "ATATT3xFfGF0-contract",
            ))
            .retry(RetryConfig::disabled())
            .http_client(plain_http(CALL_LIMIT))
            .build()
            .expect("the client builds")
    })
    .await
}

/// The lists of the document's known defects the contract tests allow.
const KNOWN_DEFECTS: &[&[Allowed]] = &[ALLOWED];

/// What the judge makes of an error of the crate: an error status or an answer that does not
/// decode is judged from what Prism answered; anything else is the call failing.
fn answered(error: &Error) -> fn(String) -> Outcome {
    match error {
        Error::Api(_) | Error::Decode { .. } => Outcome::Answered,
        Error::Redirect { .. } => Outcome::Redirect,
        _ => Outcome::Failed,
    }
}
