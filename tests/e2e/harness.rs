//! One scenario's world and its checks: moto (EC2 and S3) behind a counting EC2 proxy, the
//! fake GitHub API, the workflow prepared as a user would (rewritten to point at them,
//! `ephflow augment`, `ephflow register`, committed, `ephflow invoke`), the local dispatcher
//! running it, and the assertions every run must pass.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ephflow_aws::testkit::{Moto, moto_stopped_instance};
use ephflow_aws::{Ec2Options, Ec2Provider};
use ephflow_core::provider::{BuildContext, Secret, StaticSecrets, VmProvider, VmState};
use ephflow_github::testkit::{FakeGitHub, Seen};
use serde_json::{Map, Value, json};

use crate::dispatcher::{self, Job};
use crate::ec2_proxy::Ec2Proxy;
use crate::events::{Event, EventLog, Outcome, Runner, Timeline};
use crate::rendered::Rendered;
use crate::support;

/// A bound on a whole run, against hanging CI (not a timed assertion: runs take seconds).
pub const BOUND: Duration = Duration::from_secs(120);
const BUCKET: &str = "ephflow-e2e";
const REGION: &str = "us-east-1";
const RUNNER: &str = "e2e-runner";
const BUILTIN_IMAGE: &str = "ghcr.io/ephflow/ephflow:e2e";
const VM_STOP: &str = "vm_stop";

