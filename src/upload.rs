//! Uploads: files sent as `multipart/form-data`, for a commit made from files
//! ([`RepoHandle::commit_files`]) and for a repository's downloads
//! ([`RepoHandle::upload_download_file`]). The other uploads take an [`Upload`] on their
//! builders' setters: `upload_issue_attachment().files(..)`, `import_issues().archive(..)`.
//!
//! An [`Upload`] is some bytes, a file on disk (streamed from it, never read whole) or any
//! `Stream` of bytes. Its body is a stream, so an upload is sent once: it is not retried on a
//! 429 or 5xx (the error says so, and the caller decides).
//!
// Without the feature, the method is not in this build's docs: the link goes to docs.rs, which
// builds every feature.
#![cfg_attr(
    not(feature = "downloads"),
    doc = "[`RepoHandle::upload_download_file`]: https://docs.rs/bitbucket-cloud/latest/bitbucket_cloud/struct.RepoHandle.html#method.upload_download_file"
)]

use reqwest::multipart::Form;

use crate::operations::Operation;
use crate::transport;
use crate::{Error, RepoHandle};

/// The content of one file to upload: bytes, a file on disk, or a stream (shared with
/// `bitbucket-data-center`, from `bitbucket-core`).
///
/// ```
/// use bitbucket_cloud::upload::Upload;
///
/// let readme = Upload::bytes("# My project\n");
/// let artifact = Upload::path("target/release/app.tar.gz");
/// let streamed = Upload::stream(
///     futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"hello"))]),
/// )
/// .file_name("hello.txt");
/// ```
pub use bitbucket_core::upload::Upload;

/// A commit made from files: see [`RepoHandle::commit_files`].
///
/// ```
/// use bitbucket_cloud::upload::{NewCommit, Upload};
///
/// let commit = NewCommit::new("Update the docs")
///     .branch("main")
///     .author("Release Bot <bot@example.com>")
///     .file("docs/index.md", Upload::bytes("# Docs\n"))
///     .delete("docs/old.md");
/// ```
#[derive(Debug)]
#[must_use]
pub struct NewCommit {
    message: String,
    branch: Option<String>,
    author: Option<String>,
    parents: Vec<String>,
    files: Vec<(String, Upload)>,
    deleted: Vec<String>,
}

impl NewCommit {
    /// A commit with this message, on the repository's main branch unless
    /// [`NewCommit::branch`] names another.
    pub fn new(message: impl Into<String>) -> NewCommit {
        NewCommit {
            message: message.into(),
            branch: None,
            author: None,
            parents: Vec::new(),
            files: Vec::new(),
            deleted: Vec::new(),
        }
    }

    /// The branch to commit on (created from the parents when it does not exist).
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = Some(branch.into());
        self
    }

    /// The author, as `Name <email>`; the caller by default.
    pub fn author(mut self, author: impl Into<String>) -> Self {
        self.author = Some(author.into());
        self
    }

    /// A parent commit (a hash); by default the branch's head.
    pub fn parent(mut self, hash: impl Into<String>) -> Self {
        self.parents.push(hash.into());
        self
    }

    /// Adds or replaces the file at `path` (`src/lib.rs`) with `content`.
    pub fn file(mut self, path: impl Into<String>, content: Upload) -> Self {
        self.files.push((path.into(), content));
        self
    }

    /// Deletes the file at `path`.
    pub fn delete(mut self, path: impl Into<String>) -> Self {
        self.deleted.push(path.into());
        self
    }
}

