//! The AWS EC2 provider on aws-sdk-ec2: four single requests per lifecycle operation; waiting
//! and retrying are the lifecycle engine's job, so the SDK's own retries are off.

use std::time::Duration;

use crate::oidc::{GitHubOidc, OidcCredentials};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::{Credentials, Region};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{InstanceStateName, SummaryStatus};
use ephflow_core::provider::{
    BuildContext, CheckStatus, ErrorClass, ProviderError, VmProvider, VmState, VmStatus,
};

/// An EC2 instance, started and stopped by id.
#[derive(Debug, Clone)]
pub struct Ec2Provider {
    client: Client,
    instance_id: String,
    /// VMConfig.Name, for messages naming the `<Name>_*` variables.
    name: String,
    /// VMConfig.RoleArn when this process has no OIDC token to assume it with.
    unassumable_role: Option<String>,
    source: CredentialSource,
    /// The SDK's credentials provider, kept so `credential_source` can resolve it.
    credentials: Option<aws_sdk_ec2::config::SharedCredentialsProvider>,
    operation_timeout: Duration,
}

/// Where the credentials came from (logged; the values never are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// `<Name>_AccessKey` / `<Name>_SecretKey`.
    NamedSecrets,
    /// The standard AWS chain: environment, profile, web identity (OIDC), instance metadata.
    DefaultChain,
    /// `VMConfig.RoleArn`, assumed with the GitHub Actions job's OIDC token.
    GitHubOidc,
}

/// Settings that are not in the workflow: where EC2 is, how long a request may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ec2Options {
    /// EC2 endpoint; `None` uses `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL`, else AWS.
    pub endpoint_url: Option<String>,
    /// Bound on one request, retries included (the SDK's own retries are off).
    pub operation_timeout: Duration,
}

impl Default for Ec2Options {
    fn default() -> Self {
        Ec2Options {
            endpoint_url: None,
            operation_timeout: Duration::from_secs(30),
        }
    }
}

impl Ec2Provider {
    /// Builds the provider from a VMConfig whose Provider is `AWS`.
    pub async fn build(ctx: BuildContext) -> Result<Self, ProviderError> {
        Self::build_with(ctx, Ec2Options::default()).await
    }

