//! A catalogue of invalid workflows (issue 10): each row is an edit of a valid example (or a
//! raw text for syntax problems), the exit code, the JSON pointer of the problem and the words
//! naming the culprit. Every row goes through `ephflow validate` (human and JSON), and the
//! commands that write or need a valid workflow (`augment`, `register`, `plan`, `graph`,
//! `iam-policy`) must refuse it with exit 1, write nothing and leave the input untouched.
//! tests/cli.rs holds an older catalogue of 28 mistakes; none of them is repeated here.
//!
//! `EPHFLOW_SHOW_BAD=1 cargo test --test bad_inputs` prints every row's report.

mod support;

use std::path::Path;

use assert_cmd::Command;
use serde_json::{Value, json};

fn ephflow() -> Command {
    Command::cargo_bin("ephflow").unwrap()
}

/// The valid workflow a row starts from.
#[derive(Clone, Copy)]
enum Base {
    /// examples/ml-pipeline.json: Lambda + GitHubActions, ranks, a conditional, a VM action.
    Ml,
    /// examples/workflows/simple.json: three actions in a line, the middle one on the VM.
    Simple,
}

impl Base {
    fn path(self) -> std::path::PathBuf {
        support::root().join(match self {
            Base::Ml => "examples/ml-pipeline.json",
            Base::Simple => "examples/workflows/simple.json",
        })
    }
}

/// What the row feeds the commands.
enum Input {
    /// An edit of the base workflow.
    Edit(Base, fn(&mut Value)),
    /// The raw bytes of the file.
    Raw(fn() -> Vec<u8>),
}

struct Row {
    name: &'static str,
    input: Input,
    /// The exit code of `validate` (and of the other commands).
    code: i32,
    /// The diagnostic code and the JSON pointer one diagnostic must carry.
    diagnostic: (&'static str, &'static str),
    /// Words the human report must contain (the culprit, the bad value).
    mentions: &'static [&'static str],
}

// ---- JSON edits by pointer ------------------------------------------------------------

/// Sets the value at `pointer` (the parent must exist).
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"));
    match parent {
        Value::Object(map) => {
            map.insert(key.replace("~1", "/").replace("~0", "~"), value);
        }
        Value::Array(items) => {
            let i: usize = key.parse().unwrap();
            if i == items.len() {
                items.push(value);
            } else {
                items[i] = value;
            }
        }
        other => panic!("{parent:?} is {other}", parent = pointer),
    }
}

/// Removes the member at `pointer`.
fn del(doc: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let removed = doc
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|m| m.shift_remove(key));
    assert!(removed.is_some(), "nothing at {pointer}");
}

/// Renames the member `from` of the object at `parent` to `to`, keeping its position.
fn rename(doc: &mut Value, parent: &str, from: &str, to: &str) {
    let map = doc.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    for (k, v) in entries {
        map.insert(if k == from { to.to_owned() } else { k }, v);
    }
}

/// A new action on GH appended to the ActionList.
fn add_action(doc: &mut Value, name: &str, next: Value) {
    set(
        doc,
        &format!("/ActionList/{name}"),
        json!({"FunctionName": "f", "FaaSServer": "GH", "InvokeNext": next}),
    );
}

/// The VMConfig of the Command provider, with `edit` applied to its Commands.
fn command_vm(doc: &mut Value, commands: Value) {
    set(
        doc,
        "/VMConfig",
        json!({"Name": "TRAINER", "Provider": "Command", "InstanceId": "trainer-vm",
               "RunnerName": "gpu-trainer-1", "Commands": commands}),
    );
}

fn ml(text: &str) -> Vec<u8> {
    std::fs::read_to_string(Base::Ml.path())
        .unwrap()
        .replacen("\"WorkflowName\": \"ml-pipeline\"", text, 1)
        .into_bytes()
}

use Base::{Ml, Simple};
use Input::{Edit, Raw};

