//! Secret sentinels (issue 10): every credential variable ephflow reads holds a unique value,
//! `EPHFLOW_LOG=trace`, and every command runs on a success and a failure path against moto
//! and the fake GitHub. No sentinel may appear in standard output or error, in a written
//! file, in an S3 object, or in a request path or body the fake GitHub saw; the GitHub token
//! sentinels must appear in its Authorization headers (so they really were used). EC2 goes
//! through a recording proxy: no secret in any request, the access key ids only in the SigV4
//! Authorization header.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use support::world::*;

const VM_ACCESS_S: &str = "AKIASENTINELVMACCESS";
const VM_SECRET_S: &str = "sentinel-vm-secret-7f3a";
const STORE_ACCESS_S: &str = "AKIASENTINELSTOREACC";
const STORE_SECRET_S: &str = "sentinel-store-secret-91bc";
const GH_PAT_S: &str = "ghp_sentinelGhPat5d2e";
const GITHUB_TOKEN_S: &str = "ghs_sentinelGithubToken0a4f";
const AWS_ACCESS_S: &str = "AKIASENTINELAWSCHAIN";
const AWS_SECRET_S: &str = "sentinel-aws-chain-secret-c81d";
const AWS_SESSION_S: &str = "sentinel-aws-session-token-66e0";

/// Every sentinel, with the variable that holds it.
const SENTINELS: &[(&str, &str)] = &[
    ("VM_AccessKey", VM_ACCESS_S),
    ("VM_SecretKey", VM_SECRET_S),
    ("Store_AccessKey", STORE_ACCESS_S),
    ("Store_SecretKey", STORE_SECRET_S),
    ("GH_PAT", GH_PAT_S),
    ("GITHUB_TOKEN", GITHUB_TOKEN_S),
    ("AWS_ACCESS_KEY_ID", AWS_ACCESS_S),
    ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_S),
    ("AWS_SESSION_TOKEN", AWS_SESSION_S),
];

struct Run {
    what: String,
    out: Output,
}

struct Harness {
    world: World,
    ec2: Ec2Recorder,
    runs: Vec<Run>,
}

impl Harness {
    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ephflow"));
        cmd.args(args)
            .current_dir(self.world.dir.path())
            .env("EPHFLOW_LOG", "trace")
            .env("EPHFLOW_SERVER", "GH")
            .env("GITHUB_API_URL", &self.world.gh.url)
            .env("AWS_ENDPOINT_URL_EC2", &self.ec2.url)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_RUN_ID")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("PAYLOAD_URL")
            .env_remove("AWS_PROFILE");
        for (var, value) in SENTINELS {
            cmd.env(var, value);
        }
        cmd
    }

    /// Runs `cmd`, expecting `code`, and keeps the output for the sentinel check.
    fn run(&mut self, what: &str, mut cmd: std::process::Command, code: i32) -> String {
        let out = cmd.output().unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(code), "{what}: {all}");
        self.runs.push(Run {
            what: what.to_owned(),
            out,
        });
        all
    }

    fn path(&self, name: &str) -> PathBuf {
        self.world.dir.path().join(name)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn leaks(haystack: &[u8]) -> Vec<&'static str> {
    let text = String::from_utf8_lossy(haystack);
    SENTINELS
        .iter()
        .filter(|(_, v)| text.contains(v))
        .map(|(k, _)| *k)
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// A plain HTTP/1.0 GET against moto (which does not check S3 signatures).
fn http_get(base: &str, path: &str) -> Vec<u8> {
    let host = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |i| i + 4);
    response[at..].to_vec()
}

/// Every object of the bucket: (key, body).
fn bucket_objects(moto: &str) -> Vec<(String, Vec<u8>)> {
    let listing = String::from_utf8(http_get(moto, &format!("/{BUCKET}?list-type=2"))).unwrap();
    listing
        .split("<Key>")
        .skip(1)
        .map(|rest| rest.split("</Key>").next().unwrap().to_owned())
        .map(|key| {
            let body = http_get(moto, &format!("/{BUCKET}/{key}"));
            (key, body)
        })
        .collect()
}

/// One EC2 request the recording proxy relayed.
#[derive(Clone, Debug)]
struct Ec2Request {
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// A recording proxy in front of moto's EC2: every request kept, then relayed.
struct Ec2Recorder {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Ec2Request>>>,
}

impl Ec2Recorder {
    fn start(moto: &str) -> Ec2Recorder {
        use ephflow_core::testkit::http::{self, Request};
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let upstream = moto.trim_start_matches("http://").to_owned();
        let url = http::serve(move |request: &Request| {
            log.lock().unwrap().push(Ec2Request {
                path: request.path.clone(),
                headers: request.headers.clone(),
                body: request.body.clone(),
            });
            http::forward(&upstream, request)
        });
        Ec2Recorder { url, seen }
    }

