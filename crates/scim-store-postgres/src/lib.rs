//! `scim-store-postgres`: the PostgreSQL backend of the SCIM server.
//!
//! ```ignore
//! let config = PgConfig::new("postgres://scim@db/scim");
//! let store = PgStore::connect(config, registry).await?; // migrates
//! store.ping().await?;                                    // readiness
//! ```
//!
//! Needs PostgreSQL 12 or later (`plan_cache_mode`, `starts_with`); tested
//! on 15. The store's schema, functions and migration table live in one
//! PostgreSQL schema of the configured name.
//!
//! # How it works
//!
//! - **diesel on diesel-async.** Connections are tokio-postgres ones (no
//!   libpq, no OpenSSL) in a deadpool pool; queries are diesel's typed
//!   builder where it fits (tenants, tokens) and `sql::Sql` statements
//!   (diesel `QueryFragment`s whose every value is a bound parameter)
//!   elsewhere. Why async rather than pooled sync diesel on
//!   `spawn_blocking`: `docs/adr/0001-postgres-async.md`.
//! - **Connections** put the store's schema alone on `search_path`, set
//!   `statement_timeout`, turn JIT off and use generic plans (see `db.rs`
//!   for the measurements behind both), all in the startup packet. Opening one and waiting for
//!   one are bounded by `connect_timeout`, so calls fail fast with
//!   `Unavailable` while the server is down; dead connections are dropped
//!   and the pool refills when it is back (`db.rs`).
//! - **Migrations** are embedded (diesel_migrations) and run by
//!   [`PgStore::connect`] and [`PgStore::migrate`], under an advisory lock so
//!   instances starting together take turns.
//! - **Filters** become SQL over JSONB with bound parameters (`filter.rs`),
//!   exact with respect to `scim_core::filter::matches`; the lookups identity
//!   providers make hit indexes. Case-insensitive comparisons read
//!   `doc_fold`, the document with string values lower-cased in Rust,
//!   because PostgreSQL's `lower()` folds per collation and disagrees with
//!   Rust's (final sigma, `İ`, ...). A conjunct too large for one statement
//!   is checked by the evaluator over the rows the rest selects, at most
//!   `max_scan` of them (else `TooMany`). Sorting and paging run in SQL
//!   (`sort.rs`, `query.rs`).
//! - **Contract rules in the database.** `userName` uniqueness is a unique
//!   index on a Rust-folded key; versions are compare-and-swapped with
//!   `UPDATE ... WHERE version = $n`; member existence is a foreign key;
//!   membership changes are single statements plus a version bump, in one
//!   transaction with the audit event (`mutate.rs`). Audit events are
//!   numbered per tenant by the first read after their commit, so writers
//!   never queue on a counter (`read.rs`, the `audit` table).
//!
//! # Schema
//!
//! In the configured PostgreSQL schema (created if missing), migration 1
//! creates (every table leads with `tenant`):
//!
//! | table | columns | keys and indexes |
//! |---|---|---|
//! | `tenants` | id uuid, name, created, audit_seq | PK id; UNIQUE name |
//! | `resources` | tenant, id uuid, kind, version, created, modified, user_name_key, external_id, display_name_key, email_keys text[], doc jsonb, doc_fold jsonb | PK (tenant, id); (tenant, kind, id); UNIQUE (tenant, user_name_key); (tenant, kind, external_id); (tenant, kind, display_name_key); GIN (email_keys) |
//! | `memberships` | tenant, group_id, member_id, member_kind | PK (tenant, group_id, member_id); (tenant, member_id, group_id); FKs to resources, cascading |
//! | `tokens` | id, tenant, hash, description, user_id, created, last_used, revoked, ordinal | PK id; (tenant, created, ordinal) |
//! | `audit` | tenant, id, seq, time, actor, request_id, op, kind, resource_id, version, change jsonb | PK (tenant, id); UNIQUE (tenant, seq); (tenant, id) WHERE seq IS NULL; (tenant, resource_id, seq) |
//!
//! plus the SQL functions `scim_time_key(text)` (RFC 3339 text to a
//! sortable key, exactly as chrono parses) and `scim_ts_key(timestamptz)`.
//! The `*_key` columns, `email_keys` and `doc_fold` are computed in Rust on
//! every write. Resource and audit times are whole milliseconds (what
//! `meta` shows); token times keep PostgreSQL's microseconds.

mod backend;
mod config;
mod db;
mod error;
mod filter;
mod json;
mod mutate;
mod query;
mod read;
mod rows;
mod schema;
mod sort;
mod sql;

pub use backend::PgStore;
pub use config::PgConfig;
