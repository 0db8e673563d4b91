//! A stand-in for FaaSr's runtime running a user action, written from FaaSr's protocol
//! (FAASR.md §2, §4) and independent of ephflow's own implementation, so the two
//! cross-check: it fetches the workflow from PAYLOAD_URL, merges OVERWRITTEN, does FaaSr's
//! fan-in on the completion markers (its own key layout), runs the "function" (the scenario's
//! script: a conditional result, or a failure), writes its marker, and invokes its InvokeNext:
//! GitHubActions successors by a workflow dispatch, others by queueing them with the local
//! dispatcher (FaaSr would invoke them through their platform).

use std::collections::BTreeMap;
use std::sync::Arc;

use ephflow_core::action::{CompletionStore, Created};
use ephflow_core::backend::{BackendContext, ExecutionBackend};
use ephflow_core::provider::{Secret, SecretSource, StaticSecrets};
use ephflow_core::schema::model::{ComputeServer, DataStore};
use ephflow_github::GithubBackend;
use ephflow_s3::S3Store;
use serde_json::{Map, Value, json};

use crate::dispatcher::Job;
use crate::events::{Event, Outcome};
use crate::harness::World;
use crate::rendered;

/// Runs the user action of `job` (job number `no`).
pub fn run(world: &World, no: usize, job: &Job) -> Outcome {
    let env = job_env(world, job);
    world.rt.block_on(Run::new(world, job, env).run(no))
}

/// The environment FaaSr's runtime gets: the rendered job's `env:` (so the secrets the runtime
/// needs must be rendered there), or, for an action on another platform, every secret.
fn job_env(world: &World, job: &Job) -> BTreeMap<String, String> {
    match world.rendered.main_job(&job.action) {
        Some(main) => {
            if world.action(&job.action)["RequiresVM"] == json!(true) {
                let runs_on = main["runs-on"].to_string();
                assert!(
                    runs_on.contains("self-hosted"),
                    "VM action {} runs on {runs_on}",
                    job.action
                );
            }
            rendered::env(main, &job.context(&world.secrets))
                .into_iter()
                .collect()
        }
        None => {
            let mut env = world.secrets.clone();
            env.extend(job.inputs().into_iter().map(|(k, v)| (k.to_owned(), v)));
            env
        }
    }
}

struct Run<'a> {
    world: &'a World,
    job: &'a Job,
    env: BTreeMap<String, String>,
    secrets: Arc<StaticSecrets>,
}

/// Where FaaSr keeps one invocation's markers (FAASR.md §4), written out here again.
struct Keys {
    base: String,
}

impl Keys {
    fn new(workflow: &Value) -> Keys {
        let log = workflow["FaaSrLog"]
            .as_str()
            .filter(|l| !l.is_empty())
            .unwrap_or("FaaSrLog");
        let field = |name: &str| {
            workflow[name]
                .as_str()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| panic!("a user action runs with {name} set (OVERWRITTEN)"))
                .to_owned()
        };
        Keys {
            base: format!(
                "{log}/{}/{}/{}",
                field("WorkflowName"),
                field("InvocationTimestamp"),
                field("InvocationID")
            ),
        }
    }

    fn done(&self, action: &str, rank: Option<u32>) -> String {
        match rank {
            Some(r) => format!("{}/function_completions/{action}.{r}.done", self.base),
            None => format!("{}/function_completions/{action}.done", self.base),
        }
    }

    /// The stand-in's own election object (FaaSr uses a lock of flag files; any exclusive
    /// election will do here).
    fn claim(&self, action: &str) -> String {
        format!("{}/standin_claims/{action}", self.base)
    }
}

/// `name` or `name(N)`; N > 1 makes N copies.
fn parse_name(item: &str) -> (String, Option<u32>) {
    match item.strip_suffix(')').and_then(|s| s.split_once('(')) {
        Some((name, n)) => {
            let n: u32 = n.parse().expect("a rank is a number");
            (name.to_owned(), (n > 1).then_some(n))
        }
        None => (item.to_owned(), None),
    }
}

