//! The plugin registry: VM providers submit a [`ProviderRegistration`] with `inventory`.
//!
//! A provider crate is linked only if something names it, so the binary, the facade and each
//! integration-test crate name every shipped provider (`use ephflow_aws as _;`), and a test
//! asserts the exact registered set. Inventory order is unspecified: [`providers`] sorts by kind
//! and rejects duplicates, and everything downstream (schema, error listings) uses that order.

use std::sync::OnceLock;

use ephflow_schema::ProviderSchema;
use ephflow_schema::schemars::{Schema, SchemaGenerator};

use crate::provider::{BuildContext, BuildFuture, ErrorClass, ProviderError};

/// What a VM provider crate submits with `inventory::submit!`.
///
/// A plain record of `&'static str` and `fn` pointers, so that one record feeds the schema, the
/// validator's error messages and (later) construction of the provider.
#[derive(Clone, Copy)]
pub struct ProviderRegistration {
    /// The `VMConfig.Provider` value that selects this provider (for example `AWS`).
    pub kind: &'static str,
    /// One line describing the provider.
    pub description: &'static str,
    /// The provider's VMConfig schema: typically `|g| g.subschema_for::<MyConfig>()`.
    pub config_schema: fn(&mut SchemaGenerator) -> Schema,
    /// Builds the provider for a VMConfig whose `Provider` is `kind`.
    pub build: fn(BuildContext) -> BuildFuture,
    /// A CI step that stops the VM, run by hosted runners when a VM job fails or is cancelled
    /// (`None`: the provider has no such step).
    pub ci_stop_step: fn(&ephflow_schema::model::VmConfig) -> Option<crate::provider::CiStep>,
    /// The least-privilege access policy of the VM lifecycle for a VMConfig, in the cloud's
    /// own policy language (AWS: an IAM policy document), given the account when known
    /// (`None`: the provider writes its wildcard for it). `None`: the provider has no policy
    /// language, or the VMConfig lacks what the policy names.
    pub access_policy: AccessPolicyFn,
}

/// Builds a provider's access policy: (VMConfig, account) → policy document.
pub type AccessPolicyFn =
    fn(&ephflow_schema::model::VmConfig, Option<&str>) -> Option<serde_json::Value>;

inventory::collect!(ProviderRegistration);

/// What an execution backend crate submits with `inventory::submit!`, keyed by the
/// ComputeServers `FaaSType` it serves.
#[derive(Clone, Copy)]
pub struct BackendRegistration {
    /// The FaaSType (for example `GitHubActions`).
    pub faas_type: &'static str,
    /// One line describing the backend.
    pub description: &'static str,
    /// Builds the backend for one ComputeServers entry of that type.
    pub build: fn(crate::backend::BackendContext) -> crate::backend::BackendBuildFuture,
    /// Renders the deployment files of the workflow's actions on servers of that type
    /// (file name, text), given the VM provider's failure-teardown step; the error says why
    /// the workflow cannot be deployed.
    pub render: RenderFn,
}

/// Renders deployment files: (workflow, options) → (file name, text) pairs, or why not.
pub type RenderFn =
    fn(&ephflow_schema::model::Workflow, &RenderOptions) -> Result<Vec<(String, String)>, String>;

/// How to render deployment files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// The VM provider's failure-teardown step (when the workflow has a VM and its provider
    /// has one).
    pub stop_step: Option<crate::provider::CiStep>,
    /// Run the lifecycle actions with `ephflow action run` in this image, instead of FaaSr's
    /// runtime in the workflow's containers.
    pub native_builtin_image: Option<String>,
    /// Also render the scheduled reaper (`ephflow vm reap`), when the workflow has a VM.
    pub reaper: Option<ReaperOptions>,
}

/// The scheduled reaper's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaperOptions {
    /// An image with ephflow on PATH.
    pub image: String,
    /// Path of the workflow JSON in the repository (the reaper reads it from there).
    pub payload_path: String,
}

inventory::collect!(BackendRegistration);

impl std::fmt::Debug for BackendRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendRegistration")
            .field("faas_type", &self.faas_type)
            .finish_non_exhaustive()
    }
}

