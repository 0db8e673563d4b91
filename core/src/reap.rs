//! The reaper: the safety net that stops a VM left running (a workflow that failed where no
//! teardown job could run, a cancelled run, a stop that never came because FaaSr's fan-in could
//! not express it). It runs on a schedule, looks at the VM, its runner and the repository's VM
//! jobs, and stops the VM only when nothing uses it:
//!
//! - a VM whose runner is busy, or with a VM job (a VM action or a poll) queued or running, is
//!   never stopped, whatever its age;
//! - otherwise it is stopped once it has run longer than `MaxLifetime`, or once it has been
//!   idle (runner online and idle, no VM job) for longer than `IdleTimeout`, idle counted from
//!   the later of its start and the last VM job's last change.
//!
//! The decision ([`decide`]) is a pure function of the facts and the clock, so every rule is
//! tested without waiting; [`gather`] collects the facts.

use std::time::{Duration, SystemTime};

use ephflow_schema::model::{VmConfig, Workflow};
use ephflow_schema::names::INJECTED_POLL;

use crate::backend::{ExecutionBackend, RunState, RunnerStatus};
use crate::provider::{ProviderError, VmProvider, VmState};

/// Default `IdleTimeout`: 30 minutes, longer than typical gaps between VM actions (and a later
/// poll starts a reaped VM again).
pub const DEFAULT_IDLE: Duration = Duration::from_secs(30 * 60);
/// Default `MaxLifetime`: 12 hours.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Runs listed per VM workflow file: queued and running runs are the newest.
pub const RUNS_PER_FILE: u32 = 10;

/// When an unused VM is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReapPolicy {
    /// Idle time before a stop.
    pub idle: Duration,
    /// Age before a stop (unless busy).
    pub max_lifetime: Duration,
}

impl ReapPolicy {
    /// VMConfig's `IdleTimeout` and `MaxLifetime`, else the defaults.
    pub fn for_config(config: &VmConfig) -> Self {
        ReapPolicy {
            idle: config
                .idle_timeout
                .map_or(DEFAULT_IDLE, Duration::from_secs),
            max_lifetime: config
                .max_lifetime
                .map_or(DEFAULT_MAX_LIFETIME, Duration::from_secs),
        }
    }
}

/// GitHub's own default `timeout-minutes`: 6 hours.
pub const GITHUB_JOB_TIMEOUT: Duration = Duration::from_secs(6 * 60 * 60);

/// How long a VM action's job may run: `JobTimeout`, else the smaller of `MaxLifetime` and
/// GitHub's default. The bound is what ends a hung job, which the reaper (never stopping a VM
/// under a running job) cannot.
pub fn vm_job_timeout(config: &VmConfig) -> Duration {
    config.job_timeout.map(Duration::from_secs).unwrap_or(
        ReapPolicy::for_config(config)
            .max_lifetime
            .min(GITHUB_JOB_TIMEOUT),
    )
}

/// What the reaper found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReapFacts {
    /// The VM's state.
    pub state: VmState,
    /// When it last started, when the provider can tell.
    pub running_since: Option<SystemTime>,
    /// The runner's status, when the workflow names one.
    pub runner: Option<RunnerStatus>,
    /// VM workflow files with a queued or running run.
    pub active: Vec<String>,
    /// The newest change of any VM job.
    pub last_activity: Option<SystemTime>,
}

/// The reaper's decision, with the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not running: nothing to do.
    NotRunning(String),
    /// In use: never stopped.
    Busy(String),
    /// Running and unused, but not for long enough (or it cannot tell how long).
    Keep(String),
    /// Stop it.
    Stop(String),
}

fn minutes(d: Duration) -> String {
    crate::text::duration(d.as_secs_f64())
}

/// Decides from `facts` at `now`.
pub fn decide(facts: &ReapFacts, policy: &ReapPolicy, now: SystemTime) -> Verdict {
    match facts.state {
        VmState::Running => {}
        VmState::Pending => return Verdict::Busy("the VM is starting".into()),
        other => return Verdict::NotRunning(format!("the VM is {other}")),
    }
    if facts.runner == Some(RunnerStatus::Busy) {
        return Verdict::Busy("its runner is running a job".into());
    }
    if !facts.active.is_empty() {
        return Verdict::Busy(format!(
            "VM jobs are queued or running ({})",
            facts.active.join(", ")
        ));
    }
    let age = facts
        .running_since
        .map(|t| now.duration_since(t).unwrap_or_default());
    if let Some(age) = age.filter(|a| *a > policy.max_lifetime) {
        return Verdict::Stop(format!(
            "it has run {} (MaxLifetime {}) and no VM job uses it",
            minutes(age),
            minutes(policy.max_lifetime)
        ));
    }
    let runner_note = match facts.runner {
        Some(RunnerStatus::Online) => "its runner is online and idle",
        None => "no runner is named (VMConfig.RunnerName), so only VM jobs count",
        Some(_) => {
            return Verdict::Keep(
                "its runner is not online (booting, or broken: MaxLifetime still applies)".into(),
            );
        }
    };
    let since = match (facts.running_since, facts.last_activity) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let Some(since) = since else {
        return Verdict::Keep(
            "it cannot tell since when the VM is idle (no start time, no VM job yet)".into(),
        );
    };
    let idle = now.duration_since(since).unwrap_or_default();
    if idle > policy.idle {
        Verdict::Stop(format!(
            "idle for {} (IdleTimeout {}): {runner_note}, no VM job queued or running",
            minutes(idle),
            minutes(policy.idle)
        ))
    } else {
        Verdict::Keep(format!(
            "idle for {} of {} allowed: {runner_note}",
            minutes(idle),
            minutes(policy.idle)
        ))
    }
}

