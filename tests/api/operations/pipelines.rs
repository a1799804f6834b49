//! Pipelines: list (with its dotted filters), run, get, stop. Pipelines are named by `{uuid}`.

use bitbucket_cloud::Client;
use bitbucket_cloud::types::{
    self, ListPipelinesStatus, ListPipelinesTargetRefType, ListPipelinesTriggerType,
    PipelineRefType, PipelineSelectorType, PipelineStateName,
};
use serde_json::json;

use super::wire::{fixture, json, no_content, ok, page, rejects};

const PIPELINE: &str = "{a1b2c3d4-e5f6-7890-abcd-ef1234567890}";
const PIPELINE_IN_PATH: &str = "%7Ba1b2c3d4-e5f6-7890-abcd-ef1234567890%7D";

#[tokio::test]
async fn list_pipelines() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .list_pipelines()
            .target_branch("feature/login-form")
            .target_ref_type(ListPipelinesTargetRefType::Branch)
            .status(ListPipelinesStatus::Failed)
            .trigger_type(ListPipelinesTriggerType::Push)
            .creator_uuid("{12345678-1234-1234-1234-123456789012}")
            .page(2)
            .pagelen(20)
            .send()
            .await
    };
    let (pipelines, sent) = ok(
        json(200, fixture("pipeline.list.devlake-synth-1.json")),
        &call,
    )
    .await;
    sent.expect(
        "GET",
        "/2.0/repositories/acme/web-app/pipelines",
        &[
            ("creator.uuid", "{12345678-1234-1234-1234-123456789012}"),
            ("page", "2"),
            ("pagelen", "20"),
            ("status", "FAILED"),
            ("target.branch", "feature/login-form"),
            ("target.ref_type", "BRANCH"),
            ("trigger_type", "PUSH"),
        ],
        None,
    );
    let pipelines = pipelines.values.expect("values");
    assert_eq!(pipelines.len(), 3);
    assert_eq!(
        pipelines[0].uuid.as_deref(),
        Some("{01fad871-cd21-4a80-bd59-74148dd5be8e}")
    );
    let state = pipelines[0].state.as_ref().expect("state");
    assert_eq!(state.name, Some(PipelineStateName::Completed));

    // None of the thirteen filters set: no query at all.
    let bare = async |c: &Client| c.repo("acme", "web-app").list_pipelines().send().await;
    let (_, sent) = ok(json(200, page(vec![])), &bare).await;
    sent.expect("GET", "/2.0/repositories/acme/web-app/pipelines", &[], None);

    rejects(
        "list_pipelines",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn run_pipeline() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .run_pipeline()
            .body(types::Pipeline {
                target: Some(Box::new(types::PipelineTarget {
                    type_: Some("pipeline_ref_target".into()),
                    ref_type: Some(PipelineRefType::Branch),
                    ref_name: Some("feature/login-form".into()),
                    selector: Some(Box::new(types::PipelineSelector {
                        type_: Some(PipelineSelectorType::Custom),
                        pattern: Some("deploy-staging".into()),
                        ..Default::default()
                    })),
                    ..Default::default()
                })),
                variables: Some(vec![types::PipelineVariable {
                    key: Some("ENVIRONMENT".into()),
                    value: Some("staging".into()),
                    secured: Some(false),
                    ..Default::default()
                }]),
                ..Default::default()
            })
            .send()
            .await
    };
    let (pipeline, sent) = ok(
        json(201, fixture("pipeline.get.gildas-handwritten-1.json")),
        &call,
    )
    .await;
    sent.expect(
        "POST",
        "/2.0/repositories/acme/web-app/pipelines",
        &[],
        Some(json!({
            "target": {
                "type": "pipeline_ref_target",
                "ref_type": "branch",
                "ref_name": "feature/login-form",
                "selector": { "type": "custom", "pattern": "deploy-staging" },
            },
            "variables": [{ "key": "ENVIRONMENT", "value": "staging", "secured": false }],
        })),
    );
    assert_eq!(pipeline.uuid.as_deref(), Some(PIPELINE));
    assert_eq!(pipeline.build_number, Some(42));

    rejects("run_pipeline", &call, 400, "error.badrequest.gildas-1.json").await;
}

#[tokio::test]
async fn get_pipeline() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .get_pipeline()
            .pipeline_uuid(PIPELINE)
            .send()
            .await
    };
    let (pipeline, sent) = ok(
        json(200, fixture("pipeline.get.gildas-handwritten-1.json")),
        &call,
    )
    .await;
    sent.expect(
        "GET",
        &format!("/2.0/repositories/acme/web-app/pipelines/{PIPELINE_IN_PATH}"),
        &[],
        None,
    );
    let target = pipeline.target.expect("target");
    assert_eq!(target.ref_type, Some(PipelineRefType::Branch));
    assert_eq!(target.ref_name.as_deref(), Some("main"));
    let state = pipeline.state.expect("state");
    assert_eq!(state.name, Some(PipelineStateName::Completed));
    assert_eq!(
        state.result.and_then(|r| r.type_).as_deref(),
        Some("pipeline_state_completed_successful")
    );

    rejects(
        "get_pipeline",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn stop_pipeline() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .stop_pipeline()
            .pipeline_uuid(PIPELINE)
            .send()
            .await
    };
    let ((), sent) = ok(no_content(), &call).await;
    sent.expect(
        "POST",
        &format!("/2.0/repositories/acme/web-app/pipelines/{PIPELINE_IN_PATH}/stopPipeline"),
        &[],
        None,
    );

    rejects(
        "stop_pipeline",
        &call,
        400,
        "error.badrequest.gildas-1.json",
    )
    .await;
}
