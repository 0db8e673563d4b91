//! Which run of the workflow this is: `InvocationID` and `InvocationTimestamp`, created by the
//! entry action when empty and passed on to every later action in OVERWRITTEN.

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Utc};
use ephflow_schema::model::Workflow;

use super::ActionError;

/// FaaSr's `InvocationTimestamp` format (UTC; dashes, so it is safe in S3 keys).
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H-%M-%S";

/// The identity of one run of a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `InvocationID`.
    pub id: String,
    /// `InvocationTimestamp`.
    pub timestamp: String,
    /// Whether this action created them (it is the entry and they were empty).
    pub created: bool,
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned)
}

/// Formats `now` with a strftime pattern, refusing patterns chrono cannot format (it would
/// panic on them).
fn strftime(pattern: &str, now: DateTime<Utc>) -> Result<String, ActionError> {
    let items: Vec<Item> = StrftimeItems::new(pattern).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(ActionError::input(format!(
            "InvocationIDFromDate \"{pattern}\" is not a valid strftime pattern; use directives such as %Y%m%d%H%M"
        )));
    }
    Ok(now.format_with_items(items.into_iter()).to_string())
}

/// The invocation of `workflow` (after OVERWRITTEN is merged). The entry action creates the
/// ID (`new_id`, a UUID v4 in production, or `InvocationIDFromDate` formatted with `now`) and
/// the timestamp when they are empty; any other action must have received them.
pub fn resolve(
    workflow: &Workflow,
    is_entry: bool,
    now: DateTime<Utc>,
    new_id: impl FnOnce() -> String,
) -> Result<Invocation, ActionError> {
    let id = present(&workflow.invocation_id);
    let timestamp = present(&workflow.invocation_timestamp);
    if !is_entry {
        return match (id, timestamp) {
            (Some(id), Some(timestamp)) => Ok(Invocation {
                id,
                timestamp,
                created: false,
            }),
            (id, _) => Err(ActionError::input(format!(
                "OVERWRITTEN has no {} for \"{}\", which is not the workflow's entry: only the entry creates them; start the workflow with `ephflow invoke` (it dispatches the entry)",
                if id.is_none() {
                    "InvocationID"
                } else {
                    "InvocationTimestamp"
                },
                workflow.function_invoke
            ))),
        };
    }
    let created = id.is_none() || timestamp.is_none();
    let id = match id {
        Some(id) => id,
        None => match present(&workflow.invocation_id_from_date) {
            Some(pattern) => strftime(&pattern, now)?,
            None => new_id(),
        },
    };
    let timestamp = match timestamp {
        Some(t) => t,
        None => now.format(TIMESTAMP_FORMAT).to_string(),
    };
    Ok(Invocation {
        id,
        timestamp,
        created,
    })
}

/// A fresh UUID v4, FaaSr's default InvocationID.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::workflow;
    use chrono::TimeZone;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 19, 5, 9).unwrap()
    }

    #[test]
    fn the_entry_creates_what_is_empty() {
        let w = workflow(json!({"a": []}));
        let inv = resolve(&w, true, now(), || "uuid-1".into()).unwrap();
        assert_eq!(
            inv,
            Invocation {
                id: "uuid-1".into(),
                timestamp: "2026-12-04T19-05-09".into(),
                created: true
            }
        );
        let mut w = workflow(json!({"a": []}));
        w.invocation_id_from_date = Some("%Y%m%d%H%M".into());
        w.invocation_timestamp = Some(String::new());
        let inv = resolve(&w, true, now(), || unreachable!()).unwrap();
        assert_eq!((inv.id.as_str(), inv.created), ("202612041905", true));
        w.invocation_id = Some("given".into());
        w.invocation_timestamp = Some("2020-01-01T00-00-00".into());
        let inv = resolve(&w, true, now(), || unreachable!()).unwrap();
        assert_eq!(
            (inv.id.as_str(), inv.timestamp.as_str(), inv.created),
            ("given", "2020-01-01T00-00-00", false)
        );
    }

    #[test]
    fn others_must_receive_them() {
        let mut w = workflow(json!({"a": []}));
        let err = resolve(&w, false, now(), || unreachable!()).unwrap_err();
        assert!(err.to_string().contains("no InvocationID"), "{err}");
        w.invocation_id = Some("x".into());
        let err = resolve(&w, false, now(), || unreachable!()).unwrap_err();
        assert!(err.to_string().contains("no InvocationTimestamp"), "{err}");
    }

    #[test]
    fn bad_patterns_are_refused_not_panicked_on() {
        let mut w = workflow(json!({"a": []}));
        w.invocation_id_from_date = Some("%Y%Q%".into());
        let err = resolve(&w, true, now(), || unreachable!()).unwrap_err();
        assert!(err.to_string().contains("InvocationIDFromDate"), "{err}");
    }
}
