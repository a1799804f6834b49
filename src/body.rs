//! Answers that are not JSON: files, logs, diffs and patches, read as a stream.
//!
//! Every operation whose answer is text or bytes has, beside `send()` (which reads it whole),
//! a `send_streaming()` that returns a [`Body`] once the status and headers are in. The body
//! is then read chunk by chunk, so memory stays bounded whatever its size (see the README
//! for the measured figure), or whole when it is small. The client's JSON size limit
//! ([`crate::ClientBuilder::max_json_body`]) does not apply; its time limit
//! ([`crate::ClientBuilder::timeout`]) does, from sending to the end of the body, so give a
//! client that downloads large files a longer one.
//!
//! When the operation redirects to storage (downloads, attachments, a finished step's log),
//! the body is the storage host's, fetched without credentials: see
//! [`crate::operations::Redirect`].
//!
//! ```no_run
//! use futures_util::TryStreamExt as _;
//!
//! # async fn run(client: bitbucket_cloud::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let repo = client.repo("my-workspace", "my-repo");
//!
//! // A large diff, line by line as it arrives.
//! let mut diff = repo.get_diff().spec("main..feature").send_streaming().await?;
//! let mut bytes = 0usize;
//! while let Some(chunk) = diff.chunk().await? {
//!     bytes += chunk.len();
//! }
//! println!("{bytes} bytes of diff");
//!
//! // A file, as a `Stream` of `Bytes` (to hand to a file, a hasher, an HTTP response).
//! let file = repo.get_source().commit("main").path("src/lib.rs").send_streaming().await?;
//! let chunks: Vec<bytes::Bytes> = file.into_stream().try_collect().await?;
//!
//! // A download, copied to a file through an `AsyncRead`.
//! let download = repo.get_download().filename("release.tar.gz").send_streaming().await?;
//! let mut out = tokio::fs::File::create("release.tar.gz").await?;
//! tokio::io::copy(&mut download.into_async_read(), &mut out).await?;
//!
//! // A patch, whole, as text.
//! let patch = repo.get_patch().spec("main..feature").send_streaming().await?.text().await?;
//! # Ok(())
//! # }
//! ```

use crate::Error;
use crate::operations::Operation;

/// The answer of a `send_streaming()`: its status and headers, and its body still to be read.
///
/// Read it with [`Body::chunk`] (one piece at a time), [`Body::into_stream`] (a `Stream` of
/// `Bytes`), or whole with [`Body::bytes`] and [`Body::text`]. Dropping it closes the
/// connection's body unread. The type is shared with `bitbucket-data-center` (through
/// `bitbucket-core`); its errors are this crate's [`Error`].
pub type Body = bitbucket_core::body::Body<Operation>;

/// The stream of [`Body::into_stream`]: the body's pieces as they arrive.
pub type BodyStream = bitbucket_core::body::BodyStream<Operation>;

/// The reader of [`Body::into_async_read`]: the body as a `tokio` `AsyncRead`.
pub use bitbucket_core::body::BodyReader;

impl bitbucket_core::body::Streaming for Operation {
    type Error = Error;

    fn body_error(&'static self, error: reqwest::Error) -> Error {
        Error::transport(self, error)
    }
}
