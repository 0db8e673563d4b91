//! `ephflow vm` against a moto server: an instance driven from stopped to running to stopped
//! with the documented credential variables and an endpoint override.

mod support;

use assert_cmd::Command;
use ephflow_aws::testkit::{Moto, moto_stopped_instance};
use predicates::prelude::*;
use serde_json::Value;

const ACCESS: &str = "AKIAEPHFLOWTESTKEY01";
const SECRET: &str = "ephflow/never-print-this-secret-value";

fn workflow_for(dir: &std::path::Path, instance: &str) -> std::path::PathBuf {
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("examples/ml-pipeline.json")).unwrap(),
    )
    .unwrap();
    doc["VMConfig"]["InstanceId"] = instance.into();
    doc["VMConfig"]["Region"] = "us-east-1".into();
    let path = dir.join("workflow.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// moto with a stopped instance, and the example workflow naming it (in a temporary
/// directory); `None` when moto is not installed.
fn moto_workflow() -> Option<(Moto, tempfile::TempDir, std::path::PathBuf, String)> {
    let moto = Moto::start()?;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let id = runtime.block_on(moto_stopped_instance(&moto.url));
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_for(dir.path(), &id);
    Some((moto, dir, wf, id))
}

fn vm(moto: &Moto, args: &[&str], workflow: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("ephflow").unwrap();
    cmd.arg("vm")
        .args(args)
        .arg("--workflow")
        .arg(workflow)
        .env("AWS_ENDPOINT_URL_EC2", &moto.url)
        .env("TRAINER_AccessKey", ACCESS)
        .env("TRAINER_SecretKey", SECRET)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GH_PAT")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL");
    cmd
}

fn no_secrets(out: &std::process::Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains(SECRET) && !all.contains(ACCESS),
        "a secret leaked: {all}"
    );
}

#[test]
fn drives_an_instance_from_stopped_to_running_and_back() {
    let Some((moto, dir, wf, id)) = moto_workflow() else {
        return;
    };

    let out = vm(&moto, &["status"], &wf)
        .env("EPHFLOW_LOG", "trace")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("VM stopped"));
    // The log says where the credentials came from, at the most verbose level too, never
    // what they are (the AWS signer logs the access key id at debug: it is capped).
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NamedSecrets"),
        "{out:?}"
    );
    no_secrets(&out);

    let out = vm(&moto, &["preflight"], &wf).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let out = vm(&moto, &["start", "--format", "json"], &wf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["requested"], true);
    assert_eq!(v["vm"], id.as_str());
    no_secrets(&out);

    let summary = dir.path().join("summary.md");
    let out = vm(&moto, &["poll", "--timeout", "60"], &wf)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(": ready (VM running, instance check ok, system check ok)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("::notice title=ephflow vm poll::"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("| ready |") || md.contains("| describing |"),
        "{md}"
    );
    no_secrets(&out);

    vm(&moto, &["stop"], &wf)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("stop requested"));
    vm(&moto, &["stop"], &wf)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("nothing to do"));
}

#[test]
fn an_unknown_instance_is_a_cloud_failure_naming_it() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_for(dir.path(), "i-0aaaaaaaaaaaaaaaa");
    let out = vm(&moto, &["start"], &wf).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("i-0aaaaaaaaaaaaaaaa"), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert_eq!(
        stderr.matches("i-0aaaaaaaaaaaaaaaa:").count(),
        1,
        "the id leads the message once: {stderr}"
    );
    no_secrets(&out);
    let out = vm(&moto, &["status"], &wf)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("::error title=ephflow vm status::"));
}

