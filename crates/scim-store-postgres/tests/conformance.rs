//! The shared conformance suite against a real PostgreSQL: one test per
//! case, each in a fresh schema (dropped afterwards), so cases never see
//! each other. The database comes from `SCIM_TEST_POSTGRES_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`): unset, every case prints
//! `skipped:` and passes; set but unreachable, every case fails, so CI that
//! is meant to test PostgreSQL cannot pass without it.

mod common;

use scim_core::schema::Registry;
use scim_store::Store;
use std::sync::Arc;

async fn new_store(registry: Arc<Registry>) -> Option<Arc<dyn Store>> {
    let Some(url) = common::url() else {
        println!("skipped: {} is not set", common::URL_VAR);
        return None;
    };
    Some(Arc::new(common::TempSchema::new(&url, "conf", registry).await))
}

scim_store::conformance_tests!(new_store);
