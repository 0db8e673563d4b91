//! The lifecycle engine on the fake provider, under tokio's paused clock: idempotency, phases,
//! bounds, retries, and the polling budget.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ephflow_core::lifecycle::{
    Event, Lifecycle, LifecycleError, Observer, Phase, Quiet, ReadinessPolicy, RunnerProbe,
};
use ephflow_core::provider::{ErrorClass, ProviderError, VmState};
use ephflow_core::testkit::conformance::check_provider;
use ephflow_core::testkit::fake_provider::{FakeProvider, Op, Timings};
use tokio::time::Instant;

const ID: &str = "i-0123456789abcdef0";

fn fast() -> Timings {
    Timings {
        boot: Duration::from_secs(40),
        checks: Duration::from_secs(120),
        shutdown: Duration::from_secs(20),
    }
}

/// Records events.
#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl Observer for Recorder {
    fn event(&self, e: &Event) {
        self.0.lock().unwrap().push(e.clone());
    }
}

impl Recorder {
    fn phases(&self) -> Vec<Phase> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::Phase { phase, .. } => Some(*phase),
                Event::Retrying { .. } => None,
            })
            .collect()
    }
}

/// A runner that comes online at a given instant.
struct FakeRunner {
    online_at: Instant,
    calls: AtomicUsize,
    detected: Mutex<Option<Instant>>,
}

#[async_trait::async_trait]
impl RunnerProbe for FakeRunner {
    fn runner_name(&self) -> &str {
        "gpu-runner"
    }
    async fn is_online(&self) -> Result<bool, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let online = Instant::now() >= self.online_at;
        if online {
            self.detected.lock().unwrap().get_or_insert(Instant::now());
        }
        Ok(online)
    }
}

#[tokio::test(start_paused = true)]
async fn the_fake_provider_passes_the_conformance_suite() {
    let vm = FakeProvider::new(ID, VmState::Stopped, fast());
    let missing = FakeProvider::missing("i-00000000000000000");
    check_provider(&vm, &missing, Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn start_is_idempotent_and_waits_out_a_stopping_vm() {
    let vm = FakeProvider::new(ID, VmState::Stopping, fast());
    let rec = Recorder::default();
    let engine = Lifecycle::new(&vm, ReadinessPolicy::default(), &rec);
    let out = engine.start().await.unwrap();
    assert!(out.requested);
    assert_eq!(vm.calls(Op::Start), 1);
    assert_eq!(
        rec.phases(),
        [
            Phase::Describing,
            Phase::WaitingForStopped,
            Phase::StartRequested
        ]
    );
    let again = engine.start().await.unwrap();
    assert!(!again.requested);
    assert_eq!(vm.calls(Op::Start), 1, "no second request");
}

#[tokio::test(start_paused = true)]
async fn a_terminated_vm_cannot_be_started() {
    let vm = FakeProvider::new(ID, VmState::Terminated, fast());
    let err = Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet)
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidState);
    assert!(
        err.to_string().contains(ID) && err.to_string().contains("terminated"),
        "{err}"
    );
    assert_eq!(vm.calls(Op::Start), 0);
}

