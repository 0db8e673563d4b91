//! Command-line interface: argument definitions and dispatch.

mod report;
mod schema;
mod validate;

use clap::{Parser, Subcommand};
use ephflow::exit::Exit;

/// Ephemeral VMs for serverless FaaSr workflows.
///
/// ephflow validates FaaSr workflow files (including the VMConfig and RequiresVM fields of
/// FaaSr's EphFlow capability) and generates their JSON Schema.
///
/// Exit codes: 0 success, 1 invalid input (nothing written), 2 usage error, 3 cloud/backend
/// failure, 4 timeout, 5 file could not be read or written, 70 internal error.
#[derive(Debug, Parser)]
#[command(
    name = "ephflow",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Validate(validate::ValidateArgs),
    Schema(schema::SchemaArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Exit {
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Schema(args) => schema::run(args),
    }
}

/// Reports a registry failure (two linked crates claim one provider kind): a build problem.
fn internal(err: impl std::fmt::Display) -> Exit {
    eprintln!("ephflow: internal error: {err}");
    Exit::Internal
}
