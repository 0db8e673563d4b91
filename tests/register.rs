//! `ephflow register` and `ephflow invoke`: the rendered GitHub Actions workflows (checked by
//! a YAML 1.1 reader and the GitHub workflow schema) and the dispatch of the entry.

mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use ephflow_github::testkit::FakeGitHub;
use predicates::prelude::*;
use serde_json::Value;

fn ephflow() -> Command {
    Command::cargo_bin("ephflow").unwrap()
}

/// Augments `input` into `out` (exit 0 expected).
fn augment(input: &Path, out: &Path) {
    ephflow()
        .arg("augment")
        .arg(input)
        .arg("-o")
        .arg(out)
        .assert()
        .code(0);
}

/// The augmented rworkflowvm_complex, written into `dir`.
fn augmented_complex(dir: &Path) -> Option<PathBuf> {
    let corpus = support::corpus_dir()?;
    let out = dir.join("complex_augmented.json");
    augment(&corpus.join("faasr/rworkflowvm_complex.json"), &out);
    Some(out)
}

fn python_available(module: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        support::missing(&format!(
            "python3 module {module} (tests/python/requirements.txt)"
        ));
    }
    ok
}

/// Every file of the directory `out`, read by PyYAML, by file name.
fn rendered_documents(out: &Path) -> serde_json::Map<String, Value> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    yaml_documents(&paths)
}

/// Every file read by PyYAML (YAML 1.1), by file name.
fn yaml_documents(paths: &[PathBuf]) -> serde_json::Map<String, Value> {
    let script = "import json, sys, yaml\nprint(json.dumps({p.rsplit('/', 1)[-1]: yaml.safe_load(open(p)) for p in sys.argv[1:]}))";
    let result = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(paths)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    serde_json::from_slice(&result.stdout).unwrap()
}

#[test]
fn renders_faasr_workflows_with_failure_teardown() {
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = augmented_complex(dir.path()) else {
        return;
    };
    let out = dir.path().join("workflows");
    ephflow()
        .arg("register")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("wrote 12 workflow files"));
    let files = support::json_files(&out);
    assert!(files.is_empty(), "only YAML is written");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 12, "{names:?}");

    // Independent readers: PyYAML (YAML 1.1) and the GitHub workflow schema.
    if python_available("yaml") {
        let paths: Vec<PathBuf> = names.iter().map(|n| out.join(n)).collect();
        let docs = yaml_documents(&paths);
        let wf: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for (name, doc) in &docs {
            let action = name
                .strip_prefix("complex-vm-workflow-")
                .and_then(|n| n.strip_suffix(".yml"))
                .unwrap();
            // YAML 1.1 would read a bare `on` as true: it must be the string key.
            let inputs = &doc["on"]["workflow_dispatch"]["inputs"];
            assert_eq!(inputs["OVERWRITTEN"]["required"], true, "{name}");
            assert_eq!(inputs["PAYLOAD_URL"]["type"], "string", "{name}");
            let job = &doc["jobs"]["run_docker_image"];
            let vm = wf["ActionList"][action]["RequiresVM"] == true;
            assert_eq!(
                job["runs-on"],
                if vm { "self-hosted" } else { "ubuntu-latest" },
                "{name}"
            );
            assert_eq!(job["container"], wf["ActionContainers"][action], "{name}");
            for secret in [
                "GH_PAT",
                "My_Minio_Bucket_AccessKey",
                "My_Minio_Bucket_SecretKey",
                "AWS_VM_AccessKey",
                "AWS_VM_SecretKey",
            ] {
                assert_eq!(
                    job["env"][secret],
                    format!("${{{{ secrets.{secret} }}}}"),
                    "{name}"
                );
            }
            assert_eq!(
                job["env"]["PAYLOAD_URL"],
                "${{ github.event.inputs.PAYLOAD_URL }}"
            );
            assert_eq!(
                job["steps"][0]["run"],
                "cd /action\npython3 faasr_entry.py\n"
            );
            let teardown = &doc["jobs"]["stop_vm_on_failure"];
            let expect_teardown = !action.starts_with("faasr-vm-stop");
            assert_eq!(!teardown.is_null(), expect_teardown, "{name}");
            if expect_teardown {
                assert_eq!(teardown["if"], "${{ failure() || cancelled() }}");
                assert_eq!(teardown["runs-on"], "ubuntu-latest");
                let step = &teardown["steps"][0];
                assert_eq!(
                    step["env"]["EPHFLOW_INSTANCE_ID"],
                    wf["VMConfig"]["InstanceId"]
                );
                assert_eq!(
                    step["env"]["AWS_ACCESS_KEY_ID"],
                    "${{ secrets.AWS_VM_AccessKey }}"
                );
                assert!(
                    !step["run"].as_str().unwrap().contains("i-0"),
                    "no workflow value in run:"
                );
            }
            assert_eq!(doc["permissions"]["contents"], "read");
        }
    }
    let have_checker = std::process::Command::new("check-jsonschema")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_checker {
        support::missing("check-jsonschema (tests/python/requirements.txt)");
    } else {
        let status = std::process::Command::new("check-jsonschema")
            .args(["--builtin-schema", "vendor.github-workflows"])
            .args(names.iter().map(|n| out.join(n)))
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stdout)
        );
    }

    // --check: up to date, then stale after an edit.
    ephflow()
        .arg("register")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--check")
        .assert()
        .code(0);
    std::fs::write(out.join(&names[0]), "edited").unwrap();
    ephflow()
        .arg("register")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "would write {}",
            out.join(&names[0]).display()
        )));
    assert_eq!(
        std::fs::read_to_string(out.join(&names[0])).unwrap(),
        "edited",
        "--check writes nothing"
    );
}

