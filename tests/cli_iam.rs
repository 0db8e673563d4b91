//! `ephflow iam-policy`: the printed policies are exactly what the lifecycle needs, and real
//! validators accept them (moto's IAM, which checks policy grammar as AWS does, and
//! parliament, a linter of IAM policies).

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use assert_cmd::Command;
use ephflow_core::testkit::moto::Moto;
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const INSTANCE: &str = "i-0123456789abcdef0";

/// The example, with a second GitHubActions repository (running the report) and a third
/// server on the first repository (which must not repeat in the trust policy).
fn workflow(dir: &Path) -> PathBuf {
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("examples/ml-pipeline.json")).unwrap(),
    )
    .unwrap();
    let servers = doc["ComputeServers"].as_object_mut().unwrap();
    servers.insert(
        "Reports".into(),
        json!({"FaaSType": "GitHubActions", "UserName": "example-org", "ActionRepoName": "reports.site", "Branch": "main"}),
    );
    servers.insert(
        "GHAgain".into(),
        json!({"FaaSType": "GitHubActions", "UserName": "example-org", "ActionRepoName": "ml-pipeline-actions", "Branch": "dev"}),
    );
    doc["ActionList"]["report-regression"]["FaaSServer"] = json!("Reports");
    doc["ActionList"]["publish-model"]["FaaSServer"] = json!("GHAgain");
    let path = dir.join("workflow.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

fn iam_policy(file: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("ephflow")
        .unwrap()
        .arg("iam-policy")
        .arg(file)
        .args(args)
        .output()
        .unwrap()
}

fn actions(statement: &Value) -> Vec<String> {
    let mut a: Vec<String> = match &statement["Action"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("Action is {other}"),
    };
    a.sort();
    a
}

fn printed(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_policy_names_the_instance_and_the_trust_names_each_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = iam_policy(&workflow(dir.path()), &["--account", ACCOUNT]);
    let v = printed(&out);
    // 4-space indentation, like every JSON ephflow writes.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\n    \"policy\": {\n        \"Version\""),
        "{out:?}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("note:"));

    let statements = v["policy"]["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    let scoped = statements
        .iter()
        .find(|s| s["Resource"] != "*")
        .expect("a statement scoped to the instance");
    assert_eq!(
        scoped["Resource"],
        format!("arn:aws:ec2:us-west-2:{ACCOUNT}:instance/{INSTANCE}")
    );
    assert_eq!(actions(scoped), ["ec2:StartInstances", "ec2:StopInstances"]);
    let unscoped = statements.iter().find(|s| s["Resource"] == "*").unwrap();
    assert_eq!(
        actions(unscoped),
        ["ec2:DescribeInstanceStatus", "ec2:DescribeInstances"]
    );
    assert!(statements.iter().all(|s| s["Effect"] == "Allow"));

    let trust = &v["trust_policy"]["Statement"];
    assert_eq!(trust.as_array().unwrap().len(), 1);
    let t = &trust[0];
    assert_eq!(
        t["Principal"]["Federated"],
        format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com")
    );
    assert_eq!(t["Action"], "sts:AssumeRoleWithWebIdentity");
    assert!(
        t.get("Resource").is_none(),
        "a trust policy has no Resource"
    );
    assert_eq!(
        t["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    assert_eq!(
        t["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"],
        json!([
            "repo:example-org/ml-pipeline-actions:ref:refs/heads/main",
            "repo:example-org/reports.site:ref:refs/heads/main",
            "repo:example-org/ml-pipeline-actions:ref:refs/heads/dev"
        ])
    );
}

#[test]
fn without_an_account_the_policy_says_star_and_a_note_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = iam_policy(&workflow(dir.path()), &[]);
    let v = printed(&out);
    assert_eq!(
        v["policy"]["Statement"][0]["Resource"],
        format!("arn:aws:ec2:us-west-2:*:instance/{INSTANCE}")
    );
    assert_eq!(
        v["trust_policy"]["Statement"][0]["Principal"]["Federated"],
        "arn:aws:iam::ACCOUNT_ID:oidc-provider/token.actions.githubusercontent.com"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: without --account, `*` stands for the account"),
        "{stderr}"
    );

    // VMConfig.RoleArn names the account when --account does not.
    let with_role = dir.path().join("with-role.json");
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(workflow(dir.path())).unwrap()).unwrap();
    doc["VMConfig"]["RoleArn"] = json!("arn:aws:iam::210987654321:role/lifecycle");
    std::fs::write(&with_role, doc.to_string()).unwrap();
    let out = iam_policy(&with_role, &[]);
    let v = printed(&out);
    assert_eq!(
        v["policy"]["Statement"][0]["Resource"],
        format!("arn:aws:ec2:us-west-2:210987654321:instance/{INSTANCE}")
    );
    assert_eq!(
        v["trust_policy"]["Statement"][0]["Principal"]["Federated"],
        "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("taken from VMConfig.RoleArn"), "{stderr}");
    assert!(
        stderr.contains("reaper runs on each repository's default branch"),
        "{stderr}"
    );
    assert!(!stderr.contains("without --account"), "{stderr}");
    // --account wins, but a different account than the role's is pointed out.
    let out = iam_policy(&with_role, &["--account", ACCOUNT]);
    let v = printed(&out);
    assert_eq!(
        v["trust_policy"]["Statement"][0]["Principal"]["Federated"],
        format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com")
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("differs from the account of VMConfig.RoleArn (210987654321)"),
        "{stderr}"
    );

    // A malformed account id is a usage error.
    assert_eq!(
        iam_policy(&workflow(dir.path()), &["--account", "12345"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn output_writes_a_file_and_never_over_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow(dir.path());
    let target = dir.path().join("policy.json");
    let out = iam_policy(&wf, &["--account", ACCOUNT, "--output"]);
    assert_eq!(out.status.code(), Some(2), "--output needs a value");
    let out = iam_policy(
        &wf,
        &["--account", ACCOUNT, "--output", target.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty());
    let printed = iam_policy(&wf, &["--account", ACCOUNT]).stdout;
    assert_eq!(std::fs::read(&target).unwrap(), printed);
    let before = std::fs::read(&wf).unwrap();
    let out = iam_policy(&wf, &["--output", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(std::fs::read(&wf).unwrap(), before);
}

#[test]
fn an_invalid_workflow_or_one_without_vmconfig_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow(dir.path());
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&wf).unwrap()).unwrap();
    doc["ActionList"]["train-model"]["FaaSServer"] = json!("Nowhere");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, doc.to_string()).unwrap();
    let out = iam_policy(&bad, &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Nowhere"));
    assert!(out.stdout.is_empty());

    let mut doc: Value = serde_json::from_slice(&std::fs::read(&wf).unwrap()).unwrap();
    doc.as_object_mut().unwrap().shift_remove("VMConfig");
    for a in doc["ActionList"].as_object_mut().unwrap().values_mut() {
        a.as_object_mut().unwrap().shift_remove("RequiresVM");
    }
    let plain = dir.path().join("plain.json");
    std::fs::write(&plain, doc.to_string()).unwrap();
    let out = iam_policy(&plain, &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no VMConfig"));
}

/// Form-encodes a value (RFC 3986 unreserved characters stay).
fn form(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends one IAM query-API request to moto; returns the response. moto picks the service from
/// the credential scope of `Authorization` (`.../iam/aws4_request`) and does not check the
/// signature.
fn moto_iam(moto: &Moto, params: &[(&str, &str)]) -> String {
    let host = moto.url.trim_start_matches("http://");
    let body: Vec<String> = params
        .iter()
        .chain(&[("Version", "2010-05-08")])
        .map(|(k, v)| format!("{k}={}", form(v)))
        .collect();
    let body = body.join("&");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST / HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn moto_iam_accepts_the_policy_and_the_trust_policy() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let v = printed(&iam_policy(&workflow(dir.path()), &["--account", ACCOUNT]));

    // A control: moto refuses a malformed document, so acceptance means something.
    let broken = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "StartInstances", "Resource": "*"}]});
    let answer = moto_iam(
        &moto,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "broken"),
            ("PolicyDocument", &broken.to_string()),
        ],
    );
    assert!(answer.contains("MalformedPolicyDocument"), "{answer}");

    let answer = moto_iam(
        &moto,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "ephflow-vm-lifecycle"),
            ("PolicyDocument", &v["policy"].to_string()),
        ],
    );
    assert!(
        answer.contains("<CreatePolicyResponse") && answer.contains("ephflow-vm-lifecycle"),
        "{answer}"
    );
    let answer = moto_iam(
        &moto,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "ephflow-github"),
            ("AssumeRolePolicyDocument", &v["trust_policy"].to_string()),
        ],
    );
    assert!(answer.contains("<CreateRoleResponse"), "{answer}");
}

