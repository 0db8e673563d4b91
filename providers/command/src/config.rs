//! The Command part of VMConfig.

use std::time::Duration;

use ephflow_core::schema::model::VmConfig;
use ephflow_core::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

/// The bound on one command when `Commands.TimeoutSeconds` is not given.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 60;

/// The largest `Commands.TimeoutSeconds` accepted (one day).
pub const MAX_TIMEOUT_SECONDS: u64 = 86_400;

/// What `VMConfig` must hold when `Provider` is `Command`: an identifier of the VM and the
/// shell commands that start, stop and describe it (with any IaaS CLI: gcloud, az, virsh,
/// openstack). Each command runs with `sh -c` and finds the VM in `EPHFLOW_VM_ID` (InstanceId),
/// `EPHFLOW_REGION` (Region) and the credentials in `<Name>_AccessKey` / `<Name>_SecretKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "CommandVmConfig")]
pub struct CommandVmConfig {
    /// The VM's identifier as the commands know it (a libvirt domain, a GCE instance name, an
    /// Azure VM name, ...): free-form, not empty. ephflow names the VM by it in messages and
    /// passes it to every command as `EPHFLOW_VM_ID`.
    #[serde(rename = "InstanceId")]
    #[schemars(length(min = 1))]
    pub instance_id: String,

    /// Where the VM lives (a GCE zone, an Azure resource group, `local`, ...): free-form and
    /// optional; passed to every command as `EPHFLOW_REGION` when set.
    #[serde(rename = "Region", default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// The shell commands of the VM lifecycle: `Start`, `Stop`, `Describe` (required, not
    /// empty), `Check` (optional) and `TimeoutSeconds` (1 to 86400, default 60).
    #[serde(rename = "Commands")]
    pub commands: Commands,
}

/// The shell commands of the VM lifecycle, each run with `sh -c` in ephflow's working
/// directory. Exit codes: 0 done, 3 the VM does not exist, 4 the VM is in a state the
/// operation cannot start from, 75 temporary failure (retried), 77 permission denied, 124
/// timed out (retried); any other non-zero code is a failure that is not retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CommandSet")]
pub struct Commands {
    /// Asks the VM to start and returns once the request is accepted (for example `virsh
    /// start "$EPHFLOW_VM_ID"`). ephflow only runs it when the VM is stopped.
    #[serde(rename = "Start")]
    #[schemars(length(min = 1))]
    pub start: String,

    /// Asks the VM to stop and returns once the request is accepted (for example `virsh
    /// shutdown "$EPHFLOW_VM_ID"`). ephflow only runs it when the VM is running. Failure
    /// teardown also runs it on a GitHub-hosted runner (ubuntu-latest, no checkout), so it
    /// must work there too.
    #[serde(rename = "Stop")]
    #[schemars(length(min = 1))]
    pub stop: String,

    /// Prints the VM's state as one JSON object on standard output: `{"state":
    /// "pending|running|stopping|stopped|shutting-down|terminated", "instance_check":
    /// "ok|initializing|impaired|insufficient-data|not-applicable", "system_check": ...,
    /// "running_since": "<RFC 3339>"}`; only `state` is required (absent checks count as ok
    /// while running). Exits 3 when the VM does not exist. Must not change anything.
    #[serde(rename = "Describe")]
    #[schemars(length(min = 1))]
    pub describe: String,

    /// Checks, without changing anything, that the credentials may start and stop the VM
    /// (`ephflow vm preflight`, `ephflow doctor`); when absent, Describe is run instead.
    #[serde(rename = "Check", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub check: Option<String>,

    /// Seconds one command may run before it is killed, with its process group. Default 60.
    #[serde(
        rename = "TimeoutSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1, max = 86400))]
    pub timeout_seconds: Option<u64>,
}

impl Commands {
    /// The bound on one command.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS))
    }
}

