//! Pipelines beyond running them (steps, variables, configuration), deployments and their
//! environments and variables, and the branching model, over real HTTP through the client.

mod common;

use bitbucket_cloud::types;
use bitbucket_cloud_local::{LocalBitbucket, PipelineResult};
use serde_json::{Value, json};

use common::{admin, body};

fn status_of(error: &bitbucket_cloud::Error) -> u16 {
    error.status().map(|s| s.as_u16()).unwrap_or_default()
}

const CONFIG: &str = "\
pipelines:
  default:
    - step:
        name: Build
        script:
          - cargo build
    - step:
        name: Test
        script:
          - cargo test
    - step:
        name: Deploy
        deployment: staging
        script:
          - ./deploy.sh
";

fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[tokio::test]
async fn steps_advance_as_the_pipeline_runs_and_deployments_follow() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.push(
        "acme",
        "app",
        "main",
        "CI",
        &[("bitbucket-pipelines.yml", CONFIG)],
    );
    bb.set_pipeline_result(PipelineResult::Failed);
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let pipeline = repo
        .run_pipeline()
        .body(body::<types::Pipeline>(json!({
            "target": { "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main" },
        })))
        .send()
        .await
        .unwrap();
    let uuid = pipeline.uuid.unwrap();

    // Each read moves the pipeline one state: the steps run one after another.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let steps = repo
            .list_pipeline_steps()
            .pipeline_uuid(&uuid)
            .send()
            .await
            .unwrap();
        let states: Vec<String> = json_of(&steps.values.unwrap())
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let name = s["state"]["name"].as_str().unwrap();
                match s["state"]["result"]["name"].as_str() {
                    Some(result) => format!("{name}/{result}"),
                    None => name.to_string(),
                }
            })
            .collect();
        seen.push(states.join(" "));
    }
    assert_eq!(
        seen,
        [
            "IN_PROGRESS PENDING PENDING",
            "COMPLETED/SUCCESSFUL IN_PROGRESS PENDING",
            "COMPLETED/SUCCESSFUL COMPLETED/SUCCESSFUL IN_PROGRESS",
            "COMPLETED/SUCCESSFUL COMPLETED/SUCCESSFUL COMPLETED/FAILED",
            "COMPLETED/SUCCESSFUL COMPLETED/SUCCESSFUL COMPLETED/FAILED",
        ]
    );
    let steps = repo
        .list_pipeline_steps()
        .pipeline_uuid(&uuid)
        .send()
        .await
        .unwrap()
        .values
        .unwrap();
    let deploy = json_of(&steps[2]);
    assert_eq!(deploy["name"], "Deploy");
    assert_eq!(deploy["script_commands"][0]["command"], "./deploy.sh");
    let step = repo
        .get_pipeline_step()
        .pipeline_uuid(&uuid)
        .step_uuid(deploy["uuid"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&step)["name"], "Deploy");
    let missing = repo
        .get_pipeline_step()
        .pipeline_uuid(&uuid)
        .step_uuid("{00000000-0000-0000-0000-000000000000}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), 404);

    // The Deploy step deployed to Staging; the deployment failed with its pipeline.
    let deployments = repo.list_deployments().send().await.unwrap();
    let deployment = json_of(&deployments.values.unwrap()[0]);
    assert_eq!(
        deployment["state"]["status"]["name"], "FAILED",
        "{deployment}"
    );
    let environments = repo.list_environments().send().await.unwrap();
    let staging = environments
        .values
        .unwrap()
        .into_iter()
        .map(|e| json_of(&e))
        .find(|e| e["name"] == "Staging")
        .unwrap();
    assert_eq!(deployment["environment"]["uuid"], staging["uuid"]);
    let got = repo
        .get_deployment()
        .deployment_uuid(deployment["uuid"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&got)["uuid"], deployment["uuid"]);
}