    /// [`Ec2Provider::build`] with explicit options (tests, embedding).
    pub async fn build_with(ctx: BuildContext, options: Ec2Options) -> Result<Self, ProviderError> {
        let config = &ctx.config;
        let field = |value: &Option<String>, name: &str| {
            value.clone().ok_or_else(|| {
                ProviderError::new(
                    ErrorClass::InvalidInput,
                    format!("VMConfig.{name} is required for Provider \"AWS\""),
                )
            })
        };
        // Set but blank (in GitHub Actions, `${{ secrets.X }}` of an unset secret), the SDK
        // panics on its first request (found by audit): refuse, naming the variable.
        if options.endpoint_url.is_none() {
            for var in [
                "AWS_ENDPOINT_URL_EC2",
                "AWS_ENDPOINT_URL_STS",
                "AWS_ENDPOINT_URL",
            ] {
                if std::env::var_os(var).is_some_and(|v| v.to_string_lossy().trim().is_empty()) {
                    return Err(ProviderError::new(
                        ErrorClass::InvalidInput,
                        format!(
                            "{var} is set but empty: unset it (AWS itself is then used) or set it to an endpoint URL; in GitHub Actions an unset secret gives an empty value"
                        ),
                    ));
                }
            }
        }
        let instance_id = field(&config.instance_id, "InstanceId")?;
        let region = field(&config.region, "Region")?;
        let access = ctx.secrets.get(&format!("{}_AccessKey", config.name));
        let secret = ctx.secrets.get(&format!("{}_SecretKey", config.name));
        let loader = || {
            aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(region.clone()))
                .retry_config(RetryConfig::disabled())
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(5).min(options.operation_timeout))
                        .operation_timeout(options.operation_timeout)
                        .build(),
                )
        };
        let mut ec2_loader = loader();
        if let Some(url) = &options.endpoint_url {
            ec2_loader = ec2_loader.endpoint_url(url);
        }
        let role = crate::config::role_arn(config);
        let token_request = GitHubOidc::from_env();
        // A RoleArn this job cannot assume (no OIDC token request): said when no credentials
        // turn up, since that is the likely reason.
        let unassumable_role = role.filter(|_| token_request.is_none()).map(str::to_owned);
        let oidc = role.zip(token_request);
        let source = match (access, secret, oidc) {
            (Some(a), Some(s), _) => {
                ec2_loader = ec2_loader.credentials_provider(Credentials::new(
                    a.expose(),
                    s.expose(),
                    None,
                    None,
                    "ephflow-named-secrets",
                ));
                CredentialSource::NamedSecrets
            }
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(ProviderError::new(
                    ErrorClass::InvalidInput,
                    format!(
                        "only one of {0}_AccessKey and {0}_SecretKey is set; set both, or neither to use the standard AWS credential chain",
                        config.name
                    ),
                ));
            }
            // Under GitHub Actions with `id-token: write`: the job's OIDC token, exchanged
            // once (STS's endpoint from the environment; the EC2 endpoint option is EC2's).
            (None, None, Some((role, oidc))) => {
                let sts_config = loader().no_credentials().load().await;
                let credentials =
                    OidcCredentials::exchange(oidc, role, sts_config, options.operation_timeout)
                        .await?;
                ec2_loader = ec2_loader.credentials_provider(credentials);
                CredentialSource::GitHubOidc
            }
            (None, None, None) => CredentialSource::DefaultChain,
        };
        tracing::info!(
            instance = %instance_id,
            credentials = ?source,
            "AWS provider ready (credential values are never logged)"
        );
        let sdk = ec2_loader.load().await;
        Ok(Ec2Provider {
            client: Client::new(&sdk),
            instance_id,
            name: config.name.clone(),
            unassumable_role,
            source,
            credentials: sdk.credentials_provider(),
            operation_timeout: options.operation_timeout,
        })
    }

    fn no_credentials(&self, failure: CredentialsFailure<'_>) -> ProviderError {
        no_credentials(&self.name, self.unassumable_role.as_deref(), failure)
    }

    fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        action: &str,
        err: SdkError<E>,
    ) -> ProviderError {
        // No credentials: the request was never sent (the SDK reports it as a dispatch
        // failure), and no retry can help.
        if let Some(failure) = credentials_failure(&err) {
            return self.no_credentials(failure);
        }
        match &err {
            SdkError::TimeoutError(_) => {
                return ProviderError::new(
                    ErrorClass::Timeout,
                    format!("ec2:{action} for {} timed out", self.instance_id),
                );
            }
            SdkError::DispatchFailure(e) => {
                return ProviderError::new(
                    ErrorClass::Temporary,
                    format!(
                        "ec2:{action} for {} could not be sent ({}); check the network or AWS_ENDPOINT_URL",
                        self.instance_id,
                        e.as_connector_error()
                            .map(|c| causes(c, &c.to_string()))
                            .unwrap_or_else(|| "no detail".into())
                    ),
                );
            }
            _ => {}
        }
        let code = err.code().unwrap_or("Unknown").to_owned();
        let detail = err.message().unwrap_or("no message").to_owned();
        let id = &self.instance_id;
        let (class, message) = match code.as_str() {
            "InvalidInstanceID.NotFound" => (
                ErrorClass::NotFound,
                format!(
                    "the instance {id} does not exist in this region; check VMConfig.InstanceId and VMConfig.Region"
                ),
            ),
            "InvalidInstanceID.Malformed" => (
                ErrorClass::InvalidInput,
                format!("{id} is not a valid EC2 instance id"),
            ),
            "IncorrectInstanceState" => (
                ErrorClass::InvalidState,
                format!("ec2:{action} refused for {id}: {detail}"),
            ),
            "UnauthorizedOperation" => (
                ErrorClass::PermissionDenied,
                format!(
                    "the credentials may not call ec2:{action} on {id}; grant ec2:{action} (`ephflow iam-policy` prints the policy ephflow needs)"
                ),
            ),
            "AuthFailure" | "InvalidClientTokenId" | "SignatureDoesNotMatch" => (
                ErrorClass::PermissionDenied,
                format!(
                    "AWS rejected the credentials for ec2:{action} on {id}; {}",
                    match self.source {
                        CredentialSource::NamedSecrets =>
                            format!("check the {0}_AccessKey / {0}_SecretKey secrets", self.name),
                        CredentialSource::GitHubOidc =>
                            "the session of VMConfig.RoleArn was refused: check the role".into(),
                        CredentialSource::DefaultChain =>
                            "check the credentials the standard AWS chain found".into(),
                    }
                ),
            ),
            "RequestLimitExceeded" | "Throttling" => (
                ErrorClass::RateLimited,
                format!("ec2:{action} for {id} was throttled"),
            ),
            "InsufficientInstanceCapacity" => (
                ErrorClass::Temporary,
                format!("AWS has no capacity to start {id} right now: {detail}"),
            ),
            "InternalError" | "Unavailable" | "ServiceUnavailable" | "InternalFailure" => (
                ErrorClass::Temporary,
                format!("ec2:{action} for {id} failed on AWS's side: {detail}"),
            ),
            "UnsupportedOperation" => (
                ErrorClass::Unsupported,
                format!("ec2:{action} is not supported for {id}: {detail}"),
            ),
            _ => {
                let class = match &err {
                    SdkError::ResponseError(_) => ErrorClass::Temporary,
                    SdkError::ServiceError(s) if s.raw().status().is_server_error() => {
                        ErrorClass::Temporary
                    }
                    _ => ErrorClass::InvalidInput,
                };
                (class, format!("ec2:{action} for {id} failed: {detail}"))
            }
        };
        ProviderError::new(class, message).with_code(code)
    }

    /// Sends a dry run; AWS answers `DryRunOperation` when the call would be allowed.
    fn dry_run_verdict<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        action: &str,
        result: Result<(), SdkError<E>>,
    ) -> Result<(), ProviderError> {
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some("DryRunOperation") => Ok(()),
            Err(e) => Err(self.classify(action, e)),
        }
    }
}