/// An action's successors: `(name, copies)` for the plain items, and the chosen branch of the
/// conditional object when `result` is given (`None`: every branch, for the graph).
fn successors(action: &Value, result: Option<bool>) -> Vec<(String, Option<u32>)> {
    let items = match &action["InvokeNext"] {
        Value::Array(items) => items.clone(),
        Value::String(s) => vec![json!(s)],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::String(s) => out.push(parse_name(&s)),
            Value::Object(branches) => {
                for (branch, names) in branches {
                    let taken = match result {
                        Some(r) => branch == if r { "True" } else { "False" },
                        None => true,
                    };
                    if taken {
                        for name in names.as_array().into_iter().flatten() {
                            out.push(parse_name(name.as_str().expect("a name")));
                        }
                    }
                }
            }
            other => panic!("an InvokeNext item {other}"),
        }
    }
    out
}

/// The markers `action` waits for: one per predecessor, one per copy of a ranked one.
fn expected_markers(workflow: &Value, keys: &Keys, action: &str) -> Vec<String> {
    let actions = workflow["ActionList"].as_object().expect("an ActionList");
    let copies = |name: &str| {
        actions
            .values()
            .flat_map(|a| successors(a, None))
            .find(|(n, _)| n == name)
            .and_then(|(_, c)| c)
    };
    let mut markers = Vec::new();
    for (pred, entry) in actions {
        if successors(entry, None).iter().any(|(n, _)| n == action) {
            match copies(pred) {
                Some(n) => markers.extend((1..=n).map(|r| keys.done(pred, Some(r)))),
                None => markers.push(keys.done(pred, None)),
            }
        }
    }
    markers
}

