//! The whole workflow document.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::action::Action;
use super::datastore::DataStore;
use super::packages::OneOrMany;
use super::servers::ComputeServer;
use super::vm::VmConfig;
use crate::names;

/// A FaaSr workflow: a DAG of actions, the servers they run on, the data stores they use and,
/// optionally, the VM that actions marked `RequiresVM` run on.
///
/// Maps keep file order. Top-level keys this model does not know are kept in [`Workflow::extra`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    extend("additionalProperties" = true),
    title = "FaaSr workflow (ephflow)",
    description = "A FaaSr workflow: a DAG of actions on serverless compute servers; with ephflow, \
                   actions marked RequiresVM run on an ephemeral VM described by VMConfig."
)]
pub struct Workflow {
    /// The JSON Schema this file follows (lets editors validate and complete it).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,

    /// Name of the workflow; prefixes its GitHub Actions workflow files and log folders.
    #[serde(rename = "WorkflowName")]
    #[schemars(length(min = 1), pattern(names::ACTION_NAME))]
    pub workflow_name: String,

    /// The entry action: the one action with no predecessor, from which every other action is
    /// reached. At run time FaaSr overwrites it with the action being run.
    #[serde(rename = "FunctionInvoke")]
    #[schemars(length(min = 1))]
    pub function_invoke: String,

    /// Unique id shared by every action of one run; created by the entry action when empty.
    #[serde(
        rename = "InvocationID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invocation_id: Option<String>,

    /// strftime pattern deriving InvocationID from the invocation time (for example `%Y%m%d`).
    #[serde(
        rename = "InvocationIDFromDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(pattern(names::INVOCATION_ID_FROM_DATE))]
    pub invocation_id_from_date: Option<String>,

    /// Time of the run, set by the entry action (`%Y-%m-%dT%H-%M-%S`).
    #[serde(
        rename = "InvocationTimestamp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invocation_timestamp: Option<String>,

    /// Rank of the running copy of a ranked action; set at run time.
    #[serde(
        rename = "FunctionRank",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub function_rank: Option<i64>,

    /// Data store for files whose action names no other store.
    #[serde(rename = "DefaultDataStore")]
    #[schemars(length(min = 1))]
    pub default_data_store: String,

    /// Data store receiving the logs and completion markers. The FaaSr runtime expects the key
    /// (null is accepted).
    #[serde(
        rename = "LoggingDataStore",
        default,
        skip_serializing_if = "Option::is_none",
        with = "nullable"
    )]
    #[schemars(with = "Option<String>", extend("x-ephflow-nullable" = true))]
    pub logging_data_store: Option<Option<String>>,

    /// Folder for logs and completion markers in the logging data store. The FaaSr runtime
    /// expects the key (null is accepted).
    #[serde(
        rename = "FaaSrLog",
        default,
        skip_serializing_if = "Option::is_none",
        with = "nullable"
    )]
    #[schemars(with = "Option<String>", extend("x-ephflow-nullable" = true))]
    pub faasr_log: Option<Option<String>>,

    /// The actions, by name.
    #[serde(rename = "ActionList")]
    #[schemars(extend(
        "minProperties" = 1,
        "propertyNames" = {"minLength": 1, "pattern": names::ACTION_NAME}
    ))]
    pub action_list: IndexMap<String, Action>,

    /// The compute servers, by name.
    #[serde(rename = "ComputeServers")]
    #[schemars(extend("minProperties" = 1, "propertyNames" = {"minLength": 1}))]
    pub compute_servers: IndexMap<String, ComputeServer>,

    /// The S3-compatible data stores, by name.
    #[serde(rename = "DataStores")]
    #[schemars(extend("minProperties" = 1, "propertyNames" = {"minLength": 1}))]
    pub data_stores: IndexMap<String, DataStore>,

    /// The ephemeral VM for actions marked RequiresVM.
    #[serde(rename = "VMConfig", default, skip_serializing_if = "Option::is_none")]
    pub vm_config: Option<VmConfig>,

    /// Container image per action name.
    #[serde(
        rename = "ActionContainers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("minProperties" = 1, "propertyNames" = {"minLength": 1}))]
    pub action_containers: Option<IndexMap<String, NonEmptyString>>,

    /// Repository (`owner/repo[/path]`) holding each function's code, by function name.
    #[serde(
        rename = "FunctionGitRepo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub function_git_repo: Option<PackageMap>,

    /// Local file holding each function's code inside the container, by function name.
    #[serde(
        rename = "FunctionLocalFile",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("minProperties" = 1, "propertyNames" = {"minLength": 1}))]
    pub function_local_file: Option<IndexMap<String, NonEmptyString>>,

    /// CRAN packages to install, by function name.
    #[serde(
        rename = "FunctionCRANPackage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub function_cran_package: Option<PackageMap>,

    /// R packages from GitHub to install, by function name.
    #[serde(
        rename = "FunctionGitHubPackage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub function_github_package: Option<PackageMap>,

    /// PyPI packages to install, by function name.
    #[serde(
        rename = "PyPIPackageDownloads",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pypi_package_downloads: Option<PackageMap>,

    /// Python packages from GitHub to install, by function name.
    #[serde(
        rename = "PythonPackageGitHub",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub python_package_github: Option<PackageMap>,

    /// Conda packages to install, by function name.
    #[serde(
        rename = "PythonCondaPackage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub python_conda_package: Option<PackageMap>,

    /// Re-run a function even if this InvocationID already completed it.
    #[serde(
        rename = "RerunOnMatchedInvocationID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("default" = true))]
    pub rerun_on_matched_invocation_id: Option<bool>,

    /// Names of extra repository secrets passed to every action.
    #[serde(rename = "Secrets", default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(pattern(names::SECRET_NAME)))]
    pub secrets: Option<Vec<String>>,

    /// Keys this model does not know (for example `FunctionGitRepoBranch`), kept as written.
    ///
    /// Filled by [`Workflow::from_value`] (and so by `Document::workflow`); plain serde
    /// deserialization leaves it empty, because a flattened map would make serde buffer the
    /// whole document (ActionList included) a second time.
    #[serde(flatten, skip_deserializing)]
    pub extra: Map<String, Value>,
}