fn check(s: Option<&SummaryStatus>) -> CheckStatus {
    match s {
        Some(SummaryStatus::Ok) => CheckStatus::Ok,
        Some(SummaryStatus::Impaired) => CheckStatus::Impaired,
        Some(SummaryStatus::InsufficientData) => CheckStatus::InsufficientData,
        Some(SummaryStatus::Initializing) => CheckStatus::Initializing,
        _ => CheckStatus::NotApplicable,
    }
}

#[async_trait::async_trait]
impl VmProvider for Ec2Provider {
    fn vm_id(&self) -> &str {
        &self.instance_id
    }

    async fn describe(&self) -> Result<VmStatus, ProviderError> {
        let out = self
            .client
            .describe_instance_status()
            .instance_ids(&self.instance_id)
            .include_all_instances(true)
            .send()
            .await
            .map_err(|e| self.classify("DescribeInstanceStatus", e))?;
        let Some(s) = out.instance_statuses().first() else {
            return Err(ProviderError::new(
                ErrorClass::NotFound,
                format!(
                    "the instance {} does not exist in this region; check VMConfig.InstanceId and VMConfig.Region",
                    self.instance_id
                ),
            )
            .with_code("InvalidInstanceID.NotFound"));
        };
        let state = match s.instance_state().and_then(|st| st.name()) {
            Some(InstanceStateName::Pending) => VmState::Pending,
            Some(InstanceStateName::Running) => VmState::Running,
            Some(InstanceStateName::Stopping) => VmState::Stopping,
            Some(InstanceStateName::Stopped) => VmState::Stopped,
            Some(InstanceStateName::ShuttingDown) => VmState::ShuttingDown,
            Some(InstanceStateName::Terminated) => VmState::Terminated,
            other => {
                return Err(ProviderError::new(
                    ErrorClass::Temporary,
                    format!(
                        "the instance {} reports an unknown state {other:?}",
                        self.instance_id
                    ),
                ));
            }
        };
        Ok(VmStatus {
            state,
            instance_check: check(s.instance_status().and_then(|x| x.status())),
            system_check: check(s.system_status().and_then(|x| x.status())),
        })
    }

