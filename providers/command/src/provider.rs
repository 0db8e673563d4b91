//! The Command provider: each lifecycle operation runs one of the workflow's shell commands.

use std::time::SystemTime;

use ephflow_core::provider::{
    BuildContext, CheckStatus, ErrorClass, ProviderError, Secret, SecretSource, VmProvider,
    VmState, VmStatus,
};
use serde_json::Value;

use crate::config::CommandVmConfig;
use crate::run::{self, Finished, RunError};

/// Longest stderr tail quoted in an error, in characters.
const STDERR_TAIL: usize = 500;
/// Longest piece of unparseable Describe output quoted in an error, in characters.
const STDOUT_HEAD: usize = 200;
/// What Describe must print, for messages.
pub const DESCRIBE_SHAPE: &str = r#"one JSON object such as {"state": "running", "instance_check": "ok", "system_check": "ok", "running_since": "2025-01-01T12:00:00Z"} (only "state" is required)"#;

/// Which command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKey {
    /// `Commands.Start`.
    Start,
    /// `Commands.Stop`.
    Stop,
    /// `Commands.Describe`.
    Describe,
    /// `Commands.Check`.
    Check,
}

impl CommandKey {
    /// The key under `VMConfig.Commands`.
    pub fn name(self) -> &'static str {
        match self {
            CommandKey::Start => "Start",
            CommandKey::Stop => "Stop",
            CommandKey::Describe => "Describe",
            CommandKey::Check => "Check",
        }
    }

    /// The value of `EPHFLOW_ACTION` while it runs.
    pub fn action(self) -> &'static str {
        match self {
            CommandKey::Start => "start",
            CommandKey::Stop => "stop",
            CommandKey::Describe => "describe",
            CommandKey::Check => "check",
        }
    }
}

/// The class and meaning of a command's exit code (see the crate docs for the table).
pub fn classify_exit(code: i32) -> (ErrorClass, &'static str) {
    match code {
        2 => (
            ErrorClass::InvalidInput,
            "misused: a shell syntax error or bad arguments",
        ),
        3 => (ErrorClass::NotFound, "the VM does not exist"),
        4 => (
            ErrorClass::InvalidState,
            "the VM is in a state this operation cannot start from",
        ),
        75 => (
            ErrorClass::Temporary,
            "a temporary failure; will be retried",
        ),
        77 => (ErrorClass::PermissionDenied, "permission denied"),
        124 => (ErrorClass::Timeout, "timed out; will be retried"),
        126 => (ErrorClass::InvalidInput, "a program is not executable"),
        127 => (
            ErrorClass::InvalidInput,
            "a program was not found: is its CLI installed and on PATH?",
        ),
        _ => (ErrorClass::Unsupported, "failed; not retried"),
    }
}

/// A VM driven by the workflow's own shell commands (`VMConfig.Commands`).
#[derive(Debug, Clone)]
pub struct CommandProvider {
    /// VMConfig.Name (names the credential variables).
    name: String,
    config: CommandVmConfig,
    /// The credentials handed to the commands: (variable, value).
    secrets: Vec<(String, Secret)>,
}

impl CommandProvider {
    /// Builds the provider from a VMConfig whose Provider is `Command`.
    pub fn build(ctx: BuildContext) -> Result<Self, ProviderError> {
        let config = CommandVmConfig::from_vm_config(&ctx.config).map_err(|problems| {
            ProviderError::new(ErrorClass::InvalidInput, problems.join("; "))
        })?;
        Ok(Self::new(&ctx.config.name, config, ctx.secrets.as_ref()))
    }

    /// A provider for `config`, its credentials (`<name>_AccessKey`, `<name>_SecretKey`) looked
    /// up in `secrets`.
    pub fn new(name: &str, config: CommandVmConfig, secrets: &dyn SecretSource) -> Self {
        let secrets = ["AccessKey", "SecretKey"]
            .iter()
            .map(|suffix| format!("{name}_{suffix}"))
            .filter_map(|var| secrets.get(&var).map(|s| (var, s)))
            .collect();
        CommandProvider {
            name: name.to_owned(),
            config,
            secrets,
        }
    }

    /// The settings it runs with.
    pub fn config(&self) -> &CommandVmConfig {
        &self.config
    }

    fn text(&self, key: CommandKey) -> &str {
        let c = &self.config.commands;
        match key {
            CommandKey::Start => &c.start,
            CommandKey::Stop => &c.stop,
            CommandKey::Describe => &c.describe,
            CommandKey::Check => c.check.as_deref().unwrap_or(&c.describe),
        }
    }

