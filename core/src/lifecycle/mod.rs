//! The lifecycle engine: start, readiness and stop of a VM, on any [`VmProvider`].
//!
//! Providers make single requests; the engine makes them idempotent, waits with bounds,
//! retries what is transient and fails fast on the rest, and reports phases with timings.
//! All waiting uses tokio's clock, so tests run it with paused time.

mod backoff;
mod events;

use std::time::Duration;

use tokio::time::Instant;

pub use backoff::Backoff;
pub use events::{Event, Observer, Phase, PhaseTimings, Quiet};

use crate::provider::{CheckStatus, ErrorClass, ProviderError, VmProvider, VmState, VmStatus};

/// Checks whether the VM's self-hosted runner is online (the GitHub Actions backend
/// implements it).
#[async_trait::async_trait]
pub trait RunnerProbe: Send + Sync {
    /// The runner's name, for messages.
    fn runner_name(&self) -> &str;
    /// Whether the runner reports online now.
    async fn is_online(&self) -> Result<bool, ProviderError>;
}

/// When the VM counts as ready, and how long each wait may take.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadinessPolicy {
    /// With a runner check: also wait for the health checks (the strict, documented
    /// behaviour). Without a runner check, health checks are always waited for.
    pub wait_for_status_checks: bool,
    /// Bound on reaching running (and health checks ok, when waited for).
    pub status_timeout: Duration,
    /// Bound on the runner coming online, counted from when the VM was up.
    pub runner_timeout: Duration,
    /// Bound on other waits (a stopping VM to stop, a pending VM to run before a stop).
    pub transition_timeout: Duration,
    /// First poll interval.
    pub initial_interval: Duration,
    /// Longest poll interval of the VM.
    pub max_interval: Duration,
    /// Longest poll interval of the runner: shorter than the VM's, because noticing the
    /// runner late delays the VM action; 6.25 s keeps GitHub calls at or under 12 a minute
    /// even with jitter (each interval is at least 80% of it).
    pub runner_max_interval: Duration,
    /// Attempts for a transient failure of one request.
    pub max_attempts: u32,
    /// Seed of the interval jitter.
    pub jitter_seed: u64,
}

impl Default for ReadinessPolicy {
    fn default() -> Self {
        ReadinessPolicy {
            wait_for_status_checks: false,
            status_timeout: Duration::from_secs(300),
            runner_timeout: Duration::from_secs(300),
            transition_timeout: Duration::from_secs(300),
            initial_interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(10),
            runner_max_interval: Duration::from_millis(6250),
            max_attempts: 5,
            jitter_seed: 0x5eed,
        }
    }
}

impl ReadinessPolicy {
    /// The default policy with VMConfig's `WaitForStatusChecks`, `StatusTimeout` and
    /// `RunnerTimeout` applied.
    pub fn for_config(config: &ephflow_schema::model::VmConfig) -> Self {
        let defaults = ReadinessPolicy::default();
        ReadinessPolicy {
            wait_for_status_checks: config.wait_for_status_checks.unwrap_or(false),
            status_timeout: config
                .status_timeout
                .map_or(defaults.status_timeout, Duration::from_secs),
            runner_timeout: config
                .runner_timeout
                .map_or(defaults.runner_timeout, Duration::from_secs),
            ..defaults
        }
    }
}

/// Why a lifecycle operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LifecycleError {
    /// The provider (or runner check) failed in a way waiting cannot fix.
    #[error("{vm}: {source}")]
    Provider {
        /// The VM.
        vm: String,
        /// The classified failure.
        source: ProviderError,
    },
    /// A bounded wait ran out.
    #[error("{vm}: timed out after {waited:?} in phase {phase} (phases: {})", format_timings(.timings))]
    Timeout {
        /// The VM.
        vm: String,
        /// The phase that did not finish.
        phase: Phase,
        /// Total time spent.
        waited: Duration,
        /// How long each phase took.
        timings: PhaseTimings,
    },
}

impl LifecycleError {
    /// The classification (timeouts are [`ErrorClass::Timeout`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            LifecycleError::Provider { source, .. } => source.class,
            LifecycleError::Timeout { .. } => ErrorClass::Timeout,
        }
    }
}