impl CommandVmConfig {
    /// The Command settings of a VMConfig, or every problem with them (each naming its field,
    /// `VMConfig.Commands.Stop`, ...).
    pub fn from_vm_config(config: &VmConfig) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let instance_id = match config.instance_id.as_deref() {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => {
                problems.push(
                    "VMConfig.InstanceId is required for Provider \"Command\" (the VM's name as your commands know it)"
                        .to_owned(),
                );
                String::new()
            }
        };
        let commands = match config.extra.get("Commands") {
            None => {
                problems.push(
                    "VMConfig.Commands is required for Provider \"Command\" (an object with Start, Stop and Describe)"
                        .to_owned(),
                );
                None
            }
            Some(serde_json::Value::Object(map)) => {
                for key in ["Start", "Stop", "Describe"] {
                    match map.get(key) {
                        None => problems.push(format!(
                            "VMConfig.Commands.{key} is required for Provider \"Command\""
                        )),
                        Some(serde_json::Value::String(s)) if s.trim().is_empty() => problems
                            .push(format!("VMConfig.Commands.{key} is blank; give a command")),
                        Some(serde_json::Value::String(_)) => {}
                        Some(_) => {
                            problems.push(format!("VMConfig.Commands.{key} must be a string"))
                        }
                    }
                }
                if let Some(check) = map.get("Check")
                    && check.as_str().is_none_or(|s| s.trim().is_empty())
                {
                    problems.push(
                        "VMConfig.Commands.Check must be a command (a non-blank string)".to_owned(),
                    );
                }
                if let Some(t) = map.get("TimeoutSeconds")
                    && !t
                        .as_u64()
                        .is_some_and(|t| (1..=MAX_TIMEOUT_SECONDS).contains(&t))
                {
                    problems.push(format!(
                        "VMConfig.Commands.TimeoutSeconds must be a whole number of seconds from 1 to {MAX_TIMEOUT_SECONDS}"
                    ));
                }
                if problems.is_empty() {
                    match serde_json::from_value::<Commands>(serde_json::Value::Object(map.clone()))
                    {
                        Ok(c) => Some(c),
                        Err(e) => {
                            problems.push(format!("VMConfig.Commands: {e}"));
                            None
                        }
                    }
                } else {
                    None
                }
            }
            Some(_) => {
                problems.push(
                    "VMConfig.Commands must be an object with Start, Stop and Describe".to_owned(),
                );
                None
            }
        };
        match commands {
            Some(commands) if problems.is_empty() => Ok(CommandVmConfig {
                instance_id,
                region: config.region.clone(),
                commands,
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vm(extra: serde_json::Value) -> VmConfig {
        let mut doc = json!({"Name": "LABVM", "Provider": "Command", "InstanceId": "lab-vm-1"});
        doc.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn reads_the_commands() {
        let c = CommandVmConfig::from_vm_config(&vm(json!({"Region": "local", "Commands": {
            "Start": "a", "Stop": "b", "Describe": "c", "TimeoutSeconds": 5}})))
        .unwrap();
        assert_eq!(c.instance_id, "lab-vm-1");
        assert_eq!(c.region.as_deref(), Some("local"));
        assert_eq!(c.commands.timeout(), Duration::from_secs(5));
        assert_eq!(c.commands.check, None);
    }

    #[test]
    fn reports_every_problem_by_path() {
        let err = CommandVmConfig::from_vm_config(&vm(json!({"Commands": {
            "Start": " ", "Describe": 3, "TimeoutSeconds": 0}})))
        .unwrap_err();
        let all = err.join("\n");
        for want in [
            "VMConfig.Commands.Start is blank",
            "VMConfig.Commands.Stop is required",
            "VMConfig.Commands.Describe must be a string",
            "VMConfig.Commands.TimeoutSeconds",
        ] {
            assert!(all.contains(want), "{want} in {all}");
        }
        let err = CommandVmConfig::from_vm_config(&vm(json!({}))).unwrap_err();
        assert!(err[0].contains("VMConfig.Commands is required"), "{err:?}");
    }
}