/// Where a scenario's workflow comes from.
enum Source {
    /// A file of the FaaSr corpus (`../shared/corpus/faasr`).
    Corpus(&'static str),
    /// A workflow of this repository.
    Fixture(&'static str),
    /// An augmented workflow of this repository, played as it is.
    Augmented(&'static str),
}

/// A workflow run to play, with the user actions' script and what must happen.
pub struct Scenario {
    /// Name in the summary line.
    pub name: &'static str,
    source: Source,
    results: Vec<(&'static str, bool)>,
    failing: Vec<&'static str>,
    failed_jobs: BTreeMap<&'static str, i32>,
    runner_never_online: bool,
    without_vm_keys: bool,
    vm_config: Vec<(&'static str, Value)>,
    vm_runs: BTreeMap<&'static str, usize>,
}

impl Scenario {
    fn new(name: &'static str, source: Source) -> Scenario {
        Scenario {
            name,
            source,
            results: Vec::new(),
            failing: Vec::new(),
            failed_jobs: BTreeMap::new(),
            runner_never_online: false,
            without_vm_keys: false,
            vm_config: Vec::new(),
            vm_runs: BTreeMap::new(),
        }
    }

    /// A workflow of the FaaSr corpus.
    pub fn corpus(name: &'static str, file: &'static str) -> Scenario {
        Scenario::new(name, Source::Corpus(file))
    }

    /// A workflow under the repository root.
    pub fn fixture(name: &'static str, path: &'static str) -> Scenario {
        Scenario::new(name, Source::Fixture(path))
    }

    /// An augmented workflow under the repository root, not augmented again.
    pub fn augmented(name: &'static str, path: &'static str) -> Scenario {
        Scenario::new(name, Source::Augmented(path))
    }

    /// The conditional result `action` returns (True when not scripted).
    pub fn returns(mut self, action: &'static str, result: bool) -> Scenario {
        self.results.push((action, result));
        self
    }

    /// The user action `action` fails (exit 1): no marker, nothing invoked.
    pub fn failing(mut self, action: &'static str) -> Scenario {
        self.failing.push(action);
        self.failed_jobs.insert(action, 1);
        self
    }

    /// The runner never comes online, so `poll` times out (exit 4).
    pub fn runner_never_online(mut self, poll: &'static str) -> Scenario {
        self.runner_never_online = true;
        self.failed_jobs.insert(poll, 4);
        self
    }

    /// The repository holds no VM key secret: a rendered job that asks for one fails the test
    /// (the harness's own observer keeps its copy).
    pub fn without_vm_keys(mut self) -> Scenario {
        self.without_vm_keys = true;
        self
    }

    /// Sets `VMConfig.<key>` in the test's copy.
    pub fn vm_config(mut self, key: &'static str, value: Value) -> Scenario {
        self.vm_config.push((key, value));
        self
    }

    /// The VM action `action` must run `times` times (once per rank).
    pub fn vm_runs(mut self, action: &'static str, times: usize) -> Scenario {
        self.vm_runs.insert(action, times);
        self
    }

    /// Whether the script fails `action`.
    pub fn fails(&self, action: &str) -> bool {
        self.failing.contains(&action)
    }

    /// The scripted result of `action`.
    pub fn result(&self, action: &str) -> bool {
        self.results
            .iter()
            .find(|(a, _)| *a == action)
            .is_none_or(|(_, r)| *r)
    }

    fn expects_failure(&self) -> bool {
        !self.failed_jobs.is_empty()
    }

    /// Whether `action` is scripted to fail with `code`.
    pub fn expects_failure_of(&self, action: &str, code: i32) -> bool {
        self.failed_jobs.get(action) == Some(&code)
    }

    /// Plays the scenario and checks it; prints its figures.
    pub fn run(self) {
        let started = Instant::now();
        let Some(world) = World::start(self) else {
            return;
        };
        world.invoke();
        dispatcher::run(&world);
        let timeline = world.timeline();
        world.check(&timeline);
        world.summary(&timeline, started.elapsed());
    }
}

/// Everything one scenario runs against; shared by the job threads.
pub struct World {
    /// The scenario.
    pub scenario: Scenario,
    /// For the harness's own async calls (stand-in, VM checks), from any thread.
    pub rt: tokio::runtime::Runtime,
    /// The fake GitHub API.
    pub gh: FakeGitHub,
    /// Job starts and ends, VM checks, power-state requests.
    pub log: Arc<EventLog>,
    /// The rendered workflow files.
    pub rendered: Rendered,
    /// The repository's secrets (name → value).
    pub secrets: BTreeMap<String, String>,
    /// Jobs for actions on other platforms, invoked by the stand-in.
    pub local: Mutex<VecDeque<Job>>,
    /// Kept for the run (moto stops when dropped).
    _moto: Moto,
    ec2: Ec2Proxy,
    dir: tempfile::TempDir,
    augmented: PathBuf,
    workflow: Value,
    payload_path: String,
    payload_url: String,
    vm: Ec2Provider,
    runner_name: String,
    runner_online: Mutex<bool>,
    jobs: AtomicUsize,
    aborted: AtomicBool,
}

fn ephflow() -> std::process::Command {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("ephflow"))
}

fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`, which must succeed.
fn succeed(cmd: &mut std::process::Command, what: &str) -> String {
    let out = cmd.output().expect("ephflow runs");
    assert!(out.status.success(), "{what}: {}", output_text(&out));
    output_text(&out)
}

fn have_aws_cli() -> bool {
    let ok = std::process::Command::new("aws")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        support::missing(
            "the aws CLI, which the rendered stop_vm_on_failure job runs (pip install -r tests/python/requirements.txt)",
        );
    }
    ok
}

/// Points the test's copy at moto: the DefaultDataStore's bucket, the VM, a runner name.
fn rewrite(doc: &mut Value, moto: &str, instance: &str, overrides: &[(&str, Value)]) {
    let store = doc["DefaultDataStore"]
        .as_str()
        .expect("a DefaultDataStore")
        .to_owned();
    let entry = &mut doc["DataStores"][&store];
    entry["Endpoint"] = json!(moto);
    entry["Region"] = json!(REGION);
    entry["Bucket"] = json!(BUCKET);
    let vm = &mut doc["VMConfig"];
    vm["InstanceId"] = json!(instance);
    vm["Region"] = json!(REGION);
    if vm.get("RunnerName").is_none() {
        vm["RunnerName"] = json!(RUNNER);
    }
    for (key, value) in overrides {
        vm[*key] = value.clone();
    }
}

/// The test's copy of `source`, rewritten by `edit`, then augmented unless `augment` is false
/// (an augmented fixture); returns the workflow to register and commit.
fn prepare(source: &Path, augment: bool, dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(source).unwrap_or_else(|e| panic!("{}: {e}", source.display())),
    )
    .expect("the workflow is JSON");
    edit(&mut doc);
    let stem = source.file_stem().unwrap().to_string_lossy().into_owned();
    let input = dir.join(format!("{stem}.json"));
    std::fs::write(&input, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    if !augment {
        return input;
    }
    succeed(ephflow().arg("augment").arg(&input), "augment");
    dir.join(format!("{stem}_augmented.json"))
}

/// The harness's own view of the VM: the provider, talking to moto directly (not through the
/// counting proxy).
async fn observer(
    vm_config: &Value,
    secrets: &BTreeMap<String, String>,
    moto: &str,
) -> Ec2Provider {
    let name = vm_config["Name"].as_str().expect("a VMConfig name");
    let keys = ["AccessKey", "SecretKey"].map(|k| {
        let n = format!("{name}_{k}");
        let value = Secret::new(secrets[&n].clone());
        (n, value)
    });
    let ctx = BuildContext {
        config: serde_json::from_value(vm_config.clone()).expect("a VMConfig"),
        secrets: Arc::new(StaticSecrets(keys.to_vec())),
    };
    let options = Ec2Options {
        endpoint_url: Some(moto.to_owned()),
        ..Ec2Options::default()
    };
    Ec2Provider::build_with(ctx, options)
        .await
        .expect("the provider builds")
}

/// `<owner>/<repo>/<branch>/<path>` on the entry's server, as `ephflow invoke` sends it.
fn payload_url(workflow: &Value, path: &str) -> String {
    let entry = workflow["FunctionInvoke"].as_str().expect("an entry");
    let server_name = workflow["ActionList"][entry]["FaaSServer"]
        .as_str()
        .expect("the entry's server");
    let server = &workflow["ComputeServers"][server_name];
    format!(
        "{}/{}/{}/{path}",
        server["UserName"].as_str().expect("a UserName"),
        server["ActionRepoName"]
            .as_str()
            .expect("an ActionRepoName"),
        server["Branch"].as_str().unwrap_or("main")
    )
}

/// The secrets a FaaSr user stores in the repository for `workflow`, named by FaaSr's
/// conventions (FAASR.md §1), each with a distinct value.
fn repository_secrets(workflow: &Value) -> BTreeMap<String, String> {
    let mut names = vec!["GH_PAT".to_owned()];
    for (name, server) in workflow["ComputeServers"].as_object().expect("servers") {
        let suffixes: &[&str] = match server["FaaSType"].as_str().unwrap_or_default() {
            "GitHubActions" => &["PAT"],
            "Lambda" => &["AccessKey", "SecretKey"],
            "OpenWhisk" => &["APIkey"],
            "GoogleCloud" => &["SecretKey"],
            _ => &["Token"],
        };
        names.extend(suffixes.iter().map(|s| format!("{name}_{s}")));
    }
    let stores = workflow["DataStores"].as_object().expect("data stores");
    let vm = workflow["VMConfig"]["Name"].as_str().expect("a VMConfig");
    for prefix in stores.keys().map(String::as_str).chain([vm]) {
        names.extend(["AccessKey", "SecretKey"].map(|s| format!("{prefix}_{s}")));
    }
    for name in workflow["Secrets"].as_array().into_iter().flatten() {
        names.push(name.as_str().expect("a secret name").to_owned());
    }
    names
        .into_iter()
        .map(|n| {
            let value = format!("sentinel-{}-never-printed", n.to_ascii_lowercase());
            (n, value)
        })
        .collect()
}

impl World {
    fn start(scenario: Scenario) -> Option<Arc<World>> {
        let (source, augment) = match scenario.source {
            Source::Corpus(file) => (support::corpus_dir()?.join("faasr").join(file), true),
            Source::Fixture(path) => (support::root().join(path), true),
            Source::Augmented(path) => (support::root().join(path), false),
        };
        if !have_aws_cli() {
            return None;
        }
        let moto = Moto::start()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let instance = rt.block_on(moto_stopped_instance(&moto.url));
        moto.create_bucket(BUCKET);
        let log = Arc::new(EventLog::default());
        let ec2 = Ec2Proxy::start(&moto.url, log.clone());

        let dir = tempfile::tempdir().expect("a temporary directory");
        let augmented = prepare(&source, augment, dir.path(), |doc| {
            rewrite(doc, &moto.url, &instance, &scenario.vm_config)
        });
        let workflow: Value =
            serde_json::from_str(&std::fs::read_to_string(&augmented).unwrap()).unwrap();
        let out_dir = dir.path().join("workflows");
        register(&augmented, &out_dir);
        let actions: Vec<String> = workflow["ActionList"]
            .as_object()
            .expect("actions")
            .keys()
            .cloned()
            .collect();
        let name = workflow["WorkflowName"].as_str().expect("a name");
        let rendered = Rendered::load(&out_dir, name, &actions)?;
        let mut secrets = repository_secrets(&workflow);
        let vm = rt.block_on(observer(&workflow["VMConfig"], &secrets, &moto.url));
        if scenario.without_vm_keys {
            let vm_name = workflow["VMConfig"]["Name"]
                .as_str()
                .expect("a VMConfig name");
            secrets.retain(|name, _| !name.starts_with(&format!("{vm_name}_")));
        }
        let runner_name = workflow["VMConfig"]["RunnerName"]
            .as_str()
            .expect("rewrite names the runner")
            .to_owned();
        let gh = FakeGitHub::start();
        gh.set_runner(&runner_name, "offline", false);
        let payload_path = format!(
            "workflows/{}",
            augmented.file_name().unwrap().to_string_lossy()
        );
        let payload_url = payload_url(&workflow, &payload_path);
        let world = World {
            scenario,
            rt,
            gh,
            log,
            rendered,
            secrets,
            local: Mutex::new(VecDeque::new()),
            _moto: moto,
            ec2,
            dir,
            augmented,
            workflow,
            payload_path,
            payload_url,
            vm,
            runner_name,
            runner_online: Mutex::new(false),
            jobs: AtomicUsize::new(0),
            aborted: AtomicBool::new(false),
        };
        world.commit(&out_dir);
        Some(Arc::new(world))
    }

    /// Commits the workflow JSON and the rendered files to every GitHubActions server's branch
    /// (the fake serves one repository whatever the owner and name).
    fn commit(&self, rendered_dir: &Path) {
        let branches: BTreeSet<&str> = self.workflow["ComputeServers"]
            .as_object()
            .unwrap()
            .values()
            .filter(|s| s["FaaSType"] == "GitHubActions")
            .map(|s| s["Branch"].as_str().unwrap_or("main"))
            .collect();
        let json = std::fs::read(&self.augmented).unwrap();
        for branch in branches {
            self.gh.add_file(&self.payload_path, branch, &json);
            for file in std::fs::read_dir(rendered_dir).unwrap() {
                let path = file.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy();
                let text = std::fs::read(&path).unwrap();
                self.gh
                    .add_file(&format!(".github/workflows/{name}"), branch, &text);
            }
        }
    }

    /// `ephflow invoke`, as the user starts the run.
    fn invoke(&self) {
        let mut cmd = ephflow();
        cmd.arg("invoke")
            .arg(&self.augmented)
            .args(["--payload-path", &self.payload_path])
            .env("GITHUB_API_URL", &self.gh.url)
            .env_remove("GITHUB_TOKEN")
            .envs(&self.secrets);
        succeed(&mut cmd, "invoke");
    }

    /// The ActionList entry of `action`.
    pub fn action(&self, action: &str) -> &Value {
        &self.workflow["ActionList"][action]
    }

    /// Whether `action` is a lifecycle action.
    pub fn is_builtin(&self, action: &str) -> bool {
        self.action(action)["_faasr_builtin"] == json!(true)
    }

    fn is_vm_stop(&self, action: &str) -> bool {
        self.is_builtin(action) && self.action(action)["FunctionName"] == VM_STOP
    }

    fn requires_vm(&self, action: &str) -> bool {
        self.action(action)["RequiresVM"] == json!(true)
    }

    /// Numbers a job and logs its start.
    pub fn start_job(&self, action: &str, rank: Option<u32>, runner: Runner) -> usize {
        let job = self.jobs.fetch_add(1, Ordering::SeqCst);
        self.log.push(Event::Start {
            job,
            action: action.to_owned(),
            rank,
            runner,
        });
        job
    }

    /// The job a recorded request starts, when it is a workflow dispatch; checks it is the one
    /// FaaSr would send (file, repository, branch, PAYLOAD_URL, no secret).
    pub fn dispatched(&self, seen: &Seen) -> Option<Job> {
        if seen.method != "POST" || !seen.path.ends_with("/dispatches") {
            return None;
        }
        for value in self.secrets.values() {
            assert!(!seen.body.contains(value), "a secret in {}", seen.body);
        }
        let body: Value = serde_json::from_str(&seen.body).expect("a JSON dispatch");
        let overwritten: Map<String, Value> = serde_json::from_str(
            body["inputs"]["OVERWRITTEN"]
                .as_str()
                .expect("OVERWRITTEN is a string"),
        )
        .expect("OVERWRITTEN is a JSON object");
        let payload_url = body["inputs"]["PAYLOAD_URL"].as_str().expect("PAYLOAD_URL");
        assert_eq!(
            payload_url, self.payload_url,
            "PAYLOAD_URL travels unchanged"
        );
        let job = Job::new(overwritten, payload_url.to_owned());
        let server = &self.workflow["ComputeServers"][self.action(&job.action)["FaaSServer"]
            .as_str()
            .expect("a dispatched action exists")];
        let expected = format!(
            "/repos/{}/{}/actions/workflows/{}-{}.yml/dispatches",
            server["UserName"].as_str().unwrap(),
            server["ActionRepoName"].as_str().unwrap(),
            self.workflow["WorkflowName"].as_str().unwrap(),
            job.action
        );
        assert_eq!(seen.path, expected, "the dispatch of {}", job.action);
        assert_eq!(body["ref"], server["Branch"].as_str().unwrap_or("main"));
        Some(job)
    }

    /// Whether moto reports the instance running (asked directly, not through the proxy).
    pub async fn vm_running(&self) -> bool {
        self.vm
            .describe()
            .await
            .expect("moto describes the instance")
            .state
            == VmState::Running
    }

    fn vm_state(&self) -> VmState {
        self.rt
            .block_on(self.vm.describe())
            .expect("moto describes the instance")
            .state
    }

    /// Whether the runner agent has the runner online.
    pub fn runner_online(&self) -> bool {
        *self.runner_online.lock().expect("not poisoned")
    }

    /// The VM's runner agent: online while the instance runs (unless the scenario keeps it
    /// offline), offline otherwise.
    pub fn runner_agent_step(&self) {
        let online = self.vm_state() == VmState::Running && !self.scenario.runner_never_online;
        let mut current = self.runner_online.lock().expect("not poisoned");
        if *current != online {
            let status = if online { "online" } else { "offline" };
            self.gh.set_runner(&self.runner_name, status, false);
            *current = online;
        }
    }

    /// Stops the jobs' processes (the run is being abandoned).
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
    }

    /// Runs `script` with `sh -c` as a hosted runner would: a clean environment with the job's
    /// `env`, what GitHub itself provides (GITHUB_ACTIONS, GITHUB_RUN_ID, GITHUB_API_URL, here
    /// the fake), `ephflow` on PATH (the builtin image), and EC2 at the counting proxy. Returns
    /// the exit code and the output, which must not contain a secret.
    /// What a job with `id-token: write` gets to request its OIDC token (from the fake GitHub),
    /// and STS (moto) to exchange it with.
    pub fn oidc_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL".into(),
                self.gh.oidc_request_url(),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                "e2e-oidc-request-token".into(),
            ),
            ("AWS_ENDPOINT_URL_STS".into(), self._moto.url.clone()),
        ]
    }

    pub fn shell(&self, job: usize, script: &str, env: &[(String, String)]) -> (i32, String) {
        let workspace = self.dir.path().join(format!("job-{job}"));
        std::fs::create_dir_all(&workspace).unwrap();
        let bin = assert_cmd::cargo::cargo_bin("ephflow");
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let (stdout, stderr) = (workspace.join("stdout"), workspace.join("stderr"));
        let empty = workspace.join("aws-config");
        std::fs::write(&empty, "").unwrap();
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", script])
            .current_dir(&workspace)
            .env_clear()
            .envs(
                ["HOME", "PYENV_ROOT", "PYENV_VERSION", "LANG", "TMPDIR"]
                    .iter()
                    .filter_map(|k| std::env::var(k).ok().map(|v| (*k, v))),
            )
            .env("PATH", path)
            .env("GITHUB_ACTIONS", "true")
            .env("RUNNER_TEMP", &workspace)
            .env("GITHUB_RUN_ID", (1000 + job).to_string())
            .env("GITHUB_API_URL", &self.gh.url)
            .env("AWS_ENDPOINT_URL_EC2", &self.ec2.url)
            // Nothing from the developer's AWS configuration.
            .env("AWS_CONFIG_FILE", &empty)
            .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut child = cmd.spawn().expect("sh runs");
        let status = loop {
            if let Some(status) = child.try_wait().expect("the job's process") {
                break status;
            }
            if self.aborted.load(Ordering::SeqCst) {
                let _ = child.kill();
                break child.wait().expect("the killed process");
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        let output = format!(
            "{}{}",
            std::fs::read_to_string(&stdout).unwrap_or_default(),
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
        for (name, value) in &self.secrets {
            assert!(
                !output.contains(value),
                "job {job} printed {name}:\n{output}"
            );
        }
        (status.code().unwrap_or(-1), output)
    }

    /// The log so far.
    pub fn timeline(&self) -> Timeline {
        Timeline::new(self.log.events())
    }

    /// The assertions every run must pass (see tests/e2e.rs).
    fn check(&self, t: &Timeline) {
        let name = self.scenario.name;
        let log = t.render();
        let main_jobs = || t.jobs.values().filter(|j| j.runner != Runner::Teardown);

        // Failures are exactly the scripted ones, and each failed job with a teardown is
        // followed by it.
        let failed: Vec<_> = main_jobs()
            .filter(|j| matches!(j.end, Some((_, Outcome::Failed(_)))))
            .collect();
        let failed_actions: BTreeMap<&str, i32> = failed
            .iter()
            .map(|j| match j.end {
                Some((_, Outcome::Failed(code))) => (j.action.as_str(), code),
                _ => unreachable!("filtered"),
            })
            .collect();
        assert_eq!(
            failed_actions, self.scenario.failed_jobs,
            "{name}: failed jobs\n{log}"
        );
        let teardowns: Vec<_> = t.by(Runner::Teardown).collect();
        assert_eq!(
            teardowns.len(),
            failed.len(),
            "{name}: a teardown per failed job\n{log}"
        );
        for job in &failed {
            let (end, _) = job.end.clone().unwrap();
            assert!(
                teardowns
                    .iter()
                    .any(|d| d.action == job.action && d.start > end),
                "{name}: {} failed, and its stop_vm_on_failure job did not follow\n{log}",
                job.action
            );
        }

        // Every VM action ran with the VM up and its runner online, as often as expected.
        let vm_actions = t.vm_actions();
        for (job, action, running, online) in &vm_actions {
            assert!(
                *running && *online,
                "{name}: VM action {action} (job {job}) ran with the instance running={running}, runner online={online}\n{log}"
            );
        }
        let mut runs: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, action, _, _) in &vm_actions {
            *runs.entry(action.as_str()).or_default() += 1;
        }
        assert_eq!(runs, self.scenario.vm_runs, "{name}: VM action runs\n{log}");

        // Fan-in elects one: no action (copy) runs twice.
        let mut ran = BTreeSet::new();
        for job in main_jobs().filter(|j| matches!(j.end, Some((_, Outcome::Ran)))) {
            assert!(
                ran.insert((job.action.clone(), job.rank)),
                "{name}: {} rank {:?} ran twice\n{log}",
                job.action,
                job.rank
            );
        }

        // No stop before the last VM action finished: neither a vm_stop that ran nor any
        // StopInstances request.
        let last_vm_end = main_jobs()
            .filter(|j| self.requires_vm(&j.action))
            .filter_map(|j| j.end.as_ref().map(|(seq, _)| *seq))
            .max()
            .unwrap_or(0);
        let stops: Vec<_> = t
            .by(Runner::Builtin)
            .filter(|j| self.is_vm_stop(&j.action))
            .filter(|j| matches!(j.end, Some((_, Outcome::Ran))))
            .collect();
        let stop_requests = t.ec2("StopInstances");
        assert!(
            !stop_requests.is_empty(),
            "{name}: nothing asked EC2 to stop the VM\n{log}"
        );
        for seq in &stop_requests {
            assert!(
                *seq > last_vm_end,
                "{name}: StopInstances (event {seq}) before the last VM action ended (event {last_vm_end})\n{log}"
            );
        }
        // Who stopped it: exactly one vm_stop in a run that succeeded, the failure teardown
        // otherwise.
        let stoppers: Vec<(usize, usize)> = if self.scenario.expects_failure() {
            assert!(
                stops.is_empty(),
                "{name}: a vm_stop ran after a failure cut the run short\n{log}"
            );
            teardowns
                .iter()
                .map(|j| (j.start, j.end.as_ref().unwrap().0))
                .collect()
        } else {
            assert_eq!(stops.len(), 1, "{name}: exactly one vm_stop runs\n{log}");
            assert!(
                stops[0].start > last_vm_end,
                "{name}: {} started before the last VM action ended\n{log}",
                stops[0].action
            );
            vec![(stops[0].start, stops[0].end.as_ref().unwrap().0)]
        };
        for seq in &stop_requests {
            assert!(
                stoppers.iter().any(|(s, e)| s < seq && seq < e),
                "{name}: StopInstances (event {seq}) came from no stopping job\n{log}"
            );
        }

        let state = self.vm_state();
        assert!(
            matches!(state, VmState::Stopped | VmState::Stopping),
            "{name}: the VM is {state:?} at the end\n{log}"
        );
    }

    /// One line of figures for the issue note.
    fn summary(&self, t: &Timeline, elapsed: Duration) {
        let count = |r: Runner| t.by(r).count();
        let waits = t
            .jobs
            .values()
            .filter(|j| matches!(j.end, Some((_, Outcome::Waiting | Outcome::Lost))))
            .count();
        let ec2 = self.ec2.counts();
        let ec2_total: usize = ec2.values().sum();
        let ec2_detail = ec2
            .iter()
            .map(|(a, n)| format!("{a} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let seen = self.gh.seen();
        let kind = |f: &dyn Fn(&Seen) -> bool| seen.iter().filter(|s| f(s)).count();
        let dispatches = kind(&|s| s.path.ends_with("/dispatches"));
        let runners = kind(&|s| s.path.contains("/actions/runners"));
        let contents = kind(&|s| s.path.contains("/contents/"));
        eprintln!(
            "e2e {}: {} jobs ({} builtin, {} user, {} teardown; {waits} ended at fan-in), EC2 calls {ec2_total} ({ec2_detail}), GitHub calls {} ({dispatches} dispatches, {runners} runner lists, {contents} contents reads), VM actions {} ok, {:.1} s",
            self.scenario.name,
            t.jobs.len(),
            count(Runner::Builtin),
            count(Runner::User),
            count(Runner::Teardown),
            seen.len(),
            t.vm_actions().len(),
            elapsed.as_secs_f64()
        );
        if std::env::var_os("EPHFLOW_E2E_LOG").is_some() {
            eprintln!("{}", t.render());
        }
    }
}

/// `ephflow register` with native builtins: every scenario's lifecycle actions start only
/// GitHubActions actions, so `ephflow action run` can play them all.
fn register(augmented: &Path, out: &Path) {
    succeed(
        ephflow()
            .arg("register")
            .arg(augmented)
            .args([
                "--builtins",
                "native",
                "--builtin-image",
                BUILTIN_IMAGE,
                "--out",
            ])
            .arg(out),
        "register --builtins native",
    );
}
