//! The Command provider against a VM simulated by a shell script that keeps its state in a
//! file: the core conformance suite, timeouts, exit codes, credentials, the Describe contract.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ephflow_command::CommandProvider;
use ephflow_core::provider::{
    BuildContext, ErrorClass, Secret, StaticSecrets, VmProvider, VmState,
};
use serde_json::{Value, json};

const SENTINEL: &str = "sentinel-S3CRET-9f8e7d";

/// The simulated VM: `start` → pending (running after the next describe), `stop` → stopping
/// (stopped after the next describe); a VM without a state file does not exist (exit 3).
const VM_SCRIPT: &str = r#"#!/bin/sh
dir=$(dirname "$0")
f="$dir/$EPHFLOW_VM_ID.state"
[ -f "$f" ] || { echo "no such VM: $EPHFLOW_VM_ID" >&2; exit 3; }
state=$(cat "$f")
case "$EPHFLOW_ACTION" in
  start)
    [ "$state" = stopped ] || { echo "cannot start a $state VM" >&2; exit 4; }
    echo pending > "$f"
    date -u +%Y-%m-%dT%H:%M:%SZ > "$f.since" ;;
  stop)
    [ "$state" = running ] || { echo "cannot stop a $state VM" >&2; exit 4; }
    echo stopping > "$f" ;;
  describe|check)
    case "$state" in
      pending) echo running > "$f" ;;
      stopping) echo stopped > "$f" ;;
    esac
    since=""
    [ -f "$f.since" ] && since=", \"running_since\": \"$(cat "$f.since")\""
    printf '{"state": "%s"%s}\n' "$state" "$since" ;;
  *) echo "unknown action $EPHFLOW_ACTION" >&2; exit 2 ;;
esac
"#;

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("vm.sh"), VM_SCRIPT).unwrap();
        Lab { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A stopped VM called `id`.
    fn stopped_vm(&self, id: &str) {
        std::fs::write(self.path(&format!("{id}.state")), "stopped\n").unwrap();
    }

    fn script(&self) -> String {
        format!("sh '{}'", self.path("vm.sh").display())
    }

    /// A VMConfig for `id` whose commands drive the script, with `commands` overriding.
    fn config(&self, id: &str, commands: Value) -> Value {
        let script = self.script();
        let mut all = json!({"Start": script, "Stop": script, "Describe": script});
        all.as_object_mut()
            .unwrap()
            .extend(commands.as_object().unwrap().clone());
        json!({"Name": "LABVM", "Provider": "Command", "InstanceId": id, "Region": "local",
               "Commands": all})
    }

    fn provider(&self, id: &str, commands: Value) -> CommandProvider {
        provider_for(self.config(id, commands))
    }
}

fn provider_for(config: Value) -> CommandProvider {
    CommandProvider::build(BuildContext {
        config: serde_json::from_value(config).unwrap(),
        secrets: Arc::new(StaticSecrets(vec![(
            "LABVM_SecretKey".into(),
            Secret::new(SENTINEL),
        )])),
    })
    .unwrap()
}

#[tokio::test]
async fn passes_the_conformance_suite() {
    let lab = Lab::new();
    lab.stopped_vm("lab-vm-1");
    let stopped = lab.provider("lab-vm-1", json!({}));
    let missing = lab.provider("no-such-vm", json!({}));
    let started = Instant::now();
    ephflow_core::testkit::conformance::check_provider(
        &stopped,
        &missing,
        Duration::from_millis(10),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn builds_through_the_registry_and_reports_running_since() {
    let lab = Lab::new();
    lab.stopped_vm("vm-2");
    let ctx = BuildContext {
        config: serde_json::from_value(lab.config("vm-2", json!({}))).unwrap(),
        secrets: Arc::new(StaticSecrets::default()),
    };
    let provider = ephflow_core::registry::build(ctx).await.unwrap();
    assert_eq!(provider.vm_id(), "vm-2");
    assert_eq!(provider.running_since().await.unwrap(), None);
    provider.start().await.unwrap();
    let since = provider
        .running_since()
        .await
        .unwrap()
        .expect("a start time");
    let age = SystemTime::now().duration_since(since).unwrap_or_default();
    assert!(age < Duration::from_secs(120), "{age:?}");
    assert_eq!(provider.describe().await.unwrap().state, VmState::Running);
    // Starting a running VM: the script exits 4.
    let err = provider.start().await.unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidState, "{err}");
    assert!(err.message.contains("cannot start a running VM"), "{err}");
    let source = provider.credential_source().await.unwrap().unwrap();
    assert!(source.contains("LABVM_AccessKey"), "{source}");
}

#[tokio::test]
async fn a_hanging_command_is_killed_and_times_out() {
    let lab = Lab::new();
    let provider = lab.provider("vm-3", json!({"Start": "sleep 30", "TimeoutSeconds": 1}));
    let started = Instant::now();
    let err = provider.start().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.class, ErrorClass::Timeout, "{err}");
    assert!(err.message.contains("Commands.Start for vm-3"), "{err}");
    assert!(err.message.contains("within 1 s"), "{err}");
    assert!(
        !err.message.contains("sleep"),
        "the command text is not quoted: {err}"
    );
}