    /// Replaces every credential value in `text` by `[redacted]`.
    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (_, secret) in &self.secrets {
            let value = secret.expose();
            if !value.is_empty() {
                out = out.replace(value, "[redacted]");
            }
        }
        out
    }

    fn what(&self, key: CommandKey) -> String {
        format!("Commands.{} for {}", key.name(), self.config.instance_id)
    }

    /// Runs one command; a non-zero exit, a signal or a timeout is a classified error.
    pub async fn run(&self, key: CommandKey) -> Result<Vec<u8>, ProviderError> {
        let mut env = vec![
            ("EPHFLOW_VM_ID".to_owned(), self.config.instance_id.clone()),
            ("EPHFLOW_ACTION".to_owned(), key.action().to_owned()),
        ];
        let mut unset = Vec::new();
        match &self.config.region {
            Some(r) => env.push(("EPHFLOW_REGION".to_owned(), r.clone())),
            None => unset.push("EPHFLOW_REGION"),
        }
        for (var, secret) in &self.secrets {
            env.push((var.clone(), secret.expose().to_owned()));
        }
        let timeout = self.config.commands.timeout();
        tracing::debug!(command = key.name(), vm = %self.config.instance_id, "running");
        match run::run(self.text(key), &env, &unset, timeout).await {
            Ok(done) if done.status.success() => Ok(done.stdout),
            Ok(done) => Err(self.failure(key, &done)),
            Err(RunError::TimedOut) => Err(ProviderError::new(
                ErrorClass::Timeout,
                format!(
                    "{} did not finish within {} s (VMConfig.Commands.TimeoutSeconds) and was killed with its process group",
                    self.what(key),
                    timeout.as_secs()
                ),
            )),
            Err(RunError::Spawn(e)) => Err(ProviderError::new(
                ErrorClass::Unsupported,
                format!("{} could not be run with sh: {e}", self.what(key)),
            )),
        }
    }

    fn failure(&self, key: CommandKey, done: &Finished) -> ProviderError {
        let (class, meaning, code) = match (done.code(), done.signal()) {
            (Some(code), _) => {
                let (class, meaning) = classify_exit(code);
                (
                    class,
                    format!("exited with code {code} ({meaning})"),
                    format!("exit {code}"),
                )
            }
            (None, signal) => {
                let signal = signal.unwrap_or_default();
                (
                    ErrorClass::Temporary,
                    format!("was killed by signal {signal}; will be retried"),
                    format!("signal {signal}"),
                )
            }
        };
        let tail = self.stderr_tail(&done.stderr);
        let stderr = if tail.is_empty() {
            "; it wrote nothing to stderr".to_owned()
        } else {
            format!("; its stderr ends: {tail}")
        };
        ProviderError::new(class, format!("{} {meaning}{stderr}", self.what(key))).with_code(code)
    }

    /// The last lines of stderr: secrets scrubbed, lines trimmed and joined with ` | `, at most
    /// [`STDERR_TAIL`] characters.
    fn stderr_tail(&self, stderr: &[u8]) -> String {
        let text = self.scrub(&String::from_utf8_lossy(stderr));
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let mut kept: Vec<&str> = Vec::new();
        let mut len = 0;
        for line in lines.iter().rev() {
            let n = line.chars().count() + 3;
            if len + n > STDERR_TAIL {
                if kept.is_empty() {
                    // One long line: its end.
                    // `n` counts 3 for the separator, so a line a little under the tail
                    // still lands here: saturate (found by audit: 498 characters).
                    let skip = line.chars().count().saturating_sub(STDERR_TAIL - 1);
                    let start = line.char_indices().nth(skip).map_or(0, |(i, _)| i);
                    return format!("…{}", &line[start..]);
                }
                break;
            }
            kept.push(line);
            len += n;
        }
        kept.reverse();
        let joined = kept.join(" | ");
        if kept.len() < lines.len() {
            format!("… | {joined}")
        } else {
            joined
        }
    }

    /// Runs Describe and reads its output.
    async fn describe_output(&self) -> Result<Described, ProviderError> {
        let stdout = self.run(CommandKey::Describe).await?;
        self.parse_describe(&stdout)
    }

    fn parse_describe(&self, stdout: &[u8]) -> Result<Described, ProviderError> {
        let text = String::from_utf8_lossy(stdout);
        let bad = |why: String| {
            let shown = self.scrub(text.trim());
            let head: String = shown.chars().take(STDOUT_HEAD).collect();
            let more = if shown.chars().count() > STDOUT_HEAD {
                "…"
            } else {
                ""
            };
            ProviderError::new(
                ErrorClass::InvalidInput,
                format!(
                    "{} printed output ephflow cannot read ({why}); expected on stdout {DESCRIBE_SHAPE}; it printed: {head:?}{more}",
                    self.what(CommandKey::Describe)
                ),
            )
        };
        let value: Value =
            serde_json::from_str(text.trim()).map_err(|e| bad(format!("not JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(bad("not a JSON object".into()));
        };
        let state = match map.get("state") {
            Some(Value::String(s)) => parse_state(s)
                .ok_or_else(|| bad(format!("unknown state {s:?}; expected one of {STATES}")))?,
            Some(_) => return Err(bad("\"state\" is not a string".into())),
            None => return Err(bad("no \"state\"".into())),
        };
        let absent = if state == VmState::Running {
            CheckStatus::Ok
        } else {
            CheckStatus::NotApplicable
        };
        let check = |field: &str| match map.get(field) {
            None | Some(Value::Null) => Ok(absent),
            Some(Value::String(s)) => parse_check(s)
                .ok_or_else(|| bad(format!("unknown {field} {s:?}; expected one of {CHECKS}"))),
            Some(_) => Err(bad(format!("\"{field}\" is not a string"))),
        };
        let instance_check = check("instance_check")?;
        let system_check = check("system_check")?;
        let running_since = match map.get("running_since") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                chrono::DateTime::parse_from_rfc3339(s)
                    .map(SystemTime::from)
                    .map_err(|e| bad(format!("\"running_since\" is not an RFC 3339 time: {e}")))?,
            ),
            Some(_) => return Err(bad("\"running_since\" is not a string".into())),
        };
        Ok(Described {
            status: VmStatus {
                state,
                instance_check,
                system_check,
            },
            running_since,
        })
    }
}

