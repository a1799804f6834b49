//! A wire test for every operation, made from data ([`crate::cases`]): each operation is
//! called through its typed builder with every parameter and body the document gives it, on a
//! `wiremock` server on loopback, and the test checks
//! - the method, the path with each parameter one percent-encoded segment (a trailing `{path}`,
//!   a file's, keeps its slashes), every query pair
//!   and nothing else, the credentials, and the body (JSON or form) exactly as set, or an
//!   upload's multipart fields;
//! - that the answer decodes, and that encoding the decoded value again gives back what was
//!   sent (only `null`, `[]` and `{}` may vanish): a real recorded answer from the fixtures'
//!   MANIFEST.tsv where there is one, else one made from the answer's schema; text and bytes
//!   come back byte for byte, and an answer without a body as `()`;
//! - that the dynamic API (`client.operation(..)`, which the MCP gateway calls) sends the same
//!   request for the same parameters and hands the answer back as sent;
//! - that Bitbucket's error body under a 404 comes back as `Error::Api` naming the operation.
//!
//! The hand-written tests beside this module check chosen operations more closely (typed
//! fields, chosen values); `every_operation_has_a_wire_test` checks that this module covers
//! all of `operations::ALL`.

use bitbucket_cloud::operations::{self, Operation};
use bitbucket_cloud::{Client, Error};
use serde_json::Value;
use wiremock::ResponseTemplate;

use super::wire::{Sent, exchange, json, ok};
use crate::cases::{Answer, BodyKind, CALLED, Case, In, SETTERS, call, param_text, setter};
use crate::support::{differences, fixture, same_json, without_empty};

/// The wire test of `operation`.
async fn check(operation: &'static Operation) {
    let case = Case::of(operation);
    let name = operation.name;
    let calling = async |client: &Client| call(client, &case).await;

    let (answer, sent) = ok(response(&case), &calling).await;
    check_request(&case, &sent);
    match (&case.answer.body, &answer) {
        (Answer::Json(served), Answer::Json(decoded)) => {
            let (served, decoded) = (
                without_empty(served.clone()),
                without_empty(decoded.clone()),
            );
            assert!(
                same_json(&served, &decoded),
                "{name}: the answer ({}) lost or changed data in decoding:\n    {}",
                case.answer.source,
                differences(&served, &decoded).join("\n    ")
            );
        }
        (served, decoded) => assert_eq!(decoded, served, "{name}: the answer"),
    }

    // The dynamic API (`client.operation(..)`, what the MCP gateway calls) sends the same
    // request for the same parameters, and hands back the answer as sent. It sends JSON
    // bodies only: form bodies and uploads are the typed builders' (see
    // `dynamic_form_bodies`).
    if !matches!(case.body, Some((BodyKind::Form, _))) && case.form.is_empty() {
        let dynamic = async |client: &Client| dynamic_call(client, &case).await;
        let (answer, sent) = ok(response(&case), &dynamic).await;
        check_request(&case, &sent);
        let expected = match &case.answer.body {
            Answer::Json(body) => Some(body.clone()),
            Answer::Text(text) => Some(Value::String(text.clone())),
            Answer::Empty => Some(Value::Null),
            Answer::Bytes(_) => None, // not UTF-8: its lossy text
        };
        if let Some(expected) = expected {
            assert_eq!(answer, expected, "{name}: the dynamic API's answer");
        }
    }

    // Bitbucket's error body comes back as the operation's `Error::Api`.
    let body = fixture("error.notfound-noapi.gildas-1.json");
    let (result, _) = exchange(json(404, body.clone()), &calling).await;
    match result {
        Err(Error::Api(error)) => {
            assert_eq!(error.status().as_u16(), 404, "{name}: {error:#?}");
            assert_eq!(error.operation(), name, "{error:#?}");
            assert_eq!(error.message(), body["error"]["message"].as_str(), "{name}");
        }
        other => panic!("{name}: a 404 came back as {other:?}"),
    }
}

