//! `ephflow action run` end to end: the injected lifecycle actions run natively against a moto
//! server (EC2 and S3) and the fake GitHub API, from PAYLOAD_URL + OVERWRITTEN to the next
//! dispatch; fan-in elects exactly one of five concurrent invocations.

mod support;

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use ephflow_aws::testkit::{Moto, moto_stopped_instance};
use ephflow_core::action::CompletionStore;
use ephflow_core::provider::{Secret, StaticSecrets};
use ephflow_github::testkit::FakeGitHub;
use ephflow_s3::S3Store;
use serde_json::{Value, json};

const VM_ACCESS: &str = "AKIAVMSENTINEL000001";
const VM_SECRET: &str = "vm-secret-sentinel-never-printed";
const STORE_ACCESS: &str = "AKIASTORESENTINEL001";
const STORE_SECRET: &str = "store-secret-sentinel-never-printed";
const GH_TOKEN: &str = "ghp_sentinel_token_never_printed";
const PAYLOAD_PATH: &str = "workflows/fan-in_augmented.json";
const PAYLOAD_URL: &str = "test-org/fan-in-actions/main/workflows/fan-in_augmented.json";
const BUCKET: &str = "ephflow-fan-in";

/// moto with a stopped instance and the bucket, the fake GitHub with the augmented fixture
/// committed and the VM's runner online.
struct World {
    moto: Moto,
    gh: FakeGitHub,
    dir: tempfile::TempDir,
    workflow: PathBuf,
}

fn ephflow() -> Command {
    Command::cargo_bin("ephflow").unwrap()
}

impl World {
    fn start() -> Option<World> {
        let moto = Moto::start()?;
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let instance = runtime.block_on(moto_stopped_instance(&moto.url));
        moto.create_bucket(BUCKET);
        let dir = tempfile::tempdir().unwrap();
        let mut doc: Value = serde_json::from_str(
            &std::fs::read_to_string(support::root().join("tests/fixtures/action/fan-in.json"))
                .unwrap(),
        )
        .unwrap();
        doc["DataStores"]["Store"]["Endpoint"] = json!(moto.url);
        doc["VMConfig"]["InstanceId"] = json!(instance);
        let input = dir.path().join("fan-in.json");
        std::fs::write(&input, doc.to_string()).unwrap();
        let workflow = dir.path().join("fan-in_augmented.json");
        ephflow()
            .arg("augment")
            .arg(&input)
            .arg("-o")
            .arg(&workflow)
            .assert()
            .code(0);
        let gh = FakeGitHub::start();
        gh.add_file(PAYLOAD_PATH, "main", &std::fs::read(&workflow).unwrap());
        gh.add_runner("vm-runner-1", "online", false);
        Some(World {
            moto,
            gh,
            dir,
            workflow,
        })
    }

