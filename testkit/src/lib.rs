//! Test support shared by the workspace's API crates (`bitbucket-cloud`,
//! `bitbucket-data-center`); not published.
//!
//! - [`Request`]: the parameters and body of one call of an operation, made from the crate's
//!   OpenAPI document ([`sample`]), and what the wire must then carry;
//! - [`typed_calls!`]: a function per operation that makes that call through the operation's
//!   typed builder, from the crate's generated `__operation_calls!`;
//! - [`prism`]: the contract check of a request against the official document by Stoplight
//!   Prism, through a recording proxy.
//!
//! Nothing here knows a product: each crate's tests bring their document, client, error type
//! and list of the document's known defects.

pub mod prism;
mod request;
pub mod sample;

pub use request::{Answer, BodyKind, In, Param, Request, encode_segment, param_text, setter};

#[doc(hidden)]
pub use serde_json as __serde_json;

/// What `send()` returned, as an [`Answer`]: JSON, text, bytes, nothing.
#[doc(hidden)]
#[macro_export]
macro_rules! __seen {
    ($krate:ident json $answer:ident) => {
        $crate::Answer::Json($crate::__serde_json::to_value(&$answer).expect("answers encode"))
    };
    ($krate:ident completion $answer:ident) => {
        match $answer {
            $krate::Completion::Done(value) => $crate::Answer::Json(
                $crate::__serde_json::to_value(&value).expect("answers encode"),
            ),
            $krate::Completion::Accepted { .. } => $crate::Answer::Empty,
        }
    };
    ($krate:ident text $answer:ident) => {
        $crate::Answer::Text($answer)
    };
    ($krate:ident bytes $answer:ident) => {
        $crate::Answer::Bytes($answer.to_vec())
    };
    ($krate:ident empty $answer:ident) => {{
        let () = $answer;
        $crate::Answer::Empty
    }};
}

/// For every operation the crate `$krate` generates (the rows of its `__operation_calls!`): a
/// function that calls it through its typed builder with every setter the [`Request`] has a
/// value for; `call`, which picks it by the request's name; and `CALLED` and `SETTERS`, the
/// operations and their builders' setters.
///
/// ```ignore
/// macro_rules! calls {
///     ($($rows:tt)*) => { bitbucket_testkit::typed_calls! { bitbucket_cloud; $($rows)* } };
/// }
/// bitbucket_cloud::__operation_calls!(calls);
/// ```
#[macro_export]
macro_rules! typed_calls {
    ($krate:ident; $($name:ident $kind:ident [$($json:ty)?] [$($field:ident: $ty:ty),*];)*) => {
        mod typed {
            $(
                #[allow(deprecated)] // Operations deprecated upstream are still called.
                pub async fn $name(
                    client: &$krate::Client,
                    request: &$crate::Request,
                ) -> ::std::result::Result<$crate::Answer, $krate::Error> {
                    let builder = client.$name();
                    let _ = request; // An operation without parameters.
                    $(
                        let builder = match request.arg::<$ty>(stringify!($field)) {
                            Some(value) => builder.$field(value),
                            None => builder,
                        };
                    )*
                    let answer = builder.send().await?;
                    Ok($crate::__seen!($krate $kind answer))
                }
            )*
        }

        /// The operations with a typed call: every generated one.
        pub const CALLED: &[&str] = &[$(stringify!($name)),*];

        /// The setters of each operation's builder.
        pub const SETTERS: &[(&str, &[&str])] =
            &[$((stringify!($name), &[$(stringify!($field)),*])),*];

        /// The answer of a typed call.
        pub type Called<'a> = ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = ::std::result::Result<$crate::Answer, $krate::Error>,
                    > + Send
                    + 'a,
            >,
        >;

        /// Calls `request`'s operation through its typed builder.
        pub fn call<'a>(client: &'a $krate::Client, request: &'a $crate::Request) -> Called<'a> {
            match request.name {
                $(stringify!($name) => Box::pin(typed::$name(client, request)),)*
                other => panic!("`{other}` has no typed call: is its feature on?"),
            }
        }
    };
}

/// A contract test per operation of the crate's `__operation_calls!` rows, named after it,
/// and `TESTED`, their names. Each makes the operation's [`Request`] (`request(NAME)`, which
/// returns one or a type that derefs to one) through its typed builder (`call`) with the client
/// of `start(NAME, true)`, and has the contract judge it (`answered` classifies the crate's
/// errors, `KNOWN_DEFECTS` lists the document's): names in scope where this is expanded.
///
/// ```ignore
/// mod every {
///     use super::*;
///     use bitbucket_testkit::contract_cases;
///     bitbucket_cloud::__operation_calls!(contract_cases);
/// }
/// ```
#[macro_export]
macro_rules! contract_cases {
    ($($name:ident $kind:ident [$($json:ty)?] [$($field:ident: $ty:ty),*];)*) => {
        /// Checks the request of `name`, made from the document, against Prism.
        async fn check(name: &str) {
            let Some(contract) = start(name, true).await else {
                return;
            };
            let mut request = request(contract.name());
            // OpenAPI's path parameters are one segment each, so Prism cannot route a file
            // path with slashes, which Bitbucket takes (the wire tests send one): here the file
            // is at the root.
            request.set_path_param("path", $crate::__serde_json::json!("login form.rs"));
            let outcome =
                tokio::time::timeout($crate::prism::CALL_LIMIT, call(&contract.client, &request))
                    .await;
            contract.judge($crate::prism::Outcome::of(outcome, answered), KNOWN_DEFECTS);
        }

        $(
            #[tokio::test]
            async fn $name() {
                check(stringify!($name)).await;
            }
        )*

        /// The operations with a test here.
        pub const TESTED: &[&str] = &[$(stringify!($name)),*];
    };
}

/// Hand-written contract tests, one per operation, named after it: each makes `$call` with the
/// client `$client` of `start(NAME, false)` and has the contract judge it, as
/// [`contract_cases!`] does; and `TESTED`, their names.
#[macro_export]
macro_rules! contract_tests {
    ($($operation:ident(|$client:ident| $call:expr);)+) => {
        $(
            #[tokio::test]
            // Operations deprecated upstream are still checked.
            #[allow(deprecated)]
            async fn $operation() {
                let Some(contract) = start(stringify!($operation), false).await else {
                    return;
                };
                let $client = &contract.client;
                let outcome =
                    tokio::time::timeout($crate::prism::CALL_LIMIT, $call.send()).await;
                contract.judge($crate::prism::Outcome::of(outcome, answered), KNOWN_DEFECTS);
            }
        )+

        const TESTED: &[&str] = &[$(stringify!($operation)),+];
    };
}
