//! One entry of `DataStores`: an S3-compatible bucket.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An S3-compatible data store. Its credentials come from the secrets `<Name>_AccessKey` and
/// `<Name>_SecretKey`, named after the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataStore {
    /// S3 endpoint URL, with its scheme (`https://play.min.io`); omit for AWS S3.
    #[serde(rename = "Endpoint", default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::names::S3_ENDPOINT))]
    pub endpoint: Option<String>,
    /// Bucket name.
    #[serde(rename = "Bucket")]
    #[schemars(length(min = 1))]
    pub bucket: String,
    /// Bucket region.
    #[serde(rename = "Region", default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Access key reference (prefer the `<Name>_AccessKey` secret).
    #[serde(rename = "AccessKey", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub access_key: Option<String>,
    /// Secret key reference (prefer the `<Name>_SecretKey` secret).
    #[serde(rename = "SecretKey", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub secret_key: Option<String>,
    /// `"TRUE"` when actions may write to this store.
    #[serde(rename = "Writable", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub writable: Option<String>,
    /// `"TRUE"` for anonymous (unsigned) access.
    #[serde(rename = "Anonymous", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub anonymous: Option<String>,
}
