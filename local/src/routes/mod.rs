//! The HTTP side: every request is matched to an operation of
//! `bitbucket_cloud::operations::ALL` (its method and path template, the most specific template
//! first). An operation this server serves runs behind the guard that applies faults,
//! authenticates and checks scopes; any other answers 501 naming the operation.
//!
//! Matching on the operation table rather than on routes registered one by one means that an
//! operation the client gains is answered 501 with its name the moment it exists, and that the
//! templates' parameter names need not agree where paths overlap.

mod account;
mod activity;
mod attachments;
mod branching;
mod comments;
mod commits;
mod deployments;
mod diffstat;
mod files;
mod gpg;
mod groups;
mod hooks;
mod issue_export;
mod issue_fields;
mod issues;
mod keys;
mod notes;
mod permissions;
mod pipeline_settings;
mod pipelines;
mod properties;
mod pullrequests;
mod refs;
mod reports;
mod repositories;
mod restrictions;
mod reviewers;
mod runners;
mod search;
mod snippets;
mod statuses;
mod steps;
mod tasks;
mod variables;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bitbucket_cloud::Operation;
use bitbucket_cloud::webhooks::EventKey;
use futures_util::FutureExt as _;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::paging::{self, ListQuery, Paging};
use crate::store::{Repo, Store, Workspace};
use crate::{App, ServedRequest, lock};

type Shared = Arc<App>;
type Answer = Result<Response, ApiError>;

/// The path parameters of a request, by name (`workspace`, `repo_slug`, ...), decoded: set by
/// the dispatcher from the operation's template.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl std::ops::Deref for Params {
    type Target = HashMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<Params>()
            .cloned()
            .unwrap_or_default())
    }
}

/// Who is calling: set by the guard for the handlers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller {
    /// Index into `Store::users`.
    pub user: usize,
}

/// A handler, with its argument types erased: what the table below holds.
type Endpoint = fn(Request, Shared) -> Pin<Box<dyn Future<Output = Response> + Send>>;

/// Runs an axum handler on a request the dispatcher matched.
fn run<H, T>(
    handler: H,
    request: Request,
    app: Shared,
) -> Pin<Box<dyn Future<Output = Response> + Send>>
where
    H: Handler<T, Shared>,
{
    Box::pin(handler.call(request, app))
}

