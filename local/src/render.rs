//! The store's data as Bitbucket's JSON: `type` fields, `{uuid}`s, timestamps, and `links`
//! whose hrefs point at this server.

use serde_json::{Value, json};

use crate::store::{
    Comment, Commit, Hook, Issue, Participant, Pipeline, PullRequest, Repo, Stage, Store,
    TrackerField, User, Workspace,
};

/// Where links point: the API root (`http://127.0.0.1:PORT/2.0`) and the "website" root.
#[derive(Clone, Debug)]
pub(crate) struct Urls {
    pub api: String,
    pub web: String,
}

pub(crate) fn href(url: String) -> Value {
    json!({ "href": url })
}

/// `name` (a file name) as one URL path segment: everything but letters, digits and `-._~`
/// percent-encoded.
pub(crate) fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `{` and `}` of a UUID in a URL path, escaped as Bitbucket does.
pub(crate) fn escape(uuid: &str) -> String {
    uuid.replace('{', "%7B").replace('}', "%7D")
}

impl Urls {
    /// The short form of a workspace embedded in other objects.
    pub fn workspace_summary(&self, ws: &Workspace) -> Value {
        json!({
            "type": "workspace",
            "uuid": ws.uuid,
            "slug": ws.slug,
            "name": ws.name,
            "links": { "self": href(format!("{}/workspaces/{}", self.api, ws.slug)) },
        })
    }

    pub fn repo_api(&self, repo: &Repo) -> String {
        format!("{}/repositories/{}", self.api, repo.full_name())
    }

    pub fn repo_web(&self, repo: &Repo) -> String {
        format!("{}/{}", self.web, repo.full_name())
    }

    pub fn user(&self, user: &User) -> Value {
        json!({
            "type": "user",
            "uuid": user.uuid,
            "account_id": user.account_id,
            "nickname": user.nickname,
            "display_name": user.display_name,
            "links": {
                "self": href(format!("{}/users/{}", self.api, escape(&user.uuid))),
                "html": href(format!("{}/{}/", self.web, escape(&user.uuid))),
                "avatar": href(format!("{}/account/{}/avatar", self.web, user.nickname)),
            },
        })
    }

    /// `GET /user`: the account, with the fields only its owner sees.
    pub fn current_user(&self, user: &User) -> Value {
        let mut value = self.user(user);
        let extra = json!({
            "username": user.nickname,
            "created_on": user.created_on,
            "account_status": "active",
            "is_staff": false,
            "has_2fa_enabled": null,
            "location": null,
        });
        merge(&mut value, extra);
        value
    }

    pub fn workspace(&self, ws: &Workspace) -> Value {
        json!({
            "type": "workspace",
            "uuid": ws.uuid,
            "slug": ws.slug,
            "name": ws.name,
            "is_private": ws.is_private,
            "is_privacy_enforced": false,
            "forking_mode": "allow_forks",
            "created_on": ws.created_on,
            "updated_on": ws.created_on,
            "links": {
                "self": href(format!("{}/workspaces/{}", self.api, ws.slug)),
                "html": href(format!("{}/{}/", self.web, ws.slug)),
                "avatar": href(format!("{}/workspaces/{}/avatar", self.web, ws.slug)),
                "members": href(format!("{}/workspaces/{}/members", self.api, ws.slug)),
                "projects": href(format!("{}/workspaces/{}/projects", self.api, ws.slug)),
                "repositories": href(format!("{}/repositories/{}", self.api, ws.slug)),
                "hooks": href(format!("{}/workspaces/{}/hooks", self.api, ws.slug)),
            },
        })
    }

    /// An item of `GET /user/workspaces`.
    pub fn workspace_access(&self, ws: &Workspace) -> Value {
        json!({
            "type": "workspace_access",
            "administrator": true,
            "permission": "owner",
            "workspace": {
                "type": "workspace_base",
                "uuid": ws.uuid,
                "slug": ws.slug,
                "name": ws.name,
                "links": {
                    "self": href(format!("{}/workspaces/{}", self.api, ws.slug)),
                    "html": href(format!("{}/{}/", self.web, ws.slug)),
                },
            },
            "links": {
                "self": href(format!("{}/user/workspaces/{}", self.api, ws.slug)),
            },
        })
    }