/// The bundled example, edited, written into `dir`.
fn edited_example(dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    edited(dir, "examples/ml-pipeline.json", edit)
}

/// The workflow at `example` (from the repository root), edited, written into `dir` under its
/// own file name.
fn edited(dir: &Path, example: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let source = support::root().join(example);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&source).unwrap()).unwrap();
    edit(&mut v);
    let path = dir.join(source.file_name().unwrap());
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

#[test]
fn runner_labels_pin_vm_jobs_and_expressions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = edited_example(dir.path(), |v| {
        v["VMConfig"]["RunnerLabels"] = serde_json::json!(["gpu", "trainer"]);
    });
    let aug = dir.path().join("aug.json");
    augment(&input, &aug);
    ephflow()
        .arg("register")
        .arg(&aug)
        .arg("--out")
        .arg(dir.path().join("wf"))
        .assert()
        .code(0);
    let text = std::fs::read_to_string(dir.path().join("wf/ml-pipeline-train-model.yml")).unwrap();
    assert!(
        text.contains("runs-on:\n    - self-hosted\n    - gpu\n    - trainer\n"),
        "{text}"
    );

    let evil = edited_example(dir.path(), |v| {
        v["ActionContainers"]["evaluate"] = "ghcr.io/x/y:${{ github.token }}".into();
    });
    let aug = dir.path().join("evil_aug.json");
    augment(&evil, &aug);
    ephflow()
        .arg("register")
        .arg(&aug)
        .arg("--out")
        .arg(dir.path().join("evil"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "ActionContainers.evaluate contains \"${{\"",
        ));
    assert!(!dir.path().join("evil").exists());

    ephflow()
        .arg("register")
        .arg(&input)
        .arg("--out")
        .arg(dir.path().join("raw"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("ephflow augment"));
}

/// A VM action's job is bounded by `timeout-minutes` (JobTimeout, else the smaller of
/// MaxLifetime and GitHub's 6 h), so a hung job cannot hold the VM past the reaper; no other job
/// gets one.
#[test]
fn vm_jobs_are_bounded_by_the_job_timeout() {
    if !python_available("yaml") {
        return;
    }
    // (case, a VMConfig setting, the expected minutes)
    type Case = (&'static str, Option<(&'static str, u64)>, u64);
    let cases: [Case; 4] = [
        ("default", None, 360),
        ("lifetime", Some(("MaxLifetime", 3600)), 60),
        ("long", Some(("JobTimeout", 86_400)), 1440),
        // Rounded up to whole minutes: GitHub takes nothing finer.
        ("job", Some(("JobTimeout", 90)), 2),
    ];
    for (case, setting, minutes) in cases {
        let dir = tempfile::tempdir().unwrap();
        let input = edited_example(dir.path(), |v| {
            if let Some((key, seconds)) = setting {
                v["VMConfig"][key] = seconds.into();
            }
        });
        let aug = dir.path().join("aug.json");
        augment(&input, &aug);
        let out = dir.path().join("wf");
        register(&aug, &[], &out).code(0);
        let mut vm_jobs = 0;
        for (file, doc) in rendered_documents(&out) {
            let job = &doc["jobs"]["run_docker_image"];
            if job["runs-on"] == "self-hosted" {
                vm_jobs += 1;
                assert_eq!(job["timeout-minutes"], minutes, "{case}: {file}");
            } else {
                assert!(job.get("timeout-minutes").is_none(), "{case}: {file}");
            }
        }
        assert!(vm_jobs > 0, "{case}: the example has VM actions");
    }
}

