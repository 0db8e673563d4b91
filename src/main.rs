//! The `ephflow` command.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Name every shipped plugin so its registration is linked (see ephflow::SHIPPED_PROVIDERS).
    ephflow::aws::register();
    let args = cli::Cli::parse();
    cli::run(args).into()
}