const ROWS: &[Row] = &[
    // ---- required fields ----------------------------------------------------------------
    Row {
        name: "no FunctionInvoke",
        input: Edit(Ml, |d| del(d, "/FunctionInvoke")),
        code: 1,
        diagnostic: ("missing-field", ""),
        mentions: &["required field \"FunctionInvoke\" is missing"],
    },
    Row {
        name: "no WorkflowName",
        input: Edit(Ml, |d| del(d, "/WorkflowName")),
        code: 1,
        diagnostic: ("missing-field", ""),
        mentions: &["required field \"WorkflowName\" is missing"],
    },
    Row {
        name: "no DefaultDataStore",
        input: Edit(Ml, |d| del(d, "/DefaultDataStore")),
        code: 1,
        diagnostic: ("missing-field", ""),
        mentions: &["required field \"DefaultDataStore\" is missing"],
    },
    Row {
        name: "no ActionList",
        input: Edit(Ml, |d| del(d, "/ActionList")),
        code: 1,
        diagnostic: ("missing-field", ""),
        mentions: &["required field \"ActionList\" is missing"],
    },
    Row {
        name: "no ComputeServers",
        input: Edit(Ml, |d| del(d, "/ComputeServers")),
        code: 1,
        diagnostic: ("missing-field", ""),
        mentions: &["required field \"ComputeServers\" is missing"],
    },
    Row {
        name: "no DataStores",
        input: Edit(Ml, |d| del(d, "/DataStores")),
        code: 1,
        diagnostic: ("missing-field", ""),
        mentions: &["required field \"DataStores\" is missing"],
    },
    Row {
        name: "action without FunctionName",
        input: Edit(Ml, |d| del(d, "/ActionList/evaluate/FunctionName")),
        code: 1,
        diagnostic: ("missing-field", "/ActionList/evaluate"),
        mentions: &["action \"evaluate\"", "\"FunctionName\""],
    },
    Row {
        name: "action without FaaSServer",
        input: Edit(Ml, |d| del(d, "/ActionList/train-model/FaaSServer")),
        code: 1,
        diagnostic: ("missing-field", "/ActionList/train-model"),
        mentions: &["action \"train-model\"", "\"FaaSServer\""],
    },
    Row {
        name: "server without FaaSType",
        input: Edit(Ml, |d| del(d, "/ComputeServers/Lambda/FaaSType")),
        code: 1,
        diagnostic: ("missing-field", "/ComputeServers/Lambda"),
        mentions: &["compute server \"Lambda\"", "\"FaaSType\""],
    },
    Row {
        name: "data store without Bucket",
        input: Edit(Ml, |d| del(d, "/DataStores/S3/Bucket")),
        code: 1,
        diagnostic: ("missing-field", "/DataStores/S3"),
        mentions: &["data store \"S3\"", "\"Bucket\""],
    },
    Row {
        name: "data store Endpoint without its scheme",
        input: Edit(Ml, |d| {
            set(d, "/DataStores/S3/Endpoint", json!("play.min.io"))
        }),
        code: 1,
        diagnostic: ("bad-format", "/DataStores/S3/Endpoint"),
        mentions: &["\"play.min.io\"", "https://"],
    },
    Row {
        name: "VMConfig without Name",
        input: Edit(Ml, |d| del(d, "/VMConfig/Name")),
        code: 1,
        diagnostic: ("missing-field", "/VMConfig"),
        mentions: &["VMConfig", "\"Name\""],
    },
    Row {
        name: "VMConfig without Provider",
        input: Edit(Ml, |d| del(d, "/VMConfig/Provider")),
        code: 1,
        diagnostic: ("missing-field", "/VMConfig"),
        mentions: &["VMConfig", "\"Provider\""],
    },
    Row {
        name: "VMConfig without Region",
        input: Edit(Ml, |d| del(d, "/VMConfig/Region")),
        code: 1,
        diagnostic: ("missing-field", "/VMConfig"),
        mentions: &["VMConfig", "\"Region\""],
    },
    // ---- misspelt keys: the missing key names its near miss -------------------------------
    Row {
        name: "top-level VmConfig for VMConfig",
        input: Edit(Ml, |d| rename(d, "", "VMConfig", "VmConfig")),
        code: 1,
        diagnostic: ("vm-config-missing", "/ActionList/train-model/RequiresVM"),
        mentions: &["did you mean \"VMConfig\"? the workflow has \"VmConfig\" (at /VmConfig)"],
    },
    Row {
        name: "top-level FunctionInvok for FunctionInvoke",
        input: Edit(Ml, |d| rename(d, "", "FunctionInvoke", "FunctionInvok")),
        code: 1,
        diagnostic: ("missing-field", ""),
        mentions: &[
            "required field \"FunctionInvoke\" is missing; \"FunctionInvok\" (at /FunctionInvok) looks like a misspelling of it",
            "rename \"FunctionInvok\" to \"FunctionInvoke\"",
        ],
    },
    Row {
        name: "VMConfig InstanceID for InstanceId",
        input: Edit(Ml, |d| rename(d, "/VMConfig", "InstanceId", "InstanceID")),
        code: 1,
        diagnostic: ("missing-field", "/VMConfig"),
        mentions: &[
            "required field \"InstanceId\" is missing; \"InstanceID\" (at /VMConfig/InstanceID) looks like a misspelling of it",
            "rename \"InstanceID\" to \"InstanceId\"",
        ],
    },
    Row {
        name: "VMConfig Provder for Provider",
        input: Edit(Ml, |d| rename(d, "/VMConfig", "Provider", "Provder")),
        code: 1,
        diagnostic: ("missing-field", "/VMConfig"),
        mentions: &[
            "required field \"Provider\" is missing; \"Provder\" (at /VMConfig/Provder) looks like a misspelling of it",
            "rename \"Provder\" to \"Provider\"",
        ],
    },
    Row {
        name: "compute server Username for UserName",
        input: Edit(Ml, |d| {
            rename(d, "/ComputeServers/GH", "UserName", "Username")
        }),
        code: 1,
        diagnostic: ("missing-field", "/ComputeServers/GH"),
        mentions: &[
            "compute server \"GH\"",
            "required field \"UserName\" is missing; \"Username\" (at /ComputeServers/GH/Username) looks like a misspelling of it",
            "unknown field \"Username\"",
            "did you mean \"UserName\"?",
        ],
    },
    Row {
        name: "data store bucket for Bucket",
        input: Edit(Ml, |d| rename(d, "/DataStores/S3", "Bucket", "bucket")),
        code: 1,
        diagnostic: ("missing-field", "/DataStores/S3"),
        mentions: &[
            "data store \"S3\"",
            "required field \"Bucket\" is missing; \"bucket\" (at /DataStores/S3/bucket) looks like a misspelling of it",
            "did you mean \"Bucket\"?",
        ],
    },
    Row {
        name: "action FaasServer for FaaSServer",
        input: Edit(Ml, |d| {
            rename(d, "/ActionList/evaluate", "FaaSServer", "FaasServer")
        }),
        code: 1,
        diagnostic: ("missing-field", "/ActionList/evaluate"),
        mentions: &[
            "action \"evaluate\"",
            "required field \"FaaSServer\" is missing; \"FaasServer\" (at /ActionList/evaluate/FaasServer) looks like a misspelling of it",
            "did you mean \"FaaSServer\"?",
        ],
    },
    // ---- ComputeServers, per FaaSType -------------------------------------------------
    Row {
        name: "GitHubActions without ActionRepoName",
        input: Edit(Ml, |d| del(d, "/ComputeServers/GH/ActionRepoName")),
        code: 1,
        diagnostic: ("missing-field", "/ComputeServers/GH"),
        mentions: &["compute server \"GH\"", "ActionRepoName"],
    },
    Row {
        name: "Lambda without Region",
        input: Edit(Ml, |d| del(d, "/ComputeServers/Lambda/Region")),
        code: 1,
        diagnostic: ("missing-field", "/ComputeServers/Lambda"),
        mentions: &["compute server \"Lambda\"", "Region"],
    },
    Row {
        name: "OpenWhisk without Namespace",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ComputeServers/OW",
                json!({"FaaSType": "OpenWhisk", "Endpoint": "https://ow.example.org"}),
            )
        }),
        code: 1,
        diagnostic: ("missing-field", "/ComputeServers/OW"),
        mentions: &["compute server \"OW\"", "Namespace"],
    },
    Row {
        name: "OpenWhisk without Endpoint",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ComputeServers/OW",
                json!({"FaaSType": "OpenWhisk", "Namespace": "guest"}),
            )
        }),
        code: 1,
        diagnostic: ("missing-field", "/ComputeServers/OW"),
        mentions: &["compute server \"OW\"", "Endpoint"],
    },
    Row {
        name: "GoogleCloud without ClientEmail and TokenUri",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ComputeServers/GCP",
                json!({"FaaSType": "GoogleCloud", "Namespace": "p", "Region": "us-central1"}),
            )
        }),
        code: 1,
        diagnostic: ("missing-field", "/ComputeServers/GCP"),
        mentions: &["compute server \"GCP\"", "ClientEmail", "TokenUri"],
    },
    Row {
        name: "SLURM without APIVersion",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ComputeServers/HPC",
                json!({"FaaSType": "SLURM", "Endpoint": "https://hpc.example.org",
                       "UserName": "u", "Partition": "p"}),
            )
        }),
        code: 1,
        diagnostic: ("missing-field", "/ComputeServers/HPC"),
        mentions: &["compute server \"HPC\"", "APIVersion"],
    },
    Row {
        name: "Kubernetes without Endpoint",
        input: Edit(Ml, |d| {
            set(d, "/ComputeServers/K8s", json!({"FaaSType": "Kubernetes"}))
        }),
        code: 1,
        diagnostic: ("missing-field", "/ComputeServers/K8s"),
        mentions: &["compute server \"K8s\"", "Endpoint"],
    },
    // ---- wrong types --------------------------------------------------------------------
    Row {
        name: "WorkflowName is a number",
        input: Edit(Ml, |d| set(d, "/WorkflowName", json!(42))),
        code: 1,
        diagnostic: ("wrong-type", "/WorkflowName"),
        mentions: &["\"WorkflowName\"", "string"],
    },
    Row {
        name: "FunctionInvoke is an array",
        input: Edit(Ml, |d| set(d, "/FunctionInvoke", json!(["fetch-data"]))),
        code: 1,
        diagnostic: ("wrong-type", "/FunctionInvoke"),
        mentions: &["\"FunctionInvoke\"", "string"],
    },
    Row {
        name: "ActionList is an array",
        input: Edit(Ml, |d| set(d, "/ActionList", json!(["fetch-data"]))),
        code: 1,
        diagnostic: ("wrong-type", "/ActionList"),
        mentions: &["\"ActionList\"", "object"],
    },
    Row {
        name: "ComputeServers is a string",
        input: Edit(Ml, |d| set(d, "/ComputeServers", json!("GH"))),
        code: 1,
        diagnostic: ("wrong-type", "/ComputeServers"),
        mentions: &["\"ComputeServers\"", "object"],
    },
    Row {
        name: "DataStores is null",
        input: Edit(Ml, |d| set(d, "/DataStores", Value::Null)),
        code: 1,
        diagnostic: ("wrong-type", "/DataStores"),
        mentions: &["\"DataStores\"", "object"],
    },
    Row {
        name: "an action is a string",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/publish-model", json!("publish"))
        }),
        code: 1,
        diagnostic: ("wrong-type", "/ActionList/publish-model"),
        mentions: &["action \"publish-model\"", "object"],
    },
    Row {
        name: "FunctionName is a number",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/evaluate/FunctionName", json!(7))
        }),
        code: 1,
        diagnostic: ("wrong-type", "/ActionList/evaluate/FunctionName"),
        mentions: &["action \"evaluate\"", "\"FunctionName\""],
    },
    Row {
        name: "FaaSServer is a boolean",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/evaluate/FaaSServer", json!(true))
        }),
        code: 1,
        diagnostic: ("wrong-type", "/ActionList/evaluate/FaaSServer"),
        mentions: &["action \"evaluate\"", "\"FaaSServer\""],
    },
    Row {
        name: "InvokeNext is an object",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/train-model/InvokeNext",
                json!({"next": "evaluate"}),
            )
        }),
        code: 1,
        diagnostic: ("unknown-field", "/ActionList/train-model/InvokeNext"),
        mentions: &["action \"train-model\"", "unknown field \"next\""],
    },
    Row {
        name: "Arguments is an array",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/train-model/Arguments", json!([40]))
        }),
        code: 1,
        diagnostic: ("wrong-type", "/ActionList/train-model/Arguments"),
        mentions: &["action \"train-model\"", "\"Arguments\""],
    },
    Row {
        name: "unknown Type",
        input: Edit(Ml, |d| set(d, "/ActionList/evaluate/Type", json!("Rust"))),
        code: 1,
        diagnostic: ("unknown-value", "/ActionList/evaluate/Type"),
        mentions: &["action \"evaluate\"", "\"Rust\"", "Python"],
    },
    Row {
        name: "VMConfig is an array",
        input: Edit(Ml, |d| set(d, "/VMConfig", json!(["TRAINER"]))),
        code: 1,
        diagnostic: ("wrong-type", "/VMConfig"),
        mentions: &["VMConfig", "object"],
    },
    Row {
        name: "VMConfig.InstanceId is a number",
        input: Edit(Ml, |d| set(d, "/VMConfig/InstanceId", json!(123))),
        code: 1,
        diagnostic: ("wrong-type", "/VMConfig/InstanceId"),
        mentions: &["\"InstanceId\"", "quote it: \"123\""],
    },
    Row {
        name: "VMConfig.InstanceId in upper case",
        input: Edit(Ml, |d| {
            set(d, "/VMConfig/InstanceId", json!("i-0123456789ABCDEF0"))
        }),
        code: 1,
        diagnostic: ("bad-format", "/VMConfig/InstanceId"),
        mentions: &["write it in lower case: \"i-0123456789abcdef0\""],
    },
    Row {
        name: "RequiresVM as the string \"true\"",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/train-model/RequiresVM", json!("true"))
        }),
        code: 1,
        diagnostic: ("wrong-type", "/ActionList/train-model/RequiresVM"),
        mentions: &[
            "must be a boolean, found \"true\"",
            "write true without quotes",
        ],
    },
    Row {
        name: "Bucket is a number",
        input: Edit(Ml, |d| set(d, "/DataStores/S3/Bucket", json!(5))),
        code: 1,
        diagnostic: ("wrong-type", "/DataStores/S3/Bucket"),
        mentions: &["data store \"S3\"", "\"Bucket\""],
    },
    Row {
        name: "Secrets is a string",
        input: Edit(Ml, |d| set(d, "/Secrets", json!("API_KEY"))),
        code: 1,
        diagnostic: ("wrong-type", "/Secrets"),
        mentions: &["\"Secrets\"", "array"],
    },
    Row {
        name: "a secret name in lower case",
        input: Edit(Ml, |d| set(d, "/Secrets", json!(["API_KEY", "api-key"]))),
        code: 1,
        diagnostic: ("bad-format", "/Secrets/1"),
        mentions: &["\"api-key\""],
    },
    Row {
        name: "MaxMemory zero",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/train-model/MaxMemory", json!(0))
        }),
        code: 1,
        diagnostic: ("invalid-value", "/ActionList/train-model/MaxMemory"),
        mentions: &[
            "action \"train-model\"",
            "/ActionList/train-model/MaxMemory",
            "0 is less than the minimum of 1",
        ],
    },
    Row {
        name: "a container image is a number",
        input: Edit(Ml, |d| set(d, "/ActionContainers/evaluate", json!(2))),
        code: 1,
        diagnostic: ("wrong-type", "/ActionContainers/evaluate"),
        mentions: &["\"evaluate\""],
    },
    Row {
        name: "RequiresVM is null",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/train-model/RequiresVM", Value::Null)
        }),
        code: 1,
        diagnostic: ("wrong-type", "/ActionList/train-model/RequiresVM"),
        mentions: &["action \"train-model\"", "\"RequiresVM\""],
    },
    // ---- names ----------------------------------------------------------------------------
    Row {
        name: "WorkflowName with an underscore",
        input: Edit(Ml, |d| set(d, "/WorkflowName", json!("ml_pipeline"))),
        code: 1,
        diagnostic: ("bad-format", "/WorkflowName"),
        mentions: &["\"ml_pipeline\""],
    },
    Row {
        name: "WorkflowName with a leading digit",
        input: Edit(Ml, |d| set(d, "/WorkflowName", json!("2pipeline"))),
        code: 1,
        diagnostic: ("bad-format", "/WorkflowName"),
        mentions: &["\"2pipeline\""],
    },
    Row {
        name: "action name with a leading digit",
        input: Edit(Ml, |d| {
            rename(d, "/ActionList", "report-regression", "2report");
            set(
                d,
                "/ActionList/evaluate/InvokeNext",
                json!([{"True": ["publish-model"], "False": ["2report"]}]),
            );
        }),
        code: 1,
        diagnostic: ("bad-name", "/ActionList"),
        mentions: &[
            "name \"2report\" is not allowed",
            "action \"evaluate\": entry 0 \"2report\"",
        ],
    },
    Row {
        name: "action name with a dot",
        input: Edit(Ml, |d| {
            rename(d, "/ActionList", "publish-model", "publish.model");
            set(
                d,
                "/ActionList/evaluate/InvokeNext",
                json!([{"True": ["publish.model"], "False": ["report-regression"]}]),
            );
        }),
        code: 1,
        diagnostic: ("bad-name", "/ActionList"),
        mentions: &[
            "name \"publish.model\" is not allowed",
            "action \"evaluate\": entry 0 \"publish.model\"",
        ],
    },
    Row {
        name: "an empty data store name",
        input: Edit(Ml, |d| {
            set(
                d,
                "/DataStores/",
                json!({"Endpoint": "https://s3.amazonaws.com", "Bucket": "b", "Region": "us-east-1"}),
            )
        }),
        code: 1,
        diagnostic: ("bad-name", "/DataStores"),
        mentions: &["name \"\" is not allowed", "a name that is not empty"],
    },
    Row {
        name: "FunctionName with a hyphen",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/evaluate/FunctionName", json!("eval-model"))
        }),
        code: 1,
        diagnostic: ("bad-format", "/ActionList/evaluate/FunctionName"),
        mentions: &["action \"evaluate\"", "\"eval-model\""],
    },
    Row {
        name: "runner name with a colon",
        input: Edit(Ml, |d| set(d, "/VMConfig/RunnerName", json!("gpu:1"))),
        code: 1,
        diagnostic: ("bad-format", "/VMConfig/RunnerName"),
        mentions: &["\"RunnerName\" \"gpu:1\""],
    },
    Row {
        name: "runner name with a star",
        input: Edit(Ml, |d| set(d, "/VMConfig/RunnerName", json!("gpu*"))),
        code: 1,
        diagnostic: ("bad-format", "/VMConfig/RunnerName"),
        mentions: &["\"RunnerName\" \"gpu*\""],
    },
    Row {
        name: "runner name of 200 characters",
        input: Edit(Simple, |d| {
            set(d, "/VMConfig/RunnerName", json!("n".repeat(200)))
        }),
        code: 1,
        diagnostic: ("too-long", "/VMConfig/RunnerName"),
        mentions: &["200 characters", "at most 64"],
    },
    // ---- InvokeNext grammar and the graph ----------------------------------------------
    Row {
        name: "rank is not a number",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/fetch-data/InvokeNext",
                json!(["clean-shard(x)"]),
            )
        }),
        code: 1,
        diagnostic: ("bad-format", "/ActionList/fetch-data/InvokeNext/0"),
        mentions: &["action \"fetch-data\"", "\"clean-shard(x)\""],
    },
    Row {
        name: "rank is negative",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/fetch-data/InvokeNext",
                json!(["clean-shard(-2)"]),
            )
        }),
        code: 1,
        diagnostic: ("bad-format", "/ActionList/fetch-data/InvokeNext/0"),
        mentions: &["action \"fetch-data\"", "\"clean-shard(-2)\""],
    },
    Row {
        name: "rank overflows",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/fetch-data/InvokeNext",
                json!(["clean-shard(99999999999999999999999)"]),
            )
        }),
        code: 1,
        diagnostic: ("bad-rank", "/ActionList/fetch-data/InvokeNext/0"),
        mentions: &[
            "action \"fetch-data\"",
            "clean-shard(99999999999999999999999)",
            "too large",
        ],
    },
    Row {
        name: "rank overflows in a bare InvokeNext",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/fetch-data/InvokeNext",
                json!("clean-shard(4294967296)"),
            )
        }),
        code: 1,
        diagnostic: ("bad-rank", "/ActionList/fetch-data/InvokeNext"),
        mentions: &["action \"fetch-data\"", "clean-shard(4294967296)"],
    },
    Row {
        name: "rank overflows in a conditional branch",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/evaluate/InvokeNext/0/False",
                json!(["report-regression(10000000000)"]),
            )
        }),
        code: 1,
        diagnostic: ("bad-rank", "/ActionList/evaluate/InvokeNext/0/False/0"),
        mentions: &["action \"evaluate\"", "report-regression(10000000000)"],
    },
    Row {
        name: "InvokeNext item is null",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/clean-shard/InvokeNext", json!([null]))
        }),
        code: 1,
        diagnostic: ("invalid-value", "/ActionList/clean-shard/InvokeNext/0"),
        mentions: &["action \"clean-shard\"", "null"],
    },
    Row {
        name: "InvokeNext item is a nested array",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/clean-shard/InvokeNext",
                json!([["train-model"]]),
            )
        }),
        code: 1,
        diagnostic: ("invalid-value", "/ActionList/clean-shard/InvokeNext/0"),
        mentions: &["action \"clean-shard\""],
    },
    Row {
        name: "InvokeNext item is an empty name",
        input: Edit(Ml, |d| {
            set(d, "/ActionList/clean-shard/InvokeNext", json!([""]))
        }),
        code: 1,
        diagnostic: ("bad-format", "/ActionList/clean-shard/InvokeNext/0"),
        mentions: &["action \"clean-shard\"", "\"\""],
    },
    Row {
        name: "conditional with an unknown key",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/evaluate/InvokeNext/0",
                json!({"True": ["publish-model"], "Maybe": ["report-regression"]}),
            )
        }),
        code: 1,
        diagnostic: ("unknown-field", "/ActionList/evaluate/InvokeNext/0"),
        mentions: &["action \"evaluate\"", "\"Maybe\""],
    },
    Row {
        name: "conditional branch is a string",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/evaluate/InvokeNext/0",
                json!({"True": "publish-model", "False": ["report-regression"]}),
            )
        }),
        code: 1,
        diagnostic: ("wrong-type", "/ActionList/evaluate/InvokeNext/0/True"),
        mentions: &["action \"evaluate\"", "\"True\""],
    },
    Row {
        name: "conditional branch holds a number",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/evaluate/InvokeNext/0",
                json!({"True": ["publish-model"], "False": [1]}),
            )
        }),
        code: 1,
        diagnostic: ("wrong-type", "/ActionList/evaluate/InvokeNext/0/False/0"),
        mentions: &["action \"evaluate\"", "must be a string, found 1"],
    },
    Row {
        name: "unknown action in a conditional branch",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/evaluate/InvokeNext/0",
                json!({"True": ["publish-modle"], "False": ["report-regression"]}),
            )
        }),
        code: 1,
        diagnostic: ("unknown-action", "/ActionList/evaluate/InvokeNext/0/True/0"),
        mentions: &["\"publish-modle\"", "did you mean \"publish-model\"?"],
    },
    Row {
        name: "a rank past the limit",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/fetch-data/InvokeNext",
                json!(["clean-shard(4000000000)"]),
            )
        }),
        code: 1,
        diagnostic: ("bad-rank", "/ActionList/fetch-data/InvokeNext/0"),
        mentions: &["\"clean-shard(4000000000)\"", "a rank from 1 to 10000"],
    },
    Row {
        name: "unknown ranked action",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/fetch-data/InvokeNext",
                json!(["clean-shards(4)"]),
            )
        }),
        code: 1,
        diagnostic: ("unknown-action", "/ActionList/fetch-data/InvokeNext/0"),
        mentions: &["\"clean-shards\""],
    },
    Row {
        name: "self-loop",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/publish-model/InvokeNext",
                json!(["publish-model"]),
            )
        }),
        code: 1,
        diagnostic: ("cycle", "/ActionList/publish-model/InvokeNext"),
        mentions: &["publish-model → publish-model"],
    },
    Row {
        name: "three-action cycle through a branch",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ActionList/report-regression/InvokeNext",
                json!(["train-model"]),
            );
            set(d, "/ActionList/report-regression/FaaSServer", json!("GH"));
        }),
        code: 1,
        diagnostic: ("cycle", "/ActionList/train-model/InvokeNext"),
        mentions: &["train-model → evaluate → report-regression → train-model"],
    },
    Row {
        name: "unreachable pair that call each other",
        input: Edit(Ml, |d| {
            add_action(d, "island-a", json!(["island-b"]));
            add_action(d, "island-b", json!([]));
        }),
        code: 1,
        diagnostic: ("unreachable", "/ActionList/island-a"),
        mentions: &["action \"island-a\""],
    },
    Row {
        name: "ranked action called plain by a second predecessor",
        input: Edit(Simple, |d| {
            set(
                d,
                "/ActionList/prepare-inputs/InvokeNext",
                json!(["run-simulation", "summarize-results(3)"]),
            );
        }),
        code: 1,
        diagnostic: ("ranked-fan-in", "/ActionList/prepare-inputs/InvokeNext/1"),
        mentions: &[
            "\"summarize-results\" is ranked",
            "\"prepare-inputs\" and \"run-simulation\"",
        ],
    },
    Row {
        name: "ranked entry",
        input: Edit(Ml, |d| set(d, "/FunctionInvoke", json!("fetch-data(2)"))),
        code: 1,
        diagnostic: ("unknown-entry", "/FunctionInvoke"),
        mentions: &["\"fetch-data(2)\""],
    },
    Row {
        name: "conditional from a ranked predecessor into a ranked one",
        input: Edit(Simple, |d| {
            set(
                d,
                "/ActionList/prepare-inputs/InvokeNext",
                json!(["run-simulation(2)"]),
            );
            set(
                d,
                "/ActionList/run-simulation/InvokeNext",
                json!([{"True": ["summarize-results(2)"]}]),
            );
        }),
        code: 1,
        diagnostic: (
            "ranked-after-ranked",
            "/ActionList/run-simulation/InvokeNext/0/True/0",
        ),
        mentions: &["\"run-simulation\"", "summarize-results"],
    },
    // ---- VM rules --------------------------------------------------------------------------
    Row {
        name: "RequiresVM on an OpenWhisk action",
        input: Edit(Ml, |d| {
            set(
                d,
                "/ComputeServers/OW",
                json!({"FaaSType": "OpenWhisk", "Endpoint": "https://ow.example.org", "Namespace": "guest"}),
            );
            set(d, "/ActionList/report-regression/FaaSServer", json!("OW"));
            set(d, "/ActionList/report-regression/RequiresVM", json!(true));
        }),
        code: 1,
        diagnostic: (
            "vm-action-not-on-github-actions",
            "/ActionList/report-regression/RequiresVM",
        ),
        mentions: &["action \"report-regression\"", "OpenWhisk"],
    },
    Row {
        name: "RequiresVM without VMConfig (simple)",
        input: Edit(Simple, |d| {
            del(d, "/VMConfig");
            set(d, "/ActionList/summarize-results/RequiresVM", json!(true));
        }),
        code: 1,
        diagnostic: ("vm-config-missing", "/ActionList/run-simulation/RequiresVM"),
        mentions: &["action \"run-simulation\"", "action \"summarize-results\""],
    },
    Row {
        name: "user action named faasr-vm-start",
        input: Edit(Simple, |d| {
            rename(d, "/ActionList", "summarize-results", "faasr-vm-start");
            set(
                d,
                "/ActionList/run-simulation/InvokeNext",
                json!(["faasr-vm-start"]),
            );
        }),
        code: 1,
        diagnostic: ("reserved-name", "/ActionList/faasr-vm-start"),
        mentions: &["action \"faasr-vm-start\""],
    },
    Row {
        name: "user action named faasr-vm-stop-2",
        input: Edit(Simple, |d| {
            rename(d, "/ActionList", "summarize-results", "faasr-vm-stop-2");
            set(
                d,
                "/ActionList/run-simulation/InvokeNext",
                json!(["faasr-vm-stop-2"]),
            );
        }),
        code: 1,
        diagnostic: ("reserved-name", "/ActionList/faasr-vm-stop-2"),
        mentions: &["action \"faasr-vm-stop-2\""],
    },
    Row {
        name: "lower-case provider",
        input: Edit(Ml, |d| set(d, "/VMConfig/Provider", json!("aws"))),
        code: 1,
        diagnostic: ("unknown-provider", "/VMConfig/Provider"),
        mentions: &["Provider \"aws\"", "\"AWS\"", "\"Command\""],
    },
    Row {
        name: "provider is a number",
        input: Edit(Ml, |d| set(d, "/VMConfig/Provider", json!(1))),
        code: 1,
        diagnostic: ("wrong-type", "/VMConfig/Provider"),
        mentions: &["\"Provider\""],
    },
    Row {
        name: "instance id too short",
        input: Edit(Ml, |d| set(d, "/VMConfig/InstanceId", json!("i-123"))),
        code: 1,
        diagnostic: ("bad-format", "/VMConfig/InstanceId"),
        mentions: &["\"InstanceId\" \"i-123\""],
    },
    Row {
        name: "instance id without i-",
        input: Edit(Ml, |d| {
            set(d, "/VMConfig/InstanceId", json!("0123456789abcdef0"))
        }),
        code: 1,
        diagnostic: ("bad-format", "/VMConfig/InstanceId"),
        mentions: &["\"InstanceId\" \"0123456789abcdef0\""],
    },
    Row {
        name: "availability zone instead of region",
        input: Edit(Ml, |d| set(d, "/VMConfig/Region", json!("us-west-2a"))),
        code: 1,
        diagnostic: ("bad-format", "/VMConfig/Region"),
        mentions: &["\"Region\" \"us-west-2a\""],
    },
    Row {
        name: "RoleArn naming a user, not a role",
        input: Edit(Ml, |d| {
            set(
                d,
                "/VMConfig/RoleArn",
                json!("arn:aws:iam::123456789012:user/deployer"),
            )
        }),
        code: 1,
        diagnostic: ("bad-format", "/VMConfig/RoleArn"),
        mentions: &["\"RoleArn\" \"arn:aws:iam::123456789012:user/deployer\""],
    },
    Row {
        name: "JobTimeout of zero",
        input: Edit(Ml, |d| set(d, "/VMConfig/JobTimeout", json!(0))),
        code: 1,
        diagnostic: ("invalid-value", "/VMConfig/JobTimeout"),
        mentions: &["/VMConfig/JobTimeout", "0 is less than the minimum of 1"],
    },
    Row {
        name: "Command provider without Commands",
        input: Edit(Ml, |d| {
            command_vm(d, Value::Null);
            del(d, "/VMConfig/Commands");
        }),
        code: 1,
        diagnostic: ("missing-field", "/VMConfig"),
        mentions: &["\"Commands\"", "Provider \"Command\""],
    },
    Row {
        name: "Command provider without Describe",
        input: Edit(Ml, |d| {
            command_vm(
                d,
                json!({"Start": "virsh start x", "Stop": "virsh shutdown x"}),
            )
        }),
        code: 1,
        diagnostic: ("missing-field", "/VMConfig/Commands"),
        mentions: &["\"Describe\""],
    },
    Row {
        name: "Command provider with an empty Start",
        input: Edit(Ml, |d| {
            command_vm(
                d,
                json!({"Start": "", "Stop": "virsh shutdown x", "Describe": "./describe"}),
            )
        }),
        code: 1,
        diagnostic: ("invalid-value", "/VMConfig/Commands/Start"),
        mentions: &[
            "VMConfig",
            "/VMConfig/Commands/Start",
            "shorter than 1 character",
        ],
    },
    Row {
        name: "Command provider with a misspelt command",
        input: Edit(Ml, |d| {
            command_vm(
                d,
                json!({"Start": "a", "Stop": "b", "Describe": "c", "Stat": "d"}),
            )
        }),
        code: 1,
        diagnostic: ("unknown-field", "/VMConfig/Commands"),
        mentions: &["unknown field \"Stat\"", "did you mean \"Start\"?"],
    },
    Row {
        name: "Command provider with TimeoutSeconds 0",
        input: Edit(Ml, |d| {
            command_vm(
                d,
                json!({"Start": "a", "Stop": "b", "Describe": "c", "TimeoutSeconds": 0}),
            )
        }),
        code: 1,
        diagnostic: ("invalid-value", "/VMConfig/Commands/TimeoutSeconds"),
        mentions: &[
            "/VMConfig/Commands/TimeoutSeconds",
            "0 is less than the minimum of 1",
        ],
    },
    Row {
        name: "Command provider with a week-long TimeoutSeconds",
        input: Edit(Ml, |d| {
            command_vm(
                d,
                json!({"Start": "a", "Stop": "b", "Describe": "c", "TimeoutSeconds": 604800}),
            )
        }),
        code: 1,
        diagnostic: ("invalid-value", "/VMConfig/Commands/TimeoutSeconds"),
        mentions: &[
            "/VMConfig/Commands/TimeoutSeconds",
            "604800 is greater than the maximum of 86400",
        ],
    },
    Row {
        name: "Command provider with Commands as a string",
        input: Edit(Ml, |d| command_vm(d, json!("virsh start x"))),
        code: 1,
        diagnostic: ("wrong-type", "/VMConfig/Commands"),
        mentions: &["\"Commands\""],
    },
    // ---- data stores ----------------------------------------------------------------------
    Row {
        name: "empty Bucket",
        input: Edit(Ml, |d| set(d, "/DataStores/S3/Bucket", json!(""))),
        code: 1,
        diagnostic: ("invalid-value", "/DataStores/S3/Bucket"),
        mentions: &[
            "data store \"S3\"",
            "/DataStores/S3/Bucket",
            "shorter than 1 character",
        ],
    },
    Row {
        name: "unknown LoggingDataStore",
        input: Edit(Ml, |d| set(d, "/LoggingDataStore", json!("Logs"))),
        code: 1,
        diagnostic: ("unknown-data-store", "/LoggingDataStore"),
        mentions: &["\"Logs\""],
    },
    // ---- values that would reach a GitHub workflow file --------------------------------------
    // ---- syntax and encoding -------------------------------------------------------------
    Row {
        name: "empty file",
        input: Raw(Vec::new),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["the file is empty"],
    },
    Row {
        name: "only whitespace",
        input: Raw(|| b"  \n\t \n".to_vec()),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["the file is empty"],
    },
    Row {
        name: "truncated",
        input: Raw(|| {
            let mut t = ml("\"WorkflowName\": \"ml-pipeline\"");
            t.truncate(t.len() / 2);
            t
        }),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["malformed JSON at line", "EOF"],
    },
    Row {
        name: "trailing comma",
        input: Raw(|| ml("\"WorkflowName\": \"ml-pipeline\",,")),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["malformed JSON at line 3"],
    },
    Row {
        name: "a key given twice",
        input: Raw(|| ml("\"WorkflowName\": \"first-name\", \"WorkflowName\": \"ml-pipeline\"")),
        code: 1,
        diagnostic: ("duplicate-key", "/WorkflowName"),
        mentions: &[
            "duplicate key \"WorkflowName\" at line 3",
            "only the last value",
        ],
    },
    Row {
        name: "a nested key given twice",
        input: Raw(|| {
            std::fs::read_to_string(Base::Ml.path())
                .unwrap()
                .replacen("\"Bucket\":", "\"Bucket\": \"old\", \"Bucket\":", 1)
                .into_bytes()
        }),
        code: 1,
        diagnostic: ("duplicate-key", "/DataStores/S3/Bucket"),
        mentions: &["duplicate key \"Bucket\""],
    },
    Row {
        name: "a comment",
        input: Raw(|| ml("// the name\n    \"WorkflowName\": \"ml-pipeline\"")),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["malformed JSON at line 3"],
    },
    Row {
        name: "single quotes",
        input: Raw(|| ml("'WorkflowName': 'ml-pipeline'")),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["malformed JSON at line 3"],
    },
    Row {
        name: "trailing garbage",
        input: Raw(|| {
            let mut t = ml("\"WorkflowName\": \"ml-pipeline\"");
            t.extend_from_slice(b"\n{}");
            t
        }),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["malformed JSON at line", "trailing characters"],
    },
    Row {
        name: "NaN",
        input: Raw(|| ml("\"WorkflowName\": \"ml-pipeline\", \"X\": NaN")),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["malformed JSON at line 3"],
    },
    Row {
        name: "lone surrogate escape",
        input: Raw(|| ml("\"WorkflowName\": \"ml-\\ud800pipeline\"")),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["malformed JSON at line 3", "hex escape"],
    },
    Row {
        name: "Latin-1 byte",
        input: Raw(|| {
            let mut t = ml("\"WorkflowName\": \"ml-pipeline\"");
            let at = t.windows(11).position(|w| w == b"ml-pipeline").unwrap();
            t[at + 2] = 0xe9;
            t
        }),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["not UTF-8"],
    },
    Row {
        name: "UTF-16 with a byte-order mark",
        input: Raw(|| {
            let text = String::from_utf8(ml("\"WorkflowName\": \"ml-pipeline\"")).unwrap();
            let mut t = vec![0xff, 0xfe];
            for u in text.encode_utf16() {
                t.extend_from_slice(&u.to_le_bytes());
            }
            t
        }),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["not UTF-8"],
    },
    Row {
        name: "top-level null",
        input: Raw(|| b"null".to_vec()),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["must be a JSON object, found null"],
    },
    Row {
        name: "top-level string",
        input: Raw(|| b"\"ml-pipeline\"".to_vec()),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["must be a JSON object, found a string"],
    },
    Row {
        name: "nesting 100000 deep",
        input: Raw(|| {
            let mut t = b"{\"WorkflowName\": ".to_vec();
            t.extend(std::iter::repeat_n(b'[', 100_000));
            t
        }),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["recursion limit exceeded"],
    },
    Row {
        name: "MaxMemory beyond f64",
        input: Raw(|| ml("\"WorkflowName\": \"ml-pipeline\", \"X\": 1e400")),
        code: 1,
        diagnostic: ("malformed-json", ""),
        mentions: &["malformed JSON at line 3", "number out of range"],
    },
];