/// The workflow files of the VM jobs: every RequiresVM action and every poll (a running poll
/// means a VM action is about to come).
pub fn vm_job_files(workflow: &Workflow) -> Vec<(String, String)> {
    workflow
        .action_list
        .iter()
        .filter(|(name, a)| a.requires_vm() || (a.is_builtin() && name.starts_with(INJECTED_POLL)))
        .map(|(name, a)| {
            (
                a.faas_server.clone(),
                format!("{}-{name}.yml", workflow.workflow_name),
            )
        })
        .collect()
}

/// Collects the facts: the VM's state and start time, the runner's status on
/// `runner_backend`, and the runs of every VM job file on its server's backend
/// (`backends(server)`).
pub async fn gather(
    provider: &dyn VmProvider,
    runner: Option<(&dyn ExecutionBackend, &str)>,
    jobs: &[(&dyn ExecutionBackend, String)],
) -> Result<ReapFacts, ProviderError> {
    let status = provider.describe().await?;
    let mut facts = ReapFacts {
        state: status.state,
        running_since: None,
        runner: None,
        active: Vec::new(),
        last_activity: None,
    };
    if status.state != VmState::Running {
        return Ok(facts);
    }
    facts.running_since = provider.running_since().await?;
    if let Some((backend, name)) = runner {
        facts.runner = Some(backend.runner_status(name).await?);
    }
    for (backend, file) in jobs {
        for run in backend.workflow_runs(file, RUNS_PER_FILE).await? {
            if run.state != RunState::Completed && !facts.active.contains(file) {
                facts.active.push(file.clone());
            }
            facts.last_activity = facts.last_activity.max(Some(run.updated_at));
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn facts(state: VmState, age: Option<Duration>, runner: Option<RunnerStatus>) -> ReapFacts {
        let now = SystemTime::UNIX_EPOCH + 100 * HOUR;
        ReapFacts {
            state,
            running_since: age.map(|a| now - a),
            runner,
            active: Vec::new(),
            last_activity: None,
        }
    }

    fn verdict(f: &ReapFacts) -> Verdict {
        let policy = ReapPolicy {
            idle: HOUR / 2,
            max_lifetime: 12 * HOUR,
        };
        decide(f, &policy, SystemTime::UNIX_EPOCH + 100 * HOUR)
    }

    #[test]
    fn busy_vms_are_never_stopped() {
        let old = Some(48 * HOUR);
        let f = facts(VmState::Running, old, Some(RunnerStatus::Busy));
        assert!(matches!(verdict(&f), Verdict::Busy(r) if r.contains("runner is running")));
        let mut f = facts(VmState::Running, old, Some(RunnerStatus::Online));
        f.active = vec!["w-train.yml".into()];
        assert!(matches!(verdict(&f), Verdict::Busy(r) if r.contains("w-train.yml")));
        let f = facts(VmState::Pending, old, None);
        assert!(matches!(verdict(&f), Verdict::Busy(_)));
    }

    #[test]
    fn stopped_vms_need_nothing() {
        for state in [VmState::Stopped, VmState::Stopping, VmState::Terminated] {
            assert!(matches!(
                verdict(&facts(state, None, None)),
                Verdict::NotRunning(_)
            ));
        }
    }

    #[test]
    fn old_vms_are_stopped_even_with_a_dead_runner() {
        let f = facts(
            VmState::Running,
            Some(13 * HOUR),
            Some(RunnerStatus::Offline),
        );
        assert!(matches!(verdict(&f), Verdict::Stop(r) if r.contains("MaxLifetime 12h00m")));
        let f = facts(
            VmState::Running,
            Some(11 * HOUR),
            Some(RunnerStatus::Offline),
        );
        assert!(matches!(verdict(&f), Verdict::Keep(r) if r.contains("not online")));
    }

    #[test]
    fn idle_counts_from_the_last_vm_job() {
        let mut f = facts(VmState::Running, Some(2 * HOUR), Some(RunnerStatus::Online));
        assert!(matches!(verdict(&f), Verdict::Stop(r) if r.contains("idle for 2h00m")));
        // A VM job finished 10 minutes ago: not idle long enough.
        f.last_activity = Some(SystemTime::UNIX_EPOCH + 100 * HOUR - HOUR / 6);
        assert!(matches!(verdict(&f), Verdict::Keep(r) if r.contains("10m00s of 30m00s")));
        // Started 5 minutes ago, last job yesterday: idle since the start.
        let mut f = facts(
            VmState::Running,
            Some(HOUR / 12),
            Some(RunnerStatus::Online),
        );
        f.last_activity = Some(SystemTime::UNIX_EPOCH + 76 * HOUR);
        assert!(matches!(verdict(&f), Verdict::Keep(_)));
        // No start time and no job: it cannot tell.
        let f = facts(VmState::Running, None, Some(RunnerStatus::Online));
        assert!(matches!(verdict(&f), Verdict::Keep(r) if r.contains("cannot tell")));
        // No runner named: VM jobs alone decide.
        let f = facts(VmState::Running, Some(HOUR), None);
        assert!(matches!(verdict(&f), Verdict::Stop(r) if r.contains("no runner is named")));
    }
}
