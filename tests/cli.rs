//! The `ephflow` binary: exit codes, messages, formats, help.

mod support;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{Value, json};

fn ephflow() -> Command {
    Command::cargo_bin("ephflow").unwrap()
}

fn example() -> std::path::PathBuf {
    support::root().join("examples/ml-pipeline.json")
}

#[test]
fn validates_the_bundled_example() {
    ephflow()
        .args(["validate"])
        .arg(example())
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "valid (6 actions, 1 requiring the VM",
        ));
}

#[test]
fn corpus_verdicts_and_exit_codes() {
    let files = support::corpus_workflows();
    if files.is_empty() {
        return;
    }
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let assert = ephflow().arg("validate").arg(&path).assert();
        match support::CORPUS_REJECTED.iter().find(|(f, _)| *f == name) {
            None => {
                assert.code(0);
            }
            Some((_, rule)) => {
                assert
                    .code(1)
                    .stdout(predicate::str::contains(*rule))
                    .stdout(predicate::str::contains("action \"forecast-HOx-off\""));
            }
        }
    }
}

/// A mistake a new user could make, applied to the bundled example.
struct Case {
    what: &'static str,
    edit: fn(&mut Value),
    code: &'static str,
    mentions: &'static [&'static str],
}

fn action<'a>(doc: &'a mut Value, name: &str) -> &'a mut serde_json::Map<String, Value> {
    doc["ActionList"][name].as_object_mut().unwrap()
}

