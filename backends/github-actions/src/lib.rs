//! ephflow-github: the GitHub Actions execution backend (runners, dispatch, contents).
//!
//! Registered for ComputeServers of FaaSType `GitHubActions`. Token: `<Server>_PAT`, then
//! `GH_PAT`, then `GITHUB_TOKEN`; API base `GITHUB_API_URL` (GitHub Enterprise) or the public
//! API. Permissions: "Administration: read" for runners, "Actions: write" for dispatch,
//! "Contents: read" for files.

#![warn(missing_docs)]

mod backend;
pub mod render;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use backend::{GithubBackend, TokenSource};

/// The FaaSType this backend serves.
pub const FAAS_TYPE: &str = "GitHubActions";

inventory::submit! {
    ephflow_core::registry::BackendRegistration {
        faas_type: FAAS_TYPE,
        description: "GitHub Actions: hosted runners, and the VM's self-hosted runner",
        build: |ctx| Box::pin(async move {
            let backend = GithubBackend::build(&ctx)?;
            Ok(Box::new(backend) as Box<dyn ephflow_core::backend::ExecutionBackend>)
        }),
        render: |workflow, options| {
            render::render(workflow, options)
                .map(|files| files.into_iter().map(|f| (f.name, f.text)).collect())
                .map_err(|e| e.to_string())
        },
    }
}

/// Links this crate: call it (or `use ephflow_github as _;`) from a binary that should offer
/// the GitHub Actions backend.
pub fn register() {}