#[tokio::test(start_paused = true)]
async fn readiness_without_a_runner_waits_for_the_status_checks() {
    let vm = FakeProvider::new(ID, VmState::Stopped, fast());
    let rec = Recorder::default();
    let engine = Lifecycle::new(&vm, ReadinessPolicy::default(), &rec);
    let t0 = Instant::now();
    let out = engine.start_and_wait().await.unwrap();
    assert!(out.status.is_healthy());
    let took = t0.elapsed();
    assert!(took >= Duration::from_secs(160), "{took:?}");
    assert_eq!(
        rec.phases(),
        [
            Phase::Describing,
            Phase::StartRequested,
            Phase::Describing,
            Phase::WaitingForRunning,
            Phase::WaitingForStatusChecks,
            Phase::Ready
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn readiness_with_a_runner_does_not_wait_for_status_checks() {
    let vm = FakeProvider::new(ID, VmState::Pending, fast());
    let runner = FakeRunner {
        online_at: Instant::now() + Duration::from_secs(70),
        calls: AtomicUsize::new(0),
        detected: Mutex::new(None),
    };
    let engine = Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet).with_runner(&runner);
    let out = engine.wait_ready().await.unwrap();
    assert_eq!(out.status.state, VmState::Running);
    assert!(!out.status.is_healthy(), "checks were not waited for");
    let phases: Vec<Phase> = out.timings.iter().map(|(p, _)| *p).collect();
    assert!(phases.contains(&Phase::WaitingForRunner), "{phases:?}");
}

#[tokio::test(start_paused = true)]
async fn timeouts_name_the_phase_and_its_timings() {
    let slow = Timings {
        checks: Duration::from_secs(900),
        ..fast()
    };
    let vm = FakeProvider::new(ID, VmState::Pending, slow);
    let err = Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet)
        .wait_ready()
        .await
        .unwrap_err();
    match &err {
        LifecycleError::Timeout {
            phase,
            waited,
            timings,
            vm,
        } => {
            assert_eq!(*phase, Phase::WaitingForStatusChecks);
            assert_eq!(vm, ID);
            assert!(*waited >= Duration::from_secs(300) && *waited < Duration::from_secs(311));
            assert_eq!(timings.last().unwrap().0, Phase::WaitingForStatusChecks);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Timeout);
    assert!(
        err.to_string().contains("waiting-for-status-checks"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_and_permanent_ones_are_not() {
    let vm = FakeProvider::new(ID, VmState::Stopped, fast());
    vm.fail_next(
        Op::Start,
        ProviderError::new(ErrorClass::RateLimited, "slow down").with_code("RequestLimitExceeded"),
    );
    vm.fail_next(Op::Start, ProviderError::new(ErrorClass::Temporary, "500"));
    let rec = Recorder::default();
    let out = Lifecycle::new(&vm, ReadinessPolicy::default(), &rec)
        .start()
        .await
        .unwrap();
    assert!(out.requested);
    assert_eq!(vm.calls(Op::Start), 3);
    let retries = rec
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::Retrying { .. }))
        .count();
    assert_eq!(retries, 2);

    let denied = FakeProvider::new(ID, VmState::Stopped, fast());
    denied.fail_next(
        Op::Start,
        ProviderError::new(
            ErrorClass::PermissionDenied,
            "not allowed to call ec2:StartInstances",
        )
        .with_code("UnauthorizedOperation"),
    );
    let err = Lifecycle::new(&denied, ReadinessPolicy::default(), &Quiet)
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::PermissionDenied);
    assert!(err.to_string().contains("ec2:StartInstances"), "{err}");
    assert_eq!(
        denied.calls(Op::Start),
        1,
        "no retry of a permanent failure"
    );
}

#[tokio::test(start_paused = true)]
async fn retries_are_bounded() {
    let vm = FakeProvider::new(ID, VmState::Running, fast());
    for _ in 0..10 {
        vm.fail_next(Op::Stop, ProviderError::new(ErrorClass::Temporary, "503"));
    }
    let err = Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet)
        .stop()
        .await
        .unwrap_err();
    assert_eq!(
        err.class(),
        ErrorClass::Temporary,
        "reported, not swallowed"
    );
    assert_eq!(vm.calls(Op::Stop), 5);
}

#[tokio::test(start_paused = true)]
async fn stopping_a_pending_vm_waits_until_it_runs() {
    let vm = FakeProvider::new(ID, VmState::Pending, fast());
    let out = Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet)
        .stop()
        .await
        .unwrap();
    assert!(out.requested);
    assert_eq!(out.status.state, VmState::Running);
    let second = Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet)
        .stop()
        .await
        .unwrap();
    assert!(!second.requested, "stopping VM: nothing to do");
}

