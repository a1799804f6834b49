//! Generates the client from `spec/bitbucket.json` (written by `cargo xtask trim`) with the
//! workspace's shared generator (`generator/`).

fn main() {
    bitbucket_generator::main(&bitbucket_generator::CLOUD);
}
