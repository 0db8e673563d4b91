//! `ephflow augment`: inject the VM lifecycle actions into a workflow.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use ephflow::core::inject::{Augmented, Options, Strategy, inject};
use ephflow::core::validate::check_workflow;
use ephflow::exit::Exit;
use ephflow::schema::Diagnostic;

use super::report::print_diagnostics;
use super::stdout::outln;

/// Add the VM lifecycle actions to a workflow: `faasr-vm-start` at the entry, polls that hold
/// the VM actions until the VM is ready, and a `faasr-vm-stop` after every way the workflow can
/// end.
///
/// The input is validated first; an invalid workflow writes nothing. The result is validated
/// again before it is written (atomically, never over the input). A workflow without
/// RequiresVM actions is written with its content unchanged (4-space indented, like every
/// output).
///
/// Exit codes: 0 written, 1 invalid workflow (nothing written), 2 usage (an output over the
/// input, standard input without --output), 5 a file could not be read or written.
#[derive(Debug, Args)]
pub struct AugmentArgs {
    /// The workflow JSON file (`-`: standard input, with --output).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// parallel: VM actions wait at their own poll while the rest runs; sequential: the whole
    /// workflow waits for the VM at the entry.
    #[arg(long, value_enum, default_value = "parallel")]
    strategy: StrategyArg,
    /// Where to write the augmented workflow [default: <FILE stem>_augmented.json beside FILE].
    #[arg(long, short, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Container image for the injected actions [default: the image of the first action on
    /// the same GitHubActions server that has one].
    #[arg(long, value_name = "IMAGE")]
    builtin_image: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StrategyArg {
    Parallel,
    Sequential,
}

pub fn run(args: AugmentArgs) -> Exit {
    let strategy = match args.strategy {
        StrategyArg::Parallel => Strategy::Parallel,
        StrategyArg::Sequential => Strategy::Sequential,
    };
    let file = args.file.display().to_string();
    if ephflow::io::is_stdin(&args.file) && args.output.is_none() {
        eprintln!(
            "error: the workflow comes from standard input, so there is no file to write beside: pass --output PATH"
        );
        return Exit::Usage;
    }
    let (doc, workflow) = match super::load_valid(&args.file, false, "nothing written") {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let options = Options {
        builtin_image: args.builtin_image,
        ..Options::default()
    };
    let augmented = match inject(&workflow, strategy, &options) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {file}: {e}; nothing written");
            return Exit::InvalidInput;
        }
    };
    print_diagnostics(&augmented.warnings, &file);
    // The result must itself be a valid FaaSr workflow; anything else is an ephflow bug. The
    // schema part needs no second pass: the input passed it, and the injected parts are
    // serialized from the same typed model the schema is generated from.
    let errors: Vec<Diagnostic> = match check_workflow(&augmented.apply_to_workflow(workflow)) {
        Ok(found) => found.into_iter().filter(Diagnostic::is_error).collect(),
        Err(e) => return super::internal(e),
    };
    if !errors.is_empty() {
        print_diagnostics(&errors, "augmented workflow");
        eprintln!("ephflow: internal error: the augmented workflow is invalid; nothing written");
        return Exit::Internal;
    }
    let out_doc = augmented.apply(doc);
    let output = args.output.unwrap_or_else(|| default_output(&args.file));
    if let Err(e) =
        ephflow::io::write_atomic_with(&output, &[args.file.as_path()], |w| out_doc.write_pretty(w))
    {
        return super::write_failed(&e);
    }
    outln!("{}", summary(&augmented, &output));
    Exit::Success
}

/// `dir/name_augmented.json` beside the input.
fn default_output(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workflow".to_owned());
    input.with_file_name(format!("{stem}_augmented.json"))
}

fn summary(a: &Augmented, output: &Path) -> String {
    if a.is_unchanged() {
        return format!(
            "no action requires the VM: wrote the workflow, its content unchanged, to {}",
            output.display()
        );
    }
    let polls = a
        .actions
        .keys()
        .filter(|n| n.starts_with("faasr-vm-poll"))
        .count();
    let stops: Vec<&str> = a.stops.iter().map(|s| s.name.as_str()).collect();
    let gated: Vec<&str> = a.gated.iter().map(String::as_str).collect();
    format!(
        "{} strategy: added {} actions (faasr-vm-start, {polls} poll{}, {} stop{}: {}); {} VM action{} gated: {}; wrote {}",
        a.strategy.name(),
        a.actions.len(),
        if polls == 1 { "" } else { "s" },
        stops.len(),
        if stops.len() == 1 { "" } else { "s" },
        abridged(&stops),
        gated.len(),
        if gated.len() == 1 { "" } else { "s" },
        abridged(&gated),
        output.display()
    )
}

/// The first few names, then a count: the summary stays one line on huge workflows.
fn abridged(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    if names.len() <= SHOWN {
        names.join(", ")
    } else {
        format!(
            "{}, and {} more",
            names[..SHOWN].join(", "),
            names.len() - SHOWN
        )
    }
}