/// One row's input written to `dir`, and its bytes.
fn write_input(row: &Row, dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let bytes = match &row.input {
        Edit(base, edit) => {
            let mut doc: Value =
                serde_json::from_str(&std::fs::read_to_string(base.path()).unwrap()).unwrap();
            edit(&mut doc);
            serde_json::to_vec_pretty(&doc).unwrap()
        }
        Raw(text) => text(),
    };
    let path = dir.join("workflow.json");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

/// The files under `dir`, relative.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        out.push(
            entry
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        );
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn every_row_is_rejected_naming_its_pointer_and_culprit() {
    let show = std::env::var_os("EPHFLOW_SHOW_BAD").is_some();
    let mut failures = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for row in ROWS {
        assert!(names.insert(row.name), "two rows named {}", row.name);
        let dir = tempfile::tempdir().unwrap();
        let (path, bytes) = write_input(row, dir.path());
        let human = ephflow().arg("validate").arg(&path).output().unwrap();
        let json_out = ephflow()
            .args(["validate", "--format", "json"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&human.stdout).into_owned();
        if show {
            eprintln!(
                "=== {} (exit {:?})\n{text}{}",
                row.name,
                human.status.code(),
                String::from_utf8_lossy(&human.stderr)
            );
        }
        let mut problems = Vec::new();
        if human.status.code() != Some(row.code) {
            problems.push(format!("exit {:?}, not {}", human.status.code(), row.code));
        }
        if json_out.status.code() != human.status.code() {
            problems.push(format!("--format json exits {:?}", json_out.status.code()));
        }
        if !human.stderr.is_empty() {
            problems.push(format!(
                "stderr: {}",
                String::from_utf8_lossy(&human.stderr)
            ));
        }
        for m in row.mentions {
            if !text.contains(m) {
                problems.push(format!("no {m:?}"));
            }
        }
        let (code, pointer) = row.diagnostic;
        match serde_json::from_slice::<Value>(&json_out.stdout) {
            Ok(report) => {
                let diags = report["files"][0]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let hit = diags
                    .iter()
                    .any(|d| d["code"] == code && d["pointer"] == pointer);
                if !hit {
                    let seen: Vec<String> = diags
                        .iter()
                        .map(|d| format!("{} at {:?}", d["code"], d["pointer"]))
                        .collect();
                    problems.push(format!(
                        "no {code} at {pointer:?} in the JSON report (has {seen:?})"
                    ));
                }
                if show {
                    eprintln!("JSON: {}", serde_json::to_string(&diags).unwrap());
                }
            }
            Err(e) => problems.push(format!("--format json is not JSON: {e}")),
        }
        if row.code == 1 {
            problems.extend(other_commands_refuse(&path, &bytes, dir.path()));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}:\n  {}\n{text}",
                row.name,
                problems.join("\n  ")
            ));
        }
    }
    assert!(
        ROWS.len() >= 60,
        "the catalogue has {} rows, fewer than 60",
        ROWS.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n")
    );
}

