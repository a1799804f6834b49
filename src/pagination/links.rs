//! The links a list is read through: checking a `next` link's origin, and the one narrow
//! rewrite of a link that concurrent fetching needs (the `page` number, edited as raw text by
//! `bitbucket_core::pagination::query`, every other byte kept).

use bitbucket_core::pagination::query;
pub(crate) use bitbucket_core::pagination::query::{has_param, without_param};
use reqwest::Url;

use crate::operations::Operation;
use crate::{Client, Error};

/// `link` (a `next` link, or a saved cursor) resolved against `from`, if it is on the client's
/// origin (scheme, host and port). Nothing is sent to another origin: credentials go with
/// every request.
pub(crate) fn same_origin(
    client: &Client,
    from: Option<&Url>,
    link: &str,
    operation: &Operation,
) -> Result<Url, Error> {
    let parsed = match from {
        Some(from) => from.join(link),
        None => Url::parse(link),
    };
    let url = parsed.map_err(|e| Error::InvalidRequest {
        operation: operation.name,
        message: format!(
            "the pagination link is not a URL ({e}); pass the `next` link or the saved cursor as \
             it was given"
        ),
    })?;
    if !client.inner.is_own_origin(&url) {
        return Err(Error::ForeignNextLink {
            operation: operation.name,
            origin: url.origin().ascii_serialization(),
            expected: client.inner.base.origin().ascii_serialization(),
        });
    }
    Ok(url)
}

/// The page number a link asks for, when it has exactly one `page` parameter and it is a
/// number (`page=3`; not an opaque cursor such as `page=dbtR`).
pub(crate) fn page_number(url: &Url) -> Option<u64> {
    query::number(url, "page")
}

/// `url` asking for page `number`: its `page` value replaced, or `page=number` appended when it
/// has none. Every other byte of the query is kept.
pub(crate) fn with_page(url: &Url, number: u64) -> Url {
    query::with_number(url, "page", number)
}
