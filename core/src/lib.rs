//! ephflow-core: the semantics of ephflow workflows.
//!
//! - [`registry`]: the VM provider plugin registry (`inventory`);
//! - [`graph`]: the workflow DAG (InvokeNext edges, ranks, conditionals, run conditions);
//! - [`validate`]: schema plus semantic validation, reporting every problem at once.
//!
//! No cloud SDK and no GitHub client here: providers and backends are separate crates.

#![warn(missing_docs)]

pub mod action;
pub mod backend;
pub mod conditions;
pub mod graph;
pub mod inject;
pub mod lifecycle;
pub mod picture;
pub mod plan;
pub mod provider;
pub mod reap;
pub mod registry;
pub mod retry;
pub mod scenarios;
#[cfg(test)]
mod test_support;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod text;
pub mod validate;

pub use ephflow_schema as schema;
pub use ephflow_schema::schemars;
