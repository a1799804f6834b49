//! An issue tracker's components, milestones and versions (`/components`, `/milestones`,
//! `/versions`): Bitbucket's API lists and reads them, and issues name them; they are set up in
//! the repository's settings, here with [`LocalBitbucket::add_issue_component`] and its kin.
//!
//! [`LocalBitbucket::add_issue_component`]: crate::LocalBitbucket::add_issue_component

use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::issues::tracker;
use super::{Answer, Params, Shared, numbered, ok, param};
use crate::errors::ApiError;
use crate::render::{Urls, href};
use crate::store::{Repo, TrackerField, TrackerItem};

impl Urls {
    /// An item as Bitbucket answers it, in its list and inside an issue.
    pub(crate) fn tracker_item(
        &self,
        repo: &Repo,
        field: TrackerField,
        item: &TrackerItem,
    ) -> Value {
        json!({
            "type": field.key(),
            "id": item.id,
            "name": item.name,
            "links": {
                "self": href(format!("{}/{}/{}", self.repo_api(repo), field.segment(), item.id)),
            },
        })
    }

    /// The item of `field` an issue names (`null` when none).
    pub(crate) fn tracker_value(&self, repo: &Repo, field: TrackerField, id: Option<u64>) -> Value {
        id.and_then(|id| field.items(repo).iter().find(|i| i.id == id))
            .map_or(Value::Null, |item| self.tracker_item(repo, field, item))
    }
}

/// The item of `field` a request body names for an issue: `None` when the body does not set
/// it, `Some(None)` for `null`. It is named by `{"name": ...}` (as Bitbucket's issues show
/// it), `{"id": ...}`, or a bare name; one the tracker lacks is a 400.
pub(super) fn chosen(
    repo: &Repo,
    request: &Value,
    field: TrackerField,
) -> Result<Option<Option<u64>>, ApiError> {
    let key = field.key();
    let named = match request.get(key) {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(None)),
        Some(Value::String(name)) => Some(name.as_str()),
        Some(Value::Object(item)) => match (item.get("name"), item.get("id")) {
            (Some(Value::String(name)), _) => Some(name.as_str()),
            (_, Some(id)) => {
                let id = id.as_u64();
                return match id.filter(|id| field.items(repo).iter().any(|i| i.id == *id)) {
                    Some(id) => Ok(Some(Some(id))),
                    None => Err(unknown(field, &item["id"].to_string())),
                };
            }
            _ => None,
        },
        Some(_) => None,
    };
    let Some(name) = named else {
        return Err(
            ApiError::bad_request(format!("{key}: expected {{\"name\": ...}} or null"))
                .field(key, "an object with a name, or null"),
        );
    };
    field
        .items(repo)
        .iter()
        .find(|i| i.name == name)
        .map(|i| Some(Some(i.id)))
        .ok_or_else(|| unknown(field, name))
}

fn unknown(field: TrackerField, name: &str) -> ApiError {
    let key = field.key();
    ApiError::bad_request(format!(
        "{key}: there is no {key} {name} in this issue tracker"
    ))
    .field(key, &format!("one of the tracker's {}", field.segment()))
}

async fn list(app: Shared, params: Params, uri: Uri, field: TrackerField) -> Answer {
    let store = app.store();
    let repo = &store.repos[tracker(&store, &params)?];
    let items = field
        .items(repo)
        .iter()
        .map(|item| app.urls.tracker_item(repo, field, item))
        .collect();
    numbered(&app, &uri, items)
}

async fn get(app: Shared, params: Params, field: TrackerField) -> Answer {
    let store = app.store();
    let repo = &store.repos[tracker(&store, &params)?];
    let id = param(&params, &format!("{}_id", field.key()));
    let item = id
        .parse::<u64>()
        .ok()
        .and_then(|id| field.items(repo).iter().find(|i| i.id == id))
        .ok_or_else(|| {
            let mut name = field.key().to_string();
            name[..1].make_ascii_uppercase();
            ApiError::not_found(format_args!("{name} {id}"))
        })?;
    ok(app.urls.tracker_item(repo, field, item))
}

pub(super) async fn list_components(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    list(app, params, uri, TrackerField::Component).await
}
pub(super) async fn get_component(State(app): State<Shared>, params: Params) -> Answer {
    get(app, params, TrackerField::Component).await
}
pub(super) async fn list_milestones(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    list(app, params, uri, TrackerField::Milestone).await
}
pub(super) async fn get_milestone(State(app): State<Shared>, params: Params) -> Answer {
    get(app, params, TrackerField::Milestone).await
}
pub(super) async fn list_versions(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    list(app, params, uri, TrackerField::Version).await
}
pub(super) async fn get_version(State(app): State<Shared>, params: Params) -> Answer {
    get(app, params, TrackerField::Version).await
}