/// `augment`, `register`, `plan`, `graph` and `iam-policy` on an invalid file: exit 1, the
/// input byte-identical, nothing new in `dir`.
fn other_commands_refuse(path: &Path, bytes: &[u8], dir: &Path) -> Vec<String> {
    let before = listing(dir);
    let out_dir = dir.join("out");
    let runs: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        ("augment", vec!["augment".into(), path.into()]),
        (
            "augment -o",
            vec![
                "augment".into(),
                path.into(),
                "-o".into(),
                out_dir.join("a.json").into(),
            ],
        ),
        (
            "register",
            vec![
                "register".into(),
                path.into(),
                "--out".into(),
                out_dir.join("workflows").into(),
            ],
        ),
        (
            "register native",
            vec![
                "register".into(),
                path.into(),
                "--builtins".into(),
                "native".into(),
                "--builtin-image".into(),
                "ghcr.io/example/ephflow:1".into(),
                "--out".into(),
                out_dir.join("native").into(),
            ],
        ),
        (
            "plan",
            vec![
                "plan".into(),
                path.into(),
                "--chart".into(),
                out_dir.join("chart.svg").into(),
            ],
        ),
        (
            "graph",
            vec![
                "graph".into(),
                path.into(),
                "-o".into(),
                out_dir.join("g.mmd").into(),
            ],
        ),
        (
            "iam-policy",
            vec![
                "iam-policy".into(),
                path.into(),
                "-o".into(),
                out_dir.join("p.json").into(),
            ],
        ),
    ];
    let mut problems = Vec::new();
    for (what, args) in runs {
        let out = ephflow().current_dir(dir).args(&args).output().unwrap();
        if out.status.code() != Some(1) {
            problems.push(format!(
                "{what}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        if std::fs::read(path).unwrap() != bytes {
            problems.push(format!("{what}: the input changed"));
        }
        let after = listing(dir);
        if after != before {
            problems.push(format!("{what}: wrote {after:?}"));
        }
    }
    problems
}

/// An accepted quirk, pinned so that a change is deliberate: a UTF-8 byte-order mark is
/// skipped (duplicate keys are refused: see the catalogue).
#[test]
fn byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.json");
    let mut bytes = vec![0xef, 0xbb, 0xbf];
    bytes.extend(ml("\"WorkflowName\": \"ml-pipeline\""));
    std::fs::write(&path, &bytes).unwrap();
    ephflow().arg("validate").arg(&path).assert().code(0);
    let out = ephflow()
        .arg("augment")
        .arg(&path)
        .arg("-o")
        .arg(dir.path().join("aug.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// Names and values FaaSr's format allows but that would break the rendered GitHub workflow
/// files: `validate` warns (exit 0, the warning at the culprit's pointer), `register` exits 1
/// naming the culprit and writes nothing.
#[test]
fn validate_warns_of_what_register_refuses() {
    type Case = (
        &'static str,
        fn(&mut Value),
        (&'static str, &'static str),
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        (
            "expression in a container image",
            |d| {
                set(
                    d,
                    "/ActionContainers/evaluate",
                    json!("ghcr.io/x/${{ github.token }}"),
                )
            },
            ("ci-expression", "/ActionContainers/evaluate"),
            &["ActionContainers.evaluate", "${{"],
        ),
        (
            "VMConfig Name with a space",
            |d| set(d, "/VMConfig/Name", json!("gpu box")),
            ("secret-name", "/VMConfig/Name"),
            &["\"gpu box_AccessKey\"", "VMConfig.Name"],
        ),
        (
            "server name with a space",
            |d| {
                rename(d, "/ComputeServers", "GH", "GH box");
                for a in ["clean-shard", "train-model", "evaluate", "publish-model"] {
                    set(d, &format!("/ActionList/{a}/FaaSServer"), json!("GH box"));
                }
            },
            ("secret-name", "/ComputeServers/GH box"),
            &["\"GH box_PAT\"", "ComputeServers.GH box"],
        ),
        (
            "data store name with a space",
            |d| {
                rename(d, "/DataStores", "S3", "S 3");
                set(d, "/DefaultDataStore", json!("S 3"));
                set(d, "/LoggingDataStore", json!("S 3"));
            },
            ("secret-name", "/DataStores/S 3"),
            &["\"S 3_AccessKey\"", "DataStores.S 3"],
        ),
    ];
    for (what, edit, (code, pointer), mentions) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut doc: Value =
            serde_json::from_str(&std::fs::read_to_string(Base::Ml.path()).unwrap()).unwrap();
        edit(&mut doc);
        let input = dir.path().join("w.json");
        std::fs::write(&input, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        let out = ephflow()
            .args(["validate", "--format", "json"])
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{what}: {out:?}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let warned = report["files"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == *code && d["pointer"] == *pointer && d["severity"] == "warning");
        assert!(warned, "{what}: no {code} warning at {pointer}: {report}");
        let human = ephflow().arg("validate").arg(&input).output().unwrap();
        let text = String::from_utf8_lossy(&human.stdout).to_string()
            + &String::from_utf8_lossy(&human.stderr);
        assert!(text.contains(mentions[0]), "{what}: {text}");
        let aug = dir.path().join("w_augmented.json");
        ephflow()
            .arg("augment")
            .arg(&input)
            .arg("-o")
            .arg(&aug)
            .assert()
            .code(0);
        let bytes = std::fs::read(&aug).unwrap();
        let out_dir = dir.path().join("workflows");
        let out = ephflow()
            .arg("register")
            .arg(&aug)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        for m in *mentions {
            assert!(stderr.contains(m), "{what}: no {m:?} in {stderr}");
        }
        assert!(stderr.contains("nothing written"), "{what}: {stderr}");
        assert!(!out_dir.exists(), "{what}: {out_dir:?} written");
        assert_eq!(std::fs::read(&aug).unwrap(), bytes, "{what}: input changed");
    }
}

/// The GitHub server's Branch travels inside PAYLOAD_URL: a slash cannot (FaaSr splits the
/// URL at its first three slashes), and `${{` would be evaluated in the reaper's `env:`.
/// Validation names the Branch; so does register.
#[test]
fn the_branch_must_survive_payload_url() {
    let dir = tempfile::tempdir().unwrap();
    let base: Value = serde_json::from_slice(&std::fs::read(Ml.path()).unwrap()).unwrap();
    let write = |name: &str, branch: &str| {
        let mut doc = base.clone();
        set(&mut doc, "/ComputeServers/GH/Branch", json!(branch));
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        path
    };
    let slash = write("slash.json", "feature/vm");
    ephflow()
        .arg("validate")
        .arg(&slash)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("error[branch-slash]"))
        .stdout(predicates::str::contains("/ComputeServers/GH/Branch"))
        .stdout(predicates::str::contains("read the branch as \"feature\""));

    let expr = write("expr.json", "main${{ github.token }}");
    ephflow()
        .arg("validate")
        .arg(&expr)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("warning[ci-expression]"))
        .stdout(predicates::str::contains("ComputeServers.GH.Branch"));
    let aug = dir.path().join("expr_augmented.json");
    ephflow()
        .arg("augment")
        .arg(&expr)
        .arg("-o")
        .arg(&aug)
        .assert()
        .code(0);
    let out_dir = dir.path().join("workflows");
    ephflow()
        .arg("register")
        .arg(&aug)
        .args(["--reaper-image", "ghcr.io/x/ephflow:1", "--out"])
        .arg(&out_dir)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "ComputeServers.GH.Branch contains",
        ));
    assert!(!out_dir.exists());
}