    async fn start(&self) -> Result<(), ProviderError> {
        self.client
            .start_instances()
            .instance_ids(&self.instance_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.classify("StartInstances", e))
    }

    async fn stop(&self) -> Result<(), ProviderError> {
        self.client
            .stop_instances()
            .instance_ids(&self.instance_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.classify("StopInstances", e))
    }

    async fn running_since(&self) -> Result<Option<std::time::SystemTime>, ProviderError> {
        let out = self
            .client
            .describe_instances()
            .instance_ids(&self.instance_id)
            .send()
            .await
            .map_err(|e| self.classify("DescribeInstances", e))?;
        let launched = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(self.instance_id.as_str()))
            .and_then(|i| i.launch_time())
            .and_then(|t| std::time::SystemTime::try_from(*t).ok());
        Ok(launched)
    }

    async fn credential_source(&self) -> Result<Option<String>, ProviderError> {
        use aws_sdk_ec2::config::ProvideCredentials;
        let name = &self.name;
        match self.source {
            CredentialSource::NamedSecrets => {
                return Ok(Some(format!("{name}_AccessKey / {name}_SecretKey")));
            }
            CredentialSource::GitHubOidc => {
                return Ok(Some("VMConfig.RoleArn, with GitHub's OIDC token".into()));
            }
            CredentialSource::DefaultChain => {}
        }
        let Some(chain) = &self.credentials else {
            return Err(self.no_credentials(CredentialsFailure::NoProvider));
        };
        // The chain tries its links only when asked; bounded, since instance metadata may not
        // answer off AWS.
        match tokio::time::timeout(self.operation_timeout, chain.provide_credentials()).await {
            Ok(Err(e)) => Err(self.no_credentials(CredentialsFailure::Chain(&e))),
            Err(_) => Err(self.no_credentials(CredentialsFailure::TimedOut)),
            Ok(Ok(_)) => Ok(Some("the standard AWS credential chain".into())),
        }
    }

    async fn preflight(&self) -> Result<(), ProviderError> {
        let id = &self.instance_id;
        let describe = self
            .client
            .describe_instance_status()
            .instance_ids(id)
            .include_all_instances(true)
            .dry_run(true)
            .send()
            .await
            .map(|_| ());
        self.dry_run_verdict("DescribeInstanceStatus", describe)?;
        let start = self
            .client
            .start_instances()
            .instance_ids(id)
            .dry_run(true)
            .send()
            .await
            .map(|_| ());
        self.dry_run_verdict("StartInstances", start)?;
        let stop = self
            .client
            .stop_instances()
            .instance_ids(id)
            .dry_run(true)
            .send()
            .await
            .map(|_| ());
        self.dry_run_verdict("StopInstances", stop)
    }
}

