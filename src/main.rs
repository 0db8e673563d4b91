//! The `ephflow` command.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// Large workflows are millions of small strings and maps; glibc's allocator dominated their
/// profiles (a third of the time in malloc/free), mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Name every shipped plugin so its registration is linked (see ephflow::SHIPPED_PROVIDERS).
    ephflow::aws::register();
    let args = cli::Cli::parse();
    cli::run(args).into()
}
