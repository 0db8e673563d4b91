//! A small world for the lifecycle tests: a moto server (EC2 with a stopped instance, S3 with
//! the bucket), the fake GitHub API with the augmented `tests/fixtures/action/fan-in.json`
//! committed and the VM's runner online, and helpers that run the binary as a GitHub job would.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use ephflow_aws::testkit::{Moto, moto_stopped_instance};
use ephflow_core::provider::{Secret, StaticSecrets};
use ephflow_github::testkit::FakeGitHub;
use ephflow_s3::S3Store;
use serde_json::{Value, json};

pub const VM_ACCESS: &str = "AKIAVMSENTINEL000001";
pub const VM_SECRET: &str = "vm-secret-sentinel-never-printed";
pub const STORE_ACCESS: &str = "AKIASTORESENTINEL001";
pub const STORE_SECRET: &str = "store-secret-sentinel-never-printed";
pub const GH_TOKEN: &str = "ghp_sentinel_token_never_printed";
pub const PAYLOAD_PATH: &str = "workflows/fan-in_augmented.json";
pub const PAYLOAD_URL: &str = "test-org/fan-in-actions/main/workflows/fan-in_augmented.json";
pub const BUCKET: &str = "ephflow-fan-in";

/// moto with a stopped instance and the bucket, the fake GitHub with the augmented fixture
/// committed and the VM's runner online.
pub struct World {
    pub moto: Moto,
    pub gh: FakeGitHub,
    pub dir: tempfile::TempDir,
    pub workflow: PathBuf,
}

pub fn ephflow() -> Command {
    Command::cargo_bin("ephflow").unwrap()
}

impl World {
    pub fn start() -> Option<World> {
        let moto = Moto::start()?;
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let instance = runtime.block_on(moto_stopped_instance(&moto.url));
        moto.create_bucket(BUCKET);
        let dir = tempfile::tempdir().unwrap();
        let mut doc: Value = serde_json::from_str(
            &std::fs::read_to_string(super::root().join("tests/fixtures/action/fan-in.json"))
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
    pub fn action(&self, overwritten: &Value) -> std::process::Command {
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

    pub fn run(&self, overwritten: &Value) -> Output {
        let out = self.action(overwritten).output().unwrap();
        no_secrets(&out);
        out
    }

    pub fn store(&self) -> S3Store {
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

    /// Starts the VM with `ephflow vm start` and checks that it runs.
    pub fn start_vm(&self) {
        ephflow()
            .args(["vm", "start", "--workflow"])
            .arg(&self.workflow)
            .env("AWS_ENDPOINT_URL_EC2", &self.moto.url)
            .env("VM_AccessKey", VM_ACCESS)
            .env("VM_SecretKey", VM_SECRET)
            .assert()
            .code(0);
        assert_eq!(self.vm_state(), "running");
    }

    pub fn vm_state(&self) -> String {
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
    pub fn dispatches(&self) -> Vec<(String, Value, String)> {
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

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn no_secrets(out: &Output) {
    let all = text(out);
    for secret in [VM_ACCESS, VM_SECRET, STORE_ACCESS, STORE_SECRET, GH_TOKEN] {
        assert!(!all.contains(secret), "a secret leaked: {all}");
    }
}

pub fn marker(id: &str, ts: &str, action: &str) -> String {
    format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/{action}.done")
}

pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
