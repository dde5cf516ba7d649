//! `scim-store-sqlite`: the embedded SQLite backend of the SCIM server.
//!
//! ```ignore
//! let store = SqliteStore::open(SqliteConfig::new("scim.db"), registry)?;
//! ```
//!
//! # How it works
//!
//! - **WAL, one writer.** A dedicated thread owns the only read-write
//!   connection. Requests reach it over a channel and are answered over a
//!   oneshot. It commits in groups (see `writer.rs`): the first queued
//!   request plus whatever else is queued (up to `max_batch`) run in one
//!   transaction, each in its own `SAVEPOINT`, so one failing request is
//!   rolled back alone; one `COMMIT` (one fsync at `synchronous = FULL`)
//!   makes the whole batch durable before anyone is answered.
//! - **Checkpoints** run on a thread of their own (`checkpoint.rs`), so no
//!   commit waits for pages to be copied from the WAL into the database.
//! - **Readers.** A pool of `readers` read-only connections serves reads on
//!   `spawn_blocking`; WAL lets them run while the writer writes. Point
//!   reads (one resource by id, a user's groups, a token, a query pinned by
//!   `userName eq` or `id eq`) and reads of exactly what they return (a
//!   page of the index, a page's groups) run on the calling thread
//!   instead, on connections of their own, one per core, sharing a 16 MiB
//!   page cache: the hand-off to another thread and back costs a large
//!   share of such a read (see `pool.rs`). A page of the index that would
//!   step over rows it does not return (rank checkpoints not current) goes
//!   back to the pool (`query::Work`). A read that takes several
//!   statements runs in one read transaction (one snapshot), as a page's
//!   groups (`groups_of_each`: the memberships, then the groups) do; a
//!   point query and a user's direct groups are one statement each.
//! - **Index paging** without a filter takes its total from
//!   `resource_counts` and starts deep pages from in-memory rank
//!   checkpoints (every 16th id) valid for the snapshot's `gen` (see
//!   `ranks.rs`), so a page costs the same at any `startIndex`.
//! - **Filters** become SQL with bound parameters (`sql.rs`), exact with
//!   respect to `scim_core::filter::matches`; the lookups identity providers
//!   make hit indexes. A conjunct that cannot be written in SQL is checked by
//!   the evaluator over the rows the rest selects, at most `max_scan` of them
//!   (else `TooMany`). Sorting and paging run in SQL (`query.rs`).
//! - **Contract rules in the database.** `userName` uniqueness is a unique
//!   index on a Unicode-folded key; versions are compare-and-swapped in the
//!   writer; each mutation writes its audit row in its own savepoint;
//!   membership changes are single-row statements plus a version bump.
//!
//! # Schema
//!
//! Embedded numbered migrations (`migrations/NNNN_*.sql`) run when the store
//! opens; `PRAGMA user_version` counts the applied ones, so reopening is a
//! no-op. Migrations 1-5 create (every table but `verdict_seal` leads with
//! `tenant`):
//!
//! | table | columns | keys and indexes |
//! |---|---|---|
//! | `tenants` | id, name, created | PK id; UNIQUE name |
//! | `resources` | tenant, kind, id, version, created, modified, user_name_key, external_id, display_name_key, doc (JSON text), created_seq, verdict (migration 4: a user's `Verdict`, 16 bytes, set by `scim_verdict` on every write of `doc`, and for every user at an open whose check's seal differs from `verdict_seal`'s) | PK (tenant, kind, id), without rowid since migration 3 (a read by id is one B-tree walk; a page in id order is neighbouring rows); UNIQUE (tenant, kind, user_name_key); (tenant, kind, external_id); (tenant, kind, display_name_key); planner statistics in `sqlite_stat1` |
//! | `verdict_seal` (migration 5) | seal | one row: the seal of the check the stored verdicts were found by |
//! | `resource_counts` (migration 2) | tenant, kind, n, gen | PK (tenant, kind), without rowid; kept by triggers on `resources` inserts and deletes |
//! | `resource_emails` | tenant, value_key (lower-cased), resource_id, type | PK (tenant, value_key, resource_id), without rowid |
//! | `memberships` | tenant, group_id, member_id, member_kind | PK (tenant, group_id, member_id); (tenant, member_id) |
//! | `tokens` | id, tenant, hash, description, user_id, created, last_used, revoked | PK id; (tenant, created) |
//! | `audit` | tenant, seq, time, actor, request_id, op, kind, resource_id, version, change (JSON), origin | PK (tenant, seq), without rowid; (tenant, resource_id, seq) WHERE op <> 'create' |
//!
//! Indexes keyed by random UUIDs cost every write a page, so there are as
//! few as the lookups need: no separate index on resource ids (a lookup
//! without a kind probes the primary key with both kinds), emails keyed by
//! value only, and the audit index by resource leaves out create events
//! (`resources.created_seq` and the delete event's `origin` point at them).
//!
//! `user_name_key` and `display_name_key` are Rust `to_lowercase()` of the
//! attribute (the evaluator's folding; SQLite's `lower()` is ASCII-only), so
//! they are computed in Rust on every write; a user's `userName eq "x"`
//! is therefore answered by `user_name_key` alone, the document unread.
//! Timestamps are RFC 3339 text in UTC; resource and audit times are whole
//! milliseconds, the precision `meta` shows. Resource ids are lower-case
//! UUID v4.
//!
//! Custom SQL functions (`scim_fold`, `scim_time`, `scim_sort_key`) are
//! registered on every connection; no index or constraint uses them, so the
//! file stays readable and writable with the plain `sqlite3` shell.

mod backend;
mod checkpoint;
mod config;
mod db;
mod error;
mod functions;
mod mutate;
mod pool;
mod query;
mod ranks;
mod read;
mod rows;
mod sql;
mod writer;

pub use backend::{SqliteStore, WriterStats};
pub use config::{SqliteConfig, Synchronous};
