//! ephflow-command: a VM provider that runs the workflow's own shell commands.
//!
//! Registers the `Command` provider kind, for any IaaS with a command-line tool (gcloud, az,
//! virsh, openstack, ...): `VMConfig.Commands` holds the commands that start, stop and
//! describe the VM.
//!
//! ```json
//! "VMConfig": {"Name": "LABVM", "Provider": "Command", "InstanceId": "lab-vm-1",
//!              "Region": "local", "RunnerName": "lab-runner",
//!              "Commands": {"Start": "virsh start \"$EPHFLOW_VM_ID\"",
//!                           "Stop": "virsh shutdown \"$EPHFLOW_VM_ID\"",
//!                           "Describe": "./describe-vm.sh", "TimeoutSeconds": 60}}
//! ```
//!
//! # Fields
//! - `InstanceId` (required, not empty): the VM's name as the commands know it (libvirt
//!   domain, GCE instance, Azure VM, ...). It names the VM in messages.
//! - `Region` (optional): where the VM lives (a zone, a resource group, `local`); free-form.
//! - `Commands.Start`, `Commands.Stop`, `Commands.Describe` (required, not blank);
//!   `Commands.Check` (optional, see preflight); `Commands.TimeoutSeconds` (1 to 86400,
//!   default 60): the bound on each command.
//!
//! # How a command runs
//! `sh -c <text>`, in ephflow's working directory, standard input closed, in its own process
//! group, with ephflow's environment plus:
//! - `EPHFLOW_VM_ID`: InstanceId; `EPHFLOW_REGION`: Region (unset when there is none);
//! - `EPHFLOW_ACTION`: `start`, `stop`, `describe` or `check` (one script can serve all);
//! - `<Name>_AccessKey`, `<Name>_SecretKey` (Name from VMConfig), when set: the credentials.
//!
//! ephflow never puts a value into the command text (refer to the variables, quoted:
//! `"$EPHFLOW_VM_ID"`), and no credential value ever appears in a message: they are replaced
//! by `[redacted]` in the output ephflow quotes. A command that runs longer than
//! `TimeoutSeconds` is killed with its whole process group (class `timeout`; the message
//! names the command key, never its text). A command that leaves a background process
//! should redirect that process's output (`... >/dev/null 2>&1 &`); ephflow waits at most
//! half a second for its pipes to close after the command exits.
//!
//! Start and Stop return once the request is accepted; the lifecycle engine runs them only
//! when needed (Start when the VM is stopped, Stop when it runs) and waits with Describe.
//!
//! # The Describe contract
//! Describe prints one JSON object on standard output (whitespace around it is fine,
//! nothing else), and must not change anything:
//!
//! ```json
//! {"state": "running", "instance_check": "ok", "system_check": "ok",
//!  "running_since": "2025-06-01T12:00:00Z"}
//! ```
//! - `state` (required): `pending`, `running`, `stopping`, `stopped`, `shutting-down` or
//!   `terminated` ([`VmState`](ephflow_core::provider::VmState) names);
//! - `instance_check`, `system_check` (optional, `null` allowed): `ok`, `initializing`,
//!   `impaired`, `insufficient-data` or `not-applicable`
//!   ([`CheckStatus`](ephflow_core::provider::CheckStatus) names). Absent means `ok` while
//!   running (so a VM without health checks is ready once it runs), `not-applicable`
//!   otherwise;
//! - `running_since` (optional, RFC 3339): when the VM last started; the reaper's
//!   `MaxLifetime` rule needs it and is skipped without it.
//!
//! Other keys are ignored. Output that breaks the contract is an `invalid-input` error quoting
//! at most its first 200 characters, with the expected shape. A missing VM exits 3.
//!
//! # Exit codes of the commands
//! | exit | meaning | class | retried |
//! |---|---|---|---|
//! | 0 | done | | |
//! | 2 | misused (shell syntax error, bad arguments) | invalid-input | no |
//! | 3 | the VM does not exist | not-found | no |
//! | 4 | the VM is in a state the operation cannot start from | invalid-state | no |
//! | 75 (EX_TEMPFAIL) | temporary failure (network, capacity, throttling) | temporary | yes |
//! | 77 (EX_NOPERM) | permission denied | permission-denied | no |
//! | 124 (`timeout(1)`) | timed out | timeout | yes |
//! | 126, 127 | a program is not executable / not found | invalid-input | no |
//! | killed by a signal | | temporary | yes |
//! | any other | failed | unsupported | no |
//!
//! The error names the command key, the exit code and the tail of its stderr (trimmed, at
//! most 500 characters, credentials redacted). Retried means the lifecycle engine tries again,
//! with backoff, a bounded number of times; so commands should be safe to repeat.
//!
//! # Preflight, teardown, access policy
//! `ephflow vm preflight` (and `doctor`) runs `Commands.Check` when given, else Describe;
//! neither may change anything. The failure-teardown step of rendered GitHub workflows runs
//! Stop on a GitHub-hosted runner (`ubuntu-latest`, no checkout) as `sh -c
//! "$EPHFLOW_STOP_COMMAND"` under `timeout`, with the same variables (the credentials from
//! the `<Name>_AccessKey` / `<Name>_SecretKey` repository secrets): Stop must work there (the
//! preinstalled gcloud, az, aws CLIs do; a local virsh does not), and must not contain `${{`,
//! which GitHub would evaluate (registration refuses it). There is no access policy
//! (`ephflow iam-policy` has nothing to print).