/// The operations this server serves, by the name `bitbucket_cloud::operations` gives them,
/// and their handlers. Every other operation answers 501.
const SERVED: &[(&str, Endpoint)] = &[
    ("get_current_user", |r, a| run(account::current_user, r, a)),
    ("list_workspaces", |r, a| {
        run(account::list_workspaces, r, a)
    }),
    ("get_workspace", |r, a| run(account::get_workspace, r, a)),
    ("list_projects", |r, a| run(account::list_projects, r, a)),
    ("get_project", |r, a| run(account::get_project, r, a)),
    ("list_repositories", |r, a| run(repositories::list, r, a)),
    ("get_repository", |r, a| run(repositories::get, r, a)),
    ("create_repository", |r, a| run(repositories::create, r, a)),
    ("update_repository", |r, a| run(repositories::update, r, a)),
    ("list_branches", |r, a| run(refs::list, r, a)),
    ("create_branch", |r, a| run(refs::create, r, a)),
    ("get_branch", |r, a| run(refs::get, r, a)),
    ("delete_branch", |r, a| run(refs::delete, r, a)),
    ("list_commits", |r, a| run(commits::list, r, a)),
    ("get_commit", |r, a| run(commits::get, r, a)),
    ("list_pull_requests", |r, a| run(pullrequests::list, r, a)),
    ("create_pull_request", |r, a| {
        run(pullrequests::create, r, a)
    }),
    ("get_pull_request", |r, a| run(pullrequests::get, r, a)),
    ("update_pull_request", |r, a| {
        run(pullrequests::update, r, a)
    }),
    ("approve_pull_request", |r, a| {
        run(pullrequests::approve, r, a)
    }),
    ("request_changes_on_pull_request", |r, a| {
        run(pullrequests::request_changes, r, a)
    }),
    ("decline_pull_request", |r, a| {
        run(pullrequests::decline, r, a)
    }),
    ("merge_pull_request", |r, a| run(pullrequests::merge, r, a)),
    ("list_pull_request_comments", |r, a| {
        run(pullrequests::list_comments, r, a)
    }),
    ("create_pull_request_comment", |r, a| {
        run(pullrequests::create_comment, r, a)
    }),
    ("list_pull_request_commits", |r, a| {
        run(pullrequests::list_commits, r, a)
    }),
    ("get_pull_request_diff", |r, a| {
        run(pullrequests::diff, r, a)
    }),
    ("list_issues", |r, a| run(issues::list, r, a)),
    ("create_issue", |r, a| run(issues::create, r, a)),
    ("get_issue", |r, a| run(issues::get, r, a)),
    ("update_issue", |r, a| run(issues::update, r, a)),
    ("list_pipelines", |r, a| run(pipelines::list, r, a)),
    ("run_pipeline", |r, a| run(pipelines::run, r, a)),
    ("get_pipeline", |r, a| run(pipelines::get, r, a)),
    ("stop_pipeline", |r, a| run(pipelines::stop, r, a)),
    ("list_commit_statuses", |r, a| run(statuses::list, r, a)),
    ("create_commit_build_status", |r, a| {
        run(statuses::create, r, a)
    }),
    ("get_commit_build_status", |r, a| run(statuses::get, r, a)),
    ("update_commit_build_status", |r, a| {
        run(statuses::update, r, a)
    }),
    ("list_pull_request_statuses", |r, a| {
        run(statuses::list_for_pull, r, a)
    }),
    ("approve_commit", |r, a| run(commits::approve, r, a)),
    ("unapprove_commit", |r, a| run(commits::unapprove, r, a)),
    ("get_diffstat", |r, a| run(diffstat::get, r, a)),
    ("get_pull_request_diffstat", |r, a| {
        run(diffstat::get_for_pull, r, a)
    }),
    ("list_refs", |r, a| run(refs::list_refs, r, a)),
    ("list_tags", |r, a| run(refs::list_tags, r, a)),
    ("create_tag", |r, a| run(refs::create_tag, r, a)),
    ("get_tag", |r, a| run(refs::get_tag, r, a)),
    ("delete_tag", |r, a| run(refs::delete_tag, r, a)),
    ("get_pull_request_comment", |r, a| run(comments::get, r, a)),
    ("update_pull_request_comment", |r, a| {
        run(comments::update, r, a)
    }),
    ("delete_pull_request_comment", |r, a| {
        run(comments::delete, r, a)
    }),
    ("resolve_pull_request_comment", |r, a| {
        run(comments::resolve, r, a)
    }),
    ("reopen_pull_request_comment", |r, a| {
        run(comments::reopen, r, a)
    }),
    ("list_pull_request_tasks", |r, a| run(tasks::list, r, a)),
    ("create_pull_request_task", |r, a| run(tasks::create, r, a)),
    ("get_pull_request_task", |r, a| run(tasks::get, r, a)),
    ("update_pull_request_task", |r, a| run(tasks::update, r, a)),
    ("delete_pull_request_task", |r, a| run(tasks::delete, r, a)),
    ("list_pull_request_activity", |r, a| {
        run(activity::list, r, a)
    }),
    ("list_all_pull_request_activity", |r, a| {
        run(activity::list_all, r, a)
    }),
    ("unapprove_pull_request", |r, a| {
        run(pullrequests::unapprove, r, a)
    }),
    ("remove_change_request_on_pull_request", |r, a| {
        run(pullrequests::remove_change_request, r, a)
    }),
    ("list_default_reviewers", |r, a| run(reviewers::list, r, a)),
    ("get_default_reviewer", |r, a| run(reviewers::get, r, a)),
    ("add_default_reviewer", |r, a| run(reviewers::add, r, a)),
    ("remove_default_reviewer", |r, a| {
        run(reviewers::remove, r, a)
    }),
    ("list_effective_default_reviewers", |r, a| {
        run(reviewers::list_effective, r, a)
    }),
    ("list_project_default_reviewers", |r, a| {
        run(reviewers::list_project, r, a)
    }),
    ("get_project_default_reviewer", |r, a| {
        run(reviewers::get_project, r, a)
    }),
    ("add_project_default_reviewer", |r, a| {
        run(reviewers::add_project, r, a)
    }),
    ("remove_project_default_reviewer", |r, a| {
        run(reviewers::remove_project, r, a)
    }),
    ("list_branch_restrictions", |r, a| {
        run(restrictions::list, r, a)
    }),
    ("create_branch_restriction", |r, a| {
        run(restrictions::create, r, a)
    }),
    ("get_branch_restriction", |r, a| {
        run(restrictions::get, r, a)
    }),
    ("update_branch_restriction", |r, a| {
        run(restrictions::update, r, a)
    }),
    ("delete_branch_restriction", |r, a| {
        run(restrictions::delete, r, a)
    }),
    ("list_pipeline_steps", |r, a| {
        run(pipelines::list_steps, r, a)
    }),
    ("get_pipeline_step", |r, a| run(pipelines::get_step, r, a)),
    ("list_pipeline_variables", |r, a| {
        run(variables::list_pipeline, r, a)
    }),
    ("create_pipeline_variable", |r, a| {
        run(variables::create_pipeline, r, a)
    }),
    ("get_pipeline_variable", |r, a| {
        run(variables::get_pipeline, r, a)
    }),
    ("update_pipeline_variable", |r, a| {
        run(variables::update_pipeline, r, a)
    }),
    ("delete_pipeline_variable", |r, a| {
        run(variables::delete_pipeline, r, a)
    }),
    ("get_pipeline_config", |r, a| {
        run(variables::get_config, r, a)
    }),
    ("update_pipeline_config", |r, a| {
        run(variables::update_config, r, a)
    }),
    ("list_environments", |r, a| {
        run(deployments::list_environments, r, a)
    }),
    ("create_environment", |r, a| {
        run(deployments::create_environment, r, a)
    }),
    ("get_environment", |r, a| {
        run(deployments::get_environment, r, a)
    }),
    ("update_environment", |r, a| {
        run(deployments::update_environment, r, a)
    }),
    ("delete_environment", |r, a| {
        run(deployments::delete_environment, r, a)
    }),
    ("list_deployments", |r, a| {
        run(deployments::list_deployments, r, a)
    }),
    ("get_deployment", |r, a| {
        run(deployments::get_deployment, r, a)
    }),
    ("list_deployment_variables", |r, a| {
        run(variables::list_deployment, r, a)
    }),
    ("create_deployment_variable", |r, a| {
        run(variables::create_deployment, r, a)
    }),
    ("update_deployment_variable", |r, a| {
        run(variables::update_deployment, r, a)
    }),
    ("delete_deployment_variable", |r, a| {
        run(variables::delete_deployment, r, a)
    }),
    ("get_branching_model", |r, a| run(branching::get, r, a)),
    ("get_branching_model_settings", |r, a| {
        run(branching::get_settings, r, a)
    }),
    ("update_branching_model_settings", |r, a| {
        run(branching::update_settings, r, a)
    }),
    ("get_effective_branching_model", |r, a| {
        run(branching::get_effective, r, a)
    }),
    ("get_webhook", |r, a| run(hooks::get, r, a)),
    ("update_webhook", |r, a| run(hooks::update, r, a)),
    ("create_project", |r, a| run(account::create_project, r, a)),
    ("update_project", |r, a| run(account::update_project, r, a)),
    ("delete_project", |r, a| run(account::delete_project, r, a)),
    ("get_user", |r, a| run(account::get_user, r, a)),
    ("list_workspace_members", |r, a| {
        run(account::list_members, r, a)
    }),
    ("get_workspace_member", |r, a| {
        run(account::get_member, r, a)
    }),
    ("list_workspace_permissions", |r, a| {
        run(account::list_permissions, r, a)
    }),
    ("delete_repository", |r, a| run(repositories::delete, r, a)),
    ("fork_repository", |r, a| run(repositories::fork, r, a)),
    ("list_forks", |r, a| run(repositories::list_forks, r, a)),
    ("list_watchers", |r, a| {
        run(repositories::list_watchers, r, a)
    }),
    ("list_commit_comments", |r, a| run(notes::list_commit, r, a)),
    ("create_commit_comment", |r, a| {
        run(notes::create_commit, r, a)
    }),
    ("get_commit_comment", |r, a| run(notes::get_commit, r, a)),
    ("update_commit_comment", |r, a| {
        run(notes::update_commit, r, a)
    }),
    ("delete_commit_comment", |r, a| {
        run(notes::delete_commit, r, a)
    }),
    ("list_issue_comments", |r, a| run(notes::list_issue, r, a)),
    ("create_issue_comment", |r, a| {
        run(notes::create_issue, r, a)
    }),
    ("get_issue_comment", |r, a| run(notes::get_issue, r, a)),
    ("update_issue_comment", |r, a| {
        run(notes::update_issue, r, a)
    }),
    ("delete_issue_comment", |r, a| {
        run(notes::delete_issue, r, a)
    }),
    ("list_commits_with_include_exclude", |r, a| {
        run(commits::list_with_form, r, a)
    }),
    ("list_commits_for_revision", |r, a| {
        run(commits::list_for_revision, r, a)
    }),
    ("list_commits_for_revision_with_include_exclude", |r, a| {
        run(commits::list_for_revision_with_form, r, a)
    }),
    ("get_merge_base", |r, a| run(commits::merge_base, r, a)),
    ("list_commit_pull_requests", |r, a| {
        run(commits::pull_requests, r, a)
    }),
    ("list_user_pull_requests", |r, a| {
        run(pullrequests::list_for_user, r, a)
    }),
    ("list_workspace_webhooks", |r, a| {
        run(hooks::list_workspace, r, a)
    }),
    ("create_workspace_webhook", |r, a| {
        run(hooks::create_workspace, r, a)
    }),
    ("get_workspace_webhook", |r, a| {
        run(hooks::get_workspace, r, a)
    }),
    ("update_workspace_webhook", |r, a| {
        run(hooks::update_workspace, r, a)
    }),
    ("delete_workspace_webhook", |r, a| {
        run(hooks::delete_workspace, r, a)
    }),
    ("list_webhook_subject_types", |r, a| {
        run(hooks::subject_types, r, a)
    }),
    ("list_webhook_event_types", |r, a| {
        run(hooks::event_types, r, a)
    }),
    ("list_commit_reports", |r, a| run(reports::list, r, a)),
    ("create_or_update_commit_report", |r, a| {
        run(reports::put, r, a)
    }),
    ("get_commit_report", |r, a| run(reports::get, r, a)),
    ("delete_commit_report", |r, a| run(reports::delete, r, a)),
    ("list_report_annotations", |r, a| {
        run(reports::list_annotations, r, a)
    }),
    ("bulk_create_or_update_report_annotations", |r, a| {
        run(reports::bulk_annotations, r, a)
    }),
    ("get_report_annotation", |r, a| {
        run(reports::get_annotation, r, a)
    }),
    ("create_or_update_report_annotation", |r, a| {
        run(reports::put_annotation, r, a)
    }),
    ("delete_report_annotation", |r, a| {
        run(reports::delete_annotation, r, a)
    }),
    ("get_app_property", |r, a| run(properties::get_repo, r, a)),
    ("update_app_property", |r, a| {
        run(properties::put_repo, r, a)
    }),
    ("delete_app_property", |r, a| {
        run(properties::delete_repo, r, a)
    }),
    ("get_commit_app_property", |r, a| {
        run(properties::get_commit, r, a)
    }),
    ("update_commit_app_property", |r, a| {
        run(properties::put_commit, r, a)
    }),
    ("delete_commit_app_property", |r, a| {
        run(properties::delete_commit, r, a)
    }),
    ("get_pull_request_app_property", |r, a| {
        run(properties::get_pull, r, a)
    }),
    ("update_pull_request_app_property", |r, a| {
        run(properties::put_pull, r, a)
    }),
    ("delete_pull_request_app_property", |r, a| {
        run(properties::delete_pull, r, a)
    }),
    ("get_user_app_property", |r, a| {
        run(properties::get_user, r, a)
    }),
    ("update_user_app_property", |r, a| {
        run(properties::put_user, r, a)
    }),
    ("delete_user_app_property", |r, a| {
        run(properties::delete_user, r, a)
    }),
    ("list_user_permissions", |r, a| {
        run(permissions::list_users, r, a)
    }),
    ("get_user_permission", |r, a| {
        run(permissions::get_user, r, a)
    }),
    ("update_user_permission", |r, a| {
        run(permissions::update_user, r, a)
    }),
    ("delete_user_permission", |r, a| {
        run(permissions::delete_user, r, a)
    }),
    ("list_workspace_repository_permissions", |r, a| {
        run(permissions::list_workspace_repositories, r, a)
    }),
    ("list_repository_permissions", |r, a| {
        run(permissions::list_repository, r, a)
    }),
    ("list_current_user_repository_permissions", |r, a| {
        run(permissions::list_mine, r, a)
    }),
    (
        "list_current_user_workspace_repository_permissions",
        |r, a| run(permissions::list_mine_in_workspace, r, a),
    ),
    ("list_accessible_workspaces", |r, a| {
        run(permissions::list_workspaces, r, a)
    }),
    ("list_current_user_workspace_memberships", |r, a| {
        run(permissions::list_my_workspaces, r, a)
    }),
    ("get_current_user_workspace_permission", |r, a| {
        run(permissions::my_workspace_permission, r, a)
    }),
    ("list_current_user_emails", |r, a| {
        run(permissions::list_emails, r, a)
    }),
    ("get_current_user_email", |r, a| {
        run(permissions::get_email, r, a)
    }),
    ("list_pipeline_schedules", |r, a| {
        run(pipeline_settings::list_schedules, r, a)
    }),
    ("create_pipeline_schedule", |r, a| {
        run(pipeline_settings::create_schedule, r, a)
    }),
    ("get_pipeline_schedule", |r, a| {
        run(pipeline_settings::get_schedule, r, a)
    }),
    ("update_pipeline_schedule", |r, a| {
        run(pipeline_settings::update_schedule, r, a)
    }),
    ("delete_pipeline_schedule", |r, a| {
        run(pipeline_settings::delete_schedule, r, a)
    }),
    ("list_pipeline_schedule_executions", |r, a| {
        run(pipeline_settings::list_executions, r, a)
    }),
    ("list_pipeline_known_hosts", |r, a| {
        run(pipeline_settings::list_known_hosts, r, a)
    }),
    ("create_pipeline_known_host", |r, a| {
        run(pipeline_settings::create_known_host, r, a)
    }),
    ("get_pipeline_known_host", |r, a| {
        run(pipeline_settings::get_known_host, r, a)
    }),
    ("update_pipeline_known_host", |r, a| {
        run(pipeline_settings::update_known_host, r, a)
    }),
    ("delete_pipeline_known_host", |r, a| {
        run(pipeline_settings::delete_known_host, r, a)
    }),
    ("get_pipeline_ssh_key_pair", |r, a| {
        run(pipeline_settings::get_key_pair, r, a)
    }),
    ("update_pipeline_ssh_key_pair", |r, a| {
        run(pipeline_settings::update_key_pair, r, a)
    }),
    ("delete_pipeline_ssh_key_pair", |r, a| {
        run(pipeline_settings::delete_key_pair, r, a)
    }),
    ("update_pipeline_build_number", |r, a| {
        run(pipeline_settings::update_build_number, r, a)
    }),
    ("list_deploy_keys", |r, a| run(keys::list_repo, r, a)),
    ("create_deploy_key", |r, a| run(keys::create_repo, r, a)),
    ("get_deploy_key", |r, a| run(keys::get_repo, r, a)),
    ("update_deploy_key", |r, a| run(keys::update_repo, r, a)),
    ("delete_deploy_key", |r, a| run(keys::delete_repo, r, a)),
    ("list_project_deploy_keys", |r, a| {
        run(keys::list_project, r, a)
    }),
    ("create_project_deploy_key", |r, a| {
        run(keys::create_project, r, a)
    }),
    ("get_project_deploy_key", |r, a| {
        run(keys::get_project, r, a)
    }),
    ("delete_project_deploy_key", |r, a| {
        run(keys::delete_project, r, a)
    }),
    ("list_user_ssh_keys", |r, a| run(keys::list_user, r, a)),
    ("create_user_ssh_key", |r, a| run(keys::create_user, r, a)),
    ("get_user_ssh_key", |r, a| run(keys::get_user, r, a)),
    ("update_user_ssh_key", |r, a| run(keys::update_user, r, a)),
    ("delete_user_ssh_key", |r, a| run(keys::delete_user, r, a)),
    ("delete_issue", |r, a| run(issues::delete, r, a)),
    ("check_issue_vote", |r, a| run(issues::check_vote, r, a)),
    ("vote_for_issue", |r, a| run(issues::vote, r, a)),
    ("remove_issue_vote", |r, a| run(issues::unvote, r, a)),
    ("check_issue_watch", |r, a| run(issues::check_watch, r, a)),
    ("watch_issue", |r, a| run(issues::watch, r, a)),
    ("unwatch_issue", |r, a| run(issues::unwatch, r, a)),
    ("list_workspace_pipeline_variables", |r, a| {
        run(variables::list_workspace, r, a)
    }),
    ("create_workspace_pipeline_variable", |r, a| {
        run(variables::create_workspace, r, a)
    }),
    ("get_workspace_pipeline_variable", |r, a| {
        run(variables::get_workspace, r, a)
    }),
    ("update_workspace_pipeline_variable", |r, a| {
        run(variables::update_workspace, r, a)
    }),
    ("delete_workspace_pipeline_variable", |r, a| {
        run(variables::delete_workspace, r, a)
    }),
    ("list_team_pipeline_variables", |r, a| {
        run(variables::list_workspace, r, a)
    }),
    ("create_team_pipeline_variable", |r, a| {
        run(variables::create_workspace, r, a)
    }),
    ("get_team_pipeline_variable", |r, a| {
        run(variables::get_workspace, r, a)
    }),
    ("update_team_pipeline_variable", |r, a| {
        run(variables::update_workspace, r, a)
    }),
    ("delete_team_pipeline_variable", |r, a| {
        run(variables::delete_workspace, r, a)
    }),
    ("list_user_pipeline_variables", |r, a| {
        run(variables::list_user, r, a)
    }),
    ("create_user_pipeline_variable", |r, a| {
        run(variables::create_user, r, a)
    }),
    ("get_user_pipeline_variable", |r, a| {
        run(variables::get_user, r, a)
    }),
    ("update_user_pipeline_variable", |r, a| {
        run(variables::update_user, r, a)
    }),
    ("delete_user_pipeline_variable", |r, a| {
        run(variables::delete_user, r, a)
    }),
    ("search_workspace_code", |r, a| run(search::search, r, a)),
    ("search_team_code", |r, a| run(search::search, r, a)),
    ("get_project_branching_model", |r, a| {
        run(branching::get_project, r, a)
    }),
    ("get_project_branching_model_settings", |r, a| {
        run(branching::get_project_settings, r, a)
    }),
    ("update_project_branching_model_settings", |r, a| {
        run(branching::update_project_settings, r, a)
    }),
    ("get_settings_inheritance", |r, a| {
        run(branching::get_inheritance, r, a)
    }),
    ("update_settings_inheritance", |r, a| {
        run(branching::update_inheritance, r, a)
    }),
    ("list_issue_changes", |r, a| run(issues::list_changes, r, a)),
    ("create_issue_change", |r, a| {
        run(issues::create_change, r, a)
    }),
    ("get_issue_change", |r, a| run(issues::get_change, r, a)),
    ("list_project_user_permissions", |r, a| {
        run(permissions::list_project_users, r, a)
    }),
    ("get_project_user_permission", |r, a| {
        run(permissions::get_project_user, r, a)
    }),
    ("update_project_user_permission", |r, a| {
        run(permissions::update_project_user, r, a)
    }),
    ("delete_project_user_permission", |r, a| {
        run(permissions::delete_project_user, r, a)
    }),
    ("list_public_repositories", |r, a| {
        run(permissions::list_public, r, a)
    }),
    ("list_runners", |r, a| run(runners::list_repo, r, a)),
    ("create_runner", |r, a| run(runners::create_repo, r, a)),
    ("get_runner", |r, a| run(runners::get_repo, r, a)),
    ("update_runner", |r, a| run(runners::update_repo, r, a)),
    ("delete_runner", |r, a| run(runners::delete_repo, r, a)),
    ("list_workspace_runners", |r, a| {
        run(runners::list_workspace, r, a)
    }),
    ("create_workspace_runner", |r, a| {
        run(runners::create_workspace, r, a)
    }),
    ("get_workspace_runner", |r, a| {
        run(runners::get_workspace, r, a)
    }),
    ("update_workspace_runner", |r, a| {
        run(runners::update_workspace, r, a)
    }),
    ("delete_workspace_runner", |r, a| {
        run(runners::delete_workspace, r, a)
    }),
    ("list_pipeline_caches", |r, a| {
        run(pipelines::list_caches, r, a)
    }),
    ("delete_pipeline_cache", |r, a| {
        run(pipelines::delete_cache, r, a)
    }),
    ("delete_pipeline_caches", |r, a| {
        run(pipelines::delete_caches, r, a)
    }),
    ("get_file_conflicts", |r, a| {
        run(diffstat::file_conflicts, r, a)
    }),
    ("get_pull_request_file_conflicts", |r, a| {
        run(diffstat::pull_request_conflicts, r, a)
    }),
    ("get_pull_request_merge_task_status", |r, a| {
        run(pullrequests::merge_task_status, r, a)
    }),
    ("list_webhooks", |r, a| run(hooks::list, r, a)),
    ("create_webhook", |r, a| run(hooks::create, r, a)),
    ("delete_webhook", |r, a| run(hooks::delete, r, a)),
    ("get_source", |r, a| run(files::get_source, r, a)),
    ("create_commit", |r, a| run(files::create_commit, r, a)),
    ("list_downloads", |r, a| run(files::list_downloads, r, a)),
    ("upload_download", |r, a| run(files::upload_download, r, a)),
    ("get_download", |r, a| run(files::get_download, r, a)),
    ("delete_download", |r, a| run(files::delete_download, r, a)),
    ("get_diff", |r, a| run(files::get_diff, r, a)),
    ("get_patch", |r, a| run(files::get_patch, r, a)),
    ("get_pipeline_step_log", |r, a| run(steps::log, r, a)),
    ("get_pipeline_step_container_log", |r, a| {
        run(steps::container_log, r, a)
    }),
    ("get_source_root", |r, a| run(files::get_source_root, r, a)),
    ("list_file_history", |r, a| {
        run(files::list_file_history, r, a)
    }),
    ("get_pull_request_patch", |r, a| {
        run(pullrequests::patch, r, a)
    }),
    ("search_user_code", |r, a| run(search::search_user, r, a)),
    ("list_group_permissions", |r, a| {
        run(groups::list_repo, r, a)
    }),
    ("get_group_permission", |r, a| run(groups::get_repo, r, a)),
    ("update_group_permission", |r, a| {
        run(groups::update_repo, r, a)
    }),
    ("delete_group_permission", |r, a| {
        run(groups::delete_repo, r, a)
    }),
    ("list_project_group_permissions", |r, a| {
        run(groups::list_project, r, a)
    }),
    ("get_project_group_permission", |r, a| {
        run(groups::get_project, r, a)
    }),
    ("update_project_group_permission", |r, a| {
        run(groups::update_project, r, a)
    }),
    ("delete_project_group_permission", |r, a| {
        run(groups::delete_project, r, a)
    }),
    ("list_user_gpg_keys", |r, a| run(gpg::list, r, a)),
    ("create_user_gpg_key", |r, a| run(gpg::create, r, a)),
    ("get_user_gpg_key", |r, a| run(gpg::get, r, a)),
    ("delete_user_gpg_key", |r, a| run(gpg::delete, r, a)),
    ("export_issues", |r, a| run(issue_export::export, r, a)),
    ("get_issue_export_status", |r, a| {
        run(issue_export::status, r, a)
    }),
    ("get_pipeline_cache_content_uri", |r, a| {
        run(pipelines::cache_content_uri, r, a)
    }),
    ("list_snippets", |r, a| run(snippets::list_all, r, a)),
    ("create_snippet", |r, a| run(snippets::create_mine, r, a)),
    ("list_workspace_snippets", |r, a| {
        run(snippets::list_workspace, r, a)
    }),
    ("create_workspace_snippet", |r, a| {
        run(snippets::create_in_workspace, r, a)
    }),
    ("get_snippet", |r, a| run(snippets::get, r, a)),
    ("update_snippet", |r, a| run(snippets::update, r, a)),
    ("delete_snippet", |r, a| run(snippets::delete, r, a)),
    ("list_snippet_comments", |r, a| {
        run(snippets::list_comments, r, a)
    }),
    ("create_snippet_comment", |r, a| {
        run(snippets::create_comment, r, a)
    }),
    ("get_snippet_comment", |r, a| {
        run(snippets::get_comment, r, a)
    }),
    ("update_snippet_comment", |r, a| {
        run(snippets::update_comment, r, a)
    }),
    ("delete_snippet_comment", |r, a| {
        run(snippets::delete_comment, r, a)
    }),
    ("list_snippet_changes", |r, a| {
        run(snippets::list_changes, r, a)
    }),
    ("get_snippet_change", |r, a| run(snippets::get_change, r, a)),
    ("get_snippet_file", |r, a| run(snippets::get_file, r, a)),
    ("check_snippet_watch", |r, a| {
        run(snippets::check_watch, r, a)
    }),
    ("watch_snippet", |r, a| run(snippets::watch, r, a)),
    ("unwatch_snippet", |r, a| run(snippets::unwatch, r, a)),
    ("list_snippet_watchers", |r, a| {
        run(snippets::list_watchers, r, a)
    }),
    ("get_snippet_revision", |r, a| {
        run(snippets::get_revision, r, a)
    }),
    ("update_snippet_revision", |r, a| {
        run(snippets::update_revision, r, a)
    }),
    ("delete_snippet_revision", |r, a| {
        run(snippets::delete_revision, r, a)
    }),
    ("get_snippet_revision_file", |r, a| {
        run(snippets::get_revision_file, r, a)
    }),
    ("get_snippet_diff", |r, a| run(snippets::diff, r, a)),
    ("get_snippet_patch", |r, a| run(snippets::patch, r, a)),
    ("list_issue_attachments", |r, a| {
        run(attachments::list, r, a)
    }),
    ("upload_issue_attachment", |r, a| {
        run(attachments::upload, r, a)
    }),
    ("get_issue_attachment", |r, a| run(attachments::get, r, a)),
    ("delete_issue_attachment", |r, a| {
        run(attachments::delete, r, a)
    }),
    ("list_issue_components", |r, a| {
        run(issue_fields::list_components, r, a)
    }),
    ("get_issue_component", |r, a| {
        run(issue_fields::get_component, r, a)
    }),
    ("list_issue_milestones", |r, a| {
        run(issue_fields::list_milestones, r, a)
    }),
    ("get_issue_milestone", |r, a| {
        run(issue_fields::get_milestone, r, a)
    }),
    ("list_issue_versions", |r, a| {
        run(issue_fields::list_versions, r, a)
    }),
    ("get_issue_version", |r, a| {
        run(issue_fields::get_version, r, a)
    }),
];