const ROLE: &str = "arn:aws:iam::123456789012:role/ephflow-lifecycle";

/// The keyless example: every action on GitHub Actions, as native builtins need.
const KEYLESS: &str = "examples/workflows/keyless.json";

/// With `VMConfig.RoleArn`, ephflow's own jobs (the failure teardown, native builtins, the
/// reaper) ask for `id-token: write` and get none of the VM's key secrets; the rendered
/// teardown step, run by bash with curl, jq and the AWS CLI, stops the instance on moto with
/// the fake's OIDC token. With FaaSr's builtins a note says they still need the keys.
#[test]
fn role_arn_renders_keyless_jobs_whose_teardown_stops_the_vm() {
    use ephflow_aws::testkit::{Moto, moto_stopped_instance};
    if !python_available("yaml") {
        return;
    }
    let Some(moto) = Moto::start() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let id = runtime.block_on(moto_stopped_instance(&moto.url));
    let dir = tempfile::tempdir().unwrap();
    // The keyless example (all on GitHub Actions, as native builtins need), on moto's instance.
    let input = edited(dir.path(), KEYLESS, |v| {
        v["VMConfig"]["RoleArn"] = ROLE.into();
        v["VMConfig"]["InstanceId"] = id.clone().into();
    });
    let aug = dir.path().join("aug.json");
    augment(&input, &aug);

    register(&aug, &[], &dir.path().join("faasr"))
        .code(0)
        .stderr(predicate::str::contains(
            "FaaSr's builtins (vm_start, vm_poll, vm_stop) still read SIMVM_AccessKey",
        ));

    let out = dir.path().join("wf");
    register_native(&aug, &out)
        .code(0)
        .stderr(predicate::str::contains("still read").not());
    let docs = rendered_documents(&out);
    let is_vm_key = |k: &String| k.starts_with("SIMVM_");
    let mut teardown = None;
    let (mut builtins, mut teardowns) = (0, 0);
    for (file, doc) in &docs {
        let jobs = doc["jobs"].as_object().unwrap();
        if let Some(job) = jobs.get("stop_vm_on_failure") {
            teardowns += 1;
            assert_eq!(
                job["permissions"],
                serde_json::json!({"id-token": "write"}),
                "{file}"
            );
            let env = job["steps"][0]["env"].as_object().unwrap();
            assert_eq!(env["AWS_ROLE_ARN"], ROLE, "{file}");
            assert!(!env.contains_key("AWS_ACCESS_KEY_ID"), "{file}");
            teardown = Some(job["steps"][0].clone());
        }
        let (job, is_ephflow) = if file.ends_with("-ephflow-reaper.yml") {
            (&jobs["reap"], true)
        } else {
            let job = &jobs["run_docker_image"];
            let native = job["steps"][0]["run"]
                .as_str()
                .is_some_and(|r| r.contains("ephflow action run"));
            (job, native)
        };
        if is_ephflow {
            builtins += 1;
            let permissions = if file.ends_with("-ephflow-reaper.yml") {
                &doc["permissions"]
            } else {
                &job["permissions"]
            };
            assert_eq!(permissions["id-token"], "write", "{file}");
            assert!(
                !job["env"].as_object().unwrap().keys().any(is_vm_key),
                "{file}: no VM key in ephflow's own jobs"
            );
        }
    }
    assert!(builtins >= 4 && teardowns > 0, "{builtins} {teardowns}");

    // Play the teardown step as a hosted runner would, against moto and the fake token
    // endpoint, after starting the instance.
    let keys = [("SIMVM_AccessKey", "AKIAKEYS"), ("SIMVM_SecretKey", "keys")];
    ephflow()
        .args(["vm", "start"])
        .arg(&input)
        .env("AWS_ENDPOINT_URL_EC2", &moto.url)
        .envs(keys)
        .assert()
        .code(0);
    let github = FakeGitHub::start();
    let step = teardown.unwrap();
    let runner_temp = tempfile::tempdir().unwrap();
    let mut bash = std::process::Command::new("bash");
    bash.arg("-c").arg(step["run"].as_str().unwrap());
    for (k, v) in step["env"].as_object().unwrap() {
        bash.env(k, v.as_str().unwrap());
    }
    let played = bash
        .env("RUNNER_TEMP", runner_temp.path())
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", github.oidc_request_url())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        played.status.success(),
        "{}{}",
        String::from_utf8_lossy(&played.stdout),
        String::from_utf8_lossy(&played.stderr)
    );
    let seen = github.seen();
    assert!(
        seen.iter()
            .any(|s| s.path.ends_with("&audience=sts.amazonaws.com")
                && s.authorization.eq_ignore_ascii_case("bearer request-token")),
        "{seen:?}"
    );
    let status = ephflow()
        .args(["vm", "status", "--format", "json"])
        .arg(&input)
        .env("AWS_ENDPOINT_URL_EC2", &moto.url)
        .envs(keys)
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let state = status["status"]["state"].as_str().unwrap();
    assert!(state == "stopping" || state == "stopped", "{status}");
}

