//! Where completion markers and fan-in claims live: FaaSr's DefaultDataStore, an
//! S3-compatible bucket. A small dyn trait so the store is a plugin like providers are (the
//! S3 implementation is the `ephflow-s3` crate; tests and embedders may bring their own) and
//! one conformance suite (`testkit::conformance::check_store`) holds every implementation to
//! the same promises.

use crate::provider::ProviderError;

/// What a conditional create did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// This call created the object.
    Created,
    /// The object already existed: nothing was written.
    AlreadyExists,
}

/// An object store holding small objects under `/`-separated keys.
///
/// Single requests: the caller decides about retries. `create_new` must be atomic (exactly one
/// of any number of concurrent calls for one key gets [`Created::Created`]); on S3 that is a
/// PUT with `If-None-Match: *`.
#[async_trait::async_trait]
pub trait CompletionStore: Send + Sync {
    /// A short description for messages (`s3://bucket at endpoint`).
    fn describe(&self) -> String;

    /// Whether an object exists at `key`.
    async fn exists(&self, key: &str) -> Result<bool, ProviderError>;

    /// The object at `key`, or `None` when there is none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProviderError>;

    /// Writes `body` at `key`, replacing any object there.
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), ProviderError>;

    /// Writes `body` at `key` only when no object is there, atomically.
    async fn create_new(&self, key: &str, body: Vec<u8>) -> Result<Created, ProviderError>;
}