    pub fn project(&self, ws: &Workspace, key: &str) -> Value {
        let Some(p) = ws.projects.iter().find(|p| p.key == key) else {
            return Value::Null;
        };
        json!({
            "type": "project",
            "uuid": p.uuid,
            "key": p.key,
            "name": p.name,
            "description": p.description,
            "is_private": p.is_private,
            "has_publicly_visible_repos": false,
            "created_on": p.created_on,
            "updated_on": p.updated_on,
            "owner": {
                "type": "team",
                "uuid": ws.uuid,
                "username": ws.slug,
                "display_name": ws.name,
                "links": {
                    "self": href(format!("{}/workspaces/{}", self.api, ws.slug)),
                    "html": href(format!("{}/{}/", self.web, ws.slug)),
                },
            },
            "links": {
                "self": href(format!("{}/workspaces/{}/projects/{}", self.api, ws.slug, p.key)),
                "html": href(format!("{}/{}/workspace/projects/{}", self.web, ws.slug, p.key)),
                "repositories": href(format!("{}/repositories/{}?q=project.key%3D%22{}%22", self.api, ws.slug, p.key)),
                "avatar": href(format!("{}/{}/workspace/projects/{}/avatar", self.web, ws.slug, p.key)),
            },
        })
    }

    /// The short form of a repository embedded in other objects.
    pub fn repo_summary(&self, repo: &Repo) -> Value {
        json!({
            "type": "repository",
            "uuid": repo.uuid,
            "full_name": repo.full_name(),
            "name": repo.name,
            "links": {
                "self": href(self.repo_api(repo)),
                "html": href(self.repo_web(repo)),
                "avatar": href(format!("{}/avatar", self.repo_web(repo))),
            },
        })
    }

    pub fn repo(&self, store: &Store, repo: &Repo) -> Value {
        let ws = store.workspace(&repo.workspace);
        let api = self.repo_api(repo);
        let web = self.repo_web(repo);
        json!({
            "type": "repository",
            "uuid": repo.uuid,
            "full_name": repo.full_name(),
            "name": repo.name,
            "slug": repo.slug,
            "description": repo.description,
            "scm": "git",
            "is_private": repo.is_private,
            "fork_policy": repo.fork_policy,
            "language": repo.language,
            "has_issues": repo.has_issues,
            "has_wiki": repo.has_wiki,
            "size": repo.commits.len() * 1024,
            "created_on": repo.created_on,
            "updated_on": repo.updated_on,
            "parent": repo.parent.as_ref().map(|(ws, slug, uuid)| json!({
                "type": "repository",
                "uuid": uuid,
                "full_name": format!("{ws}/{slug}"),
                "name": slug,
                "links": {
                    "self": href(format!("{}/repositories/{ws}/{slug}", self.api)),
                    "html": href(format!("{}/{ws}/{slug}", self.web)),
                },
            })),
            "website": null,
            "mainbranch": repo.mainbranch.as_ref().map(|b| json!({ "type": "branch", "name": b })),
            "owner": ws.map(|ws| json!({
                "type": "team",
                "uuid": ws.uuid,
                "username": ws.slug,
                "display_name": ws.name,
                "links": { "self": href(format!("{}/workspaces/{}", self.api, ws.slug)) },
            })),
            "workspace": ws.map(|ws| json!({
                "type": "workspace",
                "uuid": ws.uuid,
                "slug": ws.slug,
                "name": ws.name,
                "links": { "self": href(format!("{}/workspaces/{}", self.api, ws.slug)) },
            })),
            "project": ws.map(|ws| self.project(ws, &repo.project_key)),
            "links": {
                "self": href(api.clone()),
                "html": href(web.clone()),
                "avatar": href(format!("{web}/avatar")),
                "pullrequests": href(format!("{api}/pullrequests")),
                "commits": href(format!("{api}/commits")),
                "branches": href(format!("{api}/refs/branches")),
                "hooks": href(format!("{api}/hooks")),
                "issues": href(format!("{api}/issues")),
                "pipelines": href(format!("{api}/pipelines")),
                "tags": href(format!("{api}/refs/tags")),
                "forks": href(format!("{api}/forks")),
                "watchers": href(format!("{api}/watchers")),
                "downloads": href(format!("{api}/downloads")),
                "clone": [
                    { "name": "https", "href": format!("{}/{}.git", self.web, repo.full_name()) },
                ],
            },
        })
    }

