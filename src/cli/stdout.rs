//! Standard output that outlives its reader. `println!` panics when the reader has gone
//! (`ephflow plan FILE | head -3` ended with exit 101, found in review); a closed pipe here
//! only ends the printing, the command still finishes its work and keeps its exit code. Any
//! other write error (a full disk behind `> file`) is said once and turns success into exit 5,
//! so no truncated output passes for a complete one.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use ephflow::exit::Exit;

/// The reader closed the pipe: nothing more is written.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// A write failed otherwise.
static FAILED: AtomicBool = AtomicBool::new(false);

/// `print!` to standard output (see the module docs).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!($($arg)*), false)
    };
}

/// `println!` to standard output (see the module docs).
macro_rules! outln {
    () => {
        $crate::cli::stdout::write(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!($($arg)*), true)
    };
}

pub(crate) use {out, outln};

/// Writes `args` (and a newline) unless the pipe is closed; records failures.
pub(crate) fn write(args: std::fmt::Arguments<'_>, newline: bool) {
    if CLOSED.load(Ordering::Relaxed) || FAILED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    record(written);
}

fn record(result: std::io::Result<()>) {
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
        }
        Err(e) => {
            if !FAILED.swap(true, Ordering::Relaxed) {
                eprintln!("ephflow: cannot write to standard output: {e}");
            }
        }
    }
}

/// Flushes standard output and gives the exit code: `exit`, or [`Exit::Io`] when a
/// successful command could not write its output.
pub(crate) fn finish(exit: Exit) -> Exit {
    if !CLOSED.load(Ordering::Relaxed) && !FAILED.load(Ordering::Relaxed) {
        record(std::io::stdout().lock().flush());
    }
    if FAILED.load(Ordering::Relaxed) && exit == Exit::Success {
        Exit::Io
    } else {
        exit
    }
}
