//! ephflow: ephemeral virtual machines for serverless FaaSr workflows.
//!
//! This facade re-exports the workspace crates and links every shipped plugin, so a program
//! that depends on `ephflow` gets the same providers as the `ephflow` binary:
//!
//! - [`schema`] (ephflow-schema): the workflow model, lossless documents, the JSON Schema;
//! - [`core`] (ephflow-core): the graph, validation and the plugin registry;
//! - [`aws`] (ephflow-aws): the AWS EC2 provider;
//! - [`github`] (ephflow-github): the GitHub Actions execution backend.
//!
//! ```
//! ephflow::register_plugins(); // link the shipped plugins (see SHIPPED_PROVIDERS)
//! let text = std::fs::read_to_string("examples/ml-pipeline.json").unwrap();
//! let doc = ephflow::schema::Document::parse(&text).unwrap();
//! let report = ephflow::core::validate::validate_document(&doc).unwrap();
//! assert!(report.is_valid(), "{:?}", report.diagnostics);
//! ```

#![warn(missing_docs)]

pub mod exit;
pub mod io;

pub use ephflow_aws as aws;
pub use ephflow_core as core;
pub use ephflow_github as github;
pub use ephflow_schema as schema;

/// The provider kinds this crate links, sorted (the registry must hold exactly these).
pub const SHIPPED_PROVIDERS: &[&str] = &[ephflow_aws::KIND];

/// The execution backends (by FaaSType) this crate links, sorted.
pub const SHIPPED_BACKENDS: &[&str] = &[ephflow_github::FAAS_TYPE];

/// Links every shipped plugin (their `inventory` registrations run only in linked crates).
pub fn register_plugins() {
    ephflow_aws::register();
    ephflow_github::register();
}