impl RepoHandle<'_> {
    /// Makes a commit from files (`POST …/src`, as `multipart/form-data`): each file of
    /// `commit` added or replaced at its path, each deleted path removed. Returns the new
    /// commit's hash, from the `Location` Bitbucket answers with (`None` if it sends none).
    ///
    /// The upload is sent once, never retried (see [`crate::upload`]).
    ///
    /// ```no_run
    /// use bitbucket_cloud::upload::{NewCommit, Upload};
    ///
    /// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
    /// let hash = client
    ///     .repo("my-workspace", "my-repo")
    ///     .commit_files(
    ///         NewCommit::new("Add the release notes")
    ///             .branch("main")
    ///             .file("RELEASE.md", Upload::bytes("## 1.2.0\n"))
    ///             .file("dist/app.tar.gz", Upload::path("target/app.tar.gz")),
    ///     )
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "source")]
    #[cfg_attr(docsrs, doc(cfg(feature = "source")))]
    pub async fn commit_files(&self, commit: NewCommit) -> Result<Option<String>, Error> {
        const OPERATION: &Operation = &crate::operations::CREATE_COMMIT;
        let (client, request) = self
            .create_commit()
            .into_request()
            .map_err(|e| Error::invalid_request(OPERATION, e))?;
        // Field names are the files' paths, sent as written (as `curl -F path=@file` does):
        // Bitbucket reads no RFC 5987 `name*=`. A quote or line break cannot be sent so.
        if let Some((path, _)) = commit
            .files
            .iter()
            .find(|(path, _)| path.contains(['"', '\r', '\n']) || path.is_empty())
        {
            return Err(Error::InvalidRequest {
                operation: OPERATION.name,
                message: format!(
                    "the file path {path:?} is empty or holds a quote or line break, which a \
                     multipart field name cannot carry"
                ),
            });
        }
        let mut form = Form::new()
            .percent_encode_noop()
            .text("message", commit.message);
        if let Some(branch) = commit.branch {
            form = form.text("branch", branch);
        }
        if let Some(author) = commit.author {
            form = form.text("author", author);
        }
        if !commit.parents.is_empty() {
            form = form.text("parents", commit.parents.join(","));
        }
        for path in commit.deleted {
            form = form.text("files", path);
        }
        for (path, upload) in commit.files {
            let default_name = path.rsplit('/').next().unwrap_or(&path).to_string();
            let part =
                upload
                    .into_part(&default_name)
                    .await
                    .map_err(|message| Error::InvalidRequest {
                        operation: OPERATION.name,
                        message,
                    })?;
            form = form.part(path, part);
        }
        let request = multipart(client, request, form, OPERATION)?;
        let answer = transport::execute(client, request, OPERATION).await?;
        let hash = answer
            .headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|location| location.trim_end_matches('/').rsplit('/').next())
            .filter(|hash| !hash.is_empty())
            .map(str::to_string);
        Ok(hash)
    }

    /// Uploads a file to the repository's downloads (`POST …/downloads`, as
    /// `multipart/form-data`), under its file name; a download of the same name is replaced.
    ///
    /// The upload is sent once, never retried (see [`crate::upload`]).
    ///
    /// ```no_run
    /// use bitbucket_cloud::upload::Upload;
    ///
    /// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
    /// let repo = client.repo("my-workspace", "my-repo");
    /// repo.upload_download_file(Upload::path("target/app-1.2.0.tar.gz")).await?;
    /// let bytes = repo.get_download().filename("app-1.2.0.tar.gz").send().await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "downloads")]
    #[cfg_attr(docsrs, doc(cfg(feature = "downloads")))]
    pub async fn upload_download_file(&self, file: Upload) -> Result<(), Error> {
        // The generated builder would send a nameless file as `files`; a download is found by
        // its name, so one must be given.
        if file.name().is_none() {
            return Err(Error::InvalidRequest {
                operation: crate::operations::UPLOAD_DOWNLOAD.name,
                message: "a download needs a file name: set it with Upload::file_name".into(),
            });
        }
        self.upload_download().files(file).send().await
    }
}

/// `request` (as the builder made it: method, URL, headers) with `form` as its body instead
/// of the builder's.
fn multipart(
    client: &crate::Client,
    request: reqwest::Request,
    form: Form,
    operation: &Operation,
) -> Result<reqwest::Request, Error> {
    bitbucket_core::upload::with_multipart(&client.client, request, form).map_err(|message| {
        Error::InvalidRequest {
            operation: operation.name,
            message,
        }
    })
}
