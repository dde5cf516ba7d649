//! How to open a store: the file, durability, and the limits of the
//! connection pool, the writer's batches and fallback scans.

use std::path::PathBuf;
use std::time::Duration;

/// SQLite's `PRAGMA synchronous` for the writer connection.
///
/// In WAL mode: `Full` syncs the WAL on every commit, so an acknowledged
/// write survives a power cut; `Normal` syncs only at checkpoints, so the
/// last commits can be lost on a machine crash (never corrupted); `Off`
/// leaves syncing to the OS; `Extra` also syncs the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    Off,
    Normal,
    #[default]
    Full,
    Extra,
}

impl Synchronous {
    /// The pragma value.
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }
}

/// Configuration of [`crate::SqliteStore::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    /// The database file (created if missing). A `file:` URI is opened as a
    /// URI, so `file:NAME?mode=memory&cache=shared` gives an in-memory
    /// database that the pooled connections share; `:memory:` is turned
    /// into such a URI with a unique name. In-memory databases cannot use
    /// WAL, so readers may wait for the writer there: for tests only.
    pub path: PathBuf,
    /// Durability of commits; default `Full`.
    pub synchronous: Synchronous,
    /// Read-only connections in the pool; default 4.
    pub readers: usize,
    /// Most write requests the writer runs in one transaction; default 256.
    pub max_batch: usize,
    /// Most rows a filter the store cannot translate to SQL may scan before
    /// the query fails with `TooMany`; default 100,000.
    pub max_scan: u64,
    /// How long a connection waits for a lock held by another process.
    pub busy_timeout: Duration,
    /// Bytes of the file each reader maps into memory (`PRAGMA mmap_size`);
    /// default 0 (off). Mapped pages spare a system call per page read, but
    /// every page a reader touches stays in the process's resident set, once
    /// per connection that maps it: random lookups in a database of a
    /// million users pushed the server past a gigabyte of RSS, where with
    /// reads through each connection's page cache (about 2 MB) it stays
    /// under 64 MiB for a small cost in CPU per lookup (docs/performance.md).
    pub mmap_size: u64,
}

impl SqliteConfig {
    /// Defaults for a database file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> SqliteConfig {
        SqliteConfig {
            path: path.into(),
            synchronous: Synchronous::default(),
            readers: 4,
            max_batch: 256,
            max_scan: 100_000,
            busy_timeout: Duration::from_secs(5),
            mmap_size: 0,
        }
    }
}
