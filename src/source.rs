//! Reading a repository's files: [`RepoHandle::read_source`] tells a file (its bytes, streamed)
//! from a directory (its entries), and [`RepoHandle::source_meta`] gives what Bitbucket knows
//! of a path without its content (`format=meta`).

use std::collections::HashSet;

use crate::body::Body;
use crate::operations::GET_SOURCE;
use crate::transport;
use crate::{Error, RepoHandle, types};

/// How far a JSON answer is read to tell a directory listing from a file that holds JSON:
/// a listing page is far smaller; a longer answer is a file.
const LISTING_LIMIT: usize = 4 * 1024 * 1024;

/// Pages of a directory listing followed at most; a directory larger than this many pages
/// (of up to 100 entries) is cut there, with a warning.
const MAX_LISTING_PAGES: usize = 1000;

/// What a path holds at a commit: see [`RepoHandle::read_source`].
#[derive(Debug)]
#[non_exhaustive]
// Made once per call and matched at once: boxing the file would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Source {
    /// A file: its content, still to be read (see [`Body`]).
    File(Body),
    /// A directory: its entries (`commit_file`, `commit_directory`, and `commit_submodule`
    /// for a submodule), every page of the listing.
    Directory(Vec<types::TreeEntry>),
}

impl Source {
    /// The file's content, or `None` for a directory.
    pub fn into_file(self) -> Option<Body> {
        match self {
            Source::File(body) => Some(body),
            Source::Directory(_) => None,
        }
    }

    /// The directory's entries, or `None` for a file.
    pub fn into_directory(self) -> Option<Vec<types::TreeEntry>> {
        match self {
            Source::Directory(entries) => Some(entries),
            Source::File(_) => None,
        }
    }
}