    /// A commit reference: hash, type and links (what pull requests and parents embed).
    pub fn commit_ref(&self, repo: &Repo, hash: &str) -> Value {
        json!({
            "type": "commit",
            "hash": hash,
            "links": {
                "self": href(format!("{}/commit/{hash}", self.repo_api(repo))),
                "html": href(format!("{}/commits/{hash}", self.repo_web(repo))),
            },
        })
    }

    pub fn commit(&self, store: &Store, repo: &Repo, commit: &Commit) -> Value {
        let author = &store.users[commit.author];
        let api = format!("{}/commit/{}", self.repo_api(repo), commit.hash);
        json!({
            "type": "commit",
            "hash": commit.hash,
            "date": commit.date,
            "message": commit.message,
            "summary": {
                "type": "rendered",
                "raw": commit.message,
                "markup": "markdown",
                "html": format!("<p>{}</p>", html_escape(commit.message.trim_end())),
            },
            "author": {
                "type": "author",
                "raw": format!("{} <{}>", author.display_name, author.email),
                "user": self.user(author),
            },
            "parents": commit.parents.iter().map(|p| self.commit_ref(repo, p)).collect::<Vec<_>>(),
            "participants": repo.commit_approvals.get(&commit.hash).into_iter().flatten().map(|u| json!({
                "type": "participant",
                "user": self.user(&store.users[*u]),
                "role": "PARTICIPANT",
                "approved": true,
                "state": "approved",
            })).collect::<Vec<_>>(),
            "repository": self.repo_summary(repo),
            "links": {
                "self": href(api.clone()),
                "html": href(format!("{}/commits/{}", self.repo_web(repo), commit.hash)),
                "diff": href(format!("{}/diff/{}", self.repo_api(repo), commit.hash)),
                "approve": href(format!("{api}/approve")),
                "comments": href(format!("{api}/comments")),
                "statuses": href(format!("{api}/statuses")),
            },
        })
    }

    pub fn branch(&self, store: &Store, repo: &Repo, name: &str) -> Value {
        let target = repo
            .branches
            .get(name)
            .and_then(|h| repo.commits.get(h))
            .map(|c| self.commit(store, repo, c));
        let api = self.repo_api(repo);
        json!({
            "type": "branch",
            "name": name,
            "target": target,
            "merge_strategies": ["merge_commit", "squash", "fast_forward"],
            "default_merge_strategy": "merge_commit",
            "links": {
                "self": href(format!("{api}/refs/branches/{name}")),
                "commits": href(format!("{api}/commits/{name}")),
                "html": href(format!("{}/branch/{name}", self.repo_web(repo))),
            },
        })
    }

    fn participant(&self, store: &Store, p: &Participant) -> Value {
        json!({
            "type": "participant",
            "user": self.user(&store.users[p.user]),
            "role": if p.reviewer { "REVIEWER" } else { "PARTICIPANT" },
            "approved": p.approved,
            "state": if p.approved { json!("approved") } else if p.changes_requested { json!("changes_requested") } else { Value::Null },
            "participated_on": p.participated_on,
        })
    }

    pub fn approval(&self, store: &Store, pr: &PullRequest, user: usize) -> Value {
        pr.participants
            .iter()
            .find(|p| p.user == user)
            .map(|p| self.participant(store, p))
            .unwrap_or(Value::Null)
    }