#[tokio::test]
async fn pipeline_variables_never_answer_secured_values() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let create = |key: &str, value: &str, secured: bool| {
        repo.create_pipeline_variable()
            .body(body::<types::PipelineVariable>(
                json!({ "key": key, "value": value, "secured": secured }),
            ))
            .send()
    };
    let plain = create("RUST_LOG", "debug", false).await.unwrap();
    assert_eq!(plain.value.as_deref(), Some("debug"));
    let secret = create("DEPLOY_TOKEN", "s3cr3t-value", true).await.unwrap();
    assert_eq!(secret.value, None);
    assert_eq!(secret.secured, Some(true));
    // Nor in Debug output of the client's type.
    assert!(!format!("{secret:?}").contains("s3cr3t"));
    assert_eq!(
        status_of(&create("RUST_LOG", "x", false).await.unwrap_err()),
        409
    );
    assert_eq!(
        status_of(&create("1BAD", "x", false).await.unwrap_err()),
        400
    );

    let secret_uuid = secret.uuid.unwrap();
    let listed = repo.list_pipeline_variables().send().await.unwrap();
    let raw = json_of(&listed);
    assert!(!raw.to_string().contains("s3cr3t"), "{raw}");
    assert_eq!(listed.size, Some(2));
    let got = repo
        .get_pipeline_variable()
        .variable_uuid(&secret_uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(got.value, None);
    // Also over plain HTTP: the value is not in the body at all.
    let text = common::http()
        .get(format!(
            "{}/repositories/acme/app/pipelines_config/variables/{}",
            bb.base_url(),
            secret_uuid
        ))
        .bearer_auth(bb.token(bitbucket_cloud::Scope::ALL))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains("s3cr3t") && !text.contains("\"value\""),
        "{text}"
    );

    let updated = repo
        .update_pipeline_variable()
        .variable_uuid(&secret_uuid)
        .body(body::<types::PipelineVariable>(
            json!({ "value": "rotated" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.value, None);
    let unsecure = repo
        .update_pipeline_variable()
        .variable_uuid(&secret_uuid)
        .body(body::<types::PipelineVariable>(json!({ "secured": false })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&unsecure), 400);
    repo.delete_pipeline_variable()
        .variable_uuid(&secret_uuid)
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_pipeline_variable()
        .variable_uuid(&secret_uuid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);

    // Disabled pipelines do not run.
    let config = repo
        .update_pipeline_config()
        .body(body::<types::PipelinesConfig>(json!({ "enabled": false })))
        .send()
        .await
        .unwrap();
    assert_eq!(config.enabled, Some(false));
    assert_eq!(
        repo.get_pipeline_config().send().await.unwrap().enabled,
        Some(false)
    );
    let refused = repo
        .run_pipeline()
        .body(body::<types::Pipeline>(json!({
            "target": { "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main" },
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&refused), 400);
}

#[tokio::test]
async fn environments_and_deployment_variables() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let defaults = repo.list_environments().send().await.unwrap();
    assert_eq!(defaults.size, Some(3));
    let env = repo
        .create_environment()
        .body(body::<types::DeploymentEnvironment>(json!({
            "name": "Canary",
            "environment_type": { "name": "Production" },
        })))
        .send()
        .await
        .unwrap();
    let env_uuid = env.uuid.clone().unwrap();
    assert_eq!(json_of(&env)["slug"], "canary");
    let again = repo
        .create_environment()
        .body(body::<types::DeploymentEnvironment>(
            json!({ "name": "canary" }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), 409);

    let variable = repo
        .create_deployment_variable()
        .environment_uuid(&env_uuid)
        .body(body::<types::DeploymentVariable>(
            json!({ "key": "API_KEY", "value": "k-123", "secured": true }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(variable.value, None);
    repo.create_deployment_variable()
        .environment_uuid(&env_uuid)
        .body(body::<types::DeploymentVariable>(
            json!({ "key": "REGION", "value": "eu" }),
        ))
        .send()
        .await
        .unwrap();
    let listed = repo
        .list_deployment_variables()
        .environment_uuid(&env_uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(2));
    assert!(!json_of(&listed).to_string().contains("k-123"));
    let updated = repo
        .update_deployment_variable()
        .environment_uuid(&env_uuid)
        .variable_uuid(variable.uuid.clone().unwrap())
        .body(body::<types::DeploymentVariable>(
            json!({ "key": "API_TOKEN" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.key.as_deref(), Some("API_TOKEN"));
    repo.delete_deployment_variable()
        .environment_uuid(&env_uuid)
        .variable_uuid(variable.uuid.unwrap())
        .send()
        .await
        .unwrap();

    // Renaming is a POST of changes, answered 202.
    let response = common::http()
        .post(format!(
            "{}/repositories/acme/app/environments/{env_uuid}/changes",
            bb.base_url()
        ))
        .bearer_auth(bb.token(bitbucket_cloud::Scope::ALL))
        .json(&json!({ "change": { "name": "Canary EU" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let got = repo
        .get_environment()
        .environment_uuid(&env_uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(got.name.as_deref(), Some("Canary EU"));
    repo.delete_environment()
        .environment_uuid(&env_uuid)
        .send()
        .await
        .unwrap();
    let gone = repo
        .list_deployment_variables()
        .environment_uuid(&env_uuid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
}

#[tokio::test]
async fn the_branching_model_drives_branch_restrictions() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.push("acme", "app", "develop", "Dev", &[("d.txt", "d\n")]);
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let model = repo.get_branching_model().send().await.unwrap();
    let model = json_of(&model);
    assert_eq!(model["development"]["name"], "main");
    assert_eq!(model["development"]["use_mainbranch"], true);
    assert_eq!(model["branch_types"].as_array().unwrap().len(), 4);

    let settings = repo
        .update_branching_model_settings()
        .body(body::<types::BranchingModelSettings>(json!({
            "development": { "name": "develop", "use_mainbranch": false },
            "production": { "enabled": true, "use_mainbranch": true },
            "branch_types": [
                { "kind": "feature", "prefix": "feat/", "enabled": true },
                { "kind": "hotfix", "enabled": false },
            ],
        })))
        .send()
        .await
        .unwrap();
    let settings = json_of(&settings);
    assert_eq!(settings["development"]["name"], "develop");
    assert_eq!(settings["production"]["enabled"], true);
    let got = json_of(&repo.get_branching_model_settings().send().await.unwrap());
    assert_eq!(got, settings);
    let effective = json_of(&repo.get_effective_branching_model().send().await.unwrap());
    assert_eq!(effective["development"]["name"], "develop");
    assert_eq!(effective["production"]["name"], "main");
    let prefixes: Vec<_> = effective["branch_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["prefix"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(prefixes, ["feat/", "bugfix/", "release/"]);
    let overlapping = repo
        .update_branching_model_settings()
        .body(body::<types::BranchingModelSettings>(json!({
            "branch_types": [{ "kind": "bugfix", "prefix": "feat/x" }],
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&overlapping), 400);

    // A restriction on the `feature` type follows the new prefix.
    repo.create_branch_restriction()
        .body(body::<types::BranchRestriction>(json!({
            "kind": "push", "branch_match_kind": "branching_model", "branch_type": "feature",
        })))
        .send()
        .await
        .unwrap();
    let head = bb.create_repository("acme", "app");
    let create = |name: &str| {
        repo.create_branch()
            .body(body::<types::Branch>(
                json!({ "name": name, "target": { "hash": head } }),
            ))
            .send()
    };
    assert_eq!(status_of(&create("feat/login").await.unwrap_err()), 403);
    create("feature/login").await.unwrap();
}

#[tokio::test]
async fn schedules_known_hosts_key_pair_and_build_numbers() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");

    let schedule = repo
        .create_pipeline_schedule()
        .body(body::<types::PipelineScheduleCreate>(json!({
            "target": {
                "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main",
                "selector": { "type": "branches", "pattern": "main" },
            },
            "cron_pattern": "0 0 12 * * ? *",
        })))
        .send()
        .await
        .unwrap();
    let uuid = schedule.uuid.unwrap();
    assert_eq!(schedule.enabled, Some(true));
    let bad = repo
        .create_pipeline_schedule()
        .body(body::<types::PipelineScheduleCreate>(json!({
            "target": { "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main" },
            "cron_pattern": "every day",
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&bad), 400);
    let disabled = repo
        .update_pipeline_schedule()
        .schedule_uuid(&uuid)
        .body(body::<types::PipelineScheduleUpdate>(
            json!({ "enabled": false }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.enabled, Some(false));
    assert_eq!(
        repo.list_pipeline_schedules().send().await.unwrap().size,
        Some(1)
    );
    let executions = repo
        .list_pipeline_schedule_executions()
        .schedule_uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(executions.size, Some(0));
    repo.delete_pipeline_schedule()
        .schedule_uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_of(
            &repo
                .get_pipeline_schedule()
                .schedule_uuid(&uuid)
                .send()
                .await
                .unwrap_err()
        ),
        404
    );

    let host = repo
        .create_pipeline_known_host()
        .body(body::<types::PipelineKnownHost>(json!({
            "hostname": "git.example.com",
            "public_key": { "key_type": "ssh-ed25519", "key": "AAAAC3NzaC1lZDI1NTE5AAAAIExample" },
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(host.hostname.as_deref(), Some("git.example.com"));
    let again = repo
        .create_pipeline_known_host()
        .body(body::<types::PipelineKnownHost>(json!({
            "hostname": "git.example.com",
            "public_key": { "key_type": "ssh-ed25519", "key": "AAAA" },
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), 409);
    assert_eq!(
        repo.list_pipeline_known_hosts().send().await.unwrap().size,
        Some(1)
    );

    let pair = repo
        .update_pipeline_ssh_key_pair()
        .body(body::<types::PipelineSshKeyPair>(json!({
            "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-material\n",
            "public_key": "ssh-ed25519 AAAAPUBLIC",
        })))
        .send()
        .await
        .unwrap();
    let got = repo.get_pipeline_ssh_key_pair().send().await.unwrap();
    for value in [json_of(&pair), json_of(&got)] {
        assert!(!value.to_string().contains("secret-material"), "{value}");
        assert_eq!(value["public_key"], "ssh-ed25519 AAAAPUBLIC");
    }
    repo.delete_pipeline_ssh_key_pair().send().await.unwrap();
    assert_eq!(
        status_of(&repo.get_pipeline_ssh_key_pair().send().await.unwrap_err()),
        404
    );

    let next = repo
        .update_pipeline_build_number()
        .body(body::<types::PipelineBuildNumber>(json!({ "next": 100 })))
        .send()
        .await
        .unwrap();
    assert_eq!(next.next, Some(100));
    let pipeline = repo
        .run_pipeline()
        .body(body::<types::Pipeline>(json!({
            "target": { "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main" },
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(pipeline.build_number, Some(100));
    let lower = repo
        .update_pipeline_build_number()
        .body(body::<types::PipelineBuildNumber>(json!({ "next": 50 })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&lower), 400);
}

// Accounts' pipeline variables are deprecated, and still served, as on Bitbucket.
#[allow(deprecated)]
#[tokio::test]
async fn workspace_and_account_pipeline_variables() {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme");
    let client = admin(&bb);
    let acme = client.workspace("acme");
    let variable = acme
        .create_workspace_pipeline_variable()
        .body(body::<types::PipelineVariable>(
            json!({ "key": "NPM_TOKEN", "value": "npm-secret", "secured": true }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(variable.value, None);
    let uuid = variable.uuid.unwrap();
    let listed = acme
        .list_workspace_pipeline_variables()
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(1));
    assert!(!json_of(&listed).to_string().contains("npm-secret"));
    acme.update_workspace_pipeline_variable()
        .variable_uuid(&uuid)
        .body(body::<types::PipelineVariable>(
            json!({ "key": "NPM_AUTH_TOKEN" }),
        ))
        .send()
        .await
        .unwrap();
    let got = acme
        .get_workspace_pipeline_variable()
        .variable_uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(got.key.as_deref(), Some("NPM_AUTH_TOKEN"));
    acme.delete_workspace_pipeline_variable()
        .variable_uuid(&uuid)
        .send()
        .await
        .unwrap();

    let me = bb.account();
    let mine = client
        .create_user_pipeline_variable()
        .selected_user(&me.uuid)
        .body(body::<types::PipelineVariable>(
            json!({ "key": "EDITOR", "value": "vi" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(mine.value.as_deref(), Some("vi"));
    let grace = bb.add_account("grace", "Grace Hopper");
    let hers = client
        .list_user_pipeline_variables()
        .selected_user(&grace.uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(hers.size, Some(0));
    let again = client
        .create_user_pipeline_variable()
        .selected_user(&me.uuid)
        .body(body::<types::PipelineVariable>(
            json!({ "key": "EDITOR", "value": "emacs" }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), 409);
}

#[tokio::test]
async fn a_repository_can_follow_its_projects_branching_model() {
    let bb = LocalBitbucket::start().await;
    let head = bb.create_repository("acme", "app");
    let client = admin(&bb);
    let acme = client.workspace("acme");
    let repo = client.repo("acme", "app");
    let settings = acme
        .update_project_branching_model_settings()
        .project_key("PROJ")
        .body(body::<types::BranchingModelSettings>(json!({
            "branch_types": [{ "kind": "feature", "prefix": "topic/", "enabled": true }],
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&settings)["branch_types"][0]["prefix"], "topic/");
    let model = json_of(
        &acme
            .get_project_branching_model()
            .project_key("PROJ")
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(model["branch_types"][0]["prefix"], "topic/");
    acme.get_project_branching_model_settings()
        .project_key("PROJ")
        .send()
        .await
        .unwrap();

    // By default the repository keeps its own model; once it inherits, the project's applies.
    let state = json_of(&repo.get_settings_inheritance().send().await.unwrap());
    assert_eq!(state["override_settings"]["branching_model"], true);
    repo.create_branch_restriction()
        .body(body::<types::BranchRestriction>(json!({
            "kind": "push", "branch_match_kind": "branching_model", "branch_type": "feature",
        })))
        .send()
        .await
        .unwrap();
    let create = |name: &str| {
        repo.create_branch()
            .body(body::<types::Branch>(
                json!({ "name": name, "target": { "hash": head } }),
            ))
            .send()
    };
    create("topic/a").await.unwrap();
    let response = common::http()
        .put(format!(
            "{}/repositories/acme/app/override-settings",
            bb.base_url()
        ))
        .bearer_auth(bb.token(bitbucket_cloud::Scope::ALL))
        .json(&json!({ "override_settings": { "branching_model": false } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let effective = json_of(&repo.get_effective_branching_model().send().await.unwrap());
    assert_eq!(effective["branch_types"][0]["prefix"], "topic/");
    assert_eq!(status_of(&create("topic/b").await.unwrap_err()), 403);
    create("feature/b").await.unwrap();
}

#[tokio::test]
async fn runners_of_repositories_and_workspaces() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let created = repo
        .create_runner()
        .body(body::<types::PipelineRunner>(json!({
            "name": "builder-1",
            "labels": ["self.hosted", "linux"],
        })))
        .send()
        .await
        .unwrap();
    let value = json_of(&created);
    assert_eq!(value["state"]["status"], "UNREGISTERED");
    // The OAuth client's secret is answered once, when the runner is created.
    assert!(value["oauth_client"]["secret"].is_string(), "{value}");
    let uuid = created.uuid.unwrap();
    let got = json_of(&repo.get_runner().runner_uuid(&uuid).send().await.unwrap());
    assert!(got["oauth_client"].get("secret").is_none(), "{got}");
    let listed = json_of(&repo.list_runners().send().await.unwrap());
    assert!(!listed.to_string().contains("secret"), "{listed}");
    let disabled = repo
        .update_runner()
        .runner_uuid(&uuid)
        .body(body::<types::PipelineRunner>(
            json!({ "state": { "status": "DISABLED" } }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&disabled)["state"]["status"], "DISABLED");
    let invalid = repo
        .create_runner()
        .body(body::<types::PipelineRunner>(
            json!({ "name": "x", "labels": ["linux"] }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&invalid), 400);
    repo.delete_runner()
        .runner_uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_of(
            &repo
                .get_runner()
                .runner_uuid(&uuid)
                .send()
                .await
                .unwrap_err()
        ),
        404
    );

    let acme = client.workspace("acme");
    acme.create_workspace_runner()
        .body(body::<types::PipelineRunner>(json!({ "name": "shared" })))
        .send()
        .await
        .unwrap();
    assert_eq!(
        acme.list_workspace_runners().send().await.unwrap().size,
        Some(1)
    );
}

#[tokio::test]
async fn successful_pipelines_save_their_caches() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let config = "\
pipelines:
  default:
    - step:
        name: Build
        caches:
          - cargo
          - node
        script:
          - cargo build
";
    bb.push(
        "acme",
        "app",
        "main",
        "CI",
        &[("bitbucket-pipelines.yml", config)],
    );
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let pipeline = repo
        .run_pipeline()
        .body(body::<types::Pipeline>(json!({
            "target": { "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main" },
        })))
        .send()
        .await
        .unwrap();
    let uuid = pipeline.uuid.unwrap();
    assert_eq!(
        repo.list_pipeline_caches().send().await.unwrap().size,
        Some(0)
    );
    for _ in 0..3 {
        repo.get_pipeline()
            .pipeline_uuid(&uuid)
            .send()
            .await
            .unwrap();
    }
    let caches = json_of(
        &repo
            .list_pipeline_caches()
            .send()
            .await
            .unwrap()
            .values
            .unwrap(),
    );
    let names: Vec<_> = caches
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["cargo", "node"]);
    assert_eq!(caches[0]["path"], "~/.cargo");
    assert_eq!(caches[0]["pipeline_uuid"], json!(uuid));
    // A cache's content: a signed URL on the storage host, to an (empty) .tar.gz.
    let content = repo
        .get_pipeline_cache_content_uri()
        .cache_uuid(caches[0]["uuid"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let uri = content.uri.unwrap();
    assert!(uri.starts_with(bb.storage_origin()), "{uri}");
    let archive = common::http().get(&uri).send().await.unwrap();
    assert_eq!(archive.status(), 200);
    let archive = archive.bytes().await.unwrap();
    assert_eq!(&archive[..2], &[0x1f, 0x8b], "a gzip stream");
    let missing = repo
        .get_pipeline_cache_content_uri()
        .cache_uuid("{00000000-0000-0000-0000-000000000000}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), 404);
    repo.delete_pipeline_caches()
        .name("node")
        .send()
        .await
        .unwrap();
    let cargo = caches[0]["uuid"].as_str().unwrap();
    repo.delete_pipeline_cache()
        .cache_uuid(cargo)
        .send()
        .await
        .unwrap();
    assert_eq!(
        repo.list_pipeline_caches().send().await.unwrap().size,
        Some(0)
    );
    let gone = repo
        .delete_pipeline_caches()
        .name("node")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
}