/// What Describe reported.
struct Described {
    status: VmStatus,
    running_since: Option<SystemTime>,
}

const STATES: &str = "pending, running, stopping, stopped, shutting-down, terminated";
const CHECKS: &str = "ok, initializing, impaired, insufficient-data, not-applicable";

fn parse_state(s: &str) -> Option<VmState> {
    [
        VmState::Pending,
        VmState::Running,
        VmState::Stopping,
        VmState::Stopped,
        VmState::ShuttingDown,
        VmState::Terminated,
    ]
    .into_iter()
    .find(|v| v.name() == s)
}

fn parse_check(s: &str) -> Option<CheckStatus> {
    [
        CheckStatus::Ok,
        CheckStatus::Initializing,
        CheckStatus::Impaired,
        CheckStatus::InsufficientData,
        CheckStatus::NotApplicable,
    ]
    .into_iter()
    .find(|v| v.name() == s)
}

#[async_trait::async_trait]
impl VmProvider for CommandProvider {
    fn vm_id(&self) -> &str {
        &self.config.instance_id
    }

    async fn describe(&self) -> Result<VmStatus, ProviderError> {
        Ok(self.describe_output().await?.status)
    }

    async fn start(&self) -> Result<(), ProviderError> {
        self.run(CommandKey::Start).await.map(drop)
    }

    async fn stop(&self) -> Result<(), ProviderError> {
        self.run(CommandKey::Stop).await.map(drop)
    }

    async fn preflight(&self) -> Result<(), ProviderError> {
        if self.config.commands.check.is_some() {
            self.run(CommandKey::Check).await.map(drop)
        } else {
            self.describe_output().await.map(drop)
        }
    }

    async fn running_since(&self) -> Result<Option<SystemTime>, ProviderError> {
        Ok(self.describe_output().await?.running_since)
    }

