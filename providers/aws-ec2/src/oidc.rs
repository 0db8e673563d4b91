//! AWS credentials from GitHub Actions' OIDC token, for a `VMConfig.RoleArn`: no long-lived key
//! in the repository's secrets.
//!
//! A job with `permissions: id-token: write` gets `ACTIONS_ID_TOKEN_REQUEST_URL` and
//! `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the token it fetches with them (audience
//! `sts.amazonaws.com`) is exchanged by STS `AssumeRoleWithWebIdentity` for credentials of the
//! role, whose trust policy names the repository (`ephflow iam-policy` prints one). The first
//! exchange happens when the provider is built, so its failures are reported as such; the SDK's
//! identity cache asks for a fresh one when a wait outlasts the one-hour session (the request
//! token is valid for the whole job).

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError, future};
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
                format!("the token endpoint answered {status}"),
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

/// The credentials of `VMConfig.RoleArn` for the SDK: the first exchange's, then a new
/// exchange whenever the identity cache finds them about to expire. A failed refresh carries
/// its [`ProviderError`] as the credentials error's source, so it is reported as itself.
#[derive(Debug)]
pub struct OidcCredentials {
    oidc: GitHubOidc,
    role_arn: String,
    sts_config: SdkConfig,
    timeout: Duration,
    first: Mutex<Option<Credentials>>,
}

impl OidcCredentials {
    /// Exchanges the job's token once; fails as that exchange does.
    pub async fn exchange(
        oidc: GitHubOidc,
        role_arn: &str,
        sts_config: SdkConfig,
        timeout: Duration,
    ) -> Result<Self, ProviderError> {
        let provider = OidcCredentials {
            oidc,
            role_arn: role_arn.to_owned(),
            sts_config,
            timeout,
            first: Mutex::new(None),
        };
        let first = provider.fetch().await?;
        *provider.first.lock().expect("not poisoned") = Some(first);
        Ok(provider)
    }

    /// A token and an exchange, tried three times when the failure is transient (a poll that
    /// failed on an STS hiccup would fail its job, and its teardown would stop the VM).
    async fn fetch(&self) -> Result<Credentials, ProviderError> {
        const PAUSES: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];
        let exchange = || async {
            let token = self.oidc.id_token(self.timeout).await?;
            assume_role(&self.sts_config, &self.role_arn, &token).await
        };
        ephflow_core::retry::transient(&PAUSES, exchange, |e, wait| {
            tracing::warn!("{e}; retrying in {wait:?}")
        })
        .await
    }
}

impl ProvideCredentials for OidcCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            // The first exchange's credentials serve until a few minutes before they expire.
            let soon = SystemTime::now() + Duration::from_secs(300);
            let first = self.first.lock().expect("not poisoned").take();
            if let Some(c) = first.filter(|c| c.expiry().is_none_or(|e| e > soon)) {
                return Ok(c);
            }
            self.fetch().await.map_err(CredentialsError::provider_error)
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
                    // STS's message tells the causes apart (no identity provider in the
                    // account, wrong audience, a subject the trust policy does not admit); it
                    // never holds the token.
                    Some("AccessDenied" | "InvalidIdentityToken" | "ExpiredTokenException") => (
                        ErrorClass::PermissionDenied,
                        format!(
                            "STS refused ({}: {}); the account needs the token.actions.githubusercontent.com identity provider, and the role's trust policy must admit this repository and branch (`ephflow iam-policy` prints one)",
                            e.code().unwrap_or_default(),
                            e.message().unwrap_or("no message")
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::BehaviorVersion;
    use aws_sdk_ec2::config::Region;
    use ephflow_core::testkit::http::{self, Reply};
    use ephflow_core::testkit::moto::Moto;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    /// The first exchange's credentials serve while fresh; near expiry (a wait longer than the
    /// session) the job's token is fetched and exchanged again, against moto's STS.
    #[tokio::test]
    async fn credentials_near_expiry_are_exchanged_again() {
        let Some(moto) = Moto::start() else { return };
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let url = http::serve(move |_| {
            counter.fetch_add(1, SeqCst);
            Reply::Send {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: r#"{"value":"header.claims.signature"}"#.into(),
            }
        });
        let sts_config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&moto.url)
            .no_credentials()
            .load()
            .await;
        let oidc = GitHubOidc {
            request_url: format!("{url}/token?api-version=2.0"),
            request_token: Secret::new("request-token"),
        };
        let role = "arn:aws:iam::123456789012:role/lifecycle";
        let provider = OidcCredentials::exchange(oidc, role, sts_config, Duration::from_secs(10))
            .await
            .expect("moto's STS assumes the role");
        assert_eq!(requests.load(SeqCst), 1, "one token for the first exchange");
        let fresh = provider.provide_credentials().await.unwrap();
        assert_eq!(
            requests.load(SeqCst),
            1,
            "fresh credentials are served as they are"
        );
        assert!(fresh.session_token().is_some());

        let expiring = Credentials::new(
            "AKIAEXPIRING",
            "expiring",
            None,
            Some(SystemTime::now() + Duration::from_secs(60)),
            "test",
        );
        *provider.first.lock().unwrap() = Some(expiring);
        let renewed = provider.provide_credentials().await.unwrap();
        assert_eq!(requests.load(SeqCst), 2, "a new token for the new exchange");
        assert_ne!(renewed.access_key_id(), "AKIAEXPIRING");
    }
}