#[test]
fn a_workflow_without_vmconfig_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("examples/ml-pipeline.json")).unwrap(),
    )
    .unwrap();
    doc.as_object_mut().unwrap().shift_remove("VMConfig");
    for a in doc["ActionList"].as_object_mut().unwrap().values_mut() {
        a.as_object_mut().unwrap().shift_remove("RequiresVM");
    }
    let path = dir.path().join("w.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    Command::cargo_bin("ephflow")
        .unwrap()
        .args(["vm", "status", "--workflow"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "has no VMConfig, so `vm status` has no VM to act on",
        ));
    // FILE may also come positionally, like every other command's.
    Command::cargo_bin("ephflow")
        .unwrap()
        .args(["vm", "stop"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "has no VMConfig, so `vm stop` has no VM to act on",
        ));
    // --format json reports the failure as one object on standard output too.
    let out = Command::cargo_bin("ephflow")
        .unwrap()
        .args(["vm", "poll", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["action"], "poll", "{v}");
    assert_eq!(v["exit"], 1, "{v}");
    assert!(v["error"].as_str().unwrap().contains("no VMConfig"), "{v}");
}

/// Only the commands that wait take wait limits: elsewhere they would be silently ignored.
#[test]
fn only_waiting_commands_take_wait_limits() {
    for what in ["status", "stop", "preflight"] {
        Command::cargo_bin("ephflow")
            .unwrap()
            .args(["vm", what, "w.json", "--timeout", "60"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--timeout"));
    }
    // `start` waits only with --wait.
    Command::cargo_bin("ephflow")
        .unwrap()
        .args(["vm", "start", "w.json", "--runner-timeout", "60"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("add --wait"));
}

/// A wait of zero seconds is refused as a usage error that says why.
#[test]
fn a_zero_timeout_is_a_usage_error() {
    Command::cargo_bin("ephflow")
        .unwrap()
        .args(["vm", "poll", "--workflow", "w.json", "--timeout", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("could never succeed"));
    Command::cargo_bin("ephflow")
        .unwrap()
        .args([
            "vm",
            "poll",
            "--workflow",
            "w.json",
            "--runner-timeout",
            "5m",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a whole number of seconds"));
}

#[test]
fn poll_waits_for_the_runner_on_the_fake_github_api() {
    let Some((moto, _dir, wf, _)) = moto_workflow() else {
        return;
    };
    let gh = ephflow_github::testkit::FakeGitHub::start();
    gh.runner_comes_online_after("gpu-trainer-1", 2);
    let out = vm(&moto, &["start", "--wait", "--format", "json"], &wf)
        .env("GITHUB_API_URL", &gh.url)
        .env("GH_PAT", "ghp_fake_token_never_printed")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let phases: Vec<&str> = v["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["phase"].as_str().unwrap())
        .collect();
    assert!(phases.contains(&"waiting-for-runner"), "{phases:?}");
    let looks: Vec<_> = gh
        .seen()
        .into_iter()
        .filter(|s| {
            s.path.contains(
                "/repos/example-org/ml-pipeline-actions/actions/runners?name=gpu-trainer-1",
            )
        })
        .collect();
    assert_eq!(looks.len(), 3, "online on the third look: {looks:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ghp_fake_token"));
    // Again, in words: already running, and ready.
    vm(&moto, &["start", "--wait"], &wf)
        .env("GITHUB_API_URL", &gh.url)
        .env("GH_PAT", "ghp_fake_token_never_printed")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "ready (it was already starting or running)",
        ));

    // Without a token there is no runner check, and it says so.
    let out = vm(&moto, &["poll"], &wf)
        .env("GITHUB_API_URL", &gh.url)
        .env_remove("GH_PAT")
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no check of runner \"gpu-trainer-1\""));
}

/// An endpoint variable set but empty (in GitHub Actions, an unset secret) made the AWS SDK
/// panic on its first request (found by audit): it is invalid input naming the variable, and
/// nothing is sent.
#[test]
fn an_empty_endpoint_variable_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_for(dir.path(), "i-0aaaaaaaaaaaaaaaa");
    for var in ["AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL"] {
        let out = Command::cargo_bin("ephflow")
            .unwrap()
            .args(["vm", "status", "--workflow"])
            .arg(&wf)
            .env_remove("AWS_ENDPOINT_URL_EC2")
            .env_remove("AWS_ENDPOINT_URL")
            .env(var, "")
            .env("TRAINER_AccessKey", ACCESS)
            .env("TRAINER_SecretKey", SECRET)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{var}: {stderr}");
        assert!(
            stderr.contains(&format!("{var} is set but empty")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        no_secrets(&out);
    }
}

/// `cmd` with no AWS credentials anywhere (see `support::without_aws_credentials`) and the
/// default logging, whose lines the tests count.
fn without_credentials(cmd: &mut Command, dir: &std::path::Path) {
    support::without_aws_credentials(cmd, "TRAINER", dir);
    cmd.env_remove("EPHFLOW_LOG");
}

/// No credentials anywhere was reported as a network failure, retried five times, exit 3
/// (found by a usability review): it is invalid input naming the secrets to set, at once.
#[test]
fn no_credentials_at_all_is_invalid_input_naming_the_secrets() {
    let Some((moto, dir, wf, _)) = moto_workflow() else {
        return;
    };
    for what in ["status", "preflight"] {
        let mut cmd = vm(&moto, &[what], &wf);
        without_credentials(&mut cmd, dir.path());
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(stderr.contains("no AWS credentials"), "{what}: {stderr}");
        assert!(stderr.contains("TRAINER_AccessKey"), "{what}: {stderr}");
        assert!(stderr.contains("TRAINER_SecretKey"), "{what}: {stderr}");
        assert!(!stderr.contains("network"), "{what}: {stderr}");
        assert!(
            !stderr.contains("retrying"),
            "{what}: not retried: {stderr}"
        );
        // Neither the SDK's debug dumps nor a warning per attempt.
        assert!(!stderr.contains("WARN"), "{what}: {stderr}");
        assert!(!stderr.contains("ProviderError"), "{what}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{what}: one line: {stderr}");
        no_secrets(&out);

        let mut cmd = vm(&moto, &[what, "--format", "json"], &wf);
        without_credentials(&mut cmd, dir.path());
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}: {out:?}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["class"], "invalid-input", "{v}");
        assert_eq!(v["exit"], 1, "{v}");
        assert_eq!(v["action"], what, "{v}");
    }
}

/// Without credentials the SDK never sends the request: the fake EC2 endpoint sees none.
#[test]
fn no_credentials_sends_no_request() {
    let ec2 = ephflow_aws::testkit::FakeEc2::start("i-0aaaaaaaaaaaaaaaa", "stopped", Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_for(dir.path(), "i-0aaaaaaaaaaaaaaaa");
    for what in ["status", "start", "stop", "preflight"] {
        let mut cmd = Command::cargo_bin("ephflow").unwrap();
        cmd.args(["vm", what, "--workflow"])
            .arg(&wf)
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ENDPOINT_URL_EC2", &ec2.url);
        without_credentials(&mut cmd, dir.path());
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(stderr.contains("TRAINER_AccessKey"), "{what}: {stderr}");
    }
    let seen = ec2.seen.lock().unwrap().clone();
    assert!(seen.is_empty(), "requests were sent: {seen:?}");
}

/// A real network failure (nothing listens on the endpoint's port) keeps the network hint and
/// is retried, one line per retry (the engine's log line duplicated each).
#[test]
fn a_refused_connection_still_blames_the_network() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_for(dir.path(), "i-0aaaaaaaaaaaaaaaa");
    let refused = |what: &str| {
        let mut cmd = Command::cargo_bin("ephflow").unwrap();
        cmd.args(["vm", what, "--workflow"])
            .arg(&wf)
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("EPHFLOW_LOG")
            .env("AWS_ENDPOINT_URL_EC2", format!("http://127.0.0.1:{port}"))
            .env("TRAINER_AccessKey", ACCESS)
            .env("TRAINER_SecretKey", SECRET);
        let out = cmd.output().unwrap();
        no_secrets(&out);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = refused("preflight");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("could not be sent"), "{stderr}");
    assert!(stderr.contains("check the network"), "{stderr}");
    assert!(!stderr.contains("credentials"), "{stderr}");

    let (code, stderr) = refused("status");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("check the network"), "{stderr}");
    // Five attempts: four retries, each reported once.
    let retries = stderr
        .lines()
        .filter(|l| l.contains("retrying"))
        .collect::<Vec<_>>();
    assert_eq!(retries.len(), 4, "{stderr}");
    assert!(
        retries.iter().all(|l| l.starts_with("retrying in ")),
        "{stderr}"
    );
}

/// A credential source that fails (instance metadata answering 403, as off AWS behind a
/// proxy) made the AWS SDK warn with a debug dump of its error on every attempt: the error
/// says what failed, once, and the dump is shown only when `EPHFLOW_LOG` asks for it.
#[test]
fn a_failing_credential_source_is_named_without_the_sdk_dump() {
    use ephflow_core::testkit::http::{Reply, serve};
    let imds = serve(|_| Reply::Send {
        status: 403,
        headers: Vec::new(),
        body: "forbidden".into(),
    });
    let ec2 = ephflow_aws::testkit::FakeEc2::start("i-0aaaaaaaaaaaaaaaa", "stopped", Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_for(dir.path(), "i-0aaaaaaaaaaaaaaaa");
    let status = |log: Option<&str>| {
        let mut cmd = Command::cargo_bin("ephflow").unwrap();
        cmd.args(["vm", "status", "--workflow"])
            .arg(&wf)
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ENDPOINT_URL_EC2", &ec2.url);
        without_credentials(&mut cmd, dir.path());
        cmd.env_remove("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds);
        if let Some(log) = log {
            cmd.env("EPHFLOW_LOG", log);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = status(None);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("TRAINER_AccessKey"), "{stderr}");
    assert!(stderr.contains("failed: "), "{stderr}");
    assert!(
        !stderr.contains("an error occurred while loading credentials"),
        "{stderr}"
    );
    assert!(!stderr.contains("WARN"), "{stderr}");
    assert!(!stderr.contains("ProviderError"), "{stderr}");
    assert!(!stderr.contains("network"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // EPHFLOW_LOG still shows what the SDK says.
    let (code, stderr) = status(Some("warn"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("provider failed to provide credentials"),
        "{stderr}"
    );
    assert!(ec2.seen.lock().unwrap().is_empty());
}

const ROLE: &str = "arn:aws:iam::123456789012:role/ephflow-lifecycle";
const REQUEST_TOKEN: &str = "oidc-request-token-sentinel-7f3a";

/// With `VMConfig.RoleArn` and no key secrets, a job with `id-token: write` fetches its OIDC
/// token (AWS's audience, the request token as bearer) and assumes the role through STS (moto),
/// then drives the instance; neither token appears in any output, even at trace level.
#[test]
fn role_arn_assumes_the_role_with_the_jobs_oidc_token() {
    let Some((moto, dir, wf, _)) = moto_workflow() else {
        return;
    };
    let github = ephflow_github::testkit::FakeGitHub::start();
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&wf).unwrap()).unwrap();
    doc["VMConfig"]["RoleArn"] = ROLE.into();
    std::fs::write(&wf, doc.to_string()).unwrap();
    let with_oidc = |args: &[&str]| {
        let mut cmd = vm(&moto, args, &wf);
        without_credentials(&mut cmd, dir.path());
        cmd.env("AWS_ENDPOINT_URL_STS", &moto.url)
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", github.oidc_request_url())
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
            .env("EPHFLOW_LOG", "trace");
        cmd
    };
    let out = with_oidc(&["start"]).output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("start requested"), "{all}");
    assert!(!all.contains(REQUEST_TOKEN), "{all}");
    assert!(
        !all.contains(ephflow_github::testkit::FAKE_ID_TOKEN),
        "{all}"
    );
    no_secrets(&out);
    let token_requests: Vec<_> = github
        .seen()
        .into_iter()
        .filter(|s| s.path.contains("/oidc/"))
        .collect();
    assert_eq!(token_requests.len(), 1, "one token per command");
    assert!(
        token_requests[0]
            .path
            .ends_with("?api-version=2.0&audience=sts.amazonaws.com"),
        "{:?}",
        token_requests[0]
    );
    assert_eq!(
        token_requests[0].authorization,
        format!("Bearer {REQUEST_TOKEN}")
    );

    // The token endpoint refuses (no `id-token: write`): a cloud failure that says so, exit 3.
    github.answer_next("/oidc/", 403, &[]);
    let out = with_oidc(&["status"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("VMConfig.RoleArn"), "{stderr}");
    assert!(stderr.contains("answered 403"), "{stderr}");
    assert!(!stderr.contains(REQUEST_TOKEN), "{stderr}");

    // A transient failure of the token endpoint is retried (a poll failing on it would fail its
    // job, and the teardown would stop the VM).
    github.answer_next("/oidc/", 503, &[]);
    let out = with_oidc(&["status"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("answered 503"), "{stderr}");
    assert!(stderr.contains("retrying"), "{stderr}");

    // Without the token request variables (a job without `id-token: write`, or a laptop) the
    // usual chain applies; finding nothing, the error says why the role was not assumed.
    let mut cmd = vm(&moto, &["status"], &wf);
    without_credentials(&mut cmd, dir.path());
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no AWS credentials"), "{stderr}");
    assert!(
        stderr.contains(&format!("VMConfig.RoleArn {ROLE} is assumed only")),
        "{stderr}"
    );
    assert!(stderr.contains("id-token: write"), "{stderr}");
}