    pub fn pull(&self, store: &Store, repo: &Repo, pr: &PullRequest) -> Value {
        let api = format!("{}/pullrequests/{}", self.repo_api(repo), pr.id);
        let endpoint = |branch: &str, hash: &str| {
            json!({
                "branch": { "name": branch },
                "commit": self.commit_ref(repo, &hash[..12.min(hash.len())]),
                "repository": self.repo_summary(repo),
            })
        };
        let (source_hash, destination_hash) = self.live_endpoints(repo, pr);
        json!({
            "type": "pullrequest",
            "id": pr.id,
            "title": pr.title,
            "description": pr.description,
            "summary": {
                "type": "rendered",
                "raw": pr.description,
                "markup": "markdown",
                "html": if pr.description.is_empty() { String::new() } else { format!("<p>{}</p>", html_escape(&pr.description)) },
            },
            "state": pr.state.as_str(),
            "draft": pr.draft,
            "author": self.user(&store.users[pr.author]),
            "source": endpoint(&pr.source_branch, &source_hash),
            "destination": endpoint(&pr.destination_branch, &destination_hash),
            "merge_commit": pr.merge_commit.as_ref().map(|h| self.commit_ref(repo, &h[..12])),
            "close_source_branch": pr.close_source_branch,
            "closed_by": pr.closed_by.map(|u| self.user(&store.users[u])),
            "reason": pr.reason,
            "reviewers": pr.reviewers.iter().map(|u| self.user(&store.users[*u])).collect::<Vec<_>>(),
            "participants": pr.participants.iter().map(|p| self.participant(store, p)).collect::<Vec<_>>(),
            "comment_count": pr.comments.iter().filter(|c| !c.deleted).count(),
            "task_count": pr.tasks.iter().filter(|t| t.resolved.is_none()).count(),
            "created_on": pr.created_on,
            "updated_on": pr.updated_on,
            "links": {
                "self": href(api.clone()),
                "html": href(format!("{}/pull-requests/{}", self.repo_web(repo), pr.id)),
                "commits": href(format!("{api}/commits")),
                "approve": href(format!("{api}/approve")),
                "request-changes": href(format!("{api}/request-changes")),
                "diff": href(format!("{api}/diff")),
                "comments": href(format!("{api}/comments")),
                "merge": href(format!("{api}/merge")),
                "decline": href(format!("{api}/decline")),
                "activity": href(format!("{api}/activity")),
                "diffstat": href(format!("{api}/diffstat")),
                "statuses": href(format!("{api}/statuses")),
            },
        })
    }

    /// An open pull request follows its branches; a closed one keeps the commits it had.
    pub fn live_endpoints(&self, repo: &Repo, pr: &PullRequest) -> (String, String) {
        if pr.state == crate::store::PrState::Open {
            (
                repo.branches
                    .get(&pr.source_branch)
                    .cloned()
                    .unwrap_or_else(|| pr.source_commit.clone()),
                repo.branches
                    .get(&pr.destination_branch)
                    .cloned()
                    .unwrap_or_else(|| pr.destination_commit.clone()),
            )
        } else {
            (pr.source_commit.clone(), pr.destination_commit.clone())
        }
    }

    pub fn comment(&self, store: &Store, repo: &Repo, pr: &PullRequest, c: &Comment) -> Value {
        let api = format!(
            "{}/pullrequests/{}/comments/{}",
            self.repo_api(repo),
            pr.id,
            c.id
        );
        json!({
            "type": "pullrequest_comment",
            "id": c.id,
            "content": {
                "type": "rendered",
                "raw": c.raw,
                "markup": "markdown",
                "html": if c.raw.is_empty() { String::new() } else { format!("<p>{}</p>", html_escape(&c.raw)) },
            },
            "user": self.user(&store.users[c.user]),
            "created_on": c.created_on,
            "updated_on": c.updated_on,
            "deleted": c.deleted,
            "pending": false,
            "resolution": c.resolution.as_ref().map(|(user, date)| json!({
                "type": "comment_resolution",
                "user": self.user(&store.users[*user]),
                "created_on": date,
            })),
            "parent": c.parent.map(|id| json!({
                "id": id,
                "links": { "self": href(format!("{}/pullrequests/{}/comments/{id}", self.repo_api(repo), pr.id)) },
            })),
            "inline": c.inline.as_ref().map(|i| json!({ "path": i.path, "from": i.from, "to": i.to })),
            "pullrequest": {
                "type": "pullrequest",
                "id": pr.id,
                "title": pr.title,
                "links": {
                    "self": href(format!("{}/pullrequests/{}", self.repo_api(repo), pr.id)),
                    "html": href(format!("{}/pull-requests/{}", self.repo_web(repo), pr.id)),
                },
            },
            "links": {
                "self": href(api),
                "html": href(format!("{}/pull-requests/{}/_/diff#comment-{}", self.repo_web(repo), pr.id, c.id)),
            },
        })
    }

