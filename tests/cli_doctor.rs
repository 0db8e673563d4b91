//! `ephflow doctor` against moto and the fake GitHub API: every check passes on a healthy
//! setup, each broken piece turns its own line into ✗ with a hint and a non-zero exit, and
//! no secret ever reaches the output.

mod support;

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use ephflow_aws::testkit::{Moto, moto_stopped_instance};
use ephflow_github::testkit::FakeGitHub;
use serde_json::{Value, json};

const ACCESS: &str = "AKIADOCTORSENTINEL01";
const SECRET: &str = "doctor-secret-sentinel-never-printed";
const CHAIN_ACCESS: &str = "AKIACHAINSENTINEL001";
const CHAIN_SECRET: &str = "chain-secret-sentinel-never-printed";
const TOKEN: &str = "ghp_doctor_sentinel_never_printed";
const RUNNER: &str = "gpu-trainer-1";
const REPO: &str = "/repos/example-org/ml-pipeline-actions";

/// The check lines, in order.
const CHECKS: &[&str] = &[
    "workflow",
    "VM credentials",
    "VM permissions",
    "VM instance",
    "GitHub GH",
    "runner gpu-trainer-1",
    "containers",
];

/// moto with a stopped instance; the example workflow pointing at it (in us-east-1, with a
/// `gpu` runner label).
struct Setup {
    moto: Moto,
    dir: tempfile::TempDir,
    instance: String,
}

impl Setup {
    fn start() -> Option<Setup> {
        let moto = Moto::start()?;
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let instance = runtime.block_on(moto_stopped_instance(&moto.url));
        Some(Setup {
            moto,
            dir: tempfile::tempdir().unwrap(),
            instance,
        })
    }

    /// The workflow for `instance`, changed by `edit`.
    fn workflow(&self, instance: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
        let mut doc: Value = serde_json::from_str(
            &std::fs::read_to_string(support::root().join("examples/ml-pipeline.json")).unwrap(),
        )
        .unwrap();
        doc["VMConfig"]["InstanceId"] = json!(instance);
        doc["VMConfig"]["Region"] = json!("us-east-1");
        doc["VMConfig"]["RunnerLabels"] = json!(["gpu"]);
        edit(&mut doc);
        let path = self.dir.path().join(format!(
            "w{}.json",
            std::fs::read_dir(self.dir.path()).unwrap().count()
        ));
        std::fs::write(&path, doc.to_string()).unwrap();
        // The file a user commits and checks: the augmented one.
        let augmented = path.with_extension("aug.json");
        Command::cargo_bin("ephflow")
            .unwrap()
            .arg("augment")
            .arg(&path)
            .arg("-o")
            .arg(&augmented)
            .assert()
            .code(0);
        augmented
    }

    /// `ephflow doctor` with the VM's named secrets and a GitHub token.
    fn doctor(&self, workflow: &PathBuf, gh: &FakeGitHub) -> Command {
        let mut cmd = Command::cargo_bin("ephflow").unwrap();
        cmd.arg("doctor")
            .arg(workflow)
            .env("AWS_ENDPOINT_URL_EC2", &self.moto.url)
            .env("TRAINER_AccessKey", ACCESS)
            .env("TRAINER_SecretKey", SECRET)
            .env("GH_PAT", TOKEN)
            .env("GITHUB_API_URL", &gh.url)
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_ACTIONS");
        cmd
    }
}

/// A fake GitHub where the VM's runner is registered (offline, as a stopped VM's runner is)
/// with the labels the workflow asks for.
fn healthy_github() -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.add_runner(RUNNER, "offline", false);
    gh.set_runner_labels(RUNNER, &["self-hosted", "Linux", "X64", "gpu"]);
    gh
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The line of the check `name`, and the line after it (the hint, for failures).
fn line<'a>(text: &'a str, name: &str) -> (&'a str, &'a str) {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| {
            l.split_once(' ')
                .is_some_and(|(_, rest)| rest.starts_with(name))
        })
        .unwrap_or_else(|| panic!("no line for {name}:\n{text}"));
    (lines[i], lines.get(i + 1).copied().unwrap_or(""))
}

/// The check `name` failed, with a hint, and the whole run exited 3.
fn fails(out: &Output, name: &str, says: &str) {
    let text = stdout(out);
    assert_eq!(out.status.code(), Some(3), "{name}: {out:?}");
    let (l, hint) = line(&text, name);
    assert!(l.starts_with("✗ "), "{name} should fail:\n{text}");
    assert!(l.contains(says), "{name} should say {says:?}:\n{text}");
    assert!(
        hint.starts_with("    hint: "),
        "{name} has no hint:\n{text}"
    );
    no_secrets(out);
}

fn no_secrets(out: &Output) {
    let all = format!("{}{}", stdout(out), String::from_utf8_lossy(&out.stderr));
    for s in [ACCESS, SECRET, CHAIN_ACCESS, CHAIN_SECRET, TOKEN] {
        assert!(!all.contains(s), "a secret leaked: {all}");
    }
}

