//! Progress: the phases a lifecycle operation goes through, reported as they happen.

use std::fmt;
use std::time::Duration;

use crate::provider::VmState;

/// Where a lifecycle operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Looking at the VM.
    Describing,
    /// Waiting for a stopping VM to be stopped before starting it.
    WaitingForStopped,
    /// Start requested.
    StartRequested,
    /// The VM is not running yet (stopped, pending).
    WaitingForRunning,
    /// The VM runs; its health checks are not ok yet.
    WaitingForStatusChecks,
    /// The VM runs; its runner is not online yet.
    WaitingForRunner,
    /// Ready for VM actions.
    Ready,
    /// Waiting for a pending VM to run before stopping it.
    WaitingToStop,
    /// Stop requested.
    StopRequested,
    /// Nothing to do: already in the wanted state.
    AlreadyDone,
}

impl Phase {
    /// The name used in messages, JSON and step summaries.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Describing => "describing",
            Phase::WaitingForStopped => "waiting-for-stopped",
            Phase::StartRequested => "start-requested",
            Phase::WaitingForRunning => "waiting-for-running",
            Phase::WaitingForStatusChecks => "waiting-for-status-checks",
            Phase::WaitingForRunner => "waiting-for-runner",
            Phase::Ready => "ready",
            Phase::WaitingToStop => "waiting-to-stop",
            Phase::StopRequested => "stop-requested",
            Phase::AlreadyDone => "already-done",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something that happened during an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new phase began `at` after the operation started.
    Phase {
        /// The phase.
        phase: Phase,
        /// Time since the operation started.
        at: Duration,
        /// The VM state last seen.
        state: Option<VmState>,
    },
    /// A transient failure that will be retried.
    Retrying {
        /// What failed.
        message: String,
        /// How long until the retry.
        after: Duration,
    },
}

/// Receives events (a spinner, a log, a step summary). Must be cheap and must not block.
pub trait Observer: Send + Sync {
    /// Called for each event, in order.
    fn event(&self, event: &Event);
}

/// Ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: &Event) {}
}

/// How long each phase took (phase, duration), in order: the report every operation returns.
pub type PhaseTimings = Vec<(Phase, Duration)>;
