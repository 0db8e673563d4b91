//! `ephflow schema`: print or write the workflow JSON Schema.

use std::path::PathBuf;

use super::stdout::out;
use clap::{Args, ValueEnum};
use ephflow::exit::Exit;
use ephflow::schema::Draft;

/// Print the JSON Schema of workflow files, including every linked VM provider's VMConfig
/// fields.
///
/// Point an editor at it (or add "$schema" to a workflow) for completion and inline errors.
///
/// Exit codes: 0 printed or written, 2 usage, 5 the output could not be written.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// JSON Schema dialect: 2020-12 (what ephflow validates with) or 07 (for older editors).
    #[arg(long, value_enum, default_value = "2020-12")]
    draft: DraftArg,
    /// Write the schema to this file (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DraftArg {
    #[value(name = "2020-12")]
    Draft2020_12,
    #[value(name = "07")]
    Draft07,
}

pub fn run(args: SchemaArgs) -> Exit {
    let draft = match args.draft {
        DraftArg::Draft2020_12 => Draft::Draft2020_12,
        DraftArg::Draft07 => Draft::Draft07,
    };
    let schema = match ephflow::core::validate::document_schema(draft) {
        Ok(s) => s,
        Err(e) => return super::internal(e),
    };
    let text = ephflow::schema::document::to_pretty_string(&schema);
    match args.output {
        None => {
            out!("{text}");
            Exit::Success
        }
        Some(path) => match ephflow::io::write_atomic(&path, text.as_bytes(), &[]) {
            Ok(()) => {
                eprintln!(
                    "wrote the draft {} schema to {}",
                    draft.name(),
                    path.display()
                );
                Exit::Success
            }
            Err(e) => super::write_failed(&e),
        },
    }
}
