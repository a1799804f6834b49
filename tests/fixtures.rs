//! Every body recorded from the real API (`tests/fixtures/real/`, a copy of the shared
//! fixtures) decodes into the type its endpoint names, and encoding the value again gives back
//! every non-null field the server sent: nothing is lost in a read-modify-write.

mod support;

use bitbucket_cloud::types;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use support::{differences, fixture, without_nulls};

/// Decodes `name` as `T`, re-encodes it, and checks that nothing the server sent was lost.
fn round_trip<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let original = fixture(name);
    let decoded: T = serde_json::from_value(original.clone()).unwrap_or_else(|e| {
        panic!(
            "{name} does not decode as {}: {e}",
            std::any::type_name::<T>()
        )
    });
    let encoded = serde_json::to_value(&decoded).expect("types encode");
    let expected = without_nulls(original);
    let got = without_nulls(encoded);
    if expected != got {
        let differences = differences(&expected, &got);
        panic!(
            "{name}: re-encoding lost or changed data:\n  {}",
            differences.join("\n  ")
        );
    }
    decoded
}

macro_rules! fixtures {
    ($($test:ident: $file:literal => $ty:ty;)*) => {
        $(
            #[test]
            fn $test() {
                round_trip::<$ty>($file);
            }
        )*

        /// Every file in the directory has a test above.
        #[test]
        fn every_fixture_is_tested() {
            let dir = format!("{}/tests/fixtures/real/responses", env!("CARGO_MANIFEST_DIR"));
            let tested = [$($file),*];
            for entry in std::fs::read_dir(&dir).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                assert!(tested.contains(&name.as_str()), "{name} has no test");
            }
        }
    };
}

fixtures! {
    branch_get_gildas_1: "branch.get.gildas-1.json" => types::Branch;
    commit_list_pybitbucket_1: "commit.list.pybitbucket-1.json" => types::PaginatedBaseCommits;
    error_badrequest_gildas_1: "error.badrequest.gildas-1.json" => types::ErrorBody;
    error_badrequest_nobranch_gildas_1: "error.badrequest-nobranch.gildas-1.json" => types::ErrorBody;
    error_forbidden_scopes_gildas_1: "error.forbidden-scopes.gildas-1.json" => types::ErrorBody;
    error_get_go_scm_1: "error.get.go-scm-1.json" => types::ErrorBody;
    error_notfound_noapi_gildas_1: "error.notfound-noapi.gildas-1.json" => types::ErrorBody;
    issue_list_item_devlake_1: "issue.list-item.devlake-1.json" => types::Issue;
    issue_list_devlake_synth_1: "issue.list.devlake-synth-1.json" => types::PaginatedIssues;
    pipeline_get_gildas_handwritten_1: "pipeline.get.gildas-handwritten-1.json" => types::Pipeline;
    pipeline_list_devlake_synth_1: "pipeline.list.devlake-synth-1.json" => types::PaginatedPipelines;
    project_list_demisto_1: "project.list.demisto-1.json" => types::PaginatedProjects;
    pullrequest_comment_list_atlantis_1: "pullrequest-comment.list.atlantis-1.json" => types::PaginatedPullRequestComments;
    pullrequest_comment_list_devlake_synth_1: "pullrequest-comment.list.devlake-synth-1.json" => types::PaginatedPullRequestComments;
    pullrequest_comment_list_go_scm_1: "pullrequest-comment.list.go-scm-1.json" => types::PaginatedPullRequestComments;
    pullrequest_list_item_gildas_1: "pullrequest.list-item.gildas-1.json" => types::PullRequest;
    pullrequest_list_go_scm_1: "pullrequest.list.go-scm-1.json" => types::PaginatedPullRequests;
    repository_get_gildas_1: "repository.get.gildas-1.json" => types::Repository;
    user_permissions_workspaces_list_go_scm_1: "user-permissions-workspaces.list.go-scm-1.json" => types::PaginatedWorkspaceAccess;
    user_get_atlantis_1: "user.get.atlantis-1.json" => types::Account;
    webhook_subscription_get_pybitbucket_1: "webhook-subscription.get.pybitbucket-1.json" => types::WebhookSubscription;
    webhook_subscription_list_pybitbucket_1: "webhook-subscription.list.pybitbucket-1.json" => types::PaginatedWebhookSubscriptions;
    workspace_get_gildas_1: "workspace.get.gildas-1.json" => types::Workspace;
    workspace_get_go_scm_1: "workspace.get.go-scm-1.json" => types::Workspace;
}

