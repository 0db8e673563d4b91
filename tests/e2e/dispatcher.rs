//! The local dispatcher: plays GitHub Actions (and, for actions on other platforms, FaaSr's
//! invoker) for one workflow run. Every workflow dispatch the fake GitHub records becomes a
//! job on its own thread, so parallel branches overlap as they would on GitHub; lifecycle
//! actions run their rendered step (`ephflow action run`), user actions the stand-in for
//! FaaSr's runtime, and a failed job is followed by its rendered `stop_vm_on_failure` job.
//! The dispatcher also plays the VM's runner agent. It returns once the run is over: no job
//! running and no dispatch left.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::events::{Event, Outcome, Runner};
use crate::harness::{BOUND, World};
use crate::{rendered, standin};

/// One dispatched action.
#[derive(Debug, Clone)]
pub struct Job {
    /// `OVERWRITTEN.FunctionInvoke`.
    pub action: String,
    /// `OVERWRITTEN.FunctionRank`.
    pub rank: Option<u32>,
    /// OVERWRITTEN, parsed.
    pub overwritten: Map<String, Value>,
    /// PAYLOAD_URL.
    pub payload_url: String,
}

impl Job {
    /// A job from its dispatch inputs.
    pub fn new(overwritten: Map<String, Value>, payload_url: String) -> Job {
        let action = overwritten["FunctionInvoke"]
            .as_str()
            .expect("OVERWRITTEN names the action")
            .to_owned();
        let rank = overwritten
            .get("FunctionRank")
            .map(|r| r.as_u64().expect("FunctionRank is a number") as u32);
        Job {
            action,
            rank,
            overwritten,
            payload_url,
        }
    }

    /// The workflow_dispatch inputs, as GitHub hands them to the job.
    pub fn inputs(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "OVERWRITTEN",
                Value::Object(self.overwritten.clone()).to_string(),
            ),
            ("PAYLOAD_URL", self.payload_url.clone()),
        ]
    }

    /// What the expressions of this job's rendered file see.
    pub fn context<'a>(&self, secrets: &'a BTreeMap<String, String>) -> rendered::Context<'a> {
        rendered::Context {
            secrets,
            inputs: self.inputs(),
        }
    }
}

/// How often the dispatcher looks for new dispatches and updates the runner.
const TICK: Duration = Duration::from_millis(100);

/// Counts running jobs; a job leaves the count when its thread ends, even by a panic.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Stops every job's process when the dispatcher unwinds (a failed check, the bound).
struct AbortOnUnwind<'a>(&'a World);

impl Drop for AbortOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abort();
        }
    }
}

/// Runs the workflow from the dispatches already recorded until nothing is left to run.
pub fn run(world: &Arc<World>) {
    let _abort = AbortOnUnwind(world);
    let deadline = Instant::now() + BOUND;
    let running = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    let mut cursor = 0;
    loop {
        world.runner_agent_step();
        // Read the count first: a job sends its dispatches before it leaves the count, so
        // when none is running every dispatch of theirs is recorded below.
        let idle = running.load(Ordering::SeqCst) == 0;
        let seen = world.gh.seen();
        let mut jobs: Vec<Job> = seen[cursor..]
            .iter()
            .filter_map(|s| world.dispatched(s))
            .collect();
        cursor = seen.len();
        jobs.extend(world.local.lock().expect("not poisoned").drain(..));
        if idle && jobs.is_empty() {
            break;
        }
        for job in jobs {
            running.fetch_add(1, Ordering::SeqCst);
            let guard = Running(running.clone());
            let world = world.clone();
            threads.push(std::thread::spawn(move || {
                let _guard = guard;
                execute(&world, job);
            }));
        }
        assert!(
            Instant::now() < deadline,
            "{}: the run did not end within {BOUND:?}:\n{}",
            world.scenario.name,
            world.timeline().render()
        );
        std::thread::sleep(TICK);
    }
    for thread in threads {
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

/// Runs one job, then its failure teardown when it failed.
fn execute(world: &World, job: Job) {
    let builtin = world.is_builtin(&job.action);
    let runner = if builtin {
        Runner::Builtin
    } else {
        Runner::User
    };
    let no = world.start_job(&job.action, job.rank, runner);
    let outcome = if builtin {
        run_builtin(world, no, &job)
    } else {
        standin::run(world, no, &job)
    };
    world.log.push(Event::End {
        job: no,
        outcome: outcome.clone(),
    });
    if matches!(outcome, Outcome::Failed(_))
        && let Some(teardown) = world.rendered.teardown(&job.action)
    {
        let no = world.start_job(&job.action, job.rank, Runner::Teardown);
        let (code, output) = run_steps(world, no, teardown, &[], &job);
        assert_eq!(
            code, 0,
            "{}: the stop_vm_on_failure job of {} failed:\n{output}",
            world.scenario.name, job.action
        );
        world.log.push(Event::End {
            job: no,
            outcome: Outcome::Ran,
        });
    }
}

/// A lifecycle action: its rendered job's steps, with the job's env.
fn run_builtin(world: &World, no: usize, job: &Job) -> Outcome {
    let main = world.rendered.main_job(&job.action).unwrap_or_else(|| {
        panic!(
            "{}: no rendered job for the builtin {}",
            world.scenario.name, job.action
        )
    });
    let job_env = rendered::env(main, &job.context(&world.secrets));
    let (code, output) = run_steps(world, no, main, &job_env, job);
    if code != 0 {
        if !world.scenario.expects_failure_of(&job.action, code) {
            eprintln!(
                "{}: job {no} ({}) exited {code}:\n{output}",
                world.scenario.name, job.action
            );
        }
        return Outcome::Failed(code);
    }
    // `ephflow action run` says which way it went (README, "Native lifecycle actions").
    if output.contains(&format!("{}: done", job.action)) {
        Outcome::Ran
    } else if output.contains("not every predecessor has finished") {
        Outcome::Waiting
    } else if output.contains("another invocation") {
        Outcome::Lost
    } else {
        panic!(
            "{}: job {no} ({}) said:\n{output}",
            world.scenario.name, job.action
        )
    }
}

/// Runs `job_def`'s steps in order (stopping at the first failure) with `job_env` plus each
/// step's own env; returns the last exit code and everything printed.
fn run_steps(
    world: &World,
    no: usize,
    job_def: &Value,
    job_env: &[(String, String)],
    job: &Job,
) -> (i32, String) {
    let ctx = job.context(&world.secrets);
    let mut output = String::new();
    // GitHub gives a job the means to request an OIDC token only under `id-token: write`.
    let id_token = job_def["permissions"]["id-token"] == "write";
    for step in rendered::steps(job_def) {
        let mut env = job_env.to_vec();
        if id_token {
            env.extend(world.oidc_env());
        }
        env.extend(rendered::expand_all(&step.env, &ctx));
        let (code, text) = world.shell(no, &step.run, &env);
        output.push_str(&text);
        if code != 0 {
            return (code, output);
        }
    }
    (0, output)
}
