//! The exit codes of the `ephflow` binary (documented in the README).

/// Why the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: everything worked (warnings may have been printed).
    Success = 0,
    /// 1: an input is malformed or fails validation; nothing was written.
    InvalidInput = 1,
    /// 2: bad command line (unknown command or flag, missing or bad argument, such as an
    /// output path that names an input).
    Usage = 2,
    /// 3: the cloud provider or execution backend failed (lifecycle commands).
    CloudFailure = 3,
    /// 4: a lifecycle wait ran out of time (lifecycle commands).
    Timeout = 4,
    /// 5: a file could not be read or written.
    Io = 5,
    /// 70: a bug in ephflow or in a linked plugin.
    Internal = 70,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}