/// The handler of the operation `name`, when this server serves it.
fn endpoint(name: &str) -> Option<Endpoint> {
    SERVED.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// Whether this server has a handler for the operation `name`.
pub(crate) fn serves(name: &str) -> bool {
    endpoint(name).is_some()
}

/// The names in the table that are not operations of the client (a handler left behind by a
/// renamed or removed operation).
#[cfg(test)]
fn stray_handlers() -> Vec<&'static str> {
    SERVED
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| bitbucket_cloud::operations::by_name(name).is_none())
        .collect()
}

/// One operation, ready to match requests against.
struct Route {
    op: &'static Operation,
    /// The template's segments after the leading `/`: `Some(text)` for a fixed one, `None` for
    /// a parameter.
    segments: Vec<Option<&'static str>>,
    /// Whether the last parameter takes the rest of the path (a file's `{path}`, a diff's
    /// `{spec}`: see `Operation::match_path`).
    rest: bool,
    /// `None` when this server does not serve the operation (or was told not to).
    endpoint: Option<Endpoint>,
}

/// Every operation of the client, most specific template first.
pub(crate) struct Routes(Vec<Route>);

/// What a request is.
enum Found<'a> {
    /// An operation: served when the route has an endpoint.
    Operation(&'a Route, bitbucket_cloud::operations::PathParams),
    /// The path is an operation's, the method none's: these are allowed.
    WrongMethod(Vec<Method>),
    /// No operation has this path.
    Nowhere,
}

