//! Command-line interface: argument definitions and dispatch.

mod action;
mod augment;
mod doctor;
mod graph;
mod iam;
mod plan;
mod progress;
mod reap;
mod register;
mod report;
mod schema;
mod stdout;
mod validate;
mod vm;

use std::path::Path;

use clap::{Parser, Subcommand};
use ephflow::core::validate::validate_document;
use ephflow::exit::Exit;
use ephflow::schema::{Diagnostic, Document, ParseError};

/// Ephemeral VMs for serverless FaaSr workflows.
///
/// ephflow validates FaaSr workflow files (including the VMConfig and RequiresVM fields of
/// FaaSr's EphFlow capability), injects the VM lifecycle actions, draws the workflow graph,
/// plans the strategies (Gantt chart), drives and reaps the VM, checks a setup (doctor) and
/// prints its least-privilege IAM policy, renders and starts the GitHub Actions workflows, runs
/// the lifecycle actions natively inside their jobs, and generates the workflow JSON Schema.
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
    Augment(augment::AugmentArgs),
    Graph(graph::GraphArgs),
    Plan(plan::PlanArgs),
    IamPolicy(iam::IamPolicyArgs),
    Doctor(doctor::DoctorArgs),
    Vm(vm::VmArgs),
    Action(action::ActionArgs),
    Register(register::RegisterArgs),
    Invoke(register::InvokeArgs),
    Schema(schema::SchemaArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Exit {
    let exit = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Augment(args) => augment::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Plan(args) => plan::run(args),
        Command::IamPolicy(args) => iam::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Vm(args) => vm::run(args),
        Command::Action(args) => action::run(args),
        Command::Register(args) => register::register(args),
        Command::Invoke(args) => register::invoke(args),
        Command::Schema(args) => schema::run(args),
    };
    stdout::finish(exit)
}

/// Reports a registry failure (two linked crates claim one provider kind): a build problem.
fn internal(err: impl std::fmt::Display) -> Exit {
    eprintln!("ephflow: internal error: {err}");
    Exit::Internal
}

/// Reads and parses a workflow file; on failure, the diagnostic and the exit code.
fn read_document(path: &Path) -> Result<Document, Box<(Diagnostic, Exit)>> {
    let text = match ephflow::io::read_text(path) {
        Ok(t) => t,
        Err(ephflow::io::IoError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::InvalidData =>
        {
            let d = Diagnostic::error("malformed-json", "", "the file is not UTF-8 text")
                .hint("save the workflow as UTF-8 JSON");
            return Err(Box::new((d, Exit::InvalidInput)));
        }
        Err(e) => {
            let hint = if path.is_dir() {
                "give a workflow file, not a directory (for several files: DIR/*.json)"
            } else {
                "check the path and the file's permissions"
            };
            let d = Diagnostic::error("unreadable", "", e.to_string()).hint(hint);
            return Err(Box::new((d, Exit::Io)));
        }
    };
    if text.trim().is_empty() {
        let d = Diagnostic::error("malformed-json", "", "the file is empty")
            .hint("a workflow file is one JSON object: { ... }");
        return Err(Box::new((d, Exit::InvalidInput)));
    }
    Document::parse(&text).map_err(|e| {
        let diagnostic = match &e {
            ParseError::Syntax { .. } => Diagnostic::error("malformed-json", "", e.to_string())
                .hint("fix the JSON syntax at that position"),
            ParseError::NotAnObject { .. } => {
                Diagnostic::error("malformed-json", "", e.to_string())
                    .hint("a workflow file is one JSON object: { ... }")
            }
            ParseError::DuplicateKey { pointer, .. } => {
                Diagnostic::error("duplicate-key", pointer.clone(), e.to_string())
                    .hint("keep one of the two entries (merge them if both hold something)")
            }
        };
        Box::new((diagnostic, Exit::InvalidInput))
    })
}

/// [`read_document`] for commands that print problems to standard error as they go.
fn load(path: &Path) -> Result<Document, Exit> {
    read_document(path).map_err(|failure| {
        let (d, exit) = *failure;
        report::print_diagnostics(&[d], &path.display().to_string());
        exit
    })
}

/// Loads and validates a workflow for a command that needs a valid one. Prints the problems
/// to standard error (all of them, or only the errors when `quiet_warnings`); on invalid input
/// says `consequence` (for example "nothing written") and returns the exit code.
fn load_valid(
    path: &Path,
    quiet_warnings: bool,
    consequence: &str,
) -> Result<(Document, ephflow::schema::model::Workflow), Exit> {
    let file = path.display().to_string();
    let doc = load(path)?;
    let report = validate_document(&doc).map_err(internal)?;
    let shown: Vec<Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| !quiet_warnings || d.is_error())
        .cloned()
        .collect();
    report::print_diagnostics(&shown, &file);
    if !report.is_valid() {
        eprintln!(
            "{file}: INVALID ({}); {consequence}",
            count(report.count(ephflow::schema::Severity::Error), "error")
        );
        return Err(Exit::InvalidInput);
    }
    let workflow = report
        .workflow
        .expect("a valid report has the typed workflow");
    Ok((doc, workflow))
}

/// Reports a failed write and gives its exit code: an output that would replace an input is
/// a bad command line (2), anything else a file problem (5).
fn write_failed(e: &ephflow::io::IoError) -> Exit {
    eprintln!("error: {e}");
    match e {
        ephflow::io::IoError::WouldOverwriteInput { .. } => Exit::Usage,
        _ => Exit::Io,
    }
}

/// `1 error`, `2 errors`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The exit code for a classified cloud or backend failure.
fn exit_for(class: ephflow::core::provider::ErrorClass) -> Exit {
    use ephflow::core::provider::ErrorClass;
    match class {
        ErrorClass::InvalidInput => Exit::InvalidInput,
        ErrorClass::Timeout => Exit::Timeout,
        _ => Exit::CloudFailure,
    }
}

/// A single-threaded runtime for the commands that talk to clouds and backends.
fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(internal)
}
