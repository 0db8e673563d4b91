//! An ephflow VM provider plugin written the way a crate outside this repository writes one:
//! it depends on `ephflow-core` alone and registers itself with `inventory::submit!`.
//!
//! The provider kind `Example` drives a toy VM instead of a cloud's: it answers "pending" for
//! `BootDescribes` status checks after a start, then runs with its health checks ok; a stop
//! answers "stopping" once, then stopped. Its state lives in memory or, with `StateFile`, in a
//! JSON file, so that separate `ephflow-with-example vm start` / `vm status` / `vm stop`
//! commands see the same VM.
//!
//! Linking this crate into a binary (see `src/bin/ephflow-with-example.rs`) is all it takes:
//! `Provider: "Example"` then validates, the generated schema describes its fields, and the
//! lifecycle commands drive it.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ephflow_core::provider::{
    BuildContext, CheckStatus, ErrorClass, ProviderError, VmProvider, VmState, VmStatus,
};
use ephflow_core::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

/// The `VMConfig.Provider` value for this provider.
pub const KIND: &str = "Example";

inventory::submit! {
    ephflow_core::registry::ProviderRegistration {
        kind: KIND,
        description: "a toy VM for trying ephflow out: in memory, or in a JSON state file",
        config_schema: |generator| generator.subschema_for::<ExampleVmConfig>(),
        build: |ctx| Box::pin(async move {
            let provider = ExampleProvider::build(&ctx)?;
            Ok(Box::new(provider) as Box<dyn VmProvider>)
        }),
        // A hosted runner cannot reach a VM that lives in a local file or in memory.
        ci_stop_step: |_| None,
        // Nothing to grant: the toy VM has no access control.
        access_policy: |_, _| None,
    }
}

/// Links this crate: call it from a binary that should offer the `Example` provider (a crate
/// nothing names is not linked, and its registration never runs).
pub fn register() {}

/// What `VMConfig` holds when `Provider` is `Example` (besides the provider-independent fields
/// such as `Name` and `RunnerName`). The schema of this type becomes the `Example` branch of
/// the document schema, so editors complete and check these fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "ExampleVmConfig")]
pub struct ExampleVmConfig {
    /// The toy VM's name, shown in messages: lowercase letters, digits and dashes, for
    /// example `toy-1`.
    #[serde(rename = "InstanceId")]
    #[schemars(pattern(r"^[a-z][a-z0-9-]*$"))]
    pub instance_id: String,

    /// How many status checks a started VM answers "pending" before it runs. Default 2.
    #[serde(rename = "BootDescribes", default = "default_boot_describes")]
    #[schemars(range(max = 1000))]
    pub boot_describes: u32,

    /// A JSON file that holds the VM's state between commands; it is created (VM stopped)
    /// when missing, and deleting it deletes the VM. A relative path is taken from the
    /// current directory. Without it the VM lives in memory, for one command.
    #[serde(rename = "StateFile", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub state_file: Option<PathBuf>,
}

fn default_boot_describes() -> u32 {
    2
}

/// The toy VM's state, as stored: its power state and how many more status checks the
/// current transition takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Machine {
    state: Power,
    remaining: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Power {
    Stopped,
    Pending,
    Running,
    Stopping,
}

impl Machine {
    const STOPPED: Machine = Machine {
        state: Power::Stopped,
        remaining: 0,
    };

    /// One status check: a transition in progress gets one step closer to its end, and the
    /// check sees the state after that step.
    fn observe(&mut self) -> VmStatus {
        match self.state {
            Power::Pending | Power::Stopping if self.remaining > 0 => self.remaining -= 1,
            Power::Pending => self.state = Power::Running,
            Power::Stopping => self.state = Power::Stopped,
            Power::Running | Power::Stopped => {}
        }
        let state = VmState::from(self.state);
        let checks = if state == VmState::Running {
            CheckStatus::Ok
        } else {
            CheckStatus::NotApplicable
        };
        VmStatus {
            state,
            instance_check: checks,
            system_check: checks,
        }
    }
}

impl From<Power> for VmState {
    fn from(p: Power) -> Self {
        match p {
            Power::Stopped => VmState::Stopped,
            Power::Pending => VmState::Pending,
            Power::Running => VmState::Running,
            Power::Stopping => VmState::Stopping,
        }
    }
}

/// Where the toy VM's state lives.
#[derive(Debug)]
enum Store {
    Memory(Mutex<Machine>),
    /// The VM exists while the file does. The lock serialises this process's
    /// read-modify-write cycles (the toy does not guard against other processes).
    File {
        path: PathBuf,
        lock: Mutex<()>,
    },
}

/// The `Example` provider: one toy VM. Like every provider it makes single requests and
/// never waits; the lifecycle engine does the waiting and retrying.
#[derive(Debug)]
pub struct ExampleProvider {
    id: String,
    boot_describes: u32,
    store: Store,
}

impl ExampleProvider {
    /// A stopped VM called `id`, in memory.
    pub fn in_memory(id: &str, boot_describes: u32) -> Self {
        Self::with_store(
            id,
            boot_describes,
            Store::Memory(Mutex::new(Machine::STOPPED)),
        )
    }

    /// The VM whose state is in `path` (it does not exist while the file does not).
    pub fn in_file(id: &str, boot_describes: u32, path: impl Into<PathBuf>) -> Self {
        let store = Store::File {
            path: path.into(),
            lock: Mutex::new(()),
        };
        Self::with_store(id, boot_describes, store)
    }

