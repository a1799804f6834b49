//! [`Completion`]: the result of an operation Bitbucket may finish later.

/// What an operation that can answer "accepted, still working" returned.
///
/// Merging a pull request answers 200 with the merged pull request, or 202 when the merge
/// runs asynchronously (`async=true`, or a merge that takes long); the `Location` header is
/// then the task-status URL to poll.
///
/// ```no_run
/// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
/// use bitbucket_cloud::Completion;
/// match client.repo("ws", "app").merge_pull_request().pull_request_id(42).send().await? {
///     Completion::Done(pr) => println!("merged: {:?}", pr.merge_commit),
///     Completion::Accepted { status_url } => println!("merging; poll {status_url:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub enum Completion<T> {
    /// The work is done; this is its result.
    Done(T),
    /// Bitbucket accepted the request (HTTP 202) and finishes it later.
    Accepted {
        /// The `Location` header: where to poll for the outcome.
        status_url: Option<String>,
    },
}

impl<T> Completion<T> {
    /// The result, if the work is done.
    pub fn done(self) -> Option<T> {
        match self {
            Completion::Done(value) => Some(value),
            Completion::Accepted { .. } => None,
        }
    }

    /// Whether Bitbucket is still working on it.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Completion::Accepted { .. })
    }
}