    async fn credential_source(&self) -> Result<Option<String>, ProviderError> {
        let name = &self.name;
        Ok(Some(if self.secrets.is_empty() {
            format!(
                "the commands' own CLI configuration ({name}_AccessKey / {name}_SecretKey are not set, so none are passed)"
            )
        } else {
            let vars: Vec<&str> = self.secrets.iter().map(|(v, _)| v.as_str()).collect();
            format!("{}, passed to the commands", vars.join(" / "))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Commands;
    use ephflow_core::provider::StaticSecrets;

    const SENTINEL: &str = "s3cr3t-SENTINEL-value";

    fn provider() -> CommandProvider {
        let config = CommandVmConfig {
            instance_id: "vm-1".into(),
            region: None,
            commands: Commands {
                start: "true".into(),
                stop: "true".into(),
                describe: "true".into(),
                check: None,
                timeout_seconds: None,
            },
        };
        let secrets = StaticSecrets(vec![("VM_SecretKey".into(), Secret::new(SENTINEL))]);
        CommandProvider::new("VM", config, &secrets)
    }

    #[test]
    fn parses_the_describe_contract() {
        let p = provider();
        let d = p.parse_describe(br#" {"state": "running"} "#).unwrap();
        assert!(d.status.is_healthy());
        let d = p
            .parse_describe(br#"{"state": "stopped", "instance_check": null, "running_since": "2025-01-02T03:04:05+01:00"}"#)
            .unwrap();
        assert_eq!(d.status.state, VmState::Stopped);
        assert_eq!(d.status.instance_check, CheckStatus::NotApplicable);
        assert_eq!(
            d.running_since,
            Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_735_783_445))
        );
        let d = p
            .parse_describe(br#"{"state": "running", "instance_check": "initializing", "system_check": "insufficient-data"}"#)
            .unwrap();
        assert_eq!(d.status.instance_check, CheckStatus::Initializing);
        assert_eq!(d.status.system_check, CheckStatus::InsufficientData);
    }

    #[test]
    fn rejects_what_breaks_the_contract() {
        let p = provider();
        for (out, why) in [
            (&b"running"[..], "not JSON"),
            (b"[]", "not a JSON object"),
            (b"{}", "no \"state\""),
            (br#"{"state": "booting"}"#, "unknown state"),
            (
                br#"{"state": "running", "system_check": "green"}"#,
                "unknown system_check",
            ),
            (
                br#"{"state": "running", "running_since": "yesterday"}"#,
                "RFC 3339",
            ),
        ] {
            let e = p.parse_describe(out).err().unwrap();
            assert_eq!(e.class, ErrorClass::InvalidInput);
            assert!(e.message.contains("Commands.Describe for vm-1"), "{e}");
            assert!(e.message.contains(why), "{why}: {e}");
            assert!(e.message.contains(r#""state": "running""#), "{e}");
        }
        let long = format!("{SENTINEL} {}", "x".repeat(1000));
        let e = p.parse_describe(long.as_bytes()).err().unwrap();
        assert!(!e.message.contains(SENTINEL), "{e}");
        assert!(e.message.contains("[redacted] xxx"), "{e}");
        assert!(e.message.len() < 700, "{}", e.message.len());
    }

    #[test]
    fn stderr_tail_is_bounded_trimmed_and_scrubbed() {
        let p = provider();
        let mut err = String::new();
        for i in 0..100 {
            err.push_str(&format!("  line {i} with {SENTINEL}  \n"));
        }
        let tail = p.stderr_tail(err.as_bytes());
        assert!(tail.chars().count() <= STDERR_TAIL + 4, "{tail}");
        assert!(tail.ends_with("line 99 with [redacted]"), "{tail}");
        assert!(tail.starts_with("… | "), "{tail}");
        assert!(!tail.contains(SENTINEL));
        let one = "y".repeat(2000);
        let tail = p.stderr_tail(one.as_bytes());
        assert_eq!(tail.chars().count(), STDERR_TAIL);
        assert_eq!(p.stderr_tail(b"\n  \n"), "");
        // Lines just under the tail (found by audit: 498 characters underflowed).
        for n in STDERR_TAIL - 4..=STDERR_TAIL + 1 {
            let tail = p.stderr_tail("z".repeat(n).as_bytes());
            assert!(tail.chars().count() <= STDERR_TAIL + 1, "{n}: {tail}");
            assert!(tail.ends_with('z'), "{n}");
        }
    }

    #[test]
    fn exit_codes_map_to_classes() {
        assert_eq!(classify_exit(3).0, ErrorClass::NotFound);
        assert_eq!(classify_exit(4).0, ErrorClass::InvalidState);
        assert_eq!(classify_exit(75).0, ErrorClass::Temporary);
        assert_eq!(classify_exit(77).0, ErrorClass::PermissionDenied);
        assert_eq!(classify_exit(124).0, ErrorClass::Timeout);
        assert_eq!(classify_exit(127).0, ErrorClass::InvalidInput);
        assert_eq!(classify_exit(1).0, ErrorClass::Unsupported);
    }

    #[test]
    fn debug_redacts_the_credentials() {
        let shown = format!("{:?}", provider());
        assert!(!shown.contains(SENTINEL), "{shown}");
        assert!(shown.contains("[redacted]"));
    }
}
