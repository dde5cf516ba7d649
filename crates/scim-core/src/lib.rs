//! `scim-core`: the SCIM 2.0 semantics of RFC 7643 and RFC 7644, pure and
//! synchronous. No I/O, no async, no HTTP, no database: every function here
//! is deterministic, so it can be tested by tables and fuzzed.
//!
//! Where each part lives:
//! - [`schema`]: attribute definitions, built-in and custom schemas, resource
//!   types, case-insensitive path resolution.
//! - [`validate`]: create/replace validation and normalisation.
//! - [`filter`]: filter AST, parser, printer, evaluator.
//! - [`path`] and [`patch::path`]: attribute paths and PATCH paths.
//! - [`patch`]: the PATCH engine and member deltas.
//! - [`projection`]: `attributes` / `excludedAttributes`.
//! - [`sort`]: the `sortBy` comparator.
//! - [`etag`]: versions as weak ETags, `If-Match` / `If-None-Match`.
//! - [`error`]: `ScimError`; [`messages`]: wire message types.

pub mod error;
pub mod etag;
pub mod filter;
pub mod members;
pub mod messages;
pub mod patch;
pub mod path;
pub mod projection;
pub mod schema;
pub mod sort;
pub mod validate;

pub use error::{ScimError, ScimType};