#![warn(missing_docs)]

mod config;
mod provider;
mod run;

pub use config::{CommandVmConfig, Commands, DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS};
pub use provider::{CommandKey, CommandProvider, DESCRIBE_SHAPE, classify_exit};

/// The `VMConfig.Provider` value for this provider.
pub const KIND: &str = "Command";

inventory::submit! {
    ephflow_core::registry::ProviderRegistration {
        kind: KIND,
        description: "any VM, started, stopped and described by the shell commands in VMConfig.Commands (gcloud, az, virsh, ...)",
        config_schema: |generator| generator.subschema_for::<CommandVmConfig>(),
        build: |ctx| Box::pin(async move {
            let provider = CommandProvider::build(ctx)?;
            Ok(Box::new(provider) as Box<dyn ephflow_core::provider::VmProvider>)
        }),
        ci_stop_step,
        access_policy: |_, _| None,
    }
}

/// The fixed script of the failure-teardown step: everything comes from its environment.
pub const CI_STOP_RUN: &str =
    r#"timeout --kill-after=10 "$EPHFLOW_TIMEOUT_SECONDS" sh -c "$EPHFLOW_STOP_COMMAND""#;

/// The failure-teardown step: Stop, run on a hosted runner from `EPHFLOW_STOP_COMMAND` (a
/// literal in `env:`, never in `run:`), with the variables a local run has. `None` when the
/// VMConfig has no valid Commands.
pub fn ci_stop_step(
    config: &ephflow_core::schema::model::VmConfig,
) -> Option<ephflow_core::provider::CiStep> {
    use ephflow_core::provider::{CiStep, CiValue};
    let command = CommandVmConfig::from_vm_config(config).ok()?;
    let mut env = vec![
        (
            "EPHFLOW_STOP_COMMAND".to_owned(),
            CiValue::Literal(command.commands.stop.clone()),
        ),
        (
            "EPHFLOW_TIMEOUT_SECONDS".to_owned(),
            CiValue::Literal(command.commands.timeout().as_secs().to_string()),
        ),
        (
            "EPHFLOW_VM_ID".to_owned(),
            CiValue::Literal(command.instance_id.clone()),
        ),
        (
            "EPHFLOW_ACTION".to_owned(),
            CiValue::Literal(CommandKey::Stop.action().to_owned()),
        ),
    ];
    if let Some(region) = &command.region {
        env.push((
            "EPHFLOW_REGION".to_owned(),
            CiValue::Literal(region.clone()),
        ));
    }
    for suffix in ["AccessKey", "SecretKey"] {
        let name = format!("{}_{suffix}", config.name);
        env.push((name.clone(), CiValue::Secret(name)));
    }
    Some(CiStep {
        name: "Stop the VM".into(),
        env,
        run: CI_STOP_RUN.into(),
        id_token: false,
    })
}

/// Links this crate: call it (or `use ephflow_command as _;`) from a binary that should offer
/// the Command provider.
pub fn register() {}

#[cfg(test)]
mod tests {
    use super::*;
    use ephflow_core::provider::CiValue;

    #[test]
    fn the_stop_step_passes_everything_through_env() {
        let config = serde_json::from_value(serde_json::json!({
            "Name": "LABVM", "Provider": "Command", "InstanceId": "lab-vm-1", "Region": "local",
            "Commands": {"Start": "virsh start lab-vm-1", "Stop": "virsh shutdown \"$EPHFLOW_VM_ID\"",
                         "Describe": "./describe-vm.sh", "TimeoutSeconds": 90}
        }))
        .unwrap();
        let step = ci_stop_step(&config).unwrap();
        assert_eq!(step.run, CI_STOP_RUN);
        assert!(!step.run.contains("virsh"));
        let get = |k: &str| {
            step.env
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            get("EPHFLOW_STOP_COMMAND"),
            Some(CiValue::Literal("virsh shutdown \"$EPHFLOW_VM_ID\"".into()))
        );
        assert_eq!(
            get("EPHFLOW_TIMEOUT_SECONDS"),
            Some(CiValue::Literal("90".into()))
        );
        assert_eq!(
            get("EPHFLOW_REGION"),
            Some(CiValue::Literal("local".into()))
        );
        assert_eq!(
            get("LABVM_SecretKey"),
            Some(CiValue::Secret("LABVM_SecretKey".into()))
        );
        let no_commands = serde_json::from_value(serde_json::json!({
            "Name": "LABVM", "Provider": "Command", "InstanceId": "lab-vm-1"
        }))
        .unwrap();
        assert_eq!(ci_stop_step(&no_commands), None);
    }
}
