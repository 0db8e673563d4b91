//! `ephflow graph`: draw a workflow.

use std::path::PathBuf;

use super::stdout::out;
use clap::{Args, ValueEnum};
use ephflow::core::picture;
use ephflow::exit::Exit;

/// Draw a workflow's DAG, original or augmented: VM actions and injected lifecycle actions
/// are styled apart, conditional edges labelled True/False, ranked edges ×N, and the entry
/// (FunctionInvoke) outlined.
///
/// Mermaid renders in GitHub Markdown (```mermaid blocks); DOT renders with Graphviz
/// (`dot -Tsvg`).
///
/// Exit codes: 0 drawn, 1 invalid workflow, 2 usage, 5 a file could not be read or written.
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
    let (_, workflow) = match super::load_valid(
        &args.file,
        true,
        "nothing drawn (`ephflow validate` shows every problem)",
    ) {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let text = match args.format {
        PictureFormat::Mermaid => picture::mermaid(&workflow),
        PictureFormat::Dot => picture::dot(&workflow),
    };
    match args.output {
        None => {
            out!("{text}");
            Exit::Success
        }
        Some(path) => {
            match ephflow::io::write_atomic(&path, text.as_bytes(), &[args.file.as_path()]) {
                Ok(()) => Exit::Success,
                Err(e) => super::write_failed(&e),
            }
        }
    }
}