/// A VMConfig named like a data store derives the same secret names as the store; dropping
/// "the VM's keys" (native builtins, RoleArn) must not drop the store's, which the builtins'
/// markers and FaaSr's runtime in user actions need.
#[test]
fn a_vm_named_like_a_store_leaves_the_store_its_keys() {
    if !python_available("yaml") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = edited(dir.path(), KEYLESS, |v| v["VMConfig"]["Name"] = "S3".into());
    let aug = dir.path().join("aug.json");
    augment(&input, &aug);
    let out = dir.path().join("wf");
    register_native(&aug, &out).code(0);
    for (file, doc) in rendered_documents(&out) {
        if file.ends_with("-ephflow-reaper.yml") {
            continue;
        }
        let env = &doc["jobs"]["run_docker_image"]["env"];
        for key in ["S3_AccessKey", "S3_SecretKey"] {
            assert_eq!(env[key], format!("${{{{ secrets.{key} }}}}"), "{file}");
        }
    }
}

/// The bundled example and its augmented form, written into `dir`.
fn augmented_example(dir: &Path) -> (PathBuf, PathBuf) {
    let input = edited_example(dir, |_| {});
    let aug = dir.join("ml-pipeline_augmented.json");
    augment(&input, &aug);
    (input, aug)
}

/// What the rendered files leave to the user is said: the missing reaper, VM jobs any
/// self-hosted runner could take, actions on platforms with no workflow file. With labels the
/// runner note goes away.
#[test]
fn register_says_what_it_leaves_to_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let (_, aug) = augmented_example(dir.path());
    register(&aug, &[], &dir.path().join("wf"))
        .code(0)
        .stderr(predicate::str::contains("note: no reaper rendered"))
        .stderr(predicate::str::contains("set VMConfig.RunnerLabels"))
        .stderr(predicate::str::contains(
            "actions on other platforms: fetch-data (Lambda), report-regression (Lambda)",
        ));
    let labelled = edited_example(dir.path(), |d| {
        d["VMConfig"]["RunnerLabels"] = serde_json::json!(["gpu"])
    });
    let aug = dir.path().join("labelled_augmented.json");
    augment(&labelled, &aug);
    register(&aug, &[], &dir.path().join("wf2"))
        .code(0)
        .stderr(predicate::str::contains("RunnerLabels").not());
}

