//! What the tests share: clients pointed at a local server.

#![allow(dead_code)]

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client, Scope};
use bitbucket_cloud_local::LocalBitbucket;

/// A client with an access token holding every classic scope.
pub fn admin(bb: &LocalBitbucket) -> Client {
    client(bb, Auth::access_token(bb.token(Scope::ALL)))
}

/// A client with an access token holding `scopes`.
pub fn with_scopes(bb: &LocalBitbucket, scopes: &[Scope]) -> Client {
    client(bb, Auth::access_token(bb.token(scopes)))
}

/// A client of the local server with `auth`, retrying nothing.
pub fn client(bb: &LocalBitbucket, auth: Auth) -> Client {
    Client::builder()
        .base_url(bb.base_url())
        .auth(auth)
        .retry(RetryConfig::disabled())
        .build()
        .expect("a valid client")
}

/// A typed request body from JSON.
pub fn body<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("the JSON fits the type")
}

/// A plain HTTP client for requests the typed client would not send.
pub fn http() -> reqwest::Client {
    // reqwest is built with rustls (bitbucket-cloud's default) and needs a crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