impl Routes {
    /// Every operation of `bitbucket_cloud::operations::ALL`, with the handlers of those served
    /// (but not of `withheld`).
    pub fn new(withheld: &[&str]) -> Routes {
        let mut routes: Vec<Route> = bitbucket_cloud::operations::ALL
            .iter()
            .map(|op| Route {
                op,
                segments: op
                    .path
                    .split('/')
                    .skip(1)
                    .map(|s| (!s.starts_with('{')).then_some(s))
                    .collect(),
                rest: op.path.ends_with("/{path}") || op.path.ends_with("/{spec}"),
                endpoint: endpoint(op.name).filter(|_| !withheld.contains(&op.name)),
            })
            .collect();
        // A fixed segment is more specific than a parameter where two templates overlap
        // (`/pullrequests/activity` before `/pullrequests/{id}`); `None` sorts before `Some`,
        // hence the reversal.
        routes.sort_by_cached_key(|r| {
            std::cmp::Reverse(r.segments.iter().map(Option::is_some).collect::<Vec<_>>())
        });
        Routes(routes)
    }

    /// The operation `method` and `path` (under `/2.0`, as sent) are an instance of.
    fn find(&self, method: &Method, path: &str) -> Found<'_> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let mut allowed = Vec::new();
        for route in &self.0 {
            let fits = (route.segments.len() == segments.len()
                || (route.rest && route.segments.len() < segments.len()))
                && route
                    .segments
                    .iter()
                    .zip(&segments)
                    .all(|(fixed, actual)| fixed.is_none_or(|f| f == *actual));
            if !fits {
                continue;
            }
            // `match_path` decodes the parameters, and refuses empty ones.
            let Some(params) = route.op.match_path(path) else {
                continue;
            };
            let method_fits = route.op.method == *method
                || (*method == Method::HEAD && route.op.method == Method::GET);
            if method_fits {
                return Found::Operation(route, params);
            }
            if !allowed.contains(&route.op.method) {
                allowed.push(route.op.method.clone());
            }
        }
        if allowed.is_empty() {
            Found::Nowhere
        } else {
            Found::WrongMethod(allowed)
        }
    }
}

