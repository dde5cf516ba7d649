//! The shared conformance suite against a real Redis: one test per case,
//! each under its own key prefix (a fresh uuid, its keys deleted when the
//! case ends), so cases never see each other. The server comes from
//! `SCIM_TEST_REDIS_URL` (for example `redis://127.0.0.1:6379`): unset,
//! every case prints `skipped:` and passes; set but unreachable, every case
//! fails, so CI that is meant to test Redis cannot pass without it.

mod common;

use scim_core::schema::Registry;
use scim_store::Store;
use std::sync::Arc;

async fn new_store(registry: Arc<Registry>) -> Option<Arc<dyn Store>> {
    let Some(url) = common::url() else {
        println!("skipped: {} is not set", common::URL_VAR);
        return None;
    };
    let config = common::single(&url, &common::fresh_prefix("conf"));
    Some(Arc::new(common::TempStore::new(config, registry).await))
}

scim_store::conformance_tests!(new_store);
