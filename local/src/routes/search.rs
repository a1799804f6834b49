//! Code search (`/workspaces/{workspace}/search/code`, `/teams/{username}/search/code`, its
//! older name, and `/users/{selected_user}/search/code`, an account's own workspace): the
//! files of the workspace's repositories, at each main branch's head, whose path or content
//! holds every term of `search_query`, case-insensitively. The qualifiers `repo:`, `ext:` and
//! `path:` narrow it; `"quoted words"` are one term.

use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{Answer, Params, Shared, list_query, ok};
use crate::App;
use crate::errors::ApiError;
use crate::ids;
use crate::paging::{self, Paging};
use crate::render::href;

/// A query: its terms (lower case) and qualifiers.
#[derive(Default, Debug, PartialEq)]
struct Query {
    terms: Vec<String>,
    repo: Option<String>,
    ext: Option<String>,
    path: Option<String>,
}

fn parse(text: &str) -> Query {
    let mut query = Query::default();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (word, after) = if let Some(quoted) = rest.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((phrase, after)) => (phrase, after),
                None => (quoted, ""),
            }
        } else {
            rest.split_once(char::is_whitespace).unwrap_or((rest, ""))
        };
        rest = after.trim_start();
        if word.is_empty() {
            continue;
        }
        match word.split_once(':') {
            Some(("repo", v)) => query.repo = Some(v.to_string()),
            Some(("ext", v)) => query.ext = Some(v.trim_start_matches('.').to_string()),
            Some(("path", v)) => query.path = Some(v.to_string()),
            _ => query.terms.push(word.to_lowercase()),
        }
    }
    query
}

/// `text` cut into segments, those equal (case-insensitively) to a term marked `match`.
fn segments(text: &str, terms: &[String]) -> Vec<Value> {
    let lower = text.to_lowercase();
    // Lower-casing can change lengths outside ASCII; then mark nothing rather than cut a
    // character in two.
    if lower.len() != text.len() {
        return vec![json!({ "text": text })];
    }
    let mut marks = vec![false; text.len()];
    for term in terms.iter().filter(|t| !t.is_empty()) {
        let mut from = 0;
        while let Some(at) = lower[from..].find(term.as_str()) {
            let start = from + at;
            for m in &mut marks[start..start + term.len()] {
                *m = true;
            }
            from = start + term.len();
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=text.len() {
        let boundary = i == text.len() || marks[i] != marks[start];
        if boundary && text.is_char_boundary(i) {
            let mut segment = json!({ "text": &text[start..i] });
            if marks[start] {
                segment["match"] = json!(true);
            }
            out.push(segment);
            start = i;
        }
    }
    out
}

/// `search_workspace_code` and `search_team_code`: the repositories of the workspace.
pub(super) async fn search(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let name = params
        .get("workspace")
        .or_else(|| params.get("username"))
        .map(String::as_str)
        .unwrap_or_default();
    let slug = {
        let store = app.store();
        let ws = store
            .workspace(name)
            .ok_or_else(|| ApiError::not_found(format_args!("Workspace {name}")))?;
        ws.slug.clone()
    };
    search_in(&app, Some(&slug), &uri)
}

/// `search_user_code`: the repositories of the account's own workspace (the one named after
/// its nickname); an account without one has nothing to find.
pub(super) async fn search_user(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let name = params
        .get("selected_user")
        .map(String::as_str)
        .unwrap_or_default();
    let slug = {
        let store = app.store();
        let user = store
            .user_index(name)
            .ok_or_else(|| ApiError::not_found(format_args!("User {name}")))?;
        let nickname = &store.users[user].nickname;
        store.workspace(nickname).map(|ws| ws.slug.clone())
    };
    search_in(&app, slug.as_deref(), &uri)
}

/// The search of `uri`'s `search_query` over the repositories of workspace `slug` (none when
/// `None`).
fn search_in(app: &App, slug: Option<&str>, uri: &Uri) -> Answer {
    let query_params = list_query(app, uri);
    let Some(text) = query_params
        .get("search_query")
        .filter(|q| !q.trim().is_empty())
    else {
        return Err(
            ApiError::bad_request("search_query: This field is required.")
                .field("search_query", "what to search for"),
        );
    };
    let query = parse(text);
    let store = app.store();
    let mut items = Vec::new();
    for repo in store
        .repos
        .iter()
        .filter(|r| Some(r.workspace.as_str()) == slug)
    {
        if query
            .repo
            .as_ref()
            .is_some_and(|r| !ids::same(r, &repo.slug))
        {
            continue;
        }
        let Some(head) = repo
            .mainbranch
            .as_ref()
            .and_then(|b| repo.branches.get(b))
            .and_then(|h| repo.commits.get(h))
        else {
            continue;
        };
        for (path, content) in &head.tree {
            if query
                .ext
                .as_ref()
                .is_some_and(|e| !path.ends_with(&format!(".{e}")))
                || query
                    .path
                    .as_ref()
                    .is_some_and(|p| !path.starts_with(p.as_str()))
            {
                continue;
            }
            let lower_path = path.to_lowercase();
            let lower = content.to_lowercase();
            if !query
                .terms
                .iter()
                .all(|t| lower.contains(t.as_str()) || lower_path.contains(t.as_str()))
            {
                continue;
            }
            let lines: Vec<&str> = content.lines().collect();
            let mut matches = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let low = line.to_lowercase();
                if !query.terms.iter().any(|t| low.contains(t.as_str())) {
                    continue;
                }
                let around = i.saturating_sub(1)..(i + 2).min(lines.len());
                matches.push(json!({
                    "lines": around.map(|j| json!({
                        "line": j + 1,
                        "segments": if j == i { segments(lines[j], &query.terms) } else { vec![json!({ "text": lines[j] })] },
                    })).collect::<Vec<_>>(),
                }));
            }
            items.push(json!({
                "type": "code_search_result",
                "content_match_count": matches.len(),
                "content_matches": matches,
                "path_matches": segments(path, &query.terms),
                "file": {
                    "type": "commit_file",
                    "path": path,
                    "commit": app.urls.commit_ref(repo, &head.hash),
                    "links": { "self": href(format!("{}/src/{}/{path}", app.urls.repo_api(repo), head.hash)) },
                },
            }));
        }
    }
    let mut page = paging::page(items, &query_params, Paging::Numbered)?;
    page["query_substituted"] = json!(false);
    ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let q = parse("foo \"bar baz\" repo:app ext:.rs path:src/");
        assert_eq!(q.terms, ["foo", "bar baz"]);
        assert_eq!(q.repo.as_deref(), Some("app"));
        assert_eq!(q.ext.as_deref(), Some("rs"));
        assert_eq!(q.path.as_deref(), Some("src/"));
    }

    #[test]
    fn segments_mark_matches() {
        let s = segments("def Foo():", &["foo".into()]);
        assert_eq!(
            s,
            vec![
                json!({ "text": "def " }),
                json!({ "text": "Foo", "match": true }),
                json!({ "text": "():" }),
            ]
        );
        assert_eq!(segments("é foo", &["foo".into()]).len(), 2);
    }
}
