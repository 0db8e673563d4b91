//! `ephflow graph`: draw a workflow.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ephflow::core::picture;
use ephflow::core::validate::validate_document;
use ephflow::exit::Exit;
use ephflow::schema::Severity;

use super::report::print_diagnostics;

/// Draw a workflow's DAG, original or augmented: VM actions and injected lifecycle actions
/// are styled apart, conditional edges labelled True/False, ranked edges ×N, and the entry
/// (FunctionInvoke) outlined.
///
/// Mermaid renders in GitHub Markdown (```mermaid blocks); DOT renders with Graphviz
/// (`dot -Tsvg`).
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The workflow JSON file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Picture language.
    #[arg(long, value_enum, default_value = "mermaid")]
    format: PictureFormat,
    /// Write the picture to this file (atomically) instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PictureFormat {
    Mermaid,
    Dot,
}

pub fn run(args: GraphArgs) -> Exit {
    let file = args.file.display().to_string();
    let doc = match super::load(&args.file) {
        Ok(doc) => doc,
        Err(exit) => return exit,
    };
    let report = match validate_document(&doc) {
        Ok(r) => r,
        Err(e) => return super::internal(e),
    };
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    let Some(workflow) = report.workflow.as_ref().filter(|_| errors.is_empty()) else {
        print_diagnostics(&errors, &file);
        eprintln!(
            "{file}: INVALID ({} errors); fix them with `ephflow validate` first",
            report.count(Severity::Error)
        );
        return Exit::InvalidInput;
    };
    let text = match args.format {
        PictureFormat::Mermaid => picture::mermaid(workflow),
        PictureFormat::Dot => picture::dot(workflow),
    };
    match args.output {
        None => {
            print!("{text}");
            Exit::Success
        }
        Some(path) => {
            match ephflow::io::write_atomic(&path, text.as_bytes(), &[args.file.as_path()]) {
                Ok(()) => Exit::Success,
                Err(e) => {
                    eprintln!("error: {e}");
                    Exit::Io
                }
            }
        }
    }
}