    fn with_store(id: &str, boot_describes: u32, store: Store) -> Self {
        ExampleProvider {
            id: id.to_owned(),
            boot_describes,
            store,
        }
    }

    /// The provider for a workflow's VMConfig: reads the `Example` fields from it and, with a
    /// `StateFile` that does not exist yet, creates the VM there, stopped.
    pub fn build(ctx: &BuildContext) -> Result<Self, ProviderError> {
        let config = config_of(ctx)?;
        let Some(path) = config.state_file else {
            return Ok(Self::in_memory(&config.instance_id, config.boot_describes));
        };
        if !path.exists() {
            write_state(&path, &Machine::STOPPED)?;
        }
        Ok(Self::in_file(
            &config.instance_id,
            config.boot_describes,
            path,
        ))
    }

    /// Runs `change` on the VM's state and stores the result.
    fn update<T>(&self, change: impl FnOnce(&mut Machine) -> T) -> Result<T, ProviderError> {
        match &self.store {
            Store::Memory(machine) => Ok(change(&mut machine.lock().expect("not poisoned"))),
            Store::File { path, lock } => {
                let _guard = lock.lock().expect("not poisoned");
                let mut machine = read_state(path, &self.id)?;
                let before = machine;
                let out = change(&mut machine);
                if machine != before {
                    write_state(path, &machine)?;
                }
                Ok(out)
            }
        }
    }
}

/// The `Example` part of a VMConfig. The provider-independent model keeps fields it does not
/// know in `extra`; deserializing the whole VMConfig again picks ours out of it.
fn config_of(ctx: &BuildContext) -> Result<ExampleVmConfig, ProviderError> {
    let value = serde_json::to_value(&ctx.config).map_err(|e| invalid(e.to_string()))?;
    serde_json::from_value(value).map_err(|e| {
        invalid(format!(
            "VMConfig \"{}\" is not a valid Example VMConfig: {e}",
            ctx.config.name
        ))
    })
}

fn invalid(message: String) -> ProviderError {
    ProviderError::new(ErrorClass::InvalidInput, message)
}

fn read_state(path: &Path, id: &str) -> Result<Machine, ProviderError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ProviderError::new(
                ErrorClass::NotFound,
                format!(
                    "the toy VM {id} does not exist (no state file {})",
                    path.display()
                ),
            )
        } else {
            ProviderError::new(
                ErrorClass::Temporary,
                format!("cannot read {}: {e}", path.display()),
            )
        }
    })?;
    serde_json::from_str(&text).map_err(|e| {
        invalid(format!(
            "{} is not a toy VM state file ({e}); delete it to start over",
            path.display()
        ))
    })
}

/// Writes the state through a temporary file and a rename, so a reader never sees half a file.
fn write_state(path: &Path, machine: &Machine) -> Result<(), ProviderError> {
    let failed = |e: std::io::Error| {
        ProviderError::new(
            ErrorClass::Temporary,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let text = serde_json::to_string_pretty(machine).expect("plain data serializes");
    std::fs::write(&tmp, text).map_err(failed)?;
    std::fs::rename(&tmp, path).map_err(failed)
}

#[async_trait::async_trait]
impl VmProvider for ExampleProvider {
    fn vm_id(&self) -> &str {
        &self.id
    }

    async fn describe(&self) -> Result<VmStatus, ProviderError> {
        self.update(Machine::observe)
    }

    async fn start(&self) -> Result<(), ProviderError> {
        let boot = self.boot_describes;
        self.update(|m| match m.state {
            Power::Stopped => {
                *m = Machine {
                    state: Power::Pending,
                    remaining: boot,
                };
                Ok(())
            }
            Power::Pending | Power::Running => Ok(()),
            Power::Stopping => Err(ProviderError::new(
                ErrorClass::InvalidState,
                format!("the toy VM {} is stopping and cannot be started", self.id),
            )),
        })?
    }

    async fn stop(&self) -> Result<(), ProviderError> {
        self.update(|m| match m.state {
            Power::Running => {
                *m = Machine {
                    state: Power::Stopping,
                    remaining: 1,
                };
                Ok(())
            }
            Power::Stopping | Power::Stopped => Ok(()),
            Power::Pending => Err(ProviderError::new(
                ErrorClass::InvalidState,
                format!("the toy VM {} is pending and cannot be stopped", self.id),
            )),
        })?
    }

    async fn preflight(&self) -> Result<(), ProviderError> {
        // No permissions to check; the VM must exist, as for a real provider.
        self.update(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boots_after_the_configured_number_of_checks() {
        let mut m = Machine {
            state: Power::Pending,
            remaining: 2,
        };
        let seen: Vec<VmState> = (0..4).map(|_| m.observe().state).collect();
        assert_eq!(
            seen,
            [
                VmState::Pending,
                VmState::Pending,
                VmState::Running,
                VmState::Running
            ]
        );
    }

    #[test]
    fn a_stopping_vm_is_seen_stopping_once() {
        let mut m = Machine {
            state: Power::Stopping,
            remaining: 1,
        };
        let seen: Vec<VmState> = (0..3).map(|_| m.observe().state).collect();
        assert_eq!(
            seen,
            [VmState::Stopping, VmState::Stopped, VmState::Stopped]
        );
    }
}