const CASES: &[Case] = &[
    Case {
        what: "misspelt RequiresVM",
        edit: |d| {
            action(d, "train-model").insert("RequiresVm".into(), json!(true));
        },
        code: "unknown-field",
        mentions: &["action \"train-model\"", "did you mean \"RequiresVM\"?"],
    },
    Case {
        what: "RequiresVM as a string",
        edit: |d| {
            action(d, "train-model").insert("RequiresVM".into(), json!("yes"));
        },
        code: "wrong-type",
        mentions: &["action \"train-model\"", "\"RequiresVM\" must be a boolean"],
    },
    Case {
        what: "RequiresVM on a Lambda action",
        edit: |d| {
            action(d, "fetch-data").insert("RequiresVM".into(), json!(true));
        },
        code: "vm-action-not-on-github-actions",
        mentions: &[
            "action \"fetch-data\"",
            "Lambda",
            "set FaaSServer to \"GH\"",
        ],
    },
    Case {
        what: "no VMConfig",
        edit: |d| {
            d.as_object_mut().unwrap().shift_remove("VMConfig");
        },
        code: "vm-config-missing",
        mentions: &["action \"train-model\""],
    },
    Case {
        what: "malformed EC2 instance id",
        edit: |d| d["VMConfig"]["InstanceId"] = json!("i-GPU-BOX"),
        code: "bad-format",
        mentions: &[
            "\"InstanceId\" \"i-GPU-BOX\"",
            "8 or 17 lowercase hex digits",
        ],
    },
    Case {
        what: "region name instead of code",
        edit: |d| d["VMConfig"]["Region"] = json!("Oregon"),
        code: "bad-format",
        mentions: &["\"Region\" \"Oregon\"", "us-west-2"],
    },
    Case {
        what: "missing InstanceId",
        edit: |d| {
            d["VMConfig"]
                .as_object_mut()
                .unwrap()
                .shift_remove("InstanceId");
        },
        code: "missing-field",
        mentions: &["required field \"InstanceId\"", "Provider \"AWS\""],
    },
    Case {
        what: "runner name with a slash",
        edit: |d| d["VMConfig"]["RunnerName"] = json!("gpu/trainer"),
        code: "bad-format",
        mentions: &["\"RunnerName\" \"gpu/trainer\""],
    },
    Case {
        what: "runner name too long",
        edit: |d| d["VMConfig"]["RunnerName"] = json!("r".repeat(65)),
        code: "too-long",
        mentions: &["65 characters", "at most 64"],
    },
    Case {
        what: "unregistered provider",
        edit: |d| d["VMConfig"]["Provider"] = json!("Azure"),
        code: "unknown-provider",
        mentions: &["Provider \"Azure\"", "one of \"AWS\""],
    },
    Case {
        what: "unknown server",
        edit: |d| {
            action(d, "evaluate").insert("FaaSServer".into(), json!("GH2"));
        },
        code: "unknown-server",
        mentions: &["action \"evaluate\"", "\"GH2\"", "did you mean \"GH\"?"],
    },
    Case {
        what: "misspelt successor",
        edit: |d| {
            action(d, "train-model").insert("InvokeNext".into(), json!(["evalute"]));
        },
        code: "unknown-action",
        mentions: &["\"evalute\"", "did you mean \"evaluate\"?"],
    },
    Case {
        what: "unknown entry",
        edit: |d| d["FunctionInvoke"] = json!("fetch"),
        code: "unknown-entry",
        mentions: &["\"fetch\""],
    },
    Case {
        what: "unknown data store",
        edit: |d| d["DefaultDataStore"] = json!("s3"),
        code: "unknown-data-store",
        mentions: &["did you mean \"S3\"?"],
    },
    Case {
        what: "cycle",
        edit: |d| {
            action(d, "evaluate").insert("InvokeNext".into(), json!(["train-model"]));
        },
        code: "cycle",
        mentions: &["train-model → evaluate → train-model"],
    },
    Case {
        what: "second entry",
        edit: |d| {
            d["ActionList"]["orphan-step"] = json!({"FunctionName": "f", "FaaSServer": "GH"});
        },
        code: "unreachable",
        mentions: &["action \"orphan-step\"", "exactly one entry"],
    },
    Case {
        what: "underscore in an action name",
        edit: |d| {
            let a = d["ActionList"]
                .as_object_mut()
                .unwrap()
                .shift_remove("publish-model")
                .unwrap();
            d["ActionList"]["publish_model"] = a;
        },
        code: "bad-name",
        mentions: &["\"publish_model\""],
    },
    Case {
        what: "two conditional objects",
        edit: |d| {
            action(d, "evaluate").insert(
                "InvokeNext".into(),
                json!([{"True": ["publish-model"]}, {"False": ["report-regression"]}]),
            );
        },
        code: "several-conditionals",
        mentions: &["action \"evaluate\"", "merge"],
    },
    Case {
        what: "bad InvokeNext entry",
        edit: |d| {
            action(d, "evaluate").insert("InvokeNext".into(), json!(["publish model"]));
        },
        code: "bad-format",
        mentions: &["action \"evaluate\"", "\"publish model\""],
    },
    Case {
        what: "rank zero",
        edit: |d| {
            action(d, "fetch-data").insert("InvokeNext".into(), json!(["clean-shard(0)"]));
        },
        code: "bad-rank",
        mentions: &["\"clean-shard(0)\""],
    },
    Case {
        what: "ranked action with two predecessors",
        edit: |d| {
            action(d, "fetch-data")
                .insert("InvokeNext".into(), json!(["clean-shard(4)", "warm-cache"]));
            d["ActionList"]["warm-cache"] =
                json!({"FunctionName": "f", "FaaSServer": "GH", "InvokeNext": ["clean-shard"]});
        },
        code: "ranked-fan-in",
        mentions: &[
            "\"fetch-data\" and \"warm-cache\"",
            "exactly one predecessor",
        ],
    },
    Case {
        what: "ranked after ranked",
        edit: |d| {
            action(d, "clean-shard").insert("InvokeNext".into(), json!(["train-model(2)"]));
        },
        code: "ranked-after-ranked",
        mentions: &["\"clean-shard\""],
    },
    Case {
        what: "conditional and unconditional triggers",
        edit: |d| {
            action(d, "fetch-data").insert(
                "InvokeNext".into(),
                json!(["clean-shard(4)", "publish-model"]),
            );
        },
        code: "mixed-triggers",
        mentions: &["action \"publish-model\"", "\"evaluate\"", "\"fetch-data\""],
    },
    Case {
        what: "conditional triggers from two actions",
        edit: |d| {
            action(d, "train-model").insert(
                "InvokeNext".into(),
                json!(["evaluate", {"True": ["publish-model"]}]),
            );
        },
        code: "conditional-from-several",
        mentions: &[
            "action \"publish-model\"",
            "\"train-model\" and \"evaluate\"",
        ],
    },
    Case {
        what: "reserved injected name",
        edit: |d| {
            action(d, "evaluate").insert(
                "InvokeNext".into(),
                json!([{"True": ["faasr-vm-poll-x"], "False": ["report-regression"]}]),
            );
            d["ActionList"]["faasr-vm-poll-x"] = json!({"FunctionName": "f", "FaaSServer": "GH"});
        },
        code: "reserved-name",
        mentions: &["action \"faasr-vm-poll-x\""],
    },
    Case {
        what: "unknown FaaSType",
        edit: |d| d["ComputeServers"]["GH"]["FaaSType"] = json!("GitHub"),
        code: "unknown-value",
        mentions: &[
            "compute server \"GH\"",
            "GitHubActions",
            "did you mean \"GitHubActions\"?",
        ],
    },
    Case {
        what: "GitHubActions server without UserName",
        edit: |d| {
            d["ComputeServers"]["GH"]
                .as_object_mut()
                .unwrap()
                .shift_remove("UserName");
        },
        code: "missing-field",
        mentions: &[
            "compute server \"GH\"",
            "GitHubActions server needs UserName, ActionRepoName",
        ],
    },
    Case {
        what: "no actions",
        edit: |d| d["ActionList"] = json!({}),
        code: "empty",
        mentions: &["ActionList"],
    },
];

