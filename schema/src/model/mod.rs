//! The typed model of a FaaSr workflow file.
//!
//! These types define the format: serde reads and writes them, and schemars generates the JSON
//! Schema from them (doc comments become the schema's descriptions, shown by editors).

mod action;
mod datastore;
mod invoke;
mod packages;
mod servers;
mod vm;
mod workflow;

pub use action::{Action, ActionType, Resources};
pub use datastore::DataStore;
pub use invoke::{
    ActionRef, ActionRefError, Branch, ConditionalBranches, EdgeSlot, InvokeEdge, InvokeItem,
    InvokeNext,
};
pub use packages::OneOrMany;
pub use servers::{ComputeServer, FaaSType};
pub use vm::VmConfig;
pub use workflow::{NonEmptyString, PackageMap, Workflow};