// Values land in typed fields, not only in `extra`, and what the document does not list is
// kept.

#[test]
fn polymorphic_pipeline_states_are_typed_and_unknown_stages_kept() {
    use types::{
        PipelineStateCompletedResultName as Result, PipelineStateInProgressStageName as Stage,
        PipelineStateName as State,
    };
    let page: types::PaginatedPipelines = round_trip("pipeline.list.devlake-synth-1.json");
    let states: Vec<_> = page
        .values
        .unwrap()
        .into_iter()
        .map(|p| p.state.unwrap())
        .collect();
    assert_eq!(states[0].name, Some(State::Completed));
    assert_eq!(
        states[0].result.as_ref().unwrap().name,
        Some(Result::Failed)
    );
    assert_eq!(states[1].name, Some(State::InProgress));
    // HALTED is not among the stages the document lists (RUNNING, PAUSED).
    assert_eq!(
        states[1].stage.as_ref().unwrap().name,
        Some(Stage::Other("HALTED".into()))
    );
    assert_eq!(Stage::Other("HALTED".into()).to_string(), "HALTED");
    assert_eq!(
        "HALTED".parse::<Stage>().unwrap(),
        Stage::Other("HALTED".into())
    );
}

#[test]
fn accounts_keep_their_subtype_fields() {
    let pr: types::PullRequest = round_trip("pullrequest.list-item.gildas-1.json");
    assert_eq!(pr.state, Some(types::PullRequestState::Merged));
    let author = pr.author.unwrap();
    assert_eq!(author.type_.as_deref(), Some("app_user"));
    assert!(
        author.account_id.is_some(),
        "app_user's account_id is a typed field"
    );
    let closed_by = pr.closed_by.unwrap();
    assert_eq!(closed_by.type_.as_deref(), Some("user"));
    assert_eq!(closed_by.nickname.as_deref(), Some("gildas_cherruel"));
}

#[test]
fn fields_the_document_lacks_are_kept_in_extra() {
    // `username` was removed from the document (GDPR) but old payloads still carry it.
    let user: types::Account = round_trip("user.get.atlantis-1.json");
    assert!(
        user.extra.get("username").is_some_and(Value::is_string),
        "{:?}",
        user.extra
    );
}

#[test]
fn error_details_may_be_objects_and_fields_lists() {
    let forbidden: types::ErrorBody = round_trip("error.forbidden-scopes.gildas-1.json");
    let detail = forbidden.error.unwrap().detail.unwrap();
    assert!(detail["required"].is_array(), "{detail}");
    let bad: types::ErrorBody = round_trip("error.badrequest-nobranch.gildas-1.json");
    let fields = bad.error.unwrap().fields.unwrap();
    assert!(fields.values().any(Value::is_array), "{fields:?}");
}

#[test]
fn unknown_enum_values_decode_and_encode_unchanged() {
    let pr: types::PullRequest =
        serde_json::from_value(serde_json::json!({"state": "QUEUED_FOR_MERGE"})).unwrap();
    assert_eq!(
        pr.state,
        Some(types::PullRequestState::Other("QUEUED_FOR_MERGE".into()))
    );
    assert_eq!(
        serde_json::to_value(&pr).unwrap(),
        serde_json::json!({"state": "QUEUED_FOR_MERGE"})
    );
}

#[test]
fn request_bodies_carry_only_what_was_set() {
    let body = types::PullRequest {
        title: Some("Fix".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        serde_json::json!({"title": "Fix"})
    );
    let merge = types::PullRequestMergeParameters::default();
    assert_eq!(serde_json::to_value(&merge).unwrap(), serde_json::json!({}));
    // Struct builders convert without anything set (their `extra` map starts empty).
    let built =
        types::PullRequest::try_from(types::PullRequest::builder().title("Fix".to_string()))
            .unwrap();
    assert_eq!(built, body);
}
