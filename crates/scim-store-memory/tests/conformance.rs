//! The shared conformance suite against the memory store: one test per case.

use scim_core::schema::Registry;
use scim_store::Store;
use scim_store_memory::MemoryStore;
use std::sync::Arc;

/// Always available: the memory store needs nothing from the machine.
async fn new_store(registry: Arc<Registry>) -> Option<Arc<dyn Store>> {
    Some(Arc::new(MemoryStore::new(registry)))
}

scim_store::conformance_tests!(new_store);