    pub fn issue(&self, store: &Store, repo: &Repo, issue: &Issue) -> Value {
        let api = format!("{}/issues/{}", self.repo_api(repo), issue.id);
        json!({
            "type": "issue",
            "id": issue.id,
            "title": issue.title,
            "content": {
                "type": "rendered",
                "raw": issue.content,
                "markup": "markdown",
                "html": if issue.content.is_empty() { String::new() } else { format!("<p>{}</p>", html_escape(&issue.content)) },
            },
            "kind": issue.kind,
            "priority": issue.priority,
            "state": issue.state,
            "reporter": self.user(&store.users[issue.reporter]),
            "assignee": issue.assignee.map(|u| self.user(&store.users[u])),
            "votes": issue.voters.len(),
            "watches": issue.watchers.len(),
            "component": self.tracker_value(repo, TrackerField::Component, issue.component),
            "milestone": self.tracker_value(repo, TrackerField::Milestone, issue.milestone),
            "version": self.tracker_value(repo, TrackerField::Version, issue.version),
            "created_on": issue.created_on,
            "updated_on": issue.updated_on,
            "edited_on": issue.edited_on,
            "repository": self.repo_summary(repo),
            "links": {
                "self": href(api.clone()),
                "html": href(format!("{}/issues/{}", self.repo_web(repo), issue.id)),
                "comments": href(format!("{api}/comments")),
                "attachments": href(format!("{api}/attachments")),
                "watch": href(format!("{api}/watch")),
                "vote": href(format!("{api}/vote")),
            },
        })
    }

    pub fn pipeline(&self, store: &Store, repo: &Repo, p: &Pipeline) -> Value {
        let state = match p.stage {
            Stage::Pending => json!({ "type": "pipeline_state_pending", "name": "PENDING" }),
            Stage::Running => json!({
                "type": "pipeline_state_in_progress",
                "name": "IN_PROGRESS",
                "stage": { "type": "pipeline_state_in_progress_running", "name": "RUNNING" },
            }),
            Stage::Completed(result) => json!({
                "type": "pipeline_state_completed",
                "name": "COMPLETED",
                "result": {
                    "type": format!("pipeline_state_completed_{}", result.as_str().to_ascii_lowercase()),
                    "name": result.as_str(),
                },
            }),
            Stage::Stopped => json!({
                "type": "pipeline_state_completed",
                "name": "COMPLETED",
                "result": { "type": "pipeline_state_completed_stopped", "name": "STOPPED" },
            }),
        };
        let mut target = json!({
            "type": "pipeline_ref_target",
            "ref_type": p.ref_type,
            "ref_name": p.ref_name,
            "commit": self.commit_ref(repo, &p.commit),
        });
        if let Some((kind, pattern)) = &p.selector {
            target["selector"] = json!({ "type": kind, "pattern": pattern });
        }
        json!({
            "type": "pipeline",
            "uuid": p.uuid,
            "build_number": p.build_number,
            "creator": self.user(&store.users[p.creator]),
            "repository": self.repo_summary(repo),
            "target": target,
            "trigger": { "type": "pipeline_trigger_manual", "name": "MANUAL" },
            "state": state,
            "variables": p.variables.iter().map(|v| json!({
                "type": "pipeline_variable",
                "uuid": v.uuid,
                "key": v.key,
                "value": if v.secured { Value::Null } else { json!(v.value) },
                "secured": v.secured,
            })).collect::<Vec<_>>(),
            "created_on": p.created_on,
            "completed_on": p.completed_on,
            "build_seconds_used": p.build_seconds_used,
            "configuration_sources": [{ "source": "bitbucket-pipelines.yml", "uri": format!("{}/src/{}/bitbucket-pipelines.yml", self.repo_api(repo), p.commit) }],
            "links": {
                "self": href(format!("{}/pipelines/{}", self.repo_api(repo), escape(&p.uuid))),
                "steps": href(format!("{}/pipelines/{}/steps/", self.repo_api(repo), escape(&p.uuid))),
            },
        })
    }

    pub fn hook(&self, repo: &Repo, hook: &Hook) -> Value {
        json!({
            "type": "webhook_subscription",
            "uuid": hook.uuid,
            "url": hook.url,
            "description": hook.description,
            "subject_type": "repository",
            "subject": self.repo_summary(repo),
            "active": hook.active,
            "events": hook.events,
            "secret_set": hook.secret.is_some(),
            "created_at": hook.created_at,
            "links": {
                "self": href(format!("{}/hooks/{}", self.repo_api(repo), escape(&hook.uuid))),
            },
        })
    }
}

/// Adds the members of `extra` (an object) to `value` (an object).
pub(crate) fn merge(value: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(extra)) = (value, extra) {
        target.extend(extra);
    }
}

pub(crate) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