/// Figures: how fast the runner coming online is noticed, and what a long wait costs in API
/// calls (printed; run with --nocapture). The budget itself is asserted.
#[tokio::test(start_paused = true)]
async fn polling_budget_and_detection_lag() {
    let slow_boot = Timings {
        boot: Duration::from_secs(60),
        checks: Duration::from_secs(600),
        shutdown: Duration::from_secs(20),
    };
    let mut lags = Vec::new();
    let mut per_minute_ec2 = 0.0f64;
    let mut per_minute_gh = 0.0f64;
    for online_after in [75u64, 93, 131, 188, 240, 297] {
        let vm = FakeProvider::new(ID, VmState::Pending, slow_boot);
        let t0 = Instant::now();
        let runner = FakeRunner {
            online_at: t0 + Duration::from_secs(online_after),
            calls: AtomicUsize::new(0),
            detected: Mutex::new(None),
        };
        Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet)
            .with_runner(&runner)
            .wait_ready()
            .await
            .unwrap();
        let lag = Instant::now() - runner.online_at;
        lags.push(lag.as_secs_f64());
        let minutes = (Instant::now() - t0).as_secs_f64() / 60.0;
        per_minute_ec2 = per_minute_ec2.max(vm.calls(Op::Describe) as f64 / minutes);
        per_minute_gh = per_minute_gh.max(runner.calls.load(Ordering::SeqCst) as f64 / minutes);
    }
    println!("runner detection lag (s) for runners online at 75..297 s: {lags:?}");
    println!("worst calls per minute: EC2 {per_minute_ec2:.1}, GitHub {per_minute_gh:.1}");
    assert!(per_minute_ec2 <= 12.0 && per_minute_gh <= 12.0);
    let mean = lags.iter().sum::<f64>() / lags.len() as f64;
    println!("mean lag {mean:.2} s");
    assert!(lags.iter().all(|&l| l <= 6.25), "{lags:?}");
}

/// A runner check that is rate limited first.
struct ThrottledRunner {
    reset_in: Duration,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl RunnerProbe for ThrottledRunner {
    fn runner_name(&self) -> &str {
        "gpu-runner"
    }
    async fn is_online(&self) -> Result<bool, ProviderError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(ProviderError::new(
                ErrorClass::RateLimited,
                "GitHub rate limit reached; it resets at unix time 4102444800",
            )
            .with_retry_after(self.reset_in));
        }
        Ok(true)
    }
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_reset_inside_the_budget_is_waited_for_and_one_outside_fails_now() {
    let vm = FakeProvider::new(ID, VmState::Running, fast());
    let soon = ThrottledRunner {
        reset_in: Duration::from_secs(20),
        calls: AtomicUsize::new(0),
    };
    let t0 = Instant::now();
    Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet)
        .with_runner(&soon)
        .wait_ready()
        .await
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_secs(20));
    assert_eq!(soon.calls.load(Ordering::SeqCst), 2);

    let late = ThrottledRunner {
        reset_in: Duration::from_secs(3600),
        calls: AtomicUsize::new(0),
    };
    let t0 = Instant::now();
    let err = Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet)
        .with_runner(&late)
        .wait_ready()
        .await
        .unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(60), "failed at once");
    assert_eq!(err.class(), ErrorClass::RateLimited);
    assert!(
        err.to_string().contains("4102444800") && err.to_string().contains("budget"),
        "{err}"
    );
}

/// Timeouts and server-requested waits come from users and remote APIs; the largest values
/// are a long wait or an over-budget failure, never an `Instant` overflow (found by audit:
/// `--runner-timeout 18446744073709551615`, `retry-after: 18446744073709551615`).
#[tokio::test(start_paused = true)]
async fn huge_timeouts_and_waits_do_not_overflow() {
    let vm = FakeProvider::new(ID, VmState::Stopped, fast());
    let policy = ReadinessPolicy {
        status_timeout: Duration::MAX,
        runner_timeout: Duration::MAX,
        transition_timeout: Duration::MAX,
        wait_for_status_checks: true,
        ..ReadinessPolicy::default()
    };
    let runner = FakeRunner {
        online_at: Instant::now() + Duration::from_secs(200),
        calls: AtomicUsize::new(0),
        detected: Mutex::new(None),
    };
    let lifecycle = Lifecycle::new(&vm, policy.clone(), &Quiet).with_runner(&runner);
    lifecycle.start().await.unwrap();
    lifecycle.wait_ready().await.unwrap();
    assert!(runner.detected.lock().unwrap().is_some());

    let forever = ThrottledRunner {
        reset_in: Duration::MAX,
        calls: AtomicUsize::new(0),
    };
    let err = Lifecycle::new(&vm, ReadinessPolicy::default(), &Quiet)
        .with_runner(&forever)
        .wait_ready()
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::RateLimited);
    assert!(err.to_string().contains("budget"), "{err}");
}