pub(crate) fn router(app: Shared) -> Router {
    Router::new().fallback(dispatch).with_state(app)
}

/// Answers every request: finds its operation, then serves it, or says it is not served.
async fn dispatch(State(app): State<Shared>, mut request: Request) -> Response {
    let Some(path) = request.uri().path().strip_prefix("/2.0") else {
        return ApiError::no_api().into_response();
    };
    let (route, params) = match app.routes.find(request.method(), path) {
        Found::Operation(route, params) => (route, params),
        Found::WrongMethod(allowed) => {
            return ApiError::method_not_allowed(&allowed).into_response();
        }
        Found::Nowhere => return ApiError::no_api().into_response(),
    };
    let op = route.op;
    let method = request.method().to_string();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let response = match route.endpoint {
        None => ApiError::not_served(op).into_response(),
        Some(endpoint) => {
            request.extensions_mut().insert(Params(
                params
                    .iter()
                    .map(|(name, value)| (name.to_string(), value.to_string()))
                    .collect(),
            ));
            guard(&app, op, endpoint, request).await
        }
    };
    app.record(ServedRequest {
        operation: op.name,
        method,
        path: path_and_query,
        status: response.status().as_u16(),
    });
    response
}

/// Applies faults, authenticates, checks the operation's scopes, then runs the handler. A
/// handler that panics (a bug here) is answered 500 rather than dropping the connection.
async fn guard(
    app: &Shared,
    op: &'static Operation,
    endpoint: Endpoint,
    mut request: Request,
) -> Response {
    let verdict = lock(&app.faults).judge(op.name);
    if !verdict.delay.is_zero() {
        tokio::time::sleep(verdict.delay).await;
    }
    if let Some(failure) = verdict.failure {
        return failure.into_response();
    }
    let checked = lock(&app.credentials)
        .authenticate(request.headers())
        .and_then(|credential| {
            credential.authorize(op)?;
            Ok(credential)
        });
    let credential = match checked {
        Ok(credential) => credential,
        Err(denied) => return denied.into_response(),
    };
    request.extensions_mut().insert(Caller {
        user: credential.user,
    });
    match AssertUnwindSafe(endpoint(request, Arc::clone(app)))
        .catch_unwind()
        .await
    {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("bitbucket-cloud-local failed while serving `{}`", op.name),
        )
        .detail("a bug in bitbucket-cloud-local: please report it with the request")
        .into_response(),
    }
}