fn format_timings(t: &PhaseTimings) -> String {
    t.iter()
        .map(|(p, d)| format!("{p} {:.1}s", d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What an operation did.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The last status seen.
    pub status: VmStatus,
    /// Whether a start/stop request was sent (false when nothing had to be done).
    pub requested: bool,
    /// The phases and their durations.
    pub timings: PhaseTimings,
}

/// Drives one VM.
pub struct Lifecycle<'a> {
    provider: &'a dyn VmProvider,
    runner: Option<&'a dyn RunnerProbe>,
    policy: ReadinessPolicy,
    observer: &'a dyn Observer,
}

/// Tracks phases of one operation.
struct Clock<'o> {
    started: Instant,
    phase_started: Instant,
    phase: Phase,
    timings: PhaseTimings,
    observer: &'o dyn Observer,
}

impl<'o> Clock<'o> {
    fn new(observer: &'o dyn Observer) -> Self {
        let now = Instant::now();
        observer.event(&Event::Phase {
            phase: Phase::Describing,
            at: Duration::ZERO,
            state: None,
        });
        Clock {
            started: now,
            phase_started: now,
            phase: Phase::Describing,
            timings: Vec::new(),
            observer,
        }
    }

    fn enter(&mut self, phase: Phase, state: Option<VmState>) {
        if phase == self.phase {
            return;
        }
        let now = Instant::now();
        self.timings.push((self.phase, now - self.phase_started));
        tracing::info!(
            phase = phase.name(),
            state = state.map(VmState::name),
            "phase"
        );
        self.observer.event(&Event::Phase {
            phase,
            at: now - self.started,
            state,
        });
        self.phase = phase;
        self.phase_started = now;
    }

    fn finish(mut self, phase: Phase, state: Option<VmState>) -> PhaseTimings {
        self.enter(phase, state);
        self.timings
    }

    fn timeout(&self, vm: &str) -> LifecycleError {
        let now = Instant::now();
        let mut timings = self.timings.clone();
        timings.push((self.phase, now - self.phase_started));
        LifecycleError::Timeout {
            vm: vm.to_owned(),
            phase: self.phase,
            waited: now - self.started,
            timings,
        }
    }
}

impl<'a> Lifecycle<'a> {
    /// An engine for `provider` with `policy`, reporting to `observer`.
    pub fn new(
        provider: &'a dyn VmProvider,
        policy: ReadinessPolicy,
        observer: &'a dyn Observer,
    ) -> Self {
        Lifecycle {
            provider,
            runner: None,
            policy,
            observer,
        }
    }

    /// Adds a runner check to readiness.
    pub fn with_runner(mut self, runner: &'a dyn RunnerProbe) -> Self {
        self.runner = Some(runner);
        self
    }

    fn fail(&self, source: ProviderError) -> LifecycleError {
        LifecycleError::Provider {
            vm: self.provider.vm_id().to_owned(),
            source,
        }
    }

