//! Package and code-location maps (`FunctionGitRepo`, `FunctionCRANPackage`, ...).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of a package map: a single string or a list.
///
/// FaaSr does not constrain the list items, so they are kept as JSON values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single package or repository.
    One(String),
    /// Several packages or repositories.
    Many(Vec<Value>),
}

impl JsonSchema for OneOrMany {
    fn schema_name() -> Cow<'static, str> {
        "OneOrMany".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A single package or repository, or a list of them.",
            "type": ["string", "array"],
        })
    }
}