/// A request body as JSON; an empty body is `{}`.
fn body(bytes: &Bytes) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(ApiError::invalid_body)?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "Bad request: the body must be a JSON object ({...}), not another JSON value",
        ));
    }
    Ok(value)
}

/// A string member of `value` at the JSON pointer `pointer`.
fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> &'a str {
    params.get(name).map(String::as_str).unwrap_or_default()
}

fn ok(value: Value) -> Answer {
    Ok(axum::Json(value).into_response())
}

/// A `201 Created` of `value`, with its `links.self.href` as the `Location`.
fn created(value: Value) -> Answer {
    let location =
        text(&value, "/links/self/href").and_then(|href| header::HeaderValue::from_str(href).ok());
    let mut response = (StatusCode::CREATED, axum::Json(value)).into_response();
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn no_content() -> Answer {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The workspace the path names, or Bitbucket's 404.
fn workspace<'a>(
    store: &'a Store,
    params: &HashMap<String, String>,
) -> Result<&'a Workspace, ApiError> {
    let name = param(params, "workspace");
    store
        .workspace(name)
        .ok_or_else(|| ApiError::not_found(format_args!("Workspace {name}")))
}

/// The index of the repository the path names, or Bitbucket's 404.
fn repo_index(store: &Store, params: &HashMap<String, String>) -> Result<usize, ApiError> {
    workspace(store, params)?;
    let workspace = param(params, "workspace");
    let slug = param(params, "repo_slug");
    store
        .repo_index(workspace, slug)
        .ok_or_else(|| ApiError::not_found(format_args!("Repository {workspace}/{slug}")))
}

