//! ephflow: ephemeral virtual machines for serverless FaaSr workflows.
//!
//! This facade re-exports the workspace crates and links every shipped plugin, so a program
//! that depends on `ephflow` gets the same providers as the `ephflow` binary:
//!
//! - [`schema`] (ephflow-schema): the workflow model, lossless documents, the JSON Schema;
//! - [`core`] (ephflow-core): the graph, validation and the plugin registry;
//! - [`aws`] (ephflow-aws): the AWS EC2 provider;
//! - [`command`] (ephflow-command): the Command provider (the workflow's own shell commands);
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

// The command-line interface lives in the library, so that a binary linking more plugins than
// the shipped ones (examples/provider-plugin) runs the very same commands: `cli_main`. Its
// modules name this crate `ephflow::...`, as a binary would; this alias lets them.
extern crate self as ephflow;

mod cli;
pub mod docs;
pub mod exit;
pub mod io;

pub use ephflow_aws as aws;
pub use ephflow_command as command;
pub use ephflow_core as core;
pub use ephflow_github as github;
pub use ephflow_schema as schema;

/// The provider kinds this crate links, sorted (the registry must hold exactly these).
pub const SHIPPED_PROVIDERS: &[&str] = &[ephflow_aws::KIND, ephflow_command::KIND];

/// The execution backends (by FaaSType) this crate links, sorted.
pub const SHIPPED_BACKENDS: &[&str] = &[ephflow_github::FAAS_TYPE];

/// Links every shipped plugin (their `inventory` registrations run only in linked crates).
pub fn register_plugins() {
    ephflow_aws::register();
    ephflow_command::register();
    ephflow_github::register();
}

/// Runs the `ephflow` command line on this process's arguments and returns its exit code:
/// what the `ephflow` binary's `main` does. A binary that links further plugin crates calls it
/// from its own `main` to get the same commands with those plugins registered too (their
/// `inventory` registrations are collected from every linked crate).
pub fn cli_main() -> std::process::ExitCode {
    use clap::Parser;
    // Name every shipped plugin so its registration is linked (see SHIPPED_PROVIDERS).
    register_plugins();
    init_logging();
    cli::run(cli::Cli::parse()).into()
}

/// What the log shows without `EPHFLOW_LOG`: warnings, except the AWS credential providers'.
/// When no credentials are found they warn with a debug dump of each failed link, and the
/// provider's own error already says what is missing and what to set.
const DEFAULT_LOG: &str = "warn,aws_config::meta::credentials=error,aws_config::imds=error,\
aws_config::profile=error,aws_config::web_identity_token=error,aws_config::ecs=error,\
aws_config::sts=error,aws_config::sso=error,aws_config::login=error";

/// Diagnostics go to standard error; `EPHFLOW_LOG=info` (or `debug`, or per-module directives)
/// shows what the lifecycle engine and providers do. Other crates are capped at `info`
/// whatever `EPHFLOW_LOG` says: below that they log request details, and the AWS request
/// signer logs the access key id at `debug`.
fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let wanted =
        EnvFilter::try_from_env("EPHFLOW_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG));
    let safe = filter_fn(|meta| {
        meta.target().starts_with("ephflow") || *meta.level() <= tracing::Level::INFO
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(wanted.and(safe));
    tracing_subscriber::registry().with(layer).init();
}
