//! Bitbucket Data Center client (placeholder while generating).
mod generated;
