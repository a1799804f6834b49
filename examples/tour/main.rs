//! A tour of bitbucket-cloud: `cargo run --example tour`.
//!
//! With no credentials it starts a local Bitbucket (the `bitbucket-cloud-local` crate), seeds
//! it, and walks through a pull request's life, a pipeline and a webhook. With
//! `BITBUCKET_WORKSPACE` and credentials (`BITBUCKET_EMAIL` + `BITBUCKET_API_TOKEN`, or
//! `BITBUCKET_ACCESS_TOKEN`) it reads that workspace on Bitbucket Cloud instead, changing
//! nothing.

mod walk;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut out = std::io::stdout();
    let result = match walk::remote_from_env() {
        Ok(Some(remote)) => walk::remote(&remote, &mut out).await,
        Ok(None) => walk::local(&mut out).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tour failed: {error}");
            ExitCode::FAILURE
        }
    }
}
