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
    ephflow::register_plugins();
    init_logging();
    let args = cli::Cli::parse();
    cli::run(args).into()
}

/// Diagnostics go to standard error; `EPHFLOW_LOG=info` (or `debug`, or per-module directives)
/// shows what the lifecycle engine and providers do. Other crates are capped at `info`
/// whatever `EPHFLOW_LOG` says: below that they log request details, and the AWS request
/// signer logs the access key id at `debug`.
fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let wanted = EnvFilter::try_from_env("EPHFLOW_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let safe = filter_fn(|meta| {
        meta.target().starts_with("ephflow") || *meta.level() <= tracing::Level::INFO
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(wanted.and(safe));
    tracing_subscriber::registry().with(layer).init();
}
