//! Secrets: where credentials come from, and a type that never prints them.

use std::fmt;

use ephflow_schema::model::{FaaSType, Workflow};
use ephflow_schema::pointer::from_tokens;

/// A credential value. `Debug` and `Display` print `[redacted]`; only [`Secret::expose`]
/// gives the value, for the one call that needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Looks up secrets by name (`<Name>_AccessKey`, `GH_PAT`, ...).
pub trait SecretSource: Send + Sync {
    /// The secret called `name`, if set and not empty.
    fn get(&self, name: &str) -> Option<Secret>;
}

/// Secrets from the process environment (how GitHub Actions passes repository secrets).
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvSecrets;

impl SecretSource for EnvSecrets {
    fn get(&self, name: &str) -> Option<Secret> {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    }
}

/// Secrets from a fixed list (tests, embedding).
#[derive(Debug, Clone, Default)]
pub struct StaticSecrets(pub Vec<(String, Secret)>);

impl SecretSource for StaticSecrets {
    fn get(&self, name: &str) -> Option<Secret> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
    }
}

/// A secret name a workflow implies, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedSecret {
    /// The secret's name (`GH_PAT`, `S3_AccessKey`, ...).
    pub name: String,
    /// What it derives from, for messages (`ComputeServers.GH`, `VMConfig.Name`, `Secrets`).
    pub from: String,
    /// JSON pointer of the name it derives from (`/ComputeServers/GH`, `/Secrets/0`).
    pub pointer: String,
}

/// Every secret the workflow's actions may need, in a stable order and without repeats:
/// compute servers (`<Server>_PAT`, `_AccessKey`, ...), data stores (`<Store>_AccessKey` /
/// `_SecretKey`), VMConfig (`<Name>_AccessKey` / `_SecretKey`), then the workflow's own
/// `Secrets`. Names are not checked here (see [`is_portable_secret_name`]).
pub fn derived_secrets(w: &Workflow) -> Vec<DerivedSecret> {
    let mut out: Vec<DerivedSecret> = Vec::new();
    let mut add = |name: String, from: String, pointer: String| {
        if !out.iter().any(|d| d.name == name) {
            out.push(DerivedSecret {
                name,
                from,
                pointer,
            });
        }
    };
    for (name, server) in &w.compute_servers {
        let suffixes: &[&str] = match server.faas_type {
            FaaSType::GitHubActions => &["PAT"],
            FaaSType::Lambda => &["AccessKey", "SecretKey"],
            FaaSType::OpenWhisk => &["APIkey"],
            FaaSType::GoogleCloud => &["SecretKey"],
            FaaSType::Slurm | FaaSType::Kubernetes => &["Token"],
        };
        for s in suffixes {
            add(
                format!("{name}_{s}"),
                format!("ComputeServers.{name}"),
                from_tokens(["ComputeServers", name]),
            );
        }
    }
    for name in w.data_stores.keys() {
        for s in ["AccessKey", "SecretKey"] {
            add(
                format!("{name}_{s}"),
                format!("DataStores.{name}"),
                from_tokens(["DataStores", name]),
            );
        }
    }
    if let Some(vm) = &w.vm_config {
        for s in ["AccessKey", "SecretKey"] {
            add(
                format!("{}_{s}", vm.name),
                "VMConfig.Name".to_owned(),
                "/VMConfig/Name".to_owned(),
            );
        }
    }
    for (i, s) in w.secrets.iter().flatten().enumerate() {
        add(s.clone(), "Secrets".to_owned(), format!("/Secrets/{i}"));
    }
    out
}

/// [`derived_secrets`] as (name, what it derives from) pairs.
pub fn derived_secret_names(w: &Workflow) -> Vec<(String, String)> {
    derived_secrets(w)
        .into_iter()
        .map(|d| (d.name, d.from))
        .collect()
}

/// Whether `name` can be a secret everywhere FaaSr passes secrets: a GitHub Actions secret
/// and an environment variable name (letters, digits, underscores; not starting with a
/// digit).
pub fn is_portable_secret_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("AKIASECRETVALUE");
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "AKIASECRETVALUE");
        let src = StaticSecrets(vec![("VM_AccessKey".into(), s)]);
        assert!(format!("{src:?}").contains("[redacted]"));
        assert!(!format!("{src:?}").contains("AKIA"));
    }
}