#[test]
fn every_bad_input_is_rejected_with_its_culprit_named_and_nothing_written() {
    let base: Value = serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = base.clone();
        (case.edit)(&mut doc);
        let path = dir.path().join("workflow.json");
        let text = serde_json::to_string_pretty(&doc).unwrap();
        std::fs::write(&path, &text).unwrap();
        let out = ephflow().arg("validate").arg(&path).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{}: {stdout}", case.what);
        assert!(
            stdout.contains(&format!("error[{}]", case.code)),
            "{}: {stdout}",
            case.what
        );
        for m in case.mentions {
            assert!(
                stdout.contains(m),
                "{}: expected {m:?} in {stdout}",
                case.what
            );
        }
        assert!(
            out.stderr.is_empty(),
            "{}: {}",
            case.what,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "{}: input touched",
            case.what
        );
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1, "{}: something was written", case.what);
    }
}

#[test]
fn malformed_json_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(
        &path,
        "{\n  \"WorkflowName\": \"x\",\n  \"ActionList\": {,\n}\n",
    )
    .unwrap();
    ephflow()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "malformed JSON at line 3, column 18",
        ));
    std::fs::write(&path, b"{\"WorkflowName\": \"caf\xe9\"}").unwrap();
    ephflow()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("not UTF-8"));
    std::fs::write(&path, "[1, 2]").unwrap();
    ephflow()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "must be a JSON object, found an array",
        ));
}

#[test]
fn unreadable_file_is_an_io_error() {
    ephflow()
        .args(["validate", "no-such-workflow.json"])
        .assert()
        .code(5)
        .stdout(predicate::str::contains(
            "cannot read no-such-workflow.json",
        ));
}

/// An empty file and a directory given as FILE say what they are and what to do.
#[test]
fn empty_files_and_directories_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    ephflow()
        .arg("validate")
        .arg(&empty)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("the file is empty"));
    ephflow()
        .arg("validate")
        .arg(dir.path())
        .assert()
        .code(5)
        .stdout(predicate::str::contains("not a directory"));
}