#[test]
fn every_check_passes_against_moto_and_the_fake_github() {
    let Some(setup) = Setup::start() else { return };
    let gh = healthy_github();
    let wf = setup.workflow(&setup.instance, |_| {});
    let out = setup.doctor(&wf, &gh).output().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), CHECKS.len(), "one line per check:\n{text}");
    for (l, name) in lines.iter().zip(CHECKS) {
        assert!(l.starts_with(&format!("✓ {name}")), "{name}:\n{text}");
    }
    // The workflow before `augment`: a warning (register and invoke refuse it), not a failure.
    let raw = wf.with_extension("").with_extension("json");
    let out = setup.doctor(&raw, &gh).output().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (l, hint) = line(&text, "workflow");
    assert!(l.starts_with("! ") && l.contains("not augmented"), "{text}");
    assert!(hint.contains("ephflow augment"), "{text}");
    assert!(
        line(&text, "VM credentials")
            .0
            .contains("TRAINER_AccessKey / TRAINER_SecretKey")
    );
    let instance = line(&text, "VM instance").0;
    assert!(
        instance.contains(&setup.instance)
            && instance.contains("us-east-1")
            && instance.contains("stopped"),
        "{instance}"
    );
    assert!(line(&text, "GitHub GH").0.contains("token GH_PAT works"));
    assert!(line(&text, "runner").0.contains("offline") && line(&text, "runner").0.contains("gpu"));
    no_secrets(&out);

    // No side effects: GitHub saw only reads, and the instance is still stopped.
    let seen = gh.seen();
    assert!(seen.iter().all(|s| s.method == "GET"), "{seen:?}");
    assert!(seen.iter().any(|s| s.path == REPO), "{seen:?}");
    let out = setup.doctor(&wf, &gh).output().unwrap();
    assert!(line(&stdout(&out), "VM instance").0.contains("stopped"));

    // An action without a container is a warning naming the default image; still exit 0.
    let wf = setup.workflow(&setup.instance, |doc| {
        doc["ActionContainers"]
            .as_object_mut()
            .unwrap()
            .shift_remove("evaluate");
    });
    let out = setup.doctor(&wf, &gh).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    let (l, hint) = line(&text, "containers");
    assert!(
        l.starts_with("! containers: action evaluate")
            && l.contains("ghcr.io/faasr/github-actions-python:latest"),
        "{l}"
    );
    assert!(hint.starts_with("    hint: "));
}

#[test]
fn vm_problems_fail_their_own_lines() {
    let Some(setup) = Setup::start() else { return };
    let gh = healthy_github();

    // An instance that does not exist.
    let wf = setup.workflow("i-0aaaaaaaaaaaaaaaa", |_| {});
    let out = setup.doctor(&wf, &gh).output().unwrap();
    fails(&out, "VM instance", "i-0aaaaaaaaaaaaaaaa");
    assert!(line(&stdout(&out), "GitHub GH").0.starts_with("✓"));

    // No credentials anywhere: neither the named variables nor the AWS chain.
    let wf = setup.workflow(&setup.instance, |_| {});
    let without_chain =
        |cmd: &mut Command| support::without_aws_credentials(cmd, "TRAINER", setup.dir.path());
    let mut cmd = setup.doctor(&wf, &gh);
    without_chain(&mut cmd);
    let out = cmd.output().unwrap();
    fails(&out, "VM credentials", "no AWS credentials");
    let text = stdout(&out);
    assert!(line(&text, "VM permissions").0.starts_with("- "), "{text}");
    assert!(line(&text, "VM instance").0.starts_with("- "), "{text}");

    // The standard chain (here: its environment variables) is a source too.
    let mut cmd = setup.doctor(&wf, &gh);
    without_chain(&mut cmd);
    cmd.env("AWS_ACCESS_KEY_ID", CHAIN_ACCESS)
        .env("AWS_SECRET_ACCESS_KEY", CHAIN_SECRET);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        line(&stdout(&out), "VM credentials")
            .0
            .contains("standard AWS credential chain")
    );
    no_secrets(&out);
}

#[test]
fn github_problems_fail_their_own_lines() {
    let Some(setup) = Setup::start() else { return };
    let wf = setup.workflow(&setup.instance, |_| {});

    // No token at all: the GitHub line fails and the runner check is skipped.
    let gh = healthy_github();
    let out = setup
        .doctor(&wf, &gh)
        .env_remove("GH_PAT")
        .output()
        .unwrap();
    fails(&out, "GitHub GH", "no GitHub token");
    assert!(line(&stdout(&out), "runner").0.starts_with("- "));
    assert!(line(&stdout(&out), "VM instance").0.starts_with("✓"));

    // A token whose user may read but not push (so not dispatch).
    let gh = healthy_github();
    gh.set_repo_permissions(&[
        ("admin", false),
        ("maintain", false),
        ("push", false),
        ("triage", false),
        ("pull", true),
    ]);
    let out = setup.doctor(&wf, &gh).output().unwrap();
    fails(
        &out,
        "GitHub GH",
        "may not dispatch workflows (repository permission pull)",
    );

    // A token that may not list the runners.
    let gh = healthy_github();
    gh.answer_next("/actions/runners?per_page=1", 403, &[]);
    let out = setup.doctor(&wf, &gh).output().unwrap();
    fails(&out, "GitHub GH", "may not list the self-hosted runners");

    // The runner is not registered.
    let gh = FakeGitHub::start();
    let out = setup.doctor(&wf, &gh).output().unwrap();
    fails(
        &out,
        "runner gpu-trainer-1",
        "not registered on GitHub example-org/ml-pipeline-actions",
    );

    // Registered, but without the workflow's label.
    let gh = FakeGitHub::start();
    gh.add_runner(RUNNER, "online", false);
    let out = setup.doctor(&wf, &gh).output().unwrap();
    fails(&out, "runner gpu-trainer-1", "without the labels gpu");
}

#[test]
fn an_invalid_workflow_stops_at_the_first_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("examples/ml-pipeline.json")).unwrap(),
    )
    .unwrap();
    doc["ActionList"]["train-model"]["InvokeNext"] = json!(["nowhere"]);
    let path = dir.path().join("bad.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = Command::cargo_bin("ephflow")
        .unwrap()
        .arg("doctor")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.starts_with("✗ workflow:"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
}