/// The repository the path names, or Bitbucket's 404.
fn repo<'a>(store: &'a Store, params: &HashMap<String, String>) -> Result<&'a Repo, ApiError> {
    Ok(&store.repos[repo_index(store, params)?])
}

/// The project the path names (`workspace`, `project_key` as key or `{uuid}`): (index in
/// `Store::workspaces`, index in its `projects`), or Bitbucket's 404.
fn project_index(
    store: &Store,
    params: &HashMap<String, String>,
) -> Result<(usize, usize), ApiError> {
    let slug = workspace(store, params)?.slug.clone();
    let ws = store
        .workspaces
        .iter()
        .position(|w| w.slug == slug)
        .unwrap_or_default();
    let key = param(params, "project_key");
    let at = store.workspaces[ws]
        .projects
        .iter()
        .position(|p| crate::ids::same(&p.key, key) || crate::ids::same(&p.uuid, key))
        .ok_or_else(|| ApiError::not_found(format_args!("Project {key}")))?;
    Ok((ws, at))
}

/// The full hash of the commit the path names (`commit`, a hash or a prefix of at least 7
/// digits), or Bitbucket's 404.
fn commit_hash(repo: &Repo, params: &HashMap<String, String>) -> Result<String, ApiError> {
    let hash = param(params, "commit");
    repo.commit(hash)
        .map(|c| c.hash.clone())
        .ok_or_else(|| ApiError::not_found(format_args!("Commit {hash}")))
}