impl<'a> Run<'a> {
    fn new(world: &'a World, job: &'a Job, env: BTreeMap<String, String>) -> Run<'a> {
        let secrets = Arc::new(StaticSecrets(
            env.iter()
                .map(|(k, v)| (k.clone(), Secret::new(v.clone())))
                .collect(),
        ));
        Run {
            world,
            job,
            env,
            secrets,
        }
    }

    async fn run(&self, no: usize) -> Outcome {
        let action = &self.job.action;
        let mut workflow = self.fetch_workflow().await;
        let overwritten: Map<String, Value> =
            serde_json::from_str(&self.env["OVERWRITTEN"]).expect("OVERWRITTEN is JSON");
        for (k, v) in overwritten.clone() {
            workflow[k] = v;
        }
        let entry = workflow["ActionList"][action.as_str()].clone();
        assert!(entry.is_object(), "{action} is not in the workflow");
        assert_ne!(
            entry["_faasr_builtin"],
            json!(true),
            "the stand-in got the builtin {action}"
        );
        let keys = Keys::new(&workflow);
        let store = self.store(&workflow);
        let expected = expected_markers(&workflow, &keys, action);
        if expected.len() > 1 {
            for marker in &expected {
                if !store.exists(marker).await.expect("S3 answers") {
                    return Outcome::Waiting;
                }
            }
            let claim = store
                .create_new(&keys.claim(action), b"standin".to_vec())
                .await
                .expect("S3 answers");
            if claim == Created::AlreadyExists {
                return Outcome::Lost;
            }
        }
        // The function runs now: a VM action needs the VM up and its runner online.
        if entry["RequiresVM"] == json!(true) {
            self.world.log.push(Event::VmAction {
                job: no,
                action: action.clone(),
                instance_running: self.world.vm_running().await,
                runner_online: self.world.runner_online(),
            });
        }
        if self.world.scenario.fails(action) {
            return Outcome::Failed(1);
        }
        store
            .put(&keys.done(action, self.job.rank), b"TRUE".to_vec())
            .await
            .expect("S3 answers");
        let result = self.world.scenario.result(action);
        for (next, copies) in successors(&entry, Some(result)) {
            let ranks: Vec<Option<u32>> = match copies {
                Some(n) => (1..=n).map(Some).collect(),
                None => vec![None],
            };
            for rank in ranks {
                self.invoke(&workflow, &overwritten, &next, rank).await;
            }
        }
        Outcome::Ran
    }

    /// FaaSr fetches the workflow JSON with the contents API, with `GH_PAT` (which server the
    /// payload is on is only known once it is read).
    async fn fetch_workflow(&self) -> Value {
        let url = &self.env["PAYLOAD_URL"];
        let mut parts = url.splitn(4, '/');
        let (owner, repo, branch, path) = (
            parts.next().expect("owner"),
            parts.next().expect("repo"),
            parts.next().expect("branch"),
            parts.next().expect("<owner>/<repo>/<branch>/<path>"),
        );
        let server = json!({"FaaSType": "GitHubActions", "UserName": owner, "ActionRepoName": repo, "Branch": branch});
        let backend = self.github("GH", &server);
        let bytes = backend
            .fetch_file(path, branch)
            .await
            .expect("GitHub answers")
            .unwrap_or_else(|| panic!("{url} is not committed"));
        serde_json::from_slice(&bytes).expect("the workflow is JSON")
    }

    fn github(&self, server_name: &str, server: &Value) -> GithubBackend {
        let server: ComputeServer = serde_json::from_value(server.clone()).expect("a server");
        let ctx = BackendContext {
            server_name: server_name.to_owned(),
            server,
            secrets: self.secrets.clone() as Arc<dyn SecretSource>,
        };
        GithubBackend::build_with(&ctx, Some(&self.world.gh.url)).expect("a GitHub client")
    }

    fn store(&self, workflow: &Value) -> S3Store {
        let name = workflow["DefaultDataStore"].as_str().expect("a store");
        let entry: DataStore =
            serde_json::from_value(workflow["DataStores"][name].clone()).expect("a data store");
        S3Store::from_data_store(name, &entry, self.secrets.as_ref(), Default::default())
            .expect("the job has the store's secrets")
    }

    /// Starts `next` (copy `rank`) as FaaSr does: OVERWRITTEN as received, with the action,
    /// the invocation and the rank set.
    async fn invoke(
        &self,
        workflow: &Value,
        incoming: &Map<String, Value>,
        next: &str,
        rank: Option<u32>,
    ) {
        let mut overwritten = incoming.clone();
        overwritten.remove("FunctionRank");
        overwritten.insert("FunctionInvoke".into(), json!(next));
        for field in ["InvocationID", "InvocationTimestamp"] {
            overwritten.insert(field.into(), workflow[field].clone());
        }
        if let Some(r) = rank {
            overwritten.insert("FunctionRank".into(), json!(r));
        }
        let server_name = workflow["ActionList"][next]["FaaSServer"]
            .as_str()
            .expect("a FaaSServer");
        let server = &workflow["ComputeServers"][server_name];
        if server["FaaSType"] != "GitHubActions" {
            let job = Job::new(overwritten, self.env["PAYLOAD_URL"].clone());
            self.world
                .local
                .lock()
                .expect("not poisoned")
                .push_back(job);
            return;
        }
        let file = format!(
            "{}-{next}.yml",
            workflow["WorkflowName"].as_str().expect("a name")
        );
        let branch = server["Branch"].as_str().unwrap_or("main");
        let inputs = vec![
            (
                "OVERWRITTEN".to_owned(),
                Value::Object(overwritten).to_string(),
            ),
            ("PAYLOAD_URL".to_owned(), self.env["PAYLOAD_URL"].clone()),
        ];
        self.github(server_name, server)
            .dispatch(&file, branch, &inputs)
            .await
            .unwrap_or_else(|e| panic!("dispatching {file}: {e}"));
    }
}
