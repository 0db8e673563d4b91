//! Name grammars of the FaaSr format, shared by the generated schema and the semantic checks.
//!
//! Each constant is a JSON-Schema-compatible regular expression (ECMA 262 subset that both the
//! Rust `jsonschema` crate and Python's `jsonschema` accept).

/// Action and workflow names: a letter, then letters, digits and dashes (FaaSr uses them in
/// GitHub workflow file names and S3 keys, so no underscores or dots).
pub const ACTION_NAME: &str = "^[a-zA-Z][a-zA-Z0-9-]*$";

/// An `InvokeNext` target: an action name, optionally ranked as `name(N)`.
pub const ACTION_REF: &str = r"^[a-zA-Z][a-zA-Z0-9-]*(?:\([0-9]+\))?$";

/// `FunctionName`: an identifier of the user's R/Python/Julia function.
pub const FUNCTION_NAME: &str = "^[a-zA-Z_][a-zA-Z0-9_]*$";

/// Names in the top-level `Secrets` list (environment-variable style).
pub const SECRET_NAME: &str = "^[A-Z][A-Z_0-9]*$";

/// A data store `Endpoint`: an `http://` or `https://` URL (FaaSr's S3 clients need the
/// scheme), or empty for AWS S3's default.
pub const S3_ENDPOINT: &str = r"^(https?://\S+)?$";

/// `InvocationIDFromDate`: strftime directives and dashes only.
pub const INVOCATION_ID_FROM_DATE: &str = "^%[YymdHMSjUWaAbBfzZ%-]([%YymdHMSjUWaAbBfzZ%-])*$";

/// A GitHub Actions self-hosted runner name: none of `" / : < > \ | * ?` (the schema adds the
/// 64-character limit separately, so each mistake gets its own message).
pub const RUNNER_NAME: &str = r#"^[^"/:<>\\|*?]+$"#;

/// Prefixes and names that ephflow (and FaaSr's reference tool) give to injected lifecycle
/// actions. A user action may not take them unless it is marked `_faasr_builtin`.
pub const INJECTED_START: &str = "faasr-vm-start";
/// Name (and prefix of the numbered variants) of injected stop actions.
pub const INJECTED_STOP: &str = "faasr-vm-stop";
/// Name (and prefix of the per-action variants) of injected poll actions.
pub const INJECTED_POLL: &str = "faasr-vm-poll";

/// `FunctionName` of the injected start action.
pub const START_FUNCTION: &str = "vm_start";
/// `FunctionName` of the injected poll actions.
pub const POLL_FUNCTION: &str = "vm_poll";
/// `FunctionName` of the injected stop actions.
pub const STOP_FUNCTION: &str = "vm_stop";

/// Whether `name` is, or looks like, the name of an injected lifecycle action.
pub fn is_injected_name(name: &str) -> bool {
    name == INJECTED_START || name.starts_with(INJECTED_STOP) || name.starts_with(INJECTED_POLL)
}

/// Whether `name` matches [`ACTION_NAME`], without a regex engine (hot path of graph building).
pub fn is_action_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names() {
        assert!(is_action_name("a"));
        assert!(is_action_name("run-weir-inflow2"));
        assert!(!is_action_name(""));
        assert!(!is_action_name("2a"));
        assert!(!is_action_name("a_b"));
        assert!(!is_action_name("-a"));
    }

    #[test]
    fn injected_names() {
        assert!(is_injected_name("faasr-vm-start"));
        assert!(is_injected_name("faasr-vm-stop-2"));
        assert!(is_injected_name("faasr-vm-poll-train"));
        assert!(!is_injected_name("faasr-vm-starter"));
        assert!(!is_injected_name("vm-start"));
    }
}
