//! The in-memory completion store keeps the promises every store must keep (the S3 store runs
//! the same suite against moto in its own crate).

use std::sync::Arc;

use ephflow_core::testkit::conformance::check_store;
use ephflow_core::testkit::memory_store::MemoryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_conforms() {
    let store = Arc::new(MemoryStore::new());
    check_store(store.clone(), "run-1").await;
    assert!(store.keys().iter().all(|k| k.starts_with("run-1/")));
}