    /// Runs `call`, retrying transient failures with backoff (honouring retry-after), at most
    /// `max_attempts` times.
    async fn retrying<T, F, Fut>(&self, what: &str, call: F) -> Result<T, LifecycleError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        self.retrying_until(what, None, call).await
    }

    /// [`Lifecycle::retrying`] within a phase budget: a wait the service asks for (a rate-limit
    /// reset) that would end after `deadline` fails at once, with the service's message, which
    /// names the reset time.
    async fn retrying_until<T, F, Fut>(
        &self,
        what: &str,
        deadline: Option<Instant>,
        mut call: F,
    ) -> Result<T, LifecycleError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let mut backoff = self.backoff();
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) if e.class.is_retryable() && attempt < self.policy.max_attempts => {
                    let after = e.retry_after.unwrap_or_else(|| backoff.next_interval());
                    if deadline.is_some_and(|d| later(after) > d) {
                        let mut e = e;
                        e.message.push_str(&format!(
                            "; waiting {:.0}s for it would exceed the {what} budget",
                            after.as_secs_f64()
                        ));
                        return Err(self.fail(e));
                    }
                    // The observer reports the retry (the CLI prints one line for it).
                    tracing::info!(what, attempt, error = %e, "retrying");
                    self.observer.event(&Event::Retrying {
                        message: format!("{what}: {e}"),
                        after,
                    });
                    tokio::time::sleep(after).await;
                    attempt += 1;
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(
            self.policy.initial_interval,
            1.5,
            self.policy.max_interval,
            0.2,
            self.policy.jitter_seed,
        )
    }

    async fn describe(&self) -> Result<VmStatus, LifecycleError> {
        self.retrying("describe", || self.provider.describe()).await
    }

    /// The current status (one describe, retried if transient).
    pub async fn status(&self) -> Result<VmStatus, LifecycleError> {
        self.describe().await
    }

    /// Waits (bounded by `limit` from now) until `done(status)`; `phase` names the wait.
    async fn wait_until(
        &self,
        clock: &mut Clock<'_>,
        phase: Phase,
        limit: Duration,
        done: impl Fn(&VmStatus) -> bool,
    ) -> Result<VmStatus, LifecycleError> {
        let deadline = later(limit);
        let mut backoff = self.backoff();
        loop {
            let status = self.describe().await?;
            if done(&status) {
                return Ok(status);
            }
            clock.enter(phase, Some(status.state));
            if status.state == VmState::Terminated || status.state == VmState::ShuttingDown {
                return Err(self.fail(ProviderError::new(
                    ErrorClass::InvalidState,
                    format!("the VM is {} and cannot be used any more", status.state),
                )));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(clock.timeout(self.provider.vm_id()));
            }
            tokio::time::sleep(backoff.next_interval().min(deadline - now)).await;
        }
    }

    /// Starts the VM if needed, without waiting for it to run. Running or pending: nothing to
    /// do. Stopping: waits until stopped, then starts. Terminated: an error.
    pub async fn start(&self) -> Result<Outcome, LifecycleError> {
        let mut clock = Clock::new(self.observer);
        let mut status = self.describe().await?;
        match status.state {
            VmState::Running | VmState::Pending => {
                return Ok(Outcome {
                    status,
                    requested: false,
                    timings: clock.finish(Phase::AlreadyDone, Some(status.state)),
                });
            }
            VmState::Terminated | VmState::ShuttingDown => {
                return Err(self.fail(ProviderError::new(
                    ErrorClass::InvalidState,
                    format!(
                        "the VM is {}; it cannot be started (create a new instance and update VMConfig)",
                        status.state
                    ),
                )));
            }
            VmState::Stopping => {
                status = self
                    .wait_until(
                        &mut clock,
                        Phase::WaitingForStopped,
                        self.policy.transition_timeout,
                        |s| s.state == VmState::Stopped,
                    )
                    .await?;
            }
            VmState::Stopped => {}
        }
        self.retrying("start", || self.provider.start()).await?;
        Ok(Outcome {
            status,
            requested: true,
            timings: clock.finish(Phase::StartRequested, Some(status.state)),
        })
    }

    /// [`Lifecycle::start`], then [`Lifecycle::wait_ready`].
    pub async fn start_and_wait(&self) -> Result<Outcome, LifecycleError> {
        let started = self.start().await?;
        let mut ready = self.wait_ready().await?;
        ready.requested = started.requested;
        let mut timings = started.timings;
        timings.extend(ready.timings);
        ready.timings = timings;
        Ok(ready)
    }

    /// Waits until the VM is ready for VM actions: running, and the runner online (when a
    /// runner check is configured) or the health checks ok (without one, or when the policy
    /// asks for both). The VM and the runner are polled concurrently.
    pub async fn wait_ready(&self) -> Result<Outcome, LifecycleError> {
        let mut clock = Clock::new(self.observer);
        let needs_checks = self.runner.is_none() || self.policy.wait_for_status_checks;
        let vm_deadline = later(self.policy.status_timeout);
        let mut runner_deadline: Option<Instant> = None;
        let mut vm_backoff = self.backoff();
        let mut runner_backoff = Backoff::new(
            self.policy.initial_interval,
            1.5,
            self.policy.runner_max_interval,
            0.2,
            self.policy.jitter_seed ^ 0x9e37_79b9,
        );
        let (mut next_vm, mut next_runner) = (Instant::now(), Instant::now());
        let mut last: Option<VmStatus> = None;
        let mut vm_ok = false;
        let mut runner_ok = self.runner.is_none();
        loop {
            let now = Instant::now();
            let poll_vm = !vm_ok && now >= next_vm;
            // The runner cannot be online before the VM runs: no runner calls until then.
            let poll_runner = !runner_ok && runner_deadline.is_some() && now >= next_runner;
            let (vm_result, runner_result) = tokio::join!(
                async {
                    if poll_vm {
                        Some(self.describe().await)
                    } else {
                        None
                    }
                },
                async {
                    match self.runner {
                        Some(r) if poll_runner => Some(
                            self.retrying_until("runner check", runner_deadline, || r.is_online())
                                .await,
                        ),
                        _ => None,
                    }
                }
            );
            if let Some(result) = vm_result {
                let status = result?;
                if status.state == VmState::Terminated || status.state == VmState::ShuttingDown {
                    return Err(self.fail(ProviderError::new(
                        ErrorClass::InvalidState,
                        format!(
                            "the VM is {} while waiting for it to be ready",
                            status.state
                        ),
                    )));
                }
                let running = status.state == VmState::Running;
                vm_ok = running
                    && (!needs_checks
                        || (status.instance_check == CheckStatus::Ok
                            && status.system_check == CheckStatus::Ok));
                if running && runner_deadline.is_none() {
                    runner_deadline = Some(later(self.policy.runner_timeout));
                    // The runner registers soon after boot: look often again.
                    runner_backoff.reset(self.policy.initial_interval);
                    next_runner = Instant::now();
                }
                last = Some(status);
                next_vm = later(vm_backoff.next_interval());
            }
            if let Some(result) = runner_result {
                runner_ok = result?;
                next_runner = later(runner_backoff.next_interval());
            }
            let status = last.expect("the VM is described in the first round");
            let state = Some(status.state);
            let phase = if status.state != VmState::Running {
                Phase::WaitingForRunning
            } else if !vm_ok {
                Phase::WaitingForStatusChecks
            } else if !runner_ok {
                Phase::WaitingForRunner
            } else {
                return Ok(Outcome {
                    status,
                    requested: false,
                    timings: clock.finish(Phase::Ready, state),
                });
            };
            clock.enter(phase, state);
            let now = Instant::now();
            let deadline = match (phase, runner_deadline) {
                (Phase::WaitingForRunner, Some(d)) => d,
                _ => vm_deadline,
            };
            if now >= deadline {
                return Err(clock.timeout(self.provider.vm_id()));
            }
            let mut wake = deadline;
            if !vm_ok {
                wake = wake.min(next_vm);
            }
            if !runner_ok && runner_deadline.is_some() {
                wake = wake.min(next_runner);
            }
            tokio::time::sleep_until(wake.max(now)).await;
        }
    }

    /// Stops the VM if needed. Stopped or stopping: nothing to do. Pending: waits until it
    /// runs (EC2 cannot stop a pending instance), then stops. Failures are retried, then
    /// reported.
    pub async fn stop(&self) -> Result<Outcome, LifecycleError> {
        let mut clock = Clock::new(self.observer);
        let mut status = self.describe().await?;
        match status.state {
            VmState::Stopped | VmState::Stopping | VmState::Terminated | VmState::ShuttingDown => {
                return Ok(Outcome {
                    status,
                    requested: false,
                    timings: clock.finish(Phase::AlreadyDone, Some(status.state)),
                });
            }
            VmState::Pending => {
                status = self
                    .wait_until(
                        &mut clock,
                        Phase::WaitingToStop,
                        self.policy.transition_timeout,
                        |s| s.state != VmState::Pending,
                    )
                    .await?;
                if status.state != VmState::Running {
                    return Ok(Outcome {
                        status,
                        requested: false,
                        timings: clock.finish(Phase::AlreadyDone, Some(status.state)),
                    });
                }
            }
            VmState::Running => {}
        }
        self.retrying("stop", || self.provider.stop()).await?;
        Ok(Outcome {
            status,
            requested: true,
            timings: clock.finish(Phase::StopRequested, Some(status.state)),
        })
    }
}
/// `now + wait`, saturating: timeouts and server-requested waits come from users and remote
/// APIs (`--timeout 18446744073709551615`, `retry-after: 18446744073709551615`), and
/// `Instant + Duration` panics on overflow (found by audit). A century stands for "never".
fn later(wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    let now = Instant::now();
    now.checked_add(wait.min(CENTURY))
        .or_else(|| now.checked_add(Duration::from_secs(24 * 3600)))
        .unwrap_or(now)
}