#[test]
fn parliament_finds_nothing_to_say_about_the_policy() {
    let have = std::process::Command::new("python3")
        .args(["-c", "import parliament"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        support::missing("parliament (python3 -m pip install -r tests/python/requirements.txt)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Both forms of the account: parliament checks the ARN's shape and every action name.
    for args in [&["--account", ACCOUNT][..], &[]] {
        let v = printed(&iam_policy(&workflow(dir.path()), args));
        let mut lint = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, parliament\n\
                 p = parliament.analyze_policy_string(sys.stdin.read())\n\
                 for f in p.findings: print(f)\n\
                 sys.exit(1 if p.findings else 0)",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        lint.stdin
            .take()
            .unwrap()
            .write_all(v["policy"].to_string().as_bytes())
            .unwrap();
        let out = lint.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "parliament: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// examples/keyless-setup.sh, as the guide tells users to run it, against moto's IAM with the
/// real AWS CLI: it prints the role's ARN, and the role holds ephflow's trust policy and
/// lifecycle policy; a second run refuses the existing role and prints no ARN.
#[test]
fn the_keyless_setup_script_creates_the_role() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow(dir.path());
    let bin = assert_cmd::cargo::cargo_bin("ephflow");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let empty = dir.path().join("aws-config");
    std::fs::write(&empty, "").unwrap();
    let setup = || {
        std::process::Command::new("sh")
            .arg(support::root().join("examples/keyless-setup.sh"))
            .arg(&wf)
            .arg(ACCOUNT)
            .arg("ml-pipeline-lifecycle")
            .env("PATH", &path)
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "AKIAADMIN")
            .env("AWS_SECRET_ACCESS_KEY", "admin")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", &empty)
            .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
            .output()
            .unwrap()
    };
    let out = setup();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim(),
        format!("arn:aws:iam::{ACCOUNT}:role/ml-pipeline-lifecycle")
    );
    let role = moto_iam(
        &moto,
        &[("Action", "GetRole"), ("RoleName", "ml-pipeline-lifecycle")],
    );
    assert!(
        role.contains("token.actions.githubusercontent.com"),
        "{role}"
    );
    let policy = moto_iam(
        &moto,
        &[
            ("Action", "GetRolePolicy"),
            ("RoleName", "ml-pipeline-lifecycle"),
            ("PolicyName", "ephflow-vm-lifecycle"),
        ],
    );
    assert!(
        policy.contains("ec2%3AStartInstances") || policy.contains("ec2:StartInstances"),
        "{policy}"
    );

    // Run again: the role exists, so it stops without printing an ARN to paste.
    let again = setup();
    assert!(!again.status.success());
    assert!(again.stdout.is_empty(), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("EntityAlreadyExists"),
        "{again:?}"
    );
}
