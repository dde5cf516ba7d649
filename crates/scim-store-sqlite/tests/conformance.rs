//! The shared conformance suite against the SQLite store: one test per case,
//! each on a fresh database file (removed when the case's store is dropped).

mod common;

use scim_core::schema::Registry;
use scim_store::Store;
use std::sync::Arc;

async fn new_store(registry: Arc<Registry>) -> Option<Arc<dyn Store>> {
    // SQLite needs nothing from the machine but a temp dir: never skip.
    Some(Arc::new(common::TempStore::new("conformance", registry)))
}

scim_store::conformance_tests!(new_store);
