//! Prints the scopes a token needs for the operations given as arguments: the least set of
//! classic scopes (OAuth consumers, access tokens) and the granular scopes (API tokens).
//!
//! ```sh
//! cargo run --example scopes -- list_pull_requests merge_pull_request
//! ```
//!
//! Without arguments it prints them for a typical release bot.

use std::process::ExitCode;

use bitbucket_cloud::{operations, scopes};

const RELEASE_BOT: &[&str] = &[
    "get_pull_request",
    "list_pull_requests",
    "merge_pull_request",
    "create_branch",
    "run_pipeline",
    "get_pipeline",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = if args.is_empty() {
        println!("(no operations given; showing a release bot's)\n");
        RELEASE_BOT.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };

    let needs = match scopes::required_for(&names) {
        Ok(needs) => needs,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };

    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    for name in &names {
        // required_for has checked every name.
        let Some(op) = operations::by_name(name) else {
            continue;
        };
        let classic: Vec<String> = op.scopes.iter().map(|s| s.to_string()).collect();
        println!(
            "{name:width$}  {:6} {}  needs {}",
            op.method.as_str(),
            op.path,
            if classic.is_empty() {
                "no scope".to_string()
            } else {
                classic.join(" + ")
            }
        );
    }
    println!("\n{needs}");
    ExitCode::SUCCESS
}