impl RepoHandle<'_> {
    /// What `path` holds at `commit` (a hash, branch or tag): a file's content, or a
    /// directory's entries. `path` keeps its slashes (`src/lib.rs`); `""` is the root
    /// directory; a `..` segment is refused before anything is sent.
    ///
    /// Bitbucket answers a directory with a JSON listing, and a file with its bytes; a file
    /// that holds JSON is told from a listing by its shape, so a file is never mistaken for
    /// a directory unless it is a Bitbucket listing itself.
    ///
    /// ```no_run
    /// use bitbucket_cloud::source::Source;
    ///
    /// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
    /// let repo = client.repo("my-workspace", "my-repo");
    /// match repo.read_source("main", "src").await? {
    ///     Source::File(body) => println!("{}", body.text().await?),
    ///     Source::Directory(entries) => {
    ///         for entry in entries {
    ///             println!("{} {}", entry.type_.unwrap_or_default(), entry.path.unwrap_or_default());
    ///         }
    ///     }
    ///     _ => {}
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn read_source(&self, commit: &str, path: &str) -> Result<Source, Error> {
        let mut body = self
            .get_source()
            .commit(commit)
            .path(path)
            .send_streaming()
            .await?;
        let json = body
            .content_type()
            .is_some_and(|t| t.trim_start().starts_with("application/json"));
        if !json {
            return Ok(Source::File(body));
        }
        let Some(whole) = body.read_ahead(LISTING_LIMIT).await? else {
            return Ok(Source::File(body));
        };
        match listing(&whole) {
            Some(page) => self.rest_of_listing(page).await.map(Source::Directory),
            None => Ok(Source::File(Body::from_bytes(body, whole))),
        }
    }

    /// The content of the file at `path` and `commit`, streamed. A directory is an
    /// [`Error::InvalidRequest`] that says so: use [`RepoHandle::read_source`] to read either.
    ///
    /// ```no_run
    /// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
    /// let readme = client.repo("ws", "app").read_file("main", "README.md").await?.text().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn read_file(&self, commit: &str, path: &str) -> Result<Body, Error> {
        match self.read_source(commit, path).await? {
            Source::File(body) => Ok(body),
            Source::Directory(_) => Err(Error::InvalidRequest {
                operation: GET_SOURCE.name,
                message: format!(
                    "`{path}` is a directory at `{commit}`, not a file: read its entries with \
                     read_source"
                ),
            }),
        }
    }

    /// What Bitbucket knows of `path` at `commit` without its content (`format=meta`): its
    /// type (`commit_file`, `commit_directory`), and for a file its size, MIME type and
    /// attributes (in `extra`).
    ///
    /// ```no_run
    /// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
    /// let meta = client.repo("ws", "app").source_meta("main", "src/lib.rs").await?;
    /// assert_eq!(meta.type_.as_deref(), Some("commit_file"));
    /// println!("{} bytes", meta.extra["size"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn source_meta(&self, commit: &str, path: &str) -> Result<types::TreeEntry, Error> {
        let (client, request) = self
            .get_source()
            .commit(commit)
            .path(path)
            .format("meta")
            .into_request()
            .map_err(|e| Error::invalid_request(&GET_SOURCE, e))?;
        transport::execute(client, request, &GET_SOURCE)
            .await?
            .json(&GET_SOURCE)
    }

    /// The entries of `first` and of the pages its `next` links lead to; each page is a
    /// request of `get_source`, admitted (its path checked against the operation's) and
    /// audited like any other.
    async fn rest_of_listing(
        &self,
        first: types::PaginatedTreeEntries,
    ) -> Result<Vec<types::TreeEntry>, Error> {
        let client = self.client();
        let mut entries = first.values.unwrap_or_default();
        let mut next = first.next;
        let mut seen = HashSet::new();
        while let Some(link) = next.take() {
            if seen.len() >= MAX_LISTING_PAGES {
                tracing::warn!(
                    pages = seen.len(),
                    "a directory listing has more pages than read_source follows; cut there"
                );
                break;
            }
            if !seen.insert(link.clone()) {
                return Err(Error::PaginationLoop {
                    operation: GET_SOURCE.name,
                    pages: u64::try_from(seen.len()).unwrap_or(u64::MAX),
                });
            }
            let url = reqwest::Url::parse(&link).map_err(|e| Error::InvalidRequest {
                operation: GET_SOURCE.name,
                message: format!("the listing's `next` link is not a URL: {e}"),
            })?;
            if !client.inner.is_own_origin(&url) {
                return Err(Error::ForeignNextLink {
                    operation: GET_SOURCE.name,
                    origin: url.origin().ascii_serialization(),
                    expected: client.inner.base.origin().ascii_serialization(),
                });
            }
            let request = reqwest::Request::new(reqwest::Method::GET, url);
            let page = transport::execute(client, request, &GET_SOURCE).await?;
            let page: types::PaginatedTreeEntries = page.json(&GET_SOURCE)?;
            entries.extend(page.values.unwrap_or_default());
            next = page.next;
        }
        Ok(entries)
    }
}

/// `body` as a page of a directory listing, when it is one: a JSON object with `values`, each
/// a `commit_file`, `commit_directory` or `commit_submodule`, and a `pagelen`.
fn listing(body: &[u8]) -> Option<types::PaginatedTreeEntries> {
    let page: types::PaginatedTreeEntries = serde_json::from_slice(body).ok()?;
    page.pagelen?;
    let entries_are_tree_entries = page.values.as_ref()?.iter().all(|entry| {
        matches!(
            entry.type_.as_deref(),
            Some("commit_file" | "commit_directory" | "commit_submodule")
        )
    });
    entries_are_tree_entries.then_some(page)
}

#[cfg(test)]
mod tests {
    use super::listing;

    #[test]
    fn a_listing_is_told_from_a_json_file() {
        let page =
            br#"{"pagelen": 10, "values": [{"type": "commit_file", "path": "a.rs"}], "page": 1}"#;
        assert_eq!(listing(page).unwrap().values.unwrap().len(), 1);
        assert!(listing(br#"{"pagelen": 10, "values": []}"#).is_some());
        assert!(listing(br#"{"name": "my-package", "version": "1.0.0"}"#).is_none());
        assert!(listing(br#"{"values": [{"type": "commit_file"}]}"#).is_none());
        assert!(listing(br#"{"pagelen": 1, "values": [{"type": "user"}]}"#).is_none());
        assert!(listing(b"[1, 2]").is_none());
        assert!(listing(b"not json").is_none());
    }
}