    /// `ephflow action run` as a builtin's job runs it.
    fn action(&self, overwritten: &Value) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ephflow"));
        cmd.args(["action", "run"])
            .env("PAYLOAD_URL", PAYLOAD_URL)
            .env("OVERWRITTEN", overwritten.to_string())
            .env("EPHFLOW_SERVER", "GH")
            .env("GH_PAT", GH_TOKEN)
            .env("GITHUB_API_URL", &self.gh.url)
            .env("AWS_ENDPOINT_URL_EC2", &self.moto.url)
            .env("VM_AccessKey", VM_ACCESS)
            .env("VM_SecretKey", VM_SECRET)
            .env("Store_AccessKey", STORE_ACCESS)
            .env("Store_SecretKey", STORE_SECRET)
            .env("EPHFLOW_LOG", "debug")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_RUN_ID")
            .env_remove("GITHUB_STEP_SUMMARY");
        cmd
    }

    fn run(&self, overwritten: &Value) -> Output {
        let out = self.action(overwritten).output().unwrap();
        no_secrets(&out);
        out
    }

    fn store(&self) -> S3Store {
        let w: ephflow_core::schema::model::Workflow =
            serde_json::from_str(&std::fs::read_to_string(&self.workflow).unwrap()).unwrap();
        let secrets = StaticSecrets(vec![
            ("Store_AccessKey".into(), Secret::new(STORE_ACCESS)),
            ("Store_SecretKey".into(), Secret::new(STORE_SECRET)),
        ]);
        S3Store::from_data_store(
            "Store",
            &w.data_stores["Store"],
            &secrets,
            Default::default(),
        )
        .unwrap()
    }

    fn vm_state(&self) -> String {
        let out = ephflow()
            .args(["vm", "status", "--format", "json", "--workflow"])
            .arg(&self.workflow)
            .env("AWS_ENDPOINT_URL_EC2", &self.moto.url)
            .env("VM_AccessKey", VM_ACCESS)
            .env("VM_SecretKey", VM_SECRET)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("vm status: {}", String::from_utf8_lossy(&out.stderr)));
        v["status"]["state"].as_str().unwrap().to_owned()
    }

    /// The dispatches the fake GitHub received: (workflow file, OVERWRITTEN, PAYLOAD_URL).
    fn dispatches(&self) -> Vec<(String, Value, String)> {
        self.gh
            .seen()
            .into_iter()
            .filter(|s| s.method == "POST")
            .map(|s| {
                for secret in [VM_ACCESS, VM_SECRET, STORE_ACCESS, STORE_SECRET, GH_TOKEN] {
                    assert!(
                        !s.body.contains(secret),
                        "a secret in a dispatch: {}",
                        s.body
                    );
                }
                let file = s
                    .path
                    .trim_end_matches("/dispatches")
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned();
                let body: Value = serde_json::from_str(&s.body).unwrap();
                assert_eq!(body["ref"], "main");
                let overwritten =
                    serde_json::from_str(body["inputs"]["OVERWRITTEN"].as_str().unwrap()).unwrap();
                let url = body["inputs"]["PAYLOAD_URL"].as_str().unwrap().to_owned();
                (file, overwritten, url)
            })
            .collect()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn no_secrets(out: &Output) {
    let all = text(out);
    for secret in [VM_ACCESS, VM_SECRET, STORE_ACCESS, STORE_SECRET, GH_TOKEN] {
        assert!(!all.contains(secret), "a secret leaked: {all}");
    }
}

fn marker(id: &str, ts: &str, action: &str) -> String {
    format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/{action}.done")
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn the_lifecycle_runs_natively_from_payload_to_next_dispatch() {
    let Some(world) = World::start() else { return };
    let store = world.store();

    // vm_start is the entry: it creates the invocation, starts the VM, writes its marker and
    // dispatches "prepare" with the invocation in OVERWRITTEN.
    let out = world.run(&json!({"FunctionInvoke": "faasr-vm-start"}));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("created here"), "{}", text(&out));
    assert_ne!(world.vm_state(), "stopped");
    let sent = world.dispatches();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (file, overwritten, url) = &sent[0];
    assert_eq!(file, "fan-in-prepare.yml");
    assert_eq!(url, PAYLOAD_URL);
    let id = overwritten["InvocationID"].as_str().unwrap().to_owned();
    let ts = overwritten["InvocationTimestamp"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(overwritten["FunctionInvoke"], "prepare");
    assert!(uuid_v4(&id), "InvocationID {id} is a UUID v4");
    assert!(
        timestamp(&ts),
        "InvocationTimestamp {ts} is %Y-%m-%dT%H-%M-%S"
    );
    assert_eq!(overwritten.as_object().unwrap().len(), 3, "{overwritten}");
    assert!(block_on(store.exists(&marker(&id, &ts, "faasr-vm-start"))).unwrap());

    // The poll has three predecessors (shard ranks 1..3): with two markers it waits quietly.
    let run_poll = || {
        world.run(
            &json!({"FunctionInvoke": "faasr-vm-poll-train", "InvocationID": id,
                          "InvocationTimestamp": ts, "FaaSrLog": "FaaSrLog"}),
        )
    };
    for rank in 1..=2 {
        let key = format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/shard.{rank}.done");
        block_on(store.put(&key, b"TRUE".to_vec())).unwrap();
    }
    let out = run_poll();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("shard.3.done is missing"),
        "{}",
        text(&out)
    );
    assert_eq!(
        world.dispatches().len(),
        1,
        "nothing dispatched while waiting"
    );
    let key = format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/shard.3.done");
    block_on(store.put(&key, b"TRUE".to_vec())).unwrap();
    // Now it waits for the VM and its runner, then starts "train" on the VM.
    let out = run_poll();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(world.vm_state(), "running");
    assert!(block_on(store.exists(&marker(&id, &ts, "faasr-vm-poll-train"))).unwrap());
    let sent = world.dispatches();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].0, "fan-in-train.yml");
    assert_eq!(
        sent[1].1,
        json!({"FunctionInvoke": "train", "InvocationID": id, "InvocationTimestamp": ts, "FaaSrLog": "FaaSrLog"})
    );
    let runner_checks = world
        .gh
        .seen()
        .iter()
        .filter(|s| s.path.contains("/actions/runners"))
        .count();
    assert!(runner_checks >= 1, "the poll checked the runner");

    // The stop has five predecessors (score ranks 1..5). Five invocations at once, after
    // every marker is there: exactly one stops the VM, writes the marker, and the other four
    // leave quietly.
    for rank in 1..=5 {
        let key = format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/score.{rank}.done");
        block_on(store.put(&key, b"TRUE".to_vec())).unwrap();
    }
    let stop =
        json!({"FunctionInvoke": "faasr-vm-stop", "InvocationID": id, "InvocationTimestamp": ts});
    let children: Vec<_> = (0..5)
        .map(|_| {
            world
                .action(&stop)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(out.status.success(), "{}", text(out));
        no_secrets(out);
    }
    let winners = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).contains("faasr-vm-stop: done"))
        .count();
    let losers = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).contains("another invocation"))
        .count();
    assert_eq!((winners, losers), (1, 4), "exactly one proceeds");
    assert!(block_on(store.exists(&marker(&id, &ts, "faasr-vm-stop"))).unwrap());
    let state = world.vm_state();
    assert!(state == "stopping" || state == "stopped", "VM {state}");
    assert_eq!(world.dispatches().len(), 2, "the stop starts nothing");
    drop(world.dir);
}

