//! Accounts' GPG keys (`/users/{selected_user}/gpg-keys`): an armored OpenPGP public key is
//! read as Bitbucket reads it (fingerprints, key ids, creation and expiry, subkeys), refused
//! with a 400 when it is not one, and not added twice to one account.

use std::time::{Duration, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{Answer, Params, Shared, body, created, no_content, numbered, ok, param, text};
use crate::clock;
use crate::errors::ApiError;
use crate::openpgp::{self, Key};
use crate::render::{escape, href};
use crate::store::{GpgKey, Store};

/// The account the path names.
fn account(store: &Store, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "selected_user");
    store
        .user_index(id)
        .ok_or_else(|| ApiError::not_found(format_args!("User {id}")))
}

fn time(seconds: u64) -> String {
    clock::format(UNIX_EPOCH + Duration::from_secs(seconds))
}

fn key_value(key: &Key, parent: Option<&str>, self_href: &str) -> Value {
    json!({
        "type": "gpg_key",
        "key_id": key.key_id(),
        "fingerprint": key.fingerprint,
        "parent_fingerprint": parent,
        "created_on": time(u64::from(key.created)),
        "expires_on": key.expires.map(time),
        "links": { "self": href(self_href.to_string()) },
    })
}

fn value(app: &Shared, store: &Store, gpg: &GpgKey) -> Value {
    let base = format!(
        "{}/users/{}/gpg-keys",
        app.urls.api,
        escape(&store.users[gpg.owner].uuid)
    );
    let primary = &gpg.key.primary;
    let mut value = key_value(primary, None, &format!("{base}/{}", primary.fingerprint));
    value["owner"] = app.urls.user(&store.users[gpg.owner]);
    value["key"] = json!(gpg.armored);
    value["name"] = json!(gpg.name);
    value["comment"] = json!(gpg.key.user_id);
    value["added_on"] = json!(gpg.added_on);
    value["last_used"] = Value::Null;
    value["subkeys"] = gpg
        .key
        .subkeys
        .iter()
        .map(|sub| {
            let mut v = key_value(
                sub,
                Some(&primary.fingerprint),
                &format!("{base}/{}", sub.fingerprint),
            );
            v["owner"] = app.urls.user(&store.users[gpg.owner]);
            v
        })
        .collect();
    value
}

/// Where the key the path names (`fingerprint`, any case) is in `Store::gpg_keys`.
fn position(store: &Store, user: usize, params: &Params) -> Result<usize, ApiError> {
    let fingerprint = param(params, "fingerprint");
    store
        .gpg_keys
        .iter()
        .position(|k| {
            k.owner == user && k.key.primary.fingerprint.eq_ignore_ascii_case(fingerprint)
        })
        .ok_or_else(|| ApiError::not_found(format_args!("GPG key {fingerprint}")))
}

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let user = account(&store, &params)?;
    let items = store
        .gpg_keys
        .iter()
        .filter(|k| k.owner == user)
        .map(|k| value(&app, &store, k))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let user = account(&store, &params)?;
    let at = position(&store, user, &params)?;
    ok(value(&app, &store, &store.gpg_keys[at]))
}

/// `POST` with `{"key": "-----BEGIN PGP PUBLIC KEY BLOCK-----…", "name": "…"}`.
pub(super) async fn create(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    let request = body(&bytes)?;
    let armored = text(&request, "/key")
        .unwrap_or_default()
        .trim()
        .to_string();
    if armored.is_empty() {
        return Err(ApiError::bad_request("key: This field is required.")
            .field("key", "This field is required."));
    }
    let key = openpgp::parse(&armored).map_err(|problem| {
        ApiError::bad_request(format!("key: not a GPG public key: {problem}"))
            .field("key", "an armored OpenPGP public key")
    })?;
    let mut store = app.store();
    let user = account(&store, &params)?;
    if store
        .gpg_keys
        .iter()
        .any(|k| k.owner == user && k.key.primary.fingerprint == key.primary.fingerprint)
    {
        return Err(ApiError::bad_request(format!(
            "key: the GPG key {} is already added to this account",
            key.primary.fingerprint
        ))
        .field("key", "already added"));
    }
    let name = text(&request, "/name")
        .map(str::to_string)
        .or_else(|| key.user_id.clone())
        .unwrap_or_default();
    store.gpg_keys.push(GpgKey {
        owner: user,
        armored,
        name,
        key,
        added_on: clock::now(),
    });
    let added = store.gpg_keys.last().expect("just pushed");
    created(value(&app, &store, added))
}

pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let user = account(&store, &params)?;
    let at = position(&store, user, &params)?;
    store.gpg_keys.remove(at);
    no_content()
}