/// Why a request found no credentials to sign with.
#[derive(Debug)]
enum CredentialsFailure<'a> {
    /// ephflow's own credentials provider (OIDC) failed, and says why.
    Provider(&'a ProviderError),
    /// The credentials provider chain answered with this error.
    Chain(&'a CredentialsError),
    /// The chain did not answer in time (the SDK's identity cache gave up).
    TimedOut,
    /// The SDK config has no credentials provider at all.
    NoProvider,
}

/// The SDK's own wording for an identity resolution that ran out of time (the error type,
/// `aws_smithy_runtime`'s `TimedOutError`, is private, so only its text tells).
const IDENTITY_TIMEOUT: &str = "identity resolver timed out";

/// The credentials failure behind an SDK error, if that is why the request failed: the SDK
/// resolves the identity before sending, and reports a failure to as a dispatch failure whose
/// source chain holds the credentials provider's [`CredentialsError`].
fn credentials_failure<E, R>(err: &SdkError<E, R>) -> Option<CredentialsFailure<'_>>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let SdkError::DispatchFailure(dispatch) = err else {
        return None;
    };
    let connector = dispatch.as_connector_error()?;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(connector);
    while let Some(e) = cause {
        if let Some(p) = e.downcast_ref::<ProviderError>() {
            return Some(CredentialsFailure::Provider(p));
        }
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            // Ours, when its source is a ProviderError: keep walking to it.
            if std::error::Error::source(c)
                .is_none_or(|s| s.downcast_ref::<ProviderError>().is_none())
            {
                return Some(CredentialsFailure::Chain(c));
            }
        }
        if connector.is_other() && e.to_string().starts_with(IDENTITY_TIMEOUT) {
            return Some(CredentialsFailure::TimedOut);
        }
        cause = e.source();
    }
    None
}

