//! The OpenAPI document the client is generated from (feature `openapi`): the operations of
//! [`crate::operations`], their parameters, request bodies and responses, with the schemas
//! they use, as trimmed and patched by the crate (`spec/bitbucket.json`).
//!
//! For tools that need more than the operation table: JSON Schemas of parameters and bodies
//! for an MCP gateway or a form, request validation, documentation.
//!
//! ```
//! let document: serde_json::Value = serde_json::from_str(bitbucket_cloud::openapi::DOCUMENT)?;
//! let op = bitbucket_cloud::operations::by_name("create_pull_request").unwrap();
//! let post = &document["paths"][op.path]["post"];
//! assert_eq!(post["operationId"], "create_pull_request");
//! assert!(post["requestBody"]["content"]["application/json"]["schema"].is_object());
//! # Ok::<(), serde_json::Error>(())
//! ```

/// The document as JSON text (OpenAPI 3). Each operation's `operationId` is its name in
/// [`crate::operations`]; its path is [`crate::Operation::path`] under the base URL.
pub const DOCUMENT: &str = include_str!("../spec/bitbucket.json");
