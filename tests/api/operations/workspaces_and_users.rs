//! Workspaces, their projects, and the authenticated user.

use bitbucket_cloud::Client;
use bitbucket_cloud::types::WorkspaceForkingMode;
use serde_json::json;

use super::repositories::{WORKSPACE, WORKSPACE_IN_PATH};
use super::wire::{fixture, json, ok, rejects};

#[tokio::test]
async fn list_workspaces() {
    let call = async |c: &Client| {
        c.list_workspaces()
            .administrator(true)
            .sort("workspace.slug")
            .pagelen(100)
            .send()
            .await
    };
    let (access, sent) = ok(
        json(
            200,
            fixture("user-permissions-workspaces.list.go-scm-1.json"),
        ),
        &call,
    )
    .await;
    sent.expect(
        "GET",
        "/2.0/user/workspaces",
        &[
            ("administrator", "true"),
            ("pagelen", "100"),
            ("sort", "workspace.slug"),
        ],
        None,
    );
    let access = access.values.expect("values");
    assert_eq!(access[0].administrator, Some(true));
    let workspace = access[0].workspace.as_ref().expect("workspace");
    assert_eq!(workspace.slug.as_deref(), Some("atlassian"));

    rejects(
        "list_workspaces",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn get_workspace() {
    let call = async |c: &Client| c.get_workspace().workspace(WORKSPACE).send().await;
    let (workspace, sent) = ok(json(200, fixture("workspace.get.gildas-1.json")), &call).await;
    sent.expect(
        "GET",
        &format!("/2.0/workspaces/{WORKSPACE_IN_PATH}"),
        &[],
        None,
    );
    assert_eq!(workspace.slug.as_deref(), Some("myworkspace"));
    assert_eq!(
        workspace.forking_mode,
        Some(WorkspaceForkingMode::AllowForks)
    );
    assert_eq!(workspace.is_privacy_enforced, Some(false));

    rejects(
        "get_workspace",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn list_projects() {
    let call = async |c: &Client| {
        c.workspace(WORKSPACE)
            .list_projects()
            .pagelen(1)
            .send()
            .await
    };
    let (projects, sent) = ok(json(200, fixture("project.list.demisto-1.json")), &call).await;
    sent.expect(
        "GET",
        &format!("/2.0/workspaces/{WORKSPACE_IN_PATH}/projects"),
        &[("pagelen", "1")],
        None,
    );
    assert_eq!(
        projects.next.as_deref(),
        Some("https://api.bitbucket.org/2.0/workspaces/bitbucket/projects/?pagelen=1&page=2")
    );
    let projects = projects.values.expect("values");
    assert_eq!(projects[0].key.as_deref(), Some("T1"));
    assert_eq!(projects[0].is_private, Some(true));

    rejects(
        "list_projects",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn get_project() {
    let call = async |c: &Client| {
        c.workspace(WORKSPACE)
            .get_project()
            .project_key("OPS")
            .send()
            .await
    };
    let project = fixture("project.list.demisto-1.json")["values"][0].clone();
    let (project, sent) = ok(json(200, project), &call).await;
    sent.expect(
        "GET",
        &format!("/2.0/workspaces/{WORKSPACE_IN_PATH}/projects/OPS"),
        &[],
        None,
    );
    assert_eq!(project.name.as_deref(), Some("Test1"));
    assert_eq!(project.has_publicly_visible_repos, Some(false));
    assert_eq!(
        project.extra["workspace"]["slug"],
        json!("bitbucket"),
        "the project's workspace is kept"
    );

    rejects(
        "get_project",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn get_current_user() {
    let call = async |c: &Client| c.get_current_user().send().await;
    let (user, sent) = ok(json(200, fixture("user.get.atlantis-1.json")), &call).await;
    sent.expect("GET", "/2.0/user", &[], None);
    assert_eq!(user.display_name.as_deref(), Some("bb bot"));
    assert_eq!(
        user.uuid.as_deref(),
        Some("{00000000-0000-0000-0000-000000000001}")
    );
    assert_eq!(user.account_status.as_deref(), Some("active"));
    assert_eq!(user.has_2fa_enabled, None);
    assert_eq!(user.extra["username"], json!("bb-bot"));

    rejects(
        "get_current_user",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
}