#[test]
fn several_files_exit_with_the_worst_code() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    ephflow()
        .arg("validate")
        .arg(example())
        .arg(&bad)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("ml-pipeline.json: valid"))
        .stdout(predicate::str::contains("bad.json: INVALID"));
}

#[test]
fn reads_standard_input() {
    ephflow()
        .args(["validate", "-"])
        .write_stdin(std::fs::read_to_string(example()).unwrap())
        .assert()
        .code(0);
}

#[test]
fn json_format_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.json");
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap();
    doc["ActionList"]["evaluate"]["FaaSServer"] = json!("GH2");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = ephflow()
        .args(["validate", "--format", "json"])
        .arg(&path)
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let file = &report["files"][0];
    assert_eq!(file["valid"], false);
    assert_eq!(file["errors"], 1);
    let d = &file["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "unknown-server");
    assert_eq!(d["pointer"], "/ActionList/evaluate/FaaSServer");
    assert_eq!(d["subject"], "action \"evaluate\"");
    assert_eq!(d["hint"], "did you mean \"GH\"?");
    assert_eq!(report["files"][1]["valid"], true);
    assert_eq!(report["files"][1]["vm_actions"], 1);
}

#[test]
fn warnings_pass_unless_denied() {
    let Some(corpus) = support::corpus_dir() else {
        return;
    };
    let file = corpus.join("faasr/rworkflow.json");
    ephflow()
        .arg("validate")
        .arg(&file)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[join-never-runs]"))
        .stdout(predicate::str::contains("\"rfunc-final\" never runs"));
    ephflow()
        .args(["validate", "--deny-warnings"])
        .arg(&file)
        .assert()
        .code(1);
}

#[test]
fn schema_command_prints_and_writes_both_drafts() {
    let out = ephflow().arg("schema").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read(support::root().join("schema/ephflow.schema.json")).unwrap();
    assert_eq!(out.stdout, committed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("editor.json");
    ephflow()
        .args(["schema", "--draft", "07", "--output"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::is_empty());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        written["$schema"],
        "http://json-schema.org/draft-07/schema#"
    );
    ephflow()
        .args(["schema", "--draft", "2019"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("2020-12"));
}

#[test]
fn every_command_has_help_and_usage_errors_exit_2() {
    for args in [
        &["--help"][..],
        &["validate", "--help"],
        &["schema", "--help"],
    ] {
        ephflow()
            .args(args)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Usage: ephflow"));
    }
    ephflow()
        .arg("--help")
        .assert()
        .stdout(predicate::str::contains("Exit codes"));
    ephflow()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    ephflow().arg("validate").assert().code(2);
    ephflow().arg("frobnicate").assert().code(2);
}

/// A reader that goes away early (`ephflow plan FILE | head -3`) ends the printing, not the
/// command: no panic (exit 101 before), the command's own exit code, nothing on stderr.
#[test]
fn a_closed_pipe_is_not_a_crash() {
    let plain = || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ephflow"));
        cmd.current_dir(support::root());
        cmd
    };
    let commands: &[&[&str]] = &[
        &["plan", "examples/ml-pipeline.json"],
        &["schema"],
        &["graph", "examples/ml-pipeline.json"],
        &["validate", "--format", "json", "examples/ml-pipeline.json"],
        &["iam-policy", "examples/ml-pipeline.json"],
    ];
    for args in commands {
        // The read end is closed before the command starts, so its first write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = plain()
            .args(*args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = plain().args(*args).output().unwrap().status.code();
        assert_eq!(out.status.code(), expected, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Output that cannot be written (a full disk) is said, and a success becomes exit 5.
#[cfg(target_os = "linux")]
#[test]
fn an_unwritable_stdout_is_an_io_failure() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("ephflow"))
        .arg("schema")
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
}
