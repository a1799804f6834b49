//! `Client::from_env`, in a test binary of its own: it changes the process environment, which
//! no other test may read meanwhile.

use bitbucket_cloud::{Client, Error};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const VARS: [&str; 4] = [
    "BITBUCKET_EMAIL",
    "BITBUCKET_API_TOKEN",
    "BITBUCKET_ACCESS_TOKEN",
    "BITBUCKET_BASE_URL",
];

fn set(vars: &[(&str, &str)]) {
    // SAFETY: this binary has a single test, which is the only code that reads or writes the
    // environment while it runs.
    unsafe {
        for name in VARS {
            std::env::remove_var(name);
        }
        for (name, value) in vars {
            std::env::set_var(name, value);
        }
    }
}

async fn authorization_sent(server: &MockServer) -> String {
    let client = Client::from_env().expect("credentials are set");
    client
        .get_current_user()
        .send()
        .await
        .expect("call succeeds");
    let requests = server.received_requests().await.unwrap();
    let last = requests.last().expect("a request");
    last.headers["authorization"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn credentials_from_the_environment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let url = server.uri();

    set(&[
        ("BITBUCKET_BASE_URL", &url),
        ("BITBUCKET_EMAIL", "me@example.com"),
        ("BITBUCKET_API_TOKEN", "ATATT-api-token"),
        ("BITBUCKET_ACCESS_TOKEN", "ignored-when-an-api-token-is-set"),
    ]);
    assert_eq!(
        authorization_sent(&server).await,
        "Basic bWVAZXhhbXBsZS5jb206QVRBVFQtYXBpLXRva2Vu"
    );

    set(&[
        ("BITBUCKET_BASE_URL", &url),
        ("BITBUCKET_ACCESS_TOKEN", "ATCTT-access-token"),
    ]);
    assert_eq!(
        authorization_sent(&server).await,
        "Bearer ATCTT-access-token"
    );

    set(&[("BITBUCKET_API_TOKEN", "ATATT-api-token")]);
    let error = Client::from_env().unwrap_err();
    assert!(matches!(error, Error::Config(_)));
    assert!(
        error.to_string().contains("BITBUCKET_EMAIL is not"),
        "{error}"
    );
    assert!(!error.to_string().contains("ATATT-api-token"));

    set(&[]);
    let error = Client::from_env().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("set BITBUCKET_EMAIL and BITBUCKET_API_TOKEN"),
        "{error}"
    );

    // The base URL from the environment is checked like any other: https, or http to
    // loopback only, and no password in it.
    for refused in [
        "http://api.bitbucket.org/2.0",
        "https://me:hunter2@api.bitbucket.org/2.0",
        "https://api.bitbucket.org/2.0?x=1",
    ] {
        set(&[
            ("BITBUCKET_BASE_URL", refused),
            ("BITBUCKET_ACCESS_TOKEN", "ATCTT-access-token"),
        ]);
        let error = Client::from_env().unwrap_err();
        let text = error.to_string();
        assert!(text.contains("BITBUCKET_BASE_URL: "), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
    set(&[]);
}
