//! Generates the client from `spec/bitbucket-data-center.json` (written by
//! `cargo xtask dc-trim`) with the workspace's shared generator (`generator/`).

fn main() {
    bitbucket_generator::main(&bitbucket_generator::DATA_CENTER);
}
