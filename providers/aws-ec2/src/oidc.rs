//! AWS credentials from GitHub Actions' OIDC token, for a `VMConfig.RoleArn`: no long-lived key
//! in the repository's secrets.
//!
//! A job with `permissions: id-token: write` gets `ACTIONS_ID_TOKEN_REQUEST_URL` and
//! `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the token it fetches with them (audience
//! `sts.amazonaws.com`) is exchanged by STS `AssumeRoleWithWebIdentity` for credentials of the
//! role, whose trust policy names the repository (`ephflow iam-policy` prints one). The exchange
//! happens once, when the provider is built: every lifecycle command is far shorter than the
//! session (one hour).

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ec2::config::Credentials;
use ephflow_core::provider::{ErrorClass, ProviderError, Secret};

/// The variables GitHub Actions sets in a job that may request an OIDC token.
pub const REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// The bearer token of the OIDC token request (a secret).
pub const REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// The audience AWS expects (its OIDC provider's client id).
pub const AUDIENCE: &str = "sts.amazonaws.com";
/// Session length asked of STS: the default maximum of a role.
const SESSION_SECONDS: i32 = 3600;

/// Where this job may fetch its OIDC token.
#[derive(Debug)]
pub struct GitHubOidc {
    request_url: String,
    request_token: Secret,
}

impl GitHubOidc {
    /// The job's token request, when it runs under GitHub Actions with `id-token: write`.
    pub fn from_env() -> Option<Self> {
        let get = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Some(GitHubOidc {
            request_url: get(REQUEST_URL)?,
            request_token: Secret::new(get(REQUEST_TOKEN)?),
        })
    }

    /// Fetches the job's OIDC token for AWS. Neither the request token nor the answer is ever
    /// put in a message.
    pub async fn id_token(&self, timeout: Duration) -> Result<Secret, ProviderError> {
        let separator = if self.request_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{}{separator}audience={AUDIENCE}", self.request_url);
        let failed = |class, why: String| {
            ProviderError::new(
                class,
                format!("could not get GitHub's OIDC token for VMConfig.RoleArn: {why}"),
            )
        };
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| failed(ErrorClass::Temporary, e.to_string()))?;
        let response = client
            .get(&url)
            .bearer_auth(self.request_token.expose())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                let why = if e.is_timeout() {
                    "the token endpoint did not answer in time".to_owned()
                } else {
                    format!(
                        "the token endpoint could not be reached ({})",
                        e.without_url()
                    )
                };
                failed(ErrorClass::Temporary, why)
            })?;
        let status = response.status();
        if !status.is_success() {
            let class = match status.as_u16() {
                401 | 403 => ErrorClass::PermissionDenied,
                429 => ErrorClass::RateLimited,
                s if s >= 500 => ErrorClass::Temporary,
                _ => ErrorClass::InvalidInput,
            };
            return Err(failed(
                class,
                format!(
                    "the token endpoint answered {status}; does the job have `permissions: id-token: write`?"
                ),
            ));
        }
        let body = response.bytes().await.map_err(|e| {
            failed(
                ErrorClass::Temporary,
                format!("reading the answer failed ({})", e.without_url()),
            )
        })?;
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("value")?.as_str().map(Secret::new))
            .ok_or_else(|| {
                failed(
                    ErrorClass::Temporary,
                    "the answer has no token (`value`)".to_owned(),
                )
            })
    }
}

/// Exchanges `token` for credentials of `role_arn` through STS (`sdk`: region, timeouts and
/// endpoint; `AWS_ENDPOINT_URL_STS` points it elsewhere). STS's refusals name the fix.
pub async fn assume_role(
    sdk: &SdkConfig,
    role_arn: &str,
    token: &Secret,
) -> Result<Credentials, ProviderError> {
    let sts = aws_sdk_sts::Client::new(sdk);
    let session = std::env::var("GITHUB_RUN_ID")
        .ok()
        .filter(|id| id.chars().all(|c| c.is_ascii_digit()) && !id.is_empty())
        .map_or_else(|| "ephflow".to_owned(), |id| format!("ephflow-{id}"));
    let out = sts
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name(session)
        .web_identity_token(token.expose())
        .duration_seconds(SESSION_SECONDS)
        .send()
        .await
        .map_err(|e| {
            use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
            let (class, why) = match &e {
                SdkError::TimeoutError(_) => (ErrorClass::Timeout, "STS did not answer in time".to_owned()),
                SdkError::DispatchFailure(_) => (
                    ErrorClass::Temporary,
                    "STS could not be reached; check the network or AWS_ENDPOINT_URL_STS".to_owned(),
                ),
                _ => match e.code() {
                    Some("AccessDenied" | "InvalidIdentityToken" | "ExpiredTokenException") => (
                        ErrorClass::PermissionDenied,
                        format!(
                            "STS refused ({}); the role's trust policy must allow this repository and branch through token.actions.githubusercontent.com (`ephflow iam-policy` prints one)",
                            e.code().unwrap_or_default()
                        ),
                    ),
                    Some("IDPCommunicationError") => (
                        ErrorClass::Temporary,
                        "STS could not reach GitHub's OIDC provider".to_owned(),
                    ),
                    code => (
                        ErrorClass::InvalidInput,
                        format!(
                            "STS refused ({}: {})",
                            code.unwrap_or("Unknown"),
                            e.message().unwrap_or("no message")
                        ),
                    ),
                },
            };
            ProviderError::new(
                class,
                format!("could not assume VMConfig.RoleArn {role_arn} with GitHub's OIDC token: {why}"),
            )
        })?;
    let c = out.credentials().ok_or_else(|| {
        ProviderError::new(
            ErrorClass::Temporary,
            format!("STS answered AssumeRoleWithWebIdentity for {role_arn} without credentials"),
        )
    })?;
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        std::time::SystemTime::try_from(*c.expiration()).ok(),
        "ephflow-github-oidc",
    ))
}