#[test]
fn invoke_dispatches_the_start_action_after_checking_the_branch() {
    let dir = tempfile::tempdir().unwrap();
    let (input, aug) = augmented_example(dir.path());
    let gh = FakeGitHub::start();
    let run = |file: &Path| {
        let mut c = ephflow();
        c.arg("invoke")
            .arg(file)
            .args(["--payload-path", "workflows/ml-pipeline_augmented.json"])
            .env("GITHUB_API_URL", &gh.url)
            .env("GH_PAT", "ghp_fake_invoke_token")
            .env_remove("GITHUB_TOKEN");
        c
    };
    // Not yet committed: refused, nothing dispatched.
    run(&aug).assert().code(1).stderr(predicate::str::contains(
        "workflows/ml-pipeline_augmented.json is not on example-org/ml-pipeline-actions@main",
    ));
    gh.add_file("workflows/ml-pipeline_augmented.json", "main", b"{}");
    run(&aug)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("ephflow register"));
    gh.add_file(
        ".github/workflows/ml-pipeline-faasr-vm-start.yml",
        "main",
        b"name: x",
    );
    run(&aug).assert().code(0).stdout(predicate::str::contains(
        "dispatched ml-pipeline-faasr-vm-start.yml",
    ));
    let posts: Vec<_> = gh
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].path.ends_with("/repos/example-org/ml-pipeline-actions/actions/workflows/ml-pipeline-faasr-vm-start.yml/dispatches"));
    let body: Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(body["ref"], "main");
    let overwritten: Value =
        serde_json::from_str(body["inputs"]["OVERWRITTEN"].as_str().unwrap()).unwrap();
    assert_eq!(overwritten["FunctionInvoke"], "faasr-vm-start");
    assert_eq!(
        body["inputs"]["PAYLOAD_URL"],
        "example-org/ml-pipeline-actions/main/workflows/ml-pipeline_augmented.json"
    );

    // The original VM workflow is refused, saying what to invoke instead.
    let before = gh.seen().len();
    run(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not augmented"))
        .stderr(predicate::str::contains("ephflow augment"));
    assert_eq!(gh.seen().len(), before, "nothing sent");
}

/// The rendered files of the bundled example against committed snapshots
/// (regenerate with `EPHFLOW_BLESS=1 cargo test --test register`).
#[test]
fn rendered_files_match_their_snapshots() {
    check_snapshots(
        &support::root().join("examples/ml-pipeline.json"),
        &[],
        "ml-pipeline",
    );
    check_snapshots(
        &support::root().join("tests/fixtures/action/fan-in.json"),
        &NATIVE,
        "fan-in-native",
    );
    check_snapshots(&support::root().join(KEYLESS), &NATIVE, "keyless-native");
}

const NATIVE_IMAGE: &str = "ghcr.io/ephflow/ephflow:0.1.0";

/// The arguments of a registration with native builtins.
const NATIVE: [&str; 4] = ["--builtins", "native", "--builtin-image", NATIVE_IMAGE];