/// `case` through the dynamic API, with the same parameters and body.
async fn dynamic_call(client: &Client, case: &Case) -> Result<Value, Error> {
    let mut request = client.operation(case.operation);
    for param in &case.params {
        let values = match &param.value {
            Value::Array(items) => items.iter().map(param_text).collect(),
            other => vec![param_text(other)],
        };
        for value in values {
            request = match param.location {
                In::Path => request.path_param(&param.name, value),
                In::Query => request.query_param(&param.name, value),
            };
        }
    }
    if let Some((_, body)) = &case.body {
        request = request.body(body.clone());
    }
    request.send().await
}

/// The dynamic API sends every body as JSON; the operations whose body is a form
/// (`create_commit`, the POST forms of the commit lists) or a multipart upload cannot be
/// called through it. Listed here so that a change on either side is seen.
#[test]
fn dynamic_form_bodies() {
    let forms: Vec<&str> = operations::ALL
        .iter()
        .map(Case::of)
        .filter(|c| matches!(c.body, Some((BodyKind::Form, _))) || !c.form.is_empty())
        .map(|c| c.operation.name)
        .collect();
    assert_eq!(
        forms,
        [
            "create_commit",
            "import_issues",
            "list_commits_for_revision_with_include_exclude",
            "list_commits_with_include_exclude",
            "upload_download",
            "upload_issue_attachment",
        ]
    );
}

/// The server's answer to `case`.
fn response(case: &Case) -> ResponseTemplate {
    let template = ResponseTemplate::new(case.answer.status);
    match &case.answer.body {
        Answer::Json(body) => template.set_body_raw(body.to_string(), "application/json"),
        Answer::Text(text) => template.set_body_raw(text.clone(), "text/plain; charset=utf-8"),
        Answer::Bytes(bytes) => template.set_body_raw(bytes.clone(), "application/octet-stream"),
        Answer::Empty => template,
    }
}

/// Checks what `case`'s call sent.
fn check_request(case: &Case, sent: &Sent) {
    let name = case.operation.name;
    let request = &sent.0;
    assert_eq!(
        request.method.as_str(),
        case.operation.method.as_str(),
        "{name}: method"
    );
    assert_eq!(request.url.path(), case.expected_path(), "{name}: path");
    let mut query = sent.query();
    query.sort();
    assert_eq!(
        query,
        case.expected_query(),
        "{name}: query of {}",
        request.url
    );
    assert_eq!(
        sent.header("authorization").as_deref(),
        Some("Bearer t0ken"),
        "{name}: credentials"
    );
    let content_type = sent.header("content-type");
    if !case.form.is_empty() {
        // An upload: a multipart form holding each field the case set, under its name.
        assert!(
            content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("multipart/form-data; boundary=")),
            "{name}: content type {content_type:?}"
        );
        let body = String::from_utf8_lossy(&request.body);
        for (field, value) in &case.form {
            let disposition = format!("Content-Disposition: form-data; name=\"{field}\"");
            assert!(
                body.contains(&disposition),
                "{name}: the field `{field}` is not in the form sent:\n{body}"
            );
            assert!(
                body.contains(&crate::cases::param_text(value)),
                "{name}: the value of `{field}` is not in the form sent:\n{body}"
            );
        }
        return;
    }
    match &case.body {
        None => {
            assert!(
                request.body.is_empty(),
                "{name} sent a body: {}",
                String::from_utf8_lossy(&request.body)
            );
            assert_eq!(content_type, None, "{name}: content type without a body");
        }
        Some((BodyKind::Json, expected)) => {
            assert_eq!(content_type.as_deref(), Some("application/json"), "{name}");
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_else(|e| {
                panic!(
                    "{name} sent a body that is not JSON ({e}): {}",
                    String::from_utf8_lossy(&request.body)
                )
            });
            assert!(
                same_json(&body, expected),
                "{name}: the body sent differs from the one set:\n    {}",
                differences(expected, &body).join("\n    ")
            );
        }
        Some((BodyKind::Form, expected)) => {
            assert_eq!(
                content_type.as_deref(),
                Some("application/x-www-form-urlencoded"),
                "{name}"
            );
            let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
                .into_owned()
                .collect();
            pairs.sort();
            assert_eq!(pairs, form_pairs(expected), "{name}: the form sent");
        }
        Some((BodyKind::Text, expected)) => {
            assert_eq!(content_type.as_deref(), Some("text/plain"), "{name}");
            assert_eq!(
                String::from_utf8_lossy(&request.body),
                param_text(expected),
                "{name}: the text sent"
            );
        }
    }
}