fn list_query(app: &App, uri: &Uri) -> ListQuery {
    ListQuery::new(&app.urls.web, uri)
}

/// A numbered page of `items`, filtered and sorted as the request asks.
fn numbered(app: &App, uri: &Uri, items: Vec<Value>) -> Answer {
    ok(paging::page(
        items,
        &list_query(app, uri),
        Paging::Numbered,
    )?)
}

/// Queues `event` with `payload` (which gets `actor` and `repository` added) for the hooks of
/// repository `repo_index` and of its workspace.
pub(crate) fn emit(
    app: &App,
    store: &Store,
    repo_index: usize,
    actor: usize,
    event: EventKey,
    mut payload: Value,
) {
    let repo: &Repo = &store.repos[repo_index];
    payload["actor"] = app.urls.user(&store.users[actor]);
    payload["repository"] = app.urls.repo(store, repo);
    app.webhooks.emit(&repo.hooks, &event, &payload);
    if let Some(ws) = store.workspace(&repo.workspace) {
        app.webhooks.emit(&ws.hooks, &event, &payload);
    }
}

pub(crate) use restrictions::{after_push, check_push};

/// Queues a `repo:push` with these `changes` (see `seed::push_change`).
pub(crate) fn emit_push(
    app: &App,
    store: &Store,
    repo_index: usize,
    actor: usize,
    changes: Vec<Value>,
) {
    emit(
        app,
        store,
        repo_index,
        actor,
        EventKey::RepoPush,
        json!({ "push": { "changes": changes } }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handler_is_for_an_operation_of_the_client() {
        assert_eq!(stray_handlers(), Vec::<&str>::new());
        let mut names: Vec<&str> = SERVED.iter().map(|(name, _)| *name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SERVED.len(), "a handler is listed twice");
    }

    fn found(routes: &Routes, method: Method, path: &str) -> Option<&'static str> {
        match routes.find(&method, path) {
            Found::Operation(route, _) => Some(route.op.name),
            _ => None,
        }
    }

    #[test]
    fn requests_find_their_operation() {
        let routes = Routes::new(&[]);
        let cases = [
            (Method::GET, "/user", "get_current_user"),
            (Method::GET, "/repositories/acme/app", "get_repository"),
            (Method::PUT, "/repositories/acme/app", "update_repository"),
            (
                Method::GET,
                "/repositories/acme/app/pullrequests/7",
                "get_pull_request",
            ),
            (
                Method::HEAD,
                "/repositories/acme/app/pullrequests/7",
                "get_pull_request",
            ),
            (
                Method::GET,
                "/repositories/acme/app/refs/branches/feature%2Fx",
                "get_branch",
            ),
        ];
        for (method, path, name) in cases {
            assert_eq!(
                found(&routes, method.clone(), path),
                Some(name),
                "{method} {path}"
            );
        }
        // Every template finds its own operation: the most specific one wins where two
        // overlap.
        for op in bitbucket_cloud::operations::ALL {
            // Each parameter becomes `x` (a segment may hold two: the issue export's
            // `{repo_name}-issues-{task_id}.zip`).
            let mut path = String::new();
            let mut rest = op.path;
            while let Some(open) = rest.find('{') {
                path.push_str(&rest[..open]);
                path.push('x');
                rest = rest[open..].split_once('}').map_or("", |(_, after)| after);
            }
            path.push_str(rest);
            let got = found(&routes, op.method.clone(), &path);
            let same_shape = bitbucket_cloud::operations::ALL.iter().any(|other| {
                Some(other.name) == got
                    && other.method == op.method
                    && other.match_path(&path).is_some()
            });
            assert!(same_shape, "{} {path} found {got:?}", op.method);
        }
        assert!(matches!(
            routes.find(&Method::PATCH, "/user"),
            Found::WrongMethod(_)
        ));
        assert!(matches!(
            routes.find(&Method::GET, "/nowhere"),
            Found::Nowhere
        ));
        assert!(matches!(
            routes.find(&Method::GET, "/repositories//app"),
            Found::Nowhere
        ));
    }

    #[test]
    fn withheld_operations_have_no_handler() {
        let routes = Routes::new(&["get_pull_request"]);
        let Found::Operation(route, _) =
            routes.find(&Method::GET, "/repositories/acme/app/pullrequests/7")
        else {
            panic!("no operation")
        };
        assert_eq!(route.op.name, "get_pull_request");
        assert!(route.endpoint.is_none());
    }
}
