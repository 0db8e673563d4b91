//! ephflow-schema: the declarative language of ephflow.
//!
//! - [`model`]: typed FaaSr workflow documents (serde + schemars);
//! - [`Document`]: lossless reading and writing (key order, unknown keys, 4-space indent);
//! - [`document_schema`]: the JSON Schema generated from the model, composed with the schemas
//!   of the VM providers given to it (this crate knows no providers itself);
//! - [`SchemaValidator`]: validation with messages that name the culprit and suggest a fix.

#![warn(missing_docs)]

pub mod diagnostic;
pub mod document;
pub mod generate;
mod json_text;
pub mod model;
pub mod names;
pub mod pointer;
pub mod suggest;
pub mod validate;

pub use diagnostic::{Diagnostic, Severity};
pub use document::{Document, ModelError, ParseError};
pub use generate::{Draft, ProviderSchema, document_schema};
pub use validate::{SchemaCompileError, SchemaValidator};

/// Re-exported so provider crates name the same schemars version.
pub use schemars;
