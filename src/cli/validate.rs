//! `ephflow validate`: check workflow files against the schema and FaaSr's rules.

use std::path::PathBuf;

use clap::Args;
use ephflow::core::validate::validate_document;
use ephflow::exit::Exit;
use ephflow::schema::{Diagnostic, Document, ParseError, Severity};

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
    let text = match ephflow::io::read_text(path) {
        Ok(t) => t,
        Err(ephflow::io::IoError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::InvalidData =>
        {
            let d = Diagnostic::error("malformed-json", "", "the file is not UTF-8 text")
                .hint("save the workflow as UTF-8 JSON");
            return (FileReport::failed(name, vec![d]), Exit::InvalidInput);
        }
        Err(e) => {
            let d = Diagnostic::error("unreadable", "", e.to_string())
                .hint("check the path and the file's permissions");
            return (FileReport::failed(name, vec![d]), Exit::Io);
        }
    };
    let doc = match Document::parse(&text) {
        Ok(doc) => doc,
        Err(e) => {
            let hint = match e {
                ParseError::Syntax { .. } => "fix the JSON syntax at that position",
                ParseError::NotAnObject { .. } => "a workflow file is one JSON object: { ... }",
            };
            let d = Diagnostic::error("malformed-json", "", e.to_string()).hint(hint);
            return (FileReport::failed(name, vec![d]), Exit::InvalidInput);
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
