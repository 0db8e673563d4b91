//! A VM provider that lives in memory, with scripted timings and failures, on tokio's clock
//! (so tests run it under paused time).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::provider::{CheckStatus, ErrorClass, ProviderError, VmProvider, VmState, VmStatus};

/// A provider operation, for scripting failures and counting calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// [`VmProvider::describe`].
    Describe,
    /// [`VmProvider::start`].
    Start,
    /// [`VmProvider::stop`].
    Stop,
    /// [`VmProvider::preflight`].
    Preflight,
}

/// How long the fake VM takes for each transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Start request to running.
    pub boot: Duration,
    /// Running to both health checks ok.
    pub checks: Duration,
    /// Stop request to stopped.
    pub shutdown: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        // From the field: ~30-60 s to boot, checks a few minutes later, stop ~30 s.
        Timings {
            boot: Duration::from_secs(40),
            checks: Duration::from_secs(180),
            shutdown: Duration::from_secs(30),
        }
    }
}

#[derive(Debug)]
struct Inner {
    /// The state and since when.
    state: VmState,
    since: Instant,
    failures: VecDeque<(Op, ProviderError)>,
    calls: HashMap<Op, usize>,
    exists: bool,
}

/// The fake VM.
#[derive(Debug)]
pub struct FakeProvider {
    id: String,
    timings: Timings,
    inner: Mutex<Inner>,
}

impl FakeProvider {
    /// A VM called `id` in `state` (a time-driven state: pending becomes running after
    /// `boot`, stopping becomes stopped after `shutdown`).
    pub fn new(id: &str, state: VmState, timings: Timings) -> Self {
        FakeProvider {
            id: id.to_owned(),
            timings,
            inner: Mutex::new(Inner {
                state,
                since: Instant::now(),
                failures: VecDeque::new(),
                calls: HashMap::new(),
                exists: true,
            }),
        }
    }

    /// A VM id that does not exist.
    pub fn missing(id: &str) -> Self {
        let p = FakeProvider::new(id, VmState::Stopped, Timings::default());
        p.inner.lock().expect("not poisoned").exists = false;
        p
    }

    /// Makes the next call of `op` fail with `error` (queued in order).
    pub fn fail_next(&self, op: Op, error: ProviderError) {
        self.inner
            .lock()
            .expect("not poisoned")
            .failures
            .push_back((op, error));
    }

    /// How many times `op` was called.
    pub fn calls(&self, op: Op) -> usize {
        *self
            .inner
            .lock()
            .expect("not poisoned")
            .calls
            .get(&op)
            .unwrap_or(&0)
    }

    fn enter(&self, op: Op) -> Result<std::sync::MutexGuard<'_, Inner>, ProviderError> {
        let mut inner = self.inner.lock().expect("not poisoned");
        *inner.calls.entry(op).or_default() += 1;
        if let Some(i) = inner.failures.iter().position(|(o, _)| *o == op) {
            let (_, e) = inner.failures.remove(i).expect("found above");
            return Err(e);
        }
        if !inner.exists {
            return Err(ProviderError::new(
                ErrorClass::NotFound,
                format!("the instance {} does not exist", self.id),
            )
            .with_code("InvalidInstanceID.NotFound"));
        }
        // Let time move the VM along.
        let elapsed = inner.since.elapsed();
        let next = match inner.state {
            VmState::Pending if elapsed >= self.timings.boot => Some(VmState::Running),
            VmState::Stopping if elapsed >= self.timings.shutdown => Some(VmState::Stopped),
            _ => None,
        };
        if let Some(state) = next {
            let lateness = match inner.state {
                VmState::Pending => elapsed - self.timings.boot,
                _ => elapsed - self.timings.shutdown,
            };
            inner.state = state;
            inner.since = Instant::now() - lateness;
        }
        Ok(inner)
    }
}

#[async_trait::async_trait]
impl VmProvider for FakeProvider {
    fn vm_id(&self) -> &str {
        &self.id
    }

    async fn describe(&self) -> Result<VmStatus, ProviderError> {
        let inner = self.enter(Op::Describe)?;
        let checks = match inner.state {
            VmState::Running if inner.since.elapsed() >= self.timings.checks => CheckStatus::Ok,
            VmState::Running => CheckStatus::Initializing,
            _ => CheckStatus::NotApplicable,
        };
        Ok(VmStatus {
            state: inner.state,
            instance_check: checks,
            system_check: checks,
        })
    }

    async fn start(&self) -> Result<(), ProviderError> {
        let mut inner = self.enter(Op::Start)?;
        match inner.state {
            VmState::Stopped => {
                inner.state = VmState::Pending;
                inner.since = Instant::now();
                Ok(())
            }
            VmState::Pending | VmState::Running => Ok(()),
            other => Err(ProviderError::new(
                ErrorClass::InvalidState,
                format!("the instance {} is {other} and cannot be started", self.id),
            )
            .with_code("IncorrectInstanceState")),
        }
    }

    async fn stop(&self) -> Result<(), ProviderError> {
        let mut inner = self.enter(Op::Stop)?;
        match inner.state {
            VmState::Running => {
                inner.state = VmState::Stopping;
                inner.since = Instant::now();
                Ok(())
            }
            VmState::Stopping | VmState::Stopped => Ok(()),
            other => Err(ProviderError::new(
                ErrorClass::InvalidState,
                format!("the instance {} is {other} and cannot be stopped", self.id),
            )
            .with_code("IncorrectInstanceState")),
        }
    }

    async fn preflight(&self) -> Result<(), ProviderError> {
        self.enter(Op::Preflight).map(|_| ())
    }
}