/// Function name → one package or a list (a newtype so the schema carries FaaSr's limits).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(extend("minProperties" = 1, "propertyNames" = {"minLength": 1}))]
pub struct PackageMap(pub IndexMap<String, OneOrMany>);

/// A string that must not be empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct NonEmptyString(#[schemars(length(min = 1))] pub String);

impl Workflow {
    /// The top-level keys the model knows, as written in JSON.
    pub const FIELDS: [&'static str; 24] = [
        "$schema",
        "WorkflowName",
        "FunctionInvoke",
        "InvocationID",
        "InvocationIDFromDate",
        "InvocationTimestamp",
        "FunctionRank",
        "DefaultDataStore",
        "LoggingDataStore",
        "FaaSrLog",
        "ActionList",
        "ComputeServers",
        "DataStores",
        "VMConfig",
        "ActionContainers",
        "FunctionGitRepo",
        "FunctionLocalFile",
        "FunctionCRANPackage",
        "FunctionGitHubPackage",
        "PyPIPackageDownloads",
        "PythonPackageGitHub",
        "PythonCondaPackage",
        "RerunOnMatchedInvocationID",
        "Secrets",
    ];

    /// Reads a workflow from a JSON value, keeping unknown top-level keys in
    /// [`Workflow::extra`].
    pub fn from_value(value: &Value) -> Result<Self, serde_json::Error> {
        let mut w = Workflow::deserialize(value)?;
        w.keep_unknown_keys(value);
        Ok(w)
    }

    /// Copies the top-level keys of `value` that the model does not know into
    /// [`Workflow::extra`] (serde deserialization leaves it empty).
    pub fn keep_unknown_keys(&mut self, value: &Value) {
        if let Value::Object(map) = value {
            self.extra = map
                .iter()
                .filter(|(k, _)| !Self::FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
        }
    }

    /// Actions marked `RequiresVM: true`, in file order.
    pub fn vm_actions(&self) -> impl Iterator<Item = (&str, &Action)> {
        self.action_list
            .iter()
            .filter(|(_, a)| a.requires_vm())
            .map(|(n, a)| (n.as_str(), a))
    }
}

/// `Option<Option<T>>` that tells a missing key (`None`) from an explicit null (`Some(None)`).
mod nullable {
    use super::*;

    pub fn serialize<S: Serializer, T: Serialize>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_exactly_the_model_properties() {
        let schema = schemars::schema_for!(Workflow);
        let properties: Vec<&str> = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(properties, Workflow::FIELDS);
    }
}