/// Augments `input`, registers it with `args`, and compares the files with the snapshots in
/// tests/fixtures/register/`snapshot` (written instead under EPHFLOW_BLESS).
fn check_snapshots(input: &Path, args: &[&str], snapshot: &str) {
    let dir = tempfile::tempdir().unwrap();
    let aug = dir.path().join("aug.json");
    augment(input, &aug);
    let out = dir.path().join("wf");
    ephflow()
        .arg("register")
        .arg(&aug)
        .args(args)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let snapshots = support::root()
        .join("tests/fixtures/register")
        .join(snapshot);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if std::env::var_os("EPHFLOW_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&snapshots);
        std::fs::create_dir_all(&snapshots).unwrap();
        for n in &names {
            std::fs::copy(out.join(n), snapshots.join(n)).unwrap();
        }
        return;
    }
    let mut committed: Vec<String> = std::fs::read_dir(&snapshots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    committed.sort();
    assert_eq!(
        names, committed,
        "rendered file set changed; bless if intended"
    );
    for n in &names {
        assert_eq!(
            std::fs::read_to_string(out.join(n)).unwrap(),
            std::fs::read_to_string(snapshots.join(n)).unwrap(),
            "{n} differs from its snapshot; `EPHFLOW_BLESS=1 cargo test --test register` if intended"
        );
    }
}

/// `ephflow register FILE ARGS --out OUT`.
fn register(file: &Path, args: &[&str], out: &Path) -> assert_cmd::assert::Assert {
    ephflow()
        .arg("register")
        .arg(file)
        .args(args)
        .arg("--out")
        .arg(out)
        .assert()
}

/// Registers `file` with native builtins (`NATIVE`) into `out`.
fn register_native(file: &Path, out: &Path) -> assert_cmd::assert::Assert {
    register(file, &NATIVE, out)
}

/// Augments the fan-in fixture to `aug` and registers it with native builtins into `out`.
fn register_native_fan_in(aug: &Path, out: &Path) -> assert_cmd::assert::Assert {
    augment(
        &support::root().join("tests/fixtures/action/fan-in.json"),
        aug,
    );
    register_native(aug, out)
}

/// Files of an earlier registration that this one does not render are named (GitHub would
/// still run them) and kept; `--out` naming a file and a workflow on standard input without
/// --payload-path are usage errors that write nothing.
#[test]
fn leftovers_and_bad_destinations_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (aug, out) = (
        dir.path().join("fan-in_augmented.json"),
        dir.path().join("wf"),
    );
    register_native_fan_in(&aug, &out).code(0);
    let reaper = out.join("fan-in-ephflow-reaper.yml");
    assert!(reaper.is_file());
    let other = out.join("other-workflow-step.yml");
    std::fs::write(
        &other,
        "name: other\non: {workflow_dispatch: {inputs: {PAYLOAD_URL: {}}}}\n",
    )
    .unwrap();
    // FaaSr's builtins and no reaper: the reaper file is left over, the other workflow's is not.
    register(&aug, &[], &out)
        .code(0)
        .stderr(predicate::str::contains(format!(
            "warning: {} is not rendered from this workflow any more",
            reaper.display()
        )))
        .stderr(predicate::str::contains("other-workflow-step").not());
    assert!(reaper.is_file(), "never deleted");
    register(&aug, &["--check"], &out)
        .code(0)
        .stderr(predicate::str::contains("fan-in-ephflow-reaper.yml"));

    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    register(&aug, &[], &file)
        .code(2)
        .stderr(predicate::str::contains("is a file; give the directory"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");

    let fresh = dir.path().join("fresh");
    ephflow()
        .args(["register", "-", "--reaper-image", NATIVE_IMAGE, "--out"])
        .arg(&fresh)
        .write_stdin(std::fs::read(&aug).unwrap())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --payload-path"));
    assert!(!fresh.exists(), "nothing written");
}

/// `--builtins native`: lifecycle jobs run `ephflow action run` in the given image, user jobs
/// are unchanged, the failure teardown stays; successors off GitHub Actions are refused.
#[test]
fn native_builtins_run_ephflow_in_the_given_image() {
    let dir = tempfile::tempdir().unwrap();
    let (aug, out) = (
        dir.path().join("fan-in_augmented.json"),
        dir.path().join("wf"),
    );
    register_native_fan_in(&aug, &out)
        .code(0)
        .stdout(predicate::str::contains("wrote 8 workflow files"));
    if python_available("yaml") {
        let mut docs = rendered_documents(&out);
        let reaper = docs.remove("fan-in-ephflow-reaper.yml").expect("a reaper");
        assert_eq!(reaper["on"]["schedule"][0]["cron"], "*/10 * * * *");
        assert!(reaper["on"]["workflow_dispatch"].is_object());
        let job = &reaper["jobs"]["reap"];
        assert_eq!(job["container"], NATIVE_IMAGE);
        assert_eq!(job["steps"][0]["run"], "ephflow vm reap\n");
        assert_eq!(
            job["env"]["PAYLOAD_URL"],
            "test-org/fan-in-actions/main/fan-in_augmented.json"
        );
        let mut secrets: Vec<&str> = job["env"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "PAYLOAD_URL" && *k != "EPHFLOW_SERVER")
            .collect();
        secrets.sort_unstable();
        assert_eq!(
            secrets,
            ["GH_PAT", "VM_AccessKey", "VM_SecretKey"],
            "only what the reaper needs"
        );
        for (name, doc) in &docs {
            let action = name
                .strip_prefix("fan-in-")
                .and_then(|n| n.strip_suffix(".yml"))
                .unwrap();
            let job = &doc["jobs"]["run_docker_image"];
            let builtin = action.starts_with("faasr-vm-");
            if builtin {
                assert_eq!(job["container"], NATIVE_IMAGE, "{name}");
                assert_eq!(job["steps"][0]["run"], "ephflow action run\n", "{name}");
                assert_eq!(job["env"]["EPHFLOW_SERVER"], "GH", "{name}");
                assert_eq!(job["runs-on"], "ubuntu-latest", "{name}");
            } else {
                assert_eq!(
                    job["container"], "ghcr.io/faasr/github-actions-python:latest",
                    "{name}"
                );
                assert_eq!(
                    job["steps"][0]["run"],
                    "cd /action\npython3 faasr_entry.py\n"
                );
                assert!(job["env"]["EPHFLOW_SERVER"].is_null(), "{name}");
            }
            for secret in ["GH_PAT", "Store_AccessKey", "Store_SecretKey"] {
                assert_eq!(
                    job["env"][secret],
                    format!("${{{{ secrets.{secret} }}}}"),
                    "{name}"
                );
            }
            // The VM's keys only where ephflow drives the VM.
            for secret in ["VM_AccessKey", "VM_SecretKey"] {
                assert_eq!(!job["env"][secret].is_null(), builtin, "{name}: {secret}");
            }
            let teardown = !doc["jobs"]["stop_vm_on_failure"].is_null();
            let expected = !action.starts_with("faasr-vm-stop");
            assert_eq!(
                teardown, expected,
                "{name}: the failure teardown still applies"
            );
        }
    }

    // The bundled example starts a Lambda action from faasr-vm-start: refused, nothing written.
    let example = dir.path().join("ml_augmented.json");
    augment(&support::root().join("examples/ml-pipeline.json"), &example);
    let refused = dir.path().join("refused");
    register_native(&example, &refused)
        .code(1)
        .stderr(predicate::str::contains(
            "\"faasr-vm-start\" starts \"fetch-data\", which runs on \"Lambda\" (Lambda)",
        ))
        .stderr(predicate::str::contains("--builtins faasr"));
    assert!(!refused.exists(), "nothing written");

    // Usage: native needs an image; an image needs native.
    register(&aug, &["--builtins", "native"], &refused)
        .code(2)
        .stderr(predicate::str::contains("--builtin-image"));
    register(&aug, &["--builtin-image", NATIVE_IMAGE], &refused)
        .code(2)
        .stderr(predicate::str::contains("--builtins native"));
    register(
        &aug,
        &[
            "--builtins",
            "native",
            "--builtin-image",
            "x/${{ github.token }}",
        ],
        &refused,
    )
    .code(1)
    .stderr(predicate::str::contains(
        "the builtin image contains \"${{\"",
    ));
    assert!(!refused.exists(), "nothing written");
}

/// A native builtin job holds only the secrets it uses: the VM's, the GitHubActions servers'
/// PATs, the DefaultDataStore's keys and the workflow's own Secrets. Another server's or
/// store's keys stay in the user actions' jobs, which run FaaSr's runtime; the VM's do not.
#[test]
fn native_builtin_jobs_get_only_the_secrets_they_use() {
    let dir = tempfile::tempdir().unwrap();
    let mut wf: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("tests/fixtures/action/fan-in.json"))
            .unwrap(),
    )
    .unwrap();
    wf["ComputeServers"]["Lambda"] =
        serde_json::json!({"FaaSType": "Lambda", "Region": "us-east-1"});
    wf["DataStores"]["Archive"] = serde_json::json!({
        "Endpoint": "http://127.0.0.1:9", "Bucket": "archive", "Region": "us-east-1"
    });
    wf["Secrets"] = serde_json::json!(["MODEL_TOKEN"]);
    let src = dir.path().join("fan-in.json");
    std::fs::write(&src, serde_json::to_string_pretty(&wf).unwrap()).unwrap();
    let aug = dir.path().join("fan-in_augmented.json");
    augment(&src, &aug);
    let out = dir.path().join("wf");
    register_native(&aug, &out).code(0);
    if !python_available("yaml") {
        return;
    }
    let docs = rendered_documents(&out);
    let secrets_of = |doc: &serde_json::Value| {
        let mut names: Vec<String> = doc["jobs"]["run_docker_image"]["env"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.as_str().is_some_and(|v| v.contains("secrets.")))
            .map(|(k, _)| k.clone())
            .collect();
        names.sort_unstable();
        names
    };
    let mut builtins = 0;
    for (name, doc) in &docs {
        if name.ends_with("-ephflow-reaper.yml") {
            continue;
        }
        let got = secrets_of(doc);
        if name.starts_with("fan-in-faasr-vm-") {
            builtins += 1;
            assert_eq!(
                got,
                [
                    "GH_PAT",
                    "MODEL_TOKEN",
                    "Store_AccessKey",
                    "Store_SecretKey",
                    "VM_AccessKey",
                    "VM_SecretKey"
                ],
                "{name}"
            );
        } else {
            for expected in [
                "Archive_AccessKey",
                "Archive_SecretKey",
                "Lambda_AccessKey",
                "Lambda_SecretKey",
                "MODEL_TOKEN",
                "Store_AccessKey",
            ] {
                assert!(got.iter().any(|g| g == expected), "{name}: {got:?}");
            }
            // With native builtins no user action drives the VM: none gets its keys.
            assert!(!got.iter().any(|g| g.starts_with("VM_")), "{name}: {got:?}");
        }
    }
    assert!(builtins >= 3, "start, polls and stop rendered: {builtins}");
}