/// A form body's fields, sorted: a list is its items under one repeated key.
fn form_pairs(body: &Value) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (key, value) in body.as_object().into_iter().flatten() {
        match value {
            Value::Array(items) => {
                pairs.extend(
                    items
                        .iter()
                        .map(|v| (key.clone(), crate::cases::param_text(v))),
                );
            }
            Value::Null => {}
            other => pairs.push((key.clone(), param_text(other))),
        }
    }
    pairs.sort();
    pairs
}

/// One test per operation, named after it.
macro_rules! wire_tests {
    ($($name:ident $kind:ident [$($json:ty)?] [$($field:ident: $ty:ty),*];)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let operation = operations::by_name(stringify!($name)).expect("an operation");
                check(operation).await;
            }
        )*

        /// The operations with a test in this module.
        const TESTED: &[&str] = &[$(stringify!($name)),*];
    };
}
bitbucket_cloud::__operation_calls!(wire_tests);

/// Fails when an operation of the crate has no wire test here (its feature is off, or it was
/// not generated), when a builder's setter has no parameter of the document (a setter the
/// cases would never set), or when a parameter of the document has no setter.
#[test]
fn every_operation_has_a_wire_test() {
    let missing: Vec<&str> = operations::ALL
        .iter()
        .map(|op| op.name)
        .filter(|name| !TESTED.contains(name) || !CALLED.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} operations have no wire test: {missing:?}",
        missing.len(),
        operations::ALL.len()
    );
    assert_eq!(TESTED.len(), operations::ALL.len());
    let mut problems = Vec::new();
    for (name, setters) in SETTERS {
        let case = Case::of(operations::by_name(name).expect("an operation"));
        for param in &case.params {
            if !setters.contains(&setter(&param.name).as_str()) {
                problems.push(format!("{name}: `{}` has no setter", param.name));
            }
        }
        for field in *setters {
            let known = *field == "body"
                || case.params.iter().any(|p| setter(&p.name) == *field)
                || case.form.iter().any(|(setter, _)| setter == field);
            if !known {
                problems.push(format!("{name}: the setter `{field}` has no parameter"));
            }
        }
        if setters.contains(&"body") != case.body.is_some() {
            problems.push(format!(
                "{name}: the builder {} a body, the case {}",
                if setters.contains(&"body") {
                    "takes"
                } else {
                    "takes no"
                },
                if case.body.is_some() {
                    "has one"
                } else {
                    "has none"
                }
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What the cases send and answer, in numbers: the real recorded answers are used wherever
/// MANIFEST.tsv has one, and the cases send bodies, queries and every kind of answer.
#[test]
fn the_cases_use_the_recorded_answers() {
    let cases: Vec<Case> = operations::ALL.iter().map(Case::of).collect();
    let count = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count();
    let is_recorded = |c: &Case| {
        !c.answer.source.starts_with("schema") && matches!(c.answer.body, Answer::Json(_))
    };
    let recorded = count(&is_recorded);
    let from_schema = count(&|c| c.answer.source.starts_with("schema"));
    let bodies = count(&|c| c.body.is_some());
    let queries = count(&|c| !c.expected_query().is_empty());
    let kinds = |k: fn(&Answer) -> bool| count(&|c| k(&c.answer.body));
    eprintln!(
        "{} cases: {recorded} answered with a real recording, {from_schema} from the schema, {} \
         with text, {} with bytes, {} without a body; {bodies} send a body, {queries} a query",
        cases.len(),
        kinds(|a| matches!(a, Answer::Text(_))),
        kinds(|a| matches!(a, Answer::Bytes(_))),
        kinds(|a| matches!(a, Answer::Empty)),
    );
    for case in cases.iter().filter(|c| is_recorded(c)) {
        eprintln!("  {}: {}", case.operation.name, case.answer.source);
    }
    assert!(
        recorded >= 20,
        "the recorded answers are not used: {recorded}"
    );
    assert!(
        bodies >= 70 && queries >= 80,
        "{bodies} bodies, {queries} queries"
    );
}