    fn seen(&self) -> Vec<Ec2Request> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn no_secret_reaches_any_output_and_the_tokens_are_really_used() {
    let Some(world) = World::start() else { return };
    let ec2 = Ec2Recorder::start(&world.moto.url);
    let mut h = Harness {
        world,
        ec2,
        runs: Vec::new(),
    };
    let aug = h.world.workflow.clone();
    let orig = h.path("fan-in.json");
    let bad = h.path("bad.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&orig).unwrap()).unwrap();
    doc["ActionList"]["train"]["InvokeNext"] = json!(["nowhere"]);
    std::fs::write(&bad, doc.to_string()).unwrap();
    let missing_vm = h.path("missing-vm.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&aug).unwrap()).unwrap();
    doc["VMConfig"]["InstanceId"] = json!("i-0aaaaaaaaaaaaaaaa");
    std::fs::write(&missing_vm, doc.to_string()).unwrap();
    let out = h.path("out");
    std::fs::create_dir(&out).unwrap();

    // Offline commands.
    for (what, args, code) in [
        ("validate", vec!["validate", s(&orig)], 0),
        ("validate bad", vec!["validate", s(&bad)], 1),
        (
            "augment",
            vec!["augment", s(&orig), "-o", s(&out.join("aug.json"))],
            0,
        ),
        (
            "augment bad",
            vec!["augment", s(&bad), "-o", s(&out.join("aug-bad.json"))],
            1,
        ),
        (
            "graph",
            vec!["graph", s(&aug), "-o", s(&out.join("g.mmd"))],
            0,
        ),
        ("graph bad", vec!["graph", s(&bad)], 1),
        (
            "plan",
            vec!["plan", s(&orig), "--chart", s(&out.join("chart.svg"))],
            0,
        ),
        ("plan bad", vec!["plan", s(&bad)], 1),
        (
            "schema",
            vec!["schema", "-o", s(&out.join("schema.json"))],
            0,
        ),
        ("schema bad", vec!["schema", "--draft", "3"], 2),
        (
            "iam-policy",
            vec!["iam-policy", s(&aug), "-o", s(&out.join("iam.json"))],
            0,
        ),
        ("iam-policy bad", vec!["iam-policy", s(&bad)], 1),
        (
            "register faasr",
            vec!["register", s(&aug), "--out", s(&out.join("faasr"))],
            0,
        ),
        (
            "register native + reaper",
            vec![
                "register",
                s(&aug),
                "--builtins",
                "native",
                "--builtin-image",
                "ghcr.io/example/ephflow:1",
                "--reaper-image",
                "ghcr.io/example/ephflow:1",
                "--payload-path",
                PAYLOAD_PATH,
                "--out",
                s(&out.join("native")),
            ],
            0,
        ),
        (
            "register bad",
            vec!["register", s(&bad), "--out", s(&out.join("bad"))],
            1,
        ),
    ] {
        let cmd = h.cmd(&args);
        h.run(what, cmd, code);
    }

    // invoke: refused while the entry's workflow file is missing, then dispatched.
    let cmd = h.cmd(&["invoke", s(&aug), "--payload-path", PAYLOAD_PATH]);
    h.run("invoke refused", cmd, 1);
    h.world.gh.add_file(
        ".github/workflows/fan-in-faasr-vm-start.yml",
        "main",
        b"name: x",
    );
    let cmd = h.cmd(&["invoke", s(&aug), "--payload-path", PAYLOAD_PATH]);
    h.run("invoke", cmd, 0);

    // The VM commands, on the real instance and on one that does not exist.
    for sub in ["status", "preflight", "start", "poll", "stop"] {
        // Only the waiting commands take a wait limit.
        let limit: &[&str] = if sub == "poll" {
            &["--timeout", "60"]
        } else {
            &[]
        };
        let cmd = h.cmd(&[&["vm", sub, "--workflow", s(&aug)], limit].concat());
        h.run(&format!("vm {sub}"), cmd, 0);
    }
    let cmd = h.cmd(&["vm", "status", "--workflow", s(&missing_vm)]);
    h.run("vm status missing", cmd, 3);
    let cmd = h.cmd(&["vm", "start", "--workflow", s(&missing_vm)]);
    h.run("vm start missing", cmd, 3);
    let cmd = h.cmd(&["vm", "reap", "--dry-run", "--workflow", s(&aug)]);
    h.run("vm reap", cmd, 0);
    let cmd = h.cmd(&["vm", "reap", "--dry-run", "--payload-url", PAYLOAD_URL]);
    h.run("vm reap --payload-url", cmd, 0);
    let mut cmd = h.cmd(&["vm", "reap", "--workflow", s(&aug)]);
    cmd.env_remove("GH_PAT").env_remove("GITHUB_TOKEN");
    h.run("vm reap without a token", cmd, 1);

    // doctor: the healthy setup, then an invalid workflow.
    let out = h.cmd(&["doctor", s(&aug)]).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "doctor: {}",
        text(&out)
    );
    h.runs.push(Run {
        what: "doctor".into(),
        out,
    });
    let cmd = h.cmd(&["doctor", s(&bad)]);
    h.run("doctor bad", cmd, 1);

    // action run: start, poll (waiting, then done), stop, a fan-in loser, a refused one.
    let action = |h: &Harness, overwritten: Value| {
        let mut cmd = h.cmd(&["action", "run"]);
        cmd.env("PAYLOAD_URL", PAYLOAD_URL)
            .env("OVERWRITTEN", overwritten.to_string());
        cmd
    };
    let cmd = action(&h, json!({"FunctionInvoke": "faasr-vm-start"}));
    h.run("action start", cmd, 0);
    let first = h
        .world
        .gh
        .seen()
        .into_iter()
        .rfind(|s| s.method == "POST")
        .expect("vm_start dispatched");
    let body: Value = serde_json::from_str(&first.body).unwrap();
    let ow: Value = serde_json::from_str(body["inputs"]["OVERWRITTEN"].as_str().unwrap()).unwrap();
    let (id, ts) = (
        ow["InvocationID"].as_str().unwrap().to_owned(),
        ow["InvocationTimestamp"].as_str().unwrap().to_owned(),
    );
    let inv =
        |name: &str| json!({"FunctionInvoke": name, "InvocationID": id, "InvocationTimestamp": ts});
    let store = h.world.store();
    use ephflow_core::action::CompletionStore;
    for rank in 1..=3 {
        block_on(store.put(
            &format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/shard.{rank}.done"),
            b"TRUE".to_vec(),
        ))
        .unwrap();
    }
    let cmd = action(&h, inv("faasr-vm-poll-train"));
    h.run("action poll", cmd, 0);
    let cmd = action(&h, inv("faasr-vm-stop"));
    let said = h.run("action stop waiting for its predecessors", cmd, 0);
    assert!(said.contains("is missing"), "{said}");
    for rank in 1..=5 {
        block_on(store.put(
            &format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/score.{rank}.done"),
            b"TRUE".to_vec(),
        ))
        .unwrap();
    }
    let cmd = action(&h, inv("faasr-vm-stop"));
    let said = h.run("action stop", cmd, 0);
    assert!(said.contains("faasr-vm-stop: done"), "{said}");
    let cmd = action(&h, inv("faasr-vm-stop"));
    let said = h.run("action stop again (fan-in loser)", cmd, 0);
    assert!(said.contains("another invocation"), "{said}");
    let cmd = action(&h, inv("train"));
    let said = h.run("action refused", cmd, 1);
    assert!(said.contains("is not a lifecycle action"), "{said}");
    let cmd = action(
        &h,
        json!({"FunctionInvoke": "faasr-vm-start", "Note": GH_PAT_S}),
    );
    let said = h.run("action with a secret in OVERWRITTEN", cmd, 1);
    assert!(said.contains("GH_PAT"), "{said}");
    // The secret in that OVERWRITTEN was ours: drop the run from the output check, but keep
    // checking that it was not echoed.
    let last = h.runs.pop().unwrap();
    assert!(
        !text(&last.out).contains(GH_PAT_S),
        "the refused OVERWRITTEN echoed the secret"
    );
    // Without GH_PAT, GITHUB_TOKEN is the token.
    let mut cmd = h.cmd(&[
        "vm",
        "start",
        "--wait",
        "--timeout",
        "60",
        "--runner-timeout",
        "60",
        "--workflow",
        s(&aug),
    ]);
    cmd.env_remove("GH_PAT");
    h.run("vm start --wait with GITHUB_TOKEN", cmd, 0);
    let cmd = h.cmd(&["vm", "stop", "--workflow", s(&aug)]);
    h.run("vm stop again", cmd, 0);

    // The standard AWS chain (environment variables) when the named variables are absent.
    let mut cmd = h.cmd(&["vm", "status", "--workflow", s(&aug)]);
    cmd.env_remove("VM_AccessKey").env_remove("VM_SecretKey");
    h.run("vm status with the AWS chain", cmd, 0);

    // 1. Standard output and error.
    for run in &h.runs {
        let found = leaks(&[run.out.stdout.as_slice(), run.out.stderr.as_slice()].concat());
        assert!(
            found.is_empty(),
            "{}: {found:?} in the output:\n{}",
            run.what,
            text(&run.out)
        );
    }
    // 2. Every file in the temporary directory.
    let mut files = Vec::new();
    walk(h.world.dir.path(), &mut files);
    assert!(files.len() > 20, "{files:?}");
    for f in &files {
        let found = leaks(&std::fs::read(f).unwrap());
        assert!(found.is_empty(), "{}: {found:?}", f.display());
    }
    // 3. Every S3 object, and the markers through the store.
    let objects = bucket_objects(&h.world.moto.url);
    assert!(
        objects
            .iter()
            .any(|(k, _)| k.ends_with("faasr-vm-stop.done")),
        "{:?}",
        objects.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    for (key, body) in &objects {
        let found = leaks(key.as_bytes());
        assert!(found.is_empty(), "S3 key {key}: {found:?}");
        let found = leaks(body);
        assert!(found.is_empty(), "S3 object {key}: {found:?}");
    }
    for action in ["faasr-vm-start", "faasr-vm-poll-train", "faasr-vm-stop"] {
        let body = block_on(store.get(&marker(&id, &ts, action)))
            .unwrap()
            .unwrap_or_else(|| panic!("no marker for {action}"));
        assert!(leaks(&body).is_empty(), "{action}'s marker");
    }
    // 4. What the fake GitHub saw: no sentinel in a path or body; the tokens in the headers.
    let seen = h.world.gh.seen();
    assert!(seen.iter().any(|s| s.method == "POST"), "dispatches seen");
    for s in &seen {
        let found = leaks(format!("{} {}", s.path, s.body).as_bytes());
        assert!(found.is_empty(), "{} {}: {found:?}", s.method, s.path);
        let found = leaks(s.authorization.as_bytes());
        assert!(
            found.iter().all(|v| *v == "GH_PAT" || *v == "GITHUB_TOKEN"),
            "{} {}: {found:?} in the authorization header",
            s.method,
            s.path
        );
    }
    // 5. What EC2 received: no sentinel in a path or body; the access key ids only in the
    // SigV4 Authorization header, the session token only in X-Amz-Security-Token.
    let ec2 = h.ec2.seen();
    assert!(ec2.len() > 5, "{ec2:?}");
    for r in &ec2 {
        let found = leaks(format!("{} {}", r.path, r.body).as_bytes());
        assert!(found.is_empty(), "EC2 {}: {found:?}", r.body);
        for (name, value) in &r.headers {
            let found = leaks(value.as_bytes());
            let allowed: &[&str] = match name.as_str() {
                "authorization" => &["VM_AccessKey", "AWS_ACCESS_KEY_ID"],
                "x-amz-security-token" => &["AWS_SESSION_TOKEN"],
                _ => &[],
            };
            assert!(
                found.iter().all(|v| allowed.contains(v)),
                "EC2 header {name}: {found:?}"
            );
        }
    }
    let header = |r: &Ec2Request, name: &str| {
        r.headers
            .iter()
            .find(|(k, _)| k == name)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    assert!(
        ec2.iter()
            .any(|r| header(r, "authorization").contains(VM_ACCESS_S)),
        "the VM's named access key was never used"
    );
    assert!(
        ec2.iter().all(|r| {
            !header(r, "authorization").contains(VM_ACCESS_S)
                || header(r, "x-amz-security-token").is_empty()
        }),
        "the chain's session token was sent with the VM's named key"
    );
    assert!(
        ec2.iter().any(|r| {
            header(r, "authorization").contains(AWS_ACCESS_S)
                && header(r, "x-amz-security-token") == AWS_SESSION_S
        }),
        "the AWS chain was never used"
    );

    for token in [GH_PAT_S, GITHUB_TOKEN_S] {
        assert!(
            seen.iter().any(|s| s.authorization.contains(token)),
            "the token {token} was never sent"
        );
    }
}
