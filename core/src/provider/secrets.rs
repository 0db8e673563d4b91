//! Secrets: where credentials come from, and a type that never prints them.

use std::fmt;

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