/// Every linked backend, sorted by FaaSType, duplicates rejected.
pub fn backends() -> Result<&'static [BackendRegistration], RegistryError> {
    static SORTED: OnceLock<Result<Vec<BackendRegistration>, RegistryError>> = OnceLock::new();
    SORTED
        .get_or_init(|| {
            let mut all: Vec<BackendRegistration> = inventory::iter::<BackendRegistration>
                .into_iter()
                .copied()
                .collect();
            all.sort_by_key(|r| r.faas_type);
            match all.windows(2).find(|w| w[0].faas_type == w[1].faas_type) {
                Some(w) => Err(RegistryError::DuplicateKind(w[0].faas_type)),
                None => Ok(all),
            }
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Builds the backend for a ComputeServers entry.
pub async fn build_backend(
    ctx: crate::backend::BackendContext,
) -> Result<Box<dyn crate::backend::ExecutionBackend>, ProviderError> {
    let faas_type = ctx.server.faas_type.as_str();
    let all = backends().map_err(|e| ProviderError::new(ErrorClass::Unsupported, e.to_string()))?;
    match all.iter().find(|b| b.faas_type == faas_type) {
        Some(b) => (b.build)(ctx).await,
        None => Err(ProviderError::new(
            ErrorClass::Unsupported,
            format!(
                "no execution backend for {faas_type} servers is linked; available: {}",
                all.iter()
                    .map(|b| b.faas_type)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

impl std::fmt::Debug for ProviderRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRegistration")
            .field("kind", &self.kind)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl ProviderRegistration {
    /// The record's contribution to the document schema.
    pub fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: self.kind,
            description: self.description,
            config_schema: self.config_schema,
        }
    }
}

/// The registry could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two linked crates registered the same provider kind (or backend FaaSType).
    #[error("two plugins are registered as \"{0}\"; link only one of them")]
    DuplicateKind(&'static str),
}

/// Every linked provider, sorted by kind, duplicates rejected.
pub fn providers() -> Result<&'static [ProviderRegistration], RegistryError> {
    static SORTED: OnceLock<Result<Vec<ProviderRegistration>, RegistryError>> = OnceLock::new();
    SORTED
        .get_or_init(|| sorted_unique(inventory::iter::<ProviderRegistration>.into_iter().copied()))
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// The provider registered for `kind`.
pub fn provider(kind: &str) -> Result<Option<&'static ProviderRegistration>, RegistryError> {
    Ok(providers()?.iter().find(|p| p.kind == kind))
}

/// Builds the provider that `ctx.config.Provider` names.
pub async fn build(
    ctx: BuildContext,
) -> Result<Box<dyn crate::provider::VmProvider>, ProviderError> {
    let kind = ctx.config.provider.clone();
    let registered =
        provider(&kind).map_err(|e| ProviderError::new(ErrorClass::Unsupported, e.to_string()))?;
    match registered {
        Some(p) => (p.build)(ctx).await,
        None => Err(ProviderError::new(
            ErrorClass::InvalidInput,
            format!(
                "VMConfig.Provider \"{kind}\" is not a registered VM provider; registered: {}",
                provider_kinds().unwrap_or_default().join(", ")
            ),
        )),
    }
}

/// The kinds of all linked providers, sorted.
pub fn provider_kinds() -> Result<Vec<&'static str>, RegistryError> {
    Ok(providers()?.iter().map(|p| p.kind).collect())
}

/// Sorts records by kind and rejects a kind registered twice.
pub fn sorted_unique<I>(records: I) -> Result<Vec<ProviderRegistration>, RegistryError>
where
    I: IntoIterator<Item = ProviderRegistration>,
{
    let mut all: Vec<ProviderRegistration> = records.into_iter().collect();
    all.sort_by_key(|r| r.kind);
    if let Some(w) = all.windows(2).find(|w| w[0].kind == w[1].kind) {
        return Err(RegistryError::DuplicateKind(w[0].kind));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &'static str) -> ProviderRegistration {
        ProviderRegistration {
            kind,
            description: "test",
            config_schema: |_| Schema::default(),
            build: |_| {
                Box::pin(async { Err(ProviderError::new(ErrorClass::Unsupported, "test record")) })
            },
            ci_stop_step: |_| None,
            access_policy: |_, _| None,
        }
    }

    #[test]
    fn sorts_by_kind() {
        let sorted = sorted_unique([record("ZZ"), record("AA"), record("MM")]).unwrap();
        let kinds: Vec<_> = sorted.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, ["AA", "MM", "ZZ"]);
    }

    #[test]
    fn rejects_duplicates() {
        assert_eq!(
            sorted_unique([record("AWS"), record("GCP"), record("AWS")]).unwrap_err(),
            RegistryError::DuplicateKind("AWS")
        );
    }
}
