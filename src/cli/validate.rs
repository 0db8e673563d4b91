//! `ephflow validate`: check workflow files against the schema and FaaSr's rules.

use std::path::PathBuf;

use clap::Args;
use ephflow::core::validate::validate_document;
use ephflow::exit::Exit;
use ephflow::schema::Severity;

use super::report::{FileReport, Format, print_reports};

/// Check workflow files: JSON syntax, the JSON Schema (including VMConfig and RequiresVM),
/// references between actions, servers and data stores, FaaSr's graph rules and the VM rules.
///
/// Every problem is reported, each with its JSON pointer, what was expected and a hint.
/// Exit code 0 when every file is valid (warnings allowed), 1 when one is invalid, 5 when one
/// cannot be read.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Workflow JSON files to check (`-` reads standard input).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format: human-readable text, or JSON for scripts.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
}

pub fn run(args: ValidateArgs) -> Exit {
    let mut reports = Vec::new();
    let mut exit = Exit::Success;
    for path in &args.files {
        let (report, code) = check_file(path, args.deny_warnings);
        exit = exit.max(code);
        reports.push(report);
    }
    print_reports(&reports, args.format);
    exit
}

fn check_file(path: &std::path::Path, deny_warnings: bool) -> (FileReport, Exit) {
    let name = path.display().to_string();
    let doc = match super::read_document(path) {
        Ok(doc) => doc,
        Err(failure) => {
            let (d, exit) = *failure;
            return (FileReport::failed(name, vec![d]), exit);
        }
    };
    let report = match validate_document(&doc) {
        Ok(r) => r,
        Err(e) => return (FileReport::failed(name, vec![]), super::internal(e)),
    };
    let denied = deny_warnings && report.count(Severity::Warning) > 0;
    let valid = report.is_valid() && !denied;
    let file = FileReport::from_validation(name, &report, valid);
    (
        file,
        if valid {
            Exit::Success
        } else {
            Exit::InvalidInput
        },
    )
}