/// Field-by-field agreement with FaaSr's conventions for every VM workflow of the corpus.
#[test]
fn every_corpus_vm_workflow_registers_by_faasr_conventions() {
    let Some(corpus) = support::corpus_dir() else {
        return;
    };
    if !python_available("yaml") {
        return;
    }
    for name in [
        "rworkflowvm",
        "rworkflowvm_complex",
        "demo_demo",
        "flare_workflow",
        "cross_platform_benchmark",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let aug = dir.path().join("aug.json");
        ephflow()
            .arg("augment")
            .arg(corpus.join(format!("faasr/{name}.json")))
            .arg("-o")
            .arg(&aug)
            .assert()
            .code(0);
        let out = dir.path().join("wf");
        ephflow()
            .arg("register")
            .arg(&aug)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(0);
        let wf: Value = serde_json::from_str(&std::fs::read_to_string(&aug).unwrap()).unwrap();
        let prefix = format!("{}-", wf["WorkflowName"].as_str().unwrap());
        let paths: Vec<PathBuf> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let docs = yaml_documents(&paths);
        let servers = wf["ComputeServers"].as_object().unwrap();
        let gh_actions: Vec<&String> = wf["ActionList"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, a)| {
                servers[a["FaaSServer"].as_str().unwrap()]["FaaSType"] == "GitHubActions"
            })
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            docs.len(),
            gh_actions.len(),
            "{name}: one file per GitHubActions action"
        );
        for action in gh_actions {
            let doc = &docs[&format!("{prefix}{action}.yml")];
            let a = &wf["ActionList"][action];
            let job = &doc["jobs"]["run_docker_image"];
            let vm = a["RequiresVM"] == true;
            assert_eq!(
                job["runs-on"],
                if vm { "self-hosted" } else { "ubuntu-latest" },
                "{name}/{action}"
            );
            assert_eq!(
                job["container"], wf["ActionContainers"][action],
                "{name}/{action}"
            );
            let env = job["env"].as_object().unwrap();
            for (server, s) in servers {
                if s["FaaSType"] == "GitHubActions" {
                    assert!(
                        env.contains_key(&format!("{server}_PAT")),
                        "{name}/{action}: {server}_PAT"
                    );
                }
            }
            for store in wf["DataStores"].as_object().unwrap().keys() {
                assert!(
                    env.contains_key(&format!("{store}_AccessKey")),
                    "{name}/{action}: {store}"
                );
            }
            let vm_name = wf["VMConfig"]["Name"].as_str().unwrap();
            assert!(
                env.contains_key(&format!("{vm_name}_SecretKey")),
                "{name}/{action}"
            );
            // Every job but the stops can run while the VM is up (the start may have started
            // it before failing): they carry the failure teardown.
            assert_eq!(
                doc["jobs"]["stop_vm_on_failure"].is_null(),
                action.starts_with("faasr-vm-stop"),
                "{name}/{action}"
            );
        }
    }
}

#[test]
fn invoke_retries_a_transient_read_but_never_the_dispatch() {
    let dir = tempfile::tempdir().unwrap();
    let (_, aug) = augmented_example(dir.path());
    let gh = FakeGitHub::start();
    gh.add_file("ml-pipeline_augmented.json", "main", b"{}");
    gh.add_file(
        ".github/workflows/ml-pipeline-faasr-vm-start.yml",
        "main",
        b"name: x",
    );
    gh.answer_next("contents/ml-pipeline_augmented.json", 502, &[]);
    gh.answer_next("dispatches", 502, &[]);
    ephflow()
        .arg("invoke")
        .arg(&aug)
        .env("GITHUB_API_URL", &gh.url)
        .env("GH_PAT", "ghp_fake")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not re-sent"));
    let seen = gh.seen();
    let reads = seen
        .iter()
        .filter(|s| s.path.contains("contents/ml-pipeline_augmented.json"))
        .count();
    let posts = seen.iter().filter(|s| s.method == "POST").count();
    assert_eq!((reads, posts), (2, 1), "{seen:?}");
}