#[test]
fn refuses_user_actions_bad_inputs_and_secrets_in_overwritten() {
    let Some(world) = World::start() else { return };
    let cases: Vec<(Option<&str>, Value, &str)> = vec![
        (
            None,
            json!({"FunctionInvoke": "train"}),
            "is not a lifecycle action",
        ),
        (
            None,
            json!({"FunctionInvoke": "nope"}),
            "\"nope\" is not an action",
        ),
        (
            None,
            json!({"FunctionInvoke": "faasr-vm-stop"}),
            "no InvocationID",
        ),
        (
            Some("test-org/fan-in-actions/main"),
            json!({}),
            "<owner>/<repo>/<branch>/<path",
        ),
        (
            Some("test-org/fan-in-actions/main/missing.json"),
            json!({"FunctionInvoke": "faasr-vm-start"}),
            "missing.json is not on test-org/fan-in-actions@main",
        ),
        (
            None,
            json!({"FunctionInvoke": "faasr-vm-start", "Note": STORE_SECRET}),
            "would carry the value of the secret Store_SecretKey",
        ),
    ];
    for (url, overwritten, expected) in cases {
        let mut cmd = world.action(&overwritten);
        if let Some(url) = url {
            cmd.env("PAYLOAD_URL", url);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{overwritten}: {}", text(&out));
        assert!(
            text(&out).contains(expected),
            "{overwritten}: {}",
            text(&out)
        );
        no_secrets(&out);
    }
    assert!(world.dispatches().is_empty(), "nothing dispatched");
    let mut cmd = world.action(&json!({}));
    cmd.env("OVERWRITTEN", "not json");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("OVERWRITTEN is not JSON"),
        "{}",
        text(&out)
    );
}

fn uuid_v4(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts[2].starts_with('4')
        && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

fn timestamp(ts: &str) -> bool {
    ts.len() == 19
        && ts.chars().enumerate().all(|(i, c)| match i {
            4 | 7 | 13 | 16 => c == '-',
            10 => c == 'T',
            _ => c.is_ascii_digit(),
        })
}

/// The poll heals: when the VM was stopped after vm_start (reaped, or stopped by another
/// invocation), the poll starts it again before waiting.
#[test]
fn the_poll_starts_a_stopped_vm_again() {
    let Some(world) = World::start() else { return };
    let store = world.store();
    let (id, ts) = ("heal-1", "2026-12-04T19-00-00");
    for rank in 1..=3 {
        let key = format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/shard.{rank}.done");
        block_on(store.put(&key, b"TRUE".to_vec())).unwrap();
    }
    assert_eq!(world.vm_state(), "stopped");
    let out = world.run(
        &json!({"FunctionInvoke": "faasr-vm-poll-train", "InvocationID": id,
                                "InvocationTimestamp": ts}),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("done (VM running, request sent)"),
        "{}",
        text(&out)
    );
    assert_eq!(world.vm_state(), "running");
    assert_eq!(world.dispatches().len(), 1, "then it starts the VM action");
}