#[tokio::test]
async fn a_failing_command_names_its_key_exit_code_and_stderr() {
    let lab = Lab::new();
    let provider = lab.provider(
        "vm-4",
        json!({"Stop": "echo 'starting up' >&2; echo '  boom: the hypervisor is on fire  ' >&2; exit 1",
               "Start": "echo 'quota reached, try later' >&2; exit 75"}),
    );
    let err = provider.stop().await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Unsupported);
    let text = err.to_string();
    assert!(text.contains("Commands.Stop for vm-4"), "{text}");
    assert!(text.contains("exited with code 1"), "{text}");
    assert!(
        text.contains("starting up | boom: the hypervisor is on fire"),
        "{text}"
    );
    let err = provider.start().await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Temporary, "{err}");
    assert!(err.class.is_retryable());
    assert!(err.message.contains("quota reached"), "{err}");
    let err = lab
        .provider("vm-4", json!({"Start": "no-such-cli-ephflow start"}))
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidInput, "{err}");
    assert!(err.message.contains("code 127"), "{err}");
}

#[tokio::test]
async fn credentials_reach_the_command_and_nothing_else() {
    let lab = Lab::new();
    let seen = lab.path("seen");
    let leak = format!(
        "printf '%s|%s|%s' \"$LABVM_SecretKey\" \"$EPHFLOW_VM_ID\" \"$EPHFLOW_REGION\" > '{}'; echo \"auth failed with key $LABVM_SecretKey\" >&2; exit 77",
        seen.display()
    );
    let describe_leak = "echo \"{not json $LABVM_SecretKey\"; echo \"$LABVM_SecretKey\" >&2";
    let provider = lab.provider(
        "vm-5",
        json!({"Start": leak, "Describe": describe_leak, "Check": "echo \"$LABVM_SecretKey\" >&2; exit 1"}),
    );
    let mut shown = Vec::new();
    let err = provider.start().await.unwrap_err();
    assert_eq!(err.class, ErrorClass::PermissionDenied, "{err}");
    assert!(
        err.message.contains("auth failed with key [redacted]"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        format!("{SENTINEL}|vm-5|local"),
        "the command sees the credential and the VM"
    );
    shown.push(format!("{err} {err:?}"));
    let err = provider.describe().await.unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidInput);
    shown.push(format!("{err} {err:?}"));
    let err = provider.preflight().await.unwrap_err();
    shown.push(format!("{err} {err:?}"));
    shown.push(format!("{provider:?}"));
    for s in &shown {
        assert!(!s.contains(SENTINEL), "a secret leaked: {s}");
    }
    assert!(shown[1].contains("{not json [redacted]"), "{}", shown[1]);
}

#[tokio::test]
async fn describe_output_must_follow_the_contract() {
    let lab = Lab::new();
    let long = "x".repeat(500);
    for (describe, why) in [
        ("echo 'state=running'".to_owned(), "not JSON"),
        (
            format!("echo '{{\"state\": \"on\", \"pad\": \"{long}\"}}'"),
            "unknown state \"on\"",
        ),
        ("echo '{\"State\": \"running\"}'".to_owned(), "no \"state\""),
    ] {
        let err = lab
            .provider("vm-6", json!({"Describe": describe}))
            .describe()
            .await
            .unwrap_err();
        assert_eq!(err.class, ErrorClass::InvalidInput, "{err}");
        assert!(err.message.contains("Commands.Describe for vm-6"), "{err}");
        assert!(err.message.contains(why), "{why}: {err}");
        assert!(
            err.message.contains(ephflow_command::DESCRIBE_SHAPE),
            "{err}"
        );
        assert!(err.message.len() < 800, "quotes at most 200 chars: {err}");
    }
}

#[tokio::test]
async fn preflight_runs_check_or_describe() {
    let lab = Lab::new();
    lab.stopped_vm("vm-7");
    lab.provider("vm-7", json!({})).preflight().await.unwrap();
    let marker = lab.path("checked");
    lab.provider(
        "vm-7",
        json!({"Check": format!("touch '{}'", marker.display())}),
    )
    .preflight()
    .await
    .unwrap();
    assert!(marker.exists());
    let err = lab
        .provider("vm-8", json!({}))
        .preflight()
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound, "{err}");
    // Preflight changed nothing.
    assert_eq!(
        std::fs::read_to_string(lab.path("vm-7.state")).unwrap(),
        "stopped\n"
    );
}

#[test]
fn build_reports_missing_commands_by_path() {
    let err = CommandProvider::build(BuildContext {
        config: serde_json::from_value(json!({"Name": "LABVM", "Provider": "Command",
            "InstanceId": "vm", "Commands": {"Start": "a", "Describe": "b"}}))
        .unwrap(),
        secrets: Arc::new(StaticSecrets::default()),
    })
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidInput);
    assert!(
        err.message.contains("VMConfig.Commands.Stop is required"),
        "{err}"
    );
}
