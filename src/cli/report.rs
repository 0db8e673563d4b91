//! Printing validation results for people and for scripts.

use super::stdout::outln;
use clap::ValueEnum;
use ephflow::core::validate::Report;
use ephflow::schema::{Diagnostic, Severity};
use serde::Serialize;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// One JSON document on standard output.
    Json,
}

/// The result for one file.
#[derive(Debug, Serialize)]
pub struct FileReport {
    file: String,
    valid: bool,
    errors: usize,
    warnings: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vm_actions: Option<usize>,
    diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    /// A file that could not be validated at all (unreadable, malformed).
    pub fn failed(file: String, diagnostics: Vec<Diagnostic>) -> Self {
        FileReport {
            file,
            valid: false,
            errors: diagnostics.len(),
            warnings: 0,
            actions: None,
            vm_actions: None,
            diagnostics,
        }
    }

    /// A validated file.
    pub fn from_validation(file: String, report: &Report, valid: bool) -> Self {
        FileReport {
            file,
            valid,
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            actions: report.workflow.as_ref().map(|w| w.action_list.len()),
            vm_actions: report.workflow.as_ref().map(|w| w.vm_actions().count()),
            diagnostics: report.diagnostics.clone(),
        }
    }
}

/// Prints all reports: diagnostics and a summary line per file.
pub fn print_reports(reports: &[FileReport], format: Format) {
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct All<'a> {
                valid: bool,
                files: &'a [FileReport],
            }
            let all = All {
                valid: reports.iter().all(|r| r.valid),
                files: reports,
            };
            outln!(
                "{}",
                serde_json::to_string_pretty(&all).expect("reports serialize")
            );
        }
        Format::Human => {
            for r in reports {
                for d in &r.diagnostics {
                    outln!("{}", render(d, &r.file));
                }
                outln!("{}", summary(r));
            }
        }
    }
}

/// Prints diagnostics to standard error (for commands whose standard output is a result).
pub fn print_diagnostics(diagnostics: &[Diagnostic], file: &str) {
    for d in diagnostics {
        eprintln!("{}", render(d, file));
    }
}

fn render(d: &Diagnostic, file: &str) -> String {
    let at = if d.pointer.is_empty() {
        String::new()
    } else {
        format!(" at {}", d.pointer)
    };
    let mut s = format!(
        "{}[{}]: {}: {}\n  --> {file}{at}",
        d.severity, d.code, d.subject, d.message
    );
    if let Some(e) = &d.expected {
        s.push_str(&format!("\n  expected: {e}"));
    }
    if let Some(h) = &d.hint {
        s.push_str(&format!("\n  hint: {h}"));
    }
    s.push('\n');
    s
}

fn summary(r: &FileReport) -> String {
    let counts = format!(
        "{} error{}, {} warning{}",
        r.errors,
        if r.errors == 1 { "" } else { "s" },
        r.warnings,
        if r.warnings == 1 { "" } else { "s" }
    );
    match (r.valid, r.actions, r.vm_actions) {
        (true, Some(a), Some(v)) => format!(
            "{}: valid ({a} action{}, {v} requiring the VM; {counts})",
            r.file,
            if a == 1 { "" } else { "s" }
        ),
        _ => format!("{}: INVALID ({counts})", r.file),
    }
}