/// Misspelling suggestions never blame a valid key, and never turn an accepted input into an
/// error: FaaSr tolerates unknown top-level keys, and ephflow keeps them as written.
#[test]
fn near_miss_suggestions_blame_no_valid_key_and_refuse_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base: Value = serde_json::from_slice(&std::fs::read(Ml.path()).unwrap()).unwrap();
    let run = |name: &str, doc: &Value, args: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
        let out = ephflow().args(args).arg(&path).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };

    // "Token" is a valid GoogleCloud key and a prefix of the missing "TokenUri": not blamed.
    let mut doc = base.clone();
    set(
        &mut doc,
        "/ComputeServers/GCP",
        json!({"FaaSType": "GoogleCloud", "Namespace": "n", "ClientEmail": "a@b.c",
               "Region": "us-west1", "Token": "t"}),
    );
    let (code, text) = run("gcp.json", &doc, &["validate"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("required field \"TokenUri\" is missing"),
        "{text}"
    );
    assert!(!text.contains("misspelling"), "{text}");

    // A misspelt optional top-level key is tolerated (a warning names it) and kept as written.
    let mut doc = base.clone();
    rename(&mut doc, "", "LoggingDataStore", "LogingDataStore");
    let (code, text) = run("log.json", &doc, &["validate"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(
            "did you mean \"LoggingDataStore\"? the workflow has \"LogingDataStore\" (at /LogingDataStore)"
        ),
        "{text}"
    );
    assert!(!text.contains("ignored-key"), "said once: {text}");
    let (code, text) = run("log.json", &doc, &["augment"]);
    assert_eq!(code, Some(0), "{text}");
    let augmented: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("log_augmented.json")).unwrap())
            .unwrap();
    assert_eq!(augmented["LogingDataStore"], "S3", "{text}");

    // "VmConfig" without any RequiresVM action: accepted as before, the key kept.
    let mut doc = base;
    rename(&mut doc, "", "VMConfig", "VmConfig");
    del(&mut doc, "/ActionList/train-model/RequiresVM");
    let (code, text) = run("vm.json", &doc, &["validate"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("warning[ignored-key]") && text.contains("did you mean \"VMConfig\""),
        "{text}"
    );
    let (code, text) = run("vm.json", &doc, &["augment"]);
    assert_eq!(code, Some(0), "{text}");
    let augmented: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("vm_augmented.json")).unwrap())
            .unwrap();
    assert_eq!(augmented["VmConfig"]["Name"], "TRAINER", "{text}");

    // A misspelt optional VMConfig field: kept, ignored, and named in a warning (the reaper
    // would otherwise use its default without a word).
    let mut doc: Value = serde_json::from_slice(&std::fs::read(Ml.path()).unwrap()).unwrap();
    set(&mut doc, "/VMConfig/IdleTimout", json!(600));
    let (code, text) = run("idle.json", &doc, &["validate"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("warning[ignored-key]")
            && text.contains("/VMConfig/IdleTimout")
            && text.contains("did you mean \"IdleTimeout\""),
        "{text}"
    );
    let (code, _) = run("idle.json", &doc, &["validate", "--deny-warnings"]);
    assert_eq!(code, Some(1));
}

/// The README states the size of this catalogue.
#[test]
fn the_readme_counts_the_rows() {
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    let claim = format!("{}-row bad-input catalogue", ROWS.len());
    assert!(readme.contains(&claim), "README.md does not say {claim:?}");
}