/// `lead`, then the texts of `err`'s sources, each once (some errors repeat their source's
/// text in their own), capped: what a failure says without the SDK's debug dumps. Credential
/// providers' errors name the link that failed, never a credential value.
fn causes(err: &(dyn std::error::Error + 'static), lead: &str) -> String {
    let mut text = lead.to_owned();
    let mut cause = err.source();
    while let Some(e) = cause {
        let part = e.to_string();
        let part = part.trim_end_matches('.');
        if !part.is_empty() && !text.contains(part) {
            text.push_str(": ");
            text.push_str(part);
        }
        cause = e.source();
    }
    const MAX: usize = 400;
    if text.len() > MAX {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// A request without credentials: invalid input (not retried), naming what to set — and the
/// role that could not be assumed, when that is why.
fn no_credentials(
    name: &str,
    unassumable_role: Option<&str>,
    failure: CredentialsFailure<'_>,
) -> ProviderError {
    const CHAIN: &str = "the standard AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity (OIDC), instance metadata)";
    let found = match failure {
        // The chain's own "no providers in chain provided credentials" says no more.
        CredentialsFailure::Chain(CredentialsError::CredentialsNotLoaded(_))
        | CredentialsFailure::NoProvider => "found none".to_owned(),
        CredentialsFailure::Chain(e @ CredentialsError::ProviderTimedOut(_)) => {
            format!("did not answer in time ({e})")
        }
        CredentialsFailure::TimedOut => "did not answer in time (off AWS, instance metadata may never answer: set AWS_EC2_METADATA_DISABLED=true)".to_owned(),
        // The generic top line ("an error occurred while loading credentials") says less than
        // its sources.
        CredentialsFailure::Chain(e @ CredentialsError::InvalidConfiguration(_)) => {
            causes(e, "is misconfigured")
        }
        CredentialsFailure::Chain(e) => causes(e, "failed"),
        // A failed OIDC refresh says what failed itself.
        CredentialsFailure::Provider(e) => return e.clone(),
    };
    let role = unassumable_role.map_or_else(String::new, |role| {
        format!(
            " (VMConfig.RoleArn {role} is assumed only in a GitHub Actions job that may request an OIDC token: give the job `permissions: id-token: write`, as `register --builtins native` does)"
        )
    });
    ProviderError::new(
        ErrorClass::InvalidInput,
        format!(
            "no AWS credentials: {name}_AccessKey / {name}_SecretKey are not set, and {CHAIN} {found}{role}; set both {name}_AccessKey and {name}_SecretKey, or configure one of those"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::config::http::HttpResponse;
    use aws_sdk_ec2::error::ConnectorError;
    use aws_sdk_ec2::operation::describe_instance_status::DescribeInstanceStatusError;
    use ephflow_core::provider::{Secret, StaticSecrets};

    async fn provider() -> Ec2Provider {
        let config = serde_json::from_value(serde_json::json!({
            "Name": "TESTVM", "Provider": "AWS", "InstanceId": "i-0123456789abcdef0",
            "Region": "us-east-1"
        }))
        .unwrap();
        let secrets = StaticSecrets(vec![
            ("TESTVM_AccessKey".into(), Secret::new("AKIAFAKE")),
            ("TESTVM_SecretKey".into(), Secret::new("fake-secret")),
        ]);
        let ctx = BuildContext {
            config,
            secrets: std::sync::Arc::new(secrets),
        };
        let options = Ec2Options {
            endpoint_url: Some("http://127.0.0.1:9".into()),
            ..Ec2Options::default()
        };
        Ec2Provider::build_with(ctx, options).await.unwrap()
    }

    /// What the SDK's orchestrator makes of an identity resolution failure: a dispatch
    /// failure of kind "other" whose source is the resolver's error.
    fn not_sent(
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> SdkError<DescribeInstanceStatusError, HttpResponse> {
        SdkError::dispatch_failure(ConnectorError::other(source.into(), None))
    }

    #[tokio::test]
    async fn no_credentials_is_invalid_input_naming_the_secrets() {
        let vm = provider().await;
        let not_loaded = CredentialsError::not_loaded("no providers in chain provided credentials");
        let err = vm.classify("DescribeInstanceStatus", not_sent(not_loaded));
        assert_eq!(err.class, ErrorClass::InvalidInput, "{err}");
        assert!(!err.class.is_retryable());
        for needle in [
            "TESTVM_AccessKey",
            "TESTVM_SecretKey",
            "AWS_PROFILE",
            "OIDC",
        ] {
            assert!(err.message.contains(needle), "{needle}: {err}");
        }
        assert!(err.message.contains("found none"), "{err}");
        assert!(!err.message.contains("network"), "{err}");
        assert!(!err.message.contains("no providers in chain"), "{err}");
    }

    #[tokio::test]
    async fn a_failing_credential_source_says_why_without_the_generic_tail() {
        let vm = provider().await;
        let failed = CredentialsError::provider_error("request forbidden: IMDS is disabled.");
        let err = vm.classify("StartInstances", not_sent(failed));
        assert_eq!(err.class, ErrorClass::InvalidInput, "{err}");
        assert!(
            err.message
                .contains("failed: request forbidden: IMDS is disabled; set both"),
            "{err}"
        );
        assert!(!err.message.contains("an error occurred"), "{err}");
        let bad = CredentialsError::invalid_configuration("profile `x` loops");
        let err = vm.classify("StartInstances", not_sent(bad));
        assert_eq!(err.class, ErrorClass::InvalidInput, "{err}");
        assert!(
            err.message.contains("is misconfigured: profile `x` loops"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_network_failure_keeps_the_network_hint() {
        let vm = provider().await;
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let refused: SdkError<DescribeInstanceStatusError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(refused.into()));
        let err = vm.classify("DescribeInstanceStatus", refused);
        assert_eq!(err.class, ErrorClass::Temporary, "{err}");
        assert!(err.message.contains("check the network"), "{err}");
        assert!(
            err.message.contains("io error: connection refused"),
            "{err}"
        );
        // An "other" dispatch failure that is not about credentials stays a network one.
        let err = vm.classify("DescribeInstanceStatus", not_sent("connection reset"));
        assert_eq!(err.class, ErrorClass::Temporary, "{err}");
        assert!(err.message.contains("check the network"), "{err}");
    }

    #[tokio::test]
    async fn a_credential_chain_that_never_answers_is_named() {
        let vm = provider().await;
        let err = vm.classify(
            "DescribeInstanceStatus",
            not_sent("identity resolver timed out after 5s"),
        );
        assert_eq!(err.class, ErrorClass::InvalidInput, "{err}");
        assert!(err.message.contains("AWS_EC2_METADATA_DISABLED"), "{err}");
        assert!(err.message.contains("TESTVM_AccessKey"), "{err}");
    }
}
