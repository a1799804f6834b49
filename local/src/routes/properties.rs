//! Application properties (`.../properties/{app_key}/{property_name}`): small JSON documents
//! an app keeps on a repository, a commit, a pull request or a user. Written with `PUT`
//! (`204`), read back as written, deleted with `DELETE` (`204`).

use axum::body::Bytes;
use axum::extract::State;

use super::{Answer, Params, Shared, body, no_content, ok, param, repo};
use crate::errors::ApiError;
use crate::store::Store;

/// What the property is on, as `Store::properties` keys it.
#[derive(Clone, Copy)]
enum On {
    Repo,
    Commit,
    PullRequest,
    User,
}

fn subject(store: &Store, params: &Params, on: On) -> Result<String, ApiError> {
    if let On::User = on {
        let id = param(params, "selected_user");
        let user = store
            .user_index(id)
            .ok_or_else(|| ApiError::not_found(format_args!("User {id}")))?;
        return Ok(format!("user:{}", store.users[user].uuid));
    }
    let repo = repo(store, params)?;
    Ok(match on {
        On::Commit => {
            format!("commit:{}:{}", repo.uuid, super::commit_hash(repo, params)?)
        }
        On::PullRequest => {
            let id = param(params, "pullrequest_id");
            let pr = id
                .parse::<u64>()
                .ok()
                .filter(|id| repo.pulls.iter().any(|p| p.id == *id))
                .ok_or_else(|| ApiError::not_found(format_args!("Pull request {id}")))?;
            format!("pullrequest:{}:{pr}", repo.uuid)
        }
        _ => format!("repo:{}", repo.uuid),
    })
}

fn key(store: &Store, params: &Params, on: On) -> Result<(String, String, String), ApiError> {
    Ok((
        subject(store, params, on)?,
        param(params, "app_key").to_string(),
        param(params, "property_name").to_string(),
    ))
}

async fn get(app: Shared, params: Params, on: On) -> Answer {
    let store = app.store();
    let key = key(&store, &params, on)?;
    let value = store
        .properties
        .get(&key)
        .ok_or_else(|| ApiError::not_found(format_args!("Property {}/{}", key.1, key.2)))?;
    ok(value.clone())
}

async fn put(app: Shared, params: Params, bytes: Bytes, on: On) -> Answer {
    let value = body(&bytes)?;
    let mut store = app.store();
    let key = key(&store, &params, on)?;
    store.properties.insert(key, value);
    no_content()
}

async fn delete(app: Shared, params: Params, on: On) -> Answer {
    let mut store = app.store();
    let key = key(&store, &params, on)?;
    store
        .properties
        .remove(&key)
        .ok_or_else(|| ApiError::not_found(format_args!("Property {}/{}", key.1, key.2)))?;
    no_content()
}

macro_rules! handlers {
    ($on:expr, $get:ident, $put:ident, $delete:ident) => {
        pub(super) async fn $get(State(app): State<Shared>, params: Params) -> Answer {
            get(app, params, $on).await
        }
        pub(super) async fn $put(
            State(app): State<Shared>,
            params: Params,
            bytes: Bytes,
        ) -> Answer {
            put(app, params, bytes, $on).await
        }
        pub(super) async fn $delete(State(app): State<Shared>, params: Params) -> Answer {
            delete(app, params, $on).await
        }
    };
}

handlers!(On::Repo, get_repo, put_repo, delete_repo);
handlers!(On::Commit, get_commit, put_commit, delete_commit);
handlers!(On::PullRequest, get_pull, put_pull, delete_pull);
handlers!(On::User, get_user, put_user, delete_user);
