//! Uploads: the operations whose body is a `multipart/form-data` form (a certificate, an
//! avatar, a file edited in a repository, a hook script). Their builders have a setter for
//! each field the document declares; a file field takes an [`Upload`]: bytes, a file on disk
//! (streamed from it, never read whole) or any `Stream` of bytes, or anything that converts
//! into one (`&str`, `String`, `Vec<u8>`, `Bytes`).
//!
//! The body is a stream, so an upload is sent once: it is not retried on a 429 or 5xx (the
//! error says so, and the caller decides). The types are `bitbucket-cloud`'s, from
//! `bitbucket-core`.
//!
//! ```no_run
//! use bitbucket_data_center::upload::Upload;
//!
//! # async fn run(client: bitbucket_data_center::Client) -> Result<(), bitbucket_data_center::Error> {
//! // Edit a file on a branch: the form fields `content`, `branch`, `message`, `sourceCommitId`.
//! let commit = client
//!     .edit_file()
//!     .project_key("PROJ")
//!     .repository_slug("repo")
//!     .path("docs/index.md")
//!     .content(Upload::path("target/site/index.md"))
//!     .branch("main")
//!     .message("Update the docs")
//!     .source_commit_id("5636641a50b")
//!     .send()
//!     .await?;
//! println!("{commit:?}");
//! # Ok(())
//! # }
//! ```

pub use bitbucket_core::upload::Upload;
