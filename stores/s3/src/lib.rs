//! ephflow-s3: the [`CompletionStore`] on an S3-compatible bucket, FaaSr's DefaultDataStore.
//!
//! Completion markers and fan-in claims live where FaaSr keeps its data, so a workflow needs no
//! extra service: [`S3Store`] reads and writes small objects in the bucket a `DataStores` entry
//! names, and claims a key with a conditional PUT (`If-None-Match: *`), which S3 (since 2024),
//! MinIO, R2 and moto make atomic.
//!
//! Built on `object_store` rather than the AWS S3 SDK: the SDK takes minutes to compile on a
//! small machine, `object_store` seconds, and it already speaks SigV4, path-style requests and
//! conditional puts. Nothing is read from the environment here: credentials come from the
//! [`SecretSource`](ephflow_core::provider::SecretSource) the caller passes
//! (`<Name>_AccessKey`, `<Name>_SecretKey`), the rest from the `DataStore` entry and
//! [`S3Options`].
//!
//! [`CompletionStore`]: ephflow_core::action::store::CompletionStore

#![warn(missing_docs)]

mod error;
mod store;

pub use store::{S3Options, S3Store};
