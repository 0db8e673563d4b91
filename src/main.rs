//! The `ephflow` command (the command line itself is `ephflow::cli_main`).

use std::process::ExitCode;

/// Large workflows are millions of small strings and maps; glibc's allocator dominated their
/// profiles (a third of the time in malloc/free), mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ephflow::cli_main()
}
