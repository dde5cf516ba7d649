//! Test helpers shared by this crate's integration tests: fresh database
//! files in unique temporary directories, removed when the store is gone.
#![allow(dead_code, reason = "each test binary uses part of the helpers")]
#![allow(clippy::expect_used, reason = "test helpers: a failed setup must fail the test")]

use scim_core::schema::Registry;
use scim_store_sqlite::{SqliteConfig, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A unique directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("scim-sqlite-{label}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("scim.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Opens a store on `dir/scim.db` with default settings.
pub fn open(dir: &TempDir, registry: Arc<Registry>) -> SqliteStore {
    SqliteStore::open(SqliteConfig::new(dir.db()), registry).expect("open the store")
}

/// A store that owns its temp directory: the store is dropped (its writer
/// joined, its files closed) before the directory is removed.
pub struct TempStore {
    pub store: SqliteStore,
    _dir: TempDir,
}

impl TempStore {
    pub fn new(label: &str, registry: Arc<Registry>) -> TempStore {
        let dir = TempDir::new(label);
        TempStore {
            store: open(&dir, registry),
            _dir: dir,
        }
    }
}

scim_store::forward_store!(TempStore, store);
