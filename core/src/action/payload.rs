//! The two inputs of every FaaSr action job: `PAYLOAD_URL` (where the workflow JSON is) and
//! `OVERWRITTEN` (the top-level fields that changed at run time).

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::ActionError;

/// `<owner>/<repo>/<branch>/<path of the workflow JSON>`, as FaaSr passes it. The branch is one
/// path segment (FaaSr's format cannot tell `a/b` branches from directories).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadUrl {
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// Branch holding the file.
    pub branch: String,
    /// Path of the workflow JSON in the repository.
    pub path: String,
}

impl FromStr for PayloadUrl {
    type Err = ActionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.trim().splitn(4, '/');
        let mut next = || parts.next().filter(|p| !p.is_empty()).map(str::to_owned);
        match (next(), next(), next(), next()) {
            (Some(owner), Some(repo), Some(branch), Some(path)) if !path.ends_with('/') => {
                Ok(PayloadUrl {
                    owner,
                    repo,
                    branch,
                    path,
                })
            }
            _ => Err(ActionError::input(format!(
                "PAYLOAD_URL \"{text}\" is not <owner>/<repo>/<branch>/<path of the workflow JSON>; dispatch the action with `ephflow invoke` or FaaSr, which set it"
            ))),
        }
    }
}

impl fmt::Display for PayloadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.owner, self.repo, self.branch, self.path
        )
    }
}

/// Parses OVERWRITTEN: a JSON object (an empty or blank text counts as `{}`).
pub fn parse_overwritten(text: &str) -> Result<Map<String, Value>, ActionError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ActionError::input(format!(
            "OVERWRITTEN is {}, not an object of workflow fields such as {{\"FunctionInvoke\": \"...\"}}",
            ephflow_schema::document::json_type(&other)
        ))),
        Err(e) => Err(ActionError::input(format!(
            "OVERWRITTEN is not JSON ({e}); it should be an object such as {{\"FunctionInvoke\": \"...\"}}"
        ))),
    }
}

/// Replaces `doc`'s top-level fields with OVERWRITTEN's, as FaaSr's runtime does (a shallow
/// merge: a field in OVERWRITTEN replaces the whole field).
pub fn merge(doc: &mut Map<String, Value>, overwritten: &Map<String, Value>) {
    for (key, value) in overwritten {
        doc.insert(key.clone(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_urls() {
        let url: PayloadUrl = "org/repo/main/workflows/ml.json".parse().unwrap();
        assert_eq!(
            (
                url.owner.as_str(),
                url.repo.as_str(),
                url.branch.as_str(),
                url.path.as_str()
            ),
            ("org", "repo", "main", "workflows/ml.json")
        );
        assert_eq!(url.to_string(), "org/repo/main/workflows/ml.json");
        for bad in [
            "",
            "org/repo/main",
            "org//main/x.json",
            "org/repo/main/",
            "/repo/b/x",
        ] {
            let err = bad.parse::<PayloadUrl>().unwrap_err().to_string();
            assert!(err.contains("<owner>/<repo>/<branch>"), "{bad}: {err}");
        }
    }

    #[test]
    fn overwritten_is_an_object_merged_shallowly() {
        assert!(parse_overwritten("  ").unwrap().is_empty());
        let o =
            parse_overwritten(r#"{"FunctionInvoke": "b", "DataStores": {"S3": {"Bucket": "x"}}}"#)
                .unwrap();
        let mut doc = json!({"FunctionInvoke": "a", "DataStores": {"S3": {"Bucket": "y", "Region": "r"}}, "WorkflowName": "w"});
        merge(doc.as_object_mut().unwrap(), &o);
        assert_eq!(
            doc,
            json!({"FunctionInvoke": "b", "DataStores": {"S3": {"Bucket": "x"}}, "WorkflowName": "w"})
        );
        assert!(
            parse_overwritten("[1]")
                .unwrap_err()
                .to_string()
                .contains("is an array")
        );
        assert!(
            parse_overwritten("{")
                .unwrap_err()
                .to_string()
                .contains("not JSON")
        );
    }
}
