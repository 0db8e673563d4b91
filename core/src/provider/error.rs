//! Errors from providers and backends, classified so the lifecycle engine can decide between
//! retrying and failing, and the CLI can pick an exit code.

use std::fmt;
use std::time::Duration;

/// What kind of failure, as far as retrying and reporting go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The VM (or runner) does not exist.
    NotFound,
    /// The VM is in a state the operation cannot start from (for example terminated).
    InvalidState,
    /// The credentials are not allowed to do this.
    PermissionDenied,
    /// Throttled: retry later (after `retry_after` when given).
    RateLimited,
    /// A transient failure (network, 5xx, capacity): retry.
    Temporary,
    /// The configuration is wrong (bad id, missing field, missing credentials).
    InvalidInput,
    /// A wait or a request ran out of time.
    Timeout,
    /// The provider cannot do this at all.
    Unsupported,
    /// A request that is not safe to repeat (a workflow dispatch) got a 5xx or no answer:
    /// it may or may not have taken effect, so it is never retried blindly.
    OutcomeUnknown,
}

impl ErrorClass {
    /// Whether waiting and trying again can help (a request that timed out may well pass
    /// the next time; the lifecycle engine bounds the attempts).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorClass::RateLimited | ErrorClass::Temporary | ErrorClass::Timeout
        )
    }

    /// A short name for messages and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::NotFound => "not-found",
            ErrorClass::InvalidState => "invalid-state",
            ErrorClass::PermissionDenied => "permission-denied",
            ErrorClass::RateLimited => "rate-limited",
            ErrorClass::Temporary => "temporary",
            ErrorClass::InvalidInput => "invalid-input",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Unsupported => "unsupported",
            ErrorClass::OutcomeUnknown => "outcome-unknown",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A classified failure. The message names the thing (instance id, permission) and never
/// holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct ProviderError {
    /// The class.
    pub class: ErrorClass,
    /// The provider's own error code (for example `IncorrectInstanceState`).
    pub code: Option<String>,
    /// What happened and what to do.
    pub message: String,
    /// When the provider said to come back.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// An error of `class` with a message.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        ProviderError {
            class,
            code: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Adds the provider's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Adds a retry-after hint.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }
}
