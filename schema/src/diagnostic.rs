//! Problems found in a workflow, as users see them.

use std::fmt;

use serde::Serialize;

use crate::pointer;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The workflow is rejected.
    Error,
    /// The workflow is accepted, but probably does not do what its author wants.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem, located by JSON pointer, naming its culprit, what was expected and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable rule identifier (for example `unknown-server`), for scripts and documentation.
    pub code: &'static str,
    /// JSON pointer of the offending value (`""` is the whole document).
    pub pointer: String,
    /// The thing at fault, in words: `action "train"`, `compute server "GH"`, `VMConfig`, ...
    pub subject: String,
    /// What is wrong.
    pub message: String,
    /// What was expected, when that is useful.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `pointer`; the subject is derived from the pointer.
    pub fn error(
        code: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Error, code, pointer.into(), message.into())
    }

    /// A warning at `pointer`; the subject is derived from the pointer.
    pub fn warning(
        code: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Warning, code, pointer.into(), message.into())
    }

    fn new(severity: Severity, code: &'static str, pointer: String, message: String) -> Self {
        Diagnostic {
            severity,
            code,
            subject: subject_of(&pointer),
            pointer,
            message,
            expected: None,
            hint: None,
        }
    }

    /// Adds what was expected.
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Names the thing a pointer designates, the way a user thinks of it.
pub fn subject_of(ptr: &str) -> String {
    let tokens = pointer::tokens(ptr);
    let named = |kind: &str| match tokens.get(1) {
        Some(name) => format!("{kind} \"{name}\""),
        None => tokens[0].clone(),
    };
    match tokens.first().map(String::as_str) {
        None => "workflow".to_owned(),
        Some("ActionList") => named("action"),
        Some("ComputeServers") => named("compute server"),
        Some("DataStores") => named("data store"),
        Some("ActionContainers") => named("container of action"),
        Some(_) => tokens[0].clone(),
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}: {}",
            self.severity, self.code, self.subject, self.message
        )?;
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "\n  at: {at}")?;
        if let Some(e) = &self.expected {
            write!(f, "\n  expected: {e}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_pointer() {
        assert_eq!(
            subject_of("/ActionList/train/RequiresVM"),
            "action \"train\""
        );
        assert_eq!(subject_of("/ComputeServers/GH"), "compute server \"GH\"");
        assert_eq!(subject_of("/VMConfig/InstanceId"), "VMConfig");
        assert_eq!(subject_of("/ActionList"), "ActionList");
        assert_eq!(subject_of(""), "workflow");
    }
}
