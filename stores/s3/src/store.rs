//! Building the client from a `DataStores` entry, and the four store operations.
//!
//! Everything a request may do is bounded here (timeouts, the client's own retries), because
//! the callers are lifecycle actions on a CI runner with a time budget. Conditional creates get
//! their own client without retries: a create retried after an ambiguous failure can find its
//! own object and report "already exists", so the caller, which knows what the body means,
//! decides (the trait promises single requests).

use std::fmt;
use std::time::Duration;

use ephflow_core::action::store::{CompletionStore, Created};
use ephflow_core::provider::{ErrorClass, ProviderError, Secret, SecretSource};
use ephflow_core::schema::model::DataStore;
use object_store::aws::{AmazonS3, AmazonS3Builder, S3ConditionalPut};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, RetryConfig,
};

use crate::error::{Context, Op, classify, is_create_conflict, is_missing_key};

/// The region used when the data store names none (FaaSr's default too).
const DEFAULT_REGION: &str = "us-east-1";

/// Client settings that do not come from the workflow.
///
/// The defaults bound one store call to roughly a minute in the worst case: at most
/// `max_retries` retries of requests that fail with 5xx, 429 or a connection error, none
/// started after `retry_timeout`, each request at most `request_timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Options {
    /// The endpoint to use when the data store has no `Endpoint` (tests point this at moto);
    /// `None` means AWS S3 in the data store's region. A data store's own `Endpoint` wins.
    pub endpoint_url: Option<String>,
    /// Retries inside the client for reads and overwrites (`create_new` never retries).
    pub max_retries: usize,
    /// No retry starts later than this after the first attempt.
    pub retry_timeout: Duration,
    /// Bound on one HTTP request, from connecting to the end of the body.
    pub request_timeout: Duration,
    /// Bound on establishing a connection.
    pub connect_timeout: Duration,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            endpoint_url: None,
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A [`CompletionStore`] on one S3-compatible bucket.
///
/// `Debug` shows the bucket, endpoint, region and whether requests are signed; never a
/// credential.
pub struct S3Store {
    ctx: Context,
    /// Reads and overwrites: the client retries transient failures.
    client: AmazonS3,
    /// Conditional creates: one request, no retries.
    create_client: AmazonS3,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("data_store", &self.ctx.name)
            .field("bucket", &self.ctx.bucket)
            .field("endpoint", &self.ctx.endpoint)
            .field("region", &self.ctx.region)
            .field("signed", &self.ctx.signed)
            .finish()
    }
}

impl S3Store {
    /// The store for the `DataStores` entry `name`.
    ///
    /// Credentials are the secrets `<name>_AccessKey` and `<name>_SecretKey`: both set means
    /// signed requests; neither set with `Anonymous: "TRUE"` means unsigned ones. Anything
    /// else is [`ErrorClass::InvalidInput`] naming the variables to set. The endpoint is the
    /// entry's `Endpoint` (path-style requests; plain HTTP only for an `http://` endpoint),
    /// else [`S3Options::endpoint_url`], else AWS S3 in `Region` (default `us-east-1`). Every
    /// problem with the entry is reported at once. No request is sent.
    pub fn from_data_store(
        name: &str,
        store: &DataStore,
        secrets: &dyn SecretSource,
        options: S3Options,
    ) -> Result<S3Store, ProviderError> {
        let mut problems = Vec::new();
        let bucket = store.bucket.trim().to_owned();
        if bucket.is_empty() {
            problems.push("Bucket is empty: name the bucket".to_owned());
        } else if !bucket
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '/' | '?' | '#'))
        {
            problems.push(format!(
                "Bucket {bucket:?} is not a bucket name (letters, digits, dots, dashes)"
            ));
        }
        let region = store
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(DEFAULT_REGION)
            .to_owned();
        if !region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            problems.push(format!(
                "Region {region:?} is not a region name (for example us-east-1)"
            ));
        }

        let custom = store
            .endpoint
            .as_deref()
            .map(|e| ("Endpoint", e))
            .or(options
                .endpoint_url
                .as_deref()
                .map(|e| ("the endpoint override", e)))
            .map(|(what, e)| (what, e.trim()))
            .filter(|(_, e)| !e.is_empty());
        let endpoint = match custom {
            Some((what, url)) => match check_endpoint(url) {
                Ok(url) => Some(url),
                Err(why) => {
                    problems.push(format!("{what} {url:?} {why}"));
                    None
                }
            },
            None => None,
        };

        let anonymous = match store.anonymous.as_deref().map(str::trim) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("TRUE") => true,
            Some(v) if v.eq_ignore_ascii_case("FALSE") || v.is_empty() => false,
            Some(v) => {
                problems.push(format!(
                    "Anonymous must be \"TRUE\" or \"FALSE\", not {v:?}"
                ));
                false
            }
        };

        let access_var = format!("{name}_AccessKey");
        let secret_var = format!("{name}_SecretKey");
        let present = |var: &str| secrets.get(var).filter(|s| !s.expose().is_empty());
        let credentials = match (present(&access_var), present(&secret_var)) {
            (Some(access), Some(secret)) => {
                // They travel in (or sign) HTTP headers; the values are never quoted.
                for (var, value) in [(&access_var, &access), (&secret_var, &secret)] {
                    if !value.expose().chars().all(|c| c.is_ascii_graphic()) {
                        problems.push(format!(
                            "{var} holds a space, a control or a non-ASCII character, which no \
                             S3 credential has: check the repository secret"
                        ));
                    }
                }
                Some((access, secret))
            }
            (Some(_), None) => {
                problems.push(format!(
                    "{secret_var} is not set but {access_var} is: set the repository secret \
                     {secret_var} too"
                ));
                None
            }
            (None, Some(_)) => {
                problems.push(format!(
                    "{access_var} is not set but {secret_var} is: set the repository secret \
                     {access_var} too"
                ));
                None
            }
            (None, None) if anonymous => None,
            (None, None) => {
                problems.push(format!(
                    "no credentials: set the repository secrets {access_var} and {secret_var}, \
                     or Anonymous: \"TRUE\" for a public bucket"
                ));
                None
            }
        };

        if !problems.is_empty() {
            return Err(ProviderError::new(
                ErrorClass::InvalidInput,
                format!("data store {name:?}: {}", problems.join("; ")),
            ));
        }

        let allow_http = endpoint
            .as_deref()
            .and_then(|e| e.get(..7))
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
        // Virtual-hosted requests on AWS (its recommended style); path-style for custom
        // endpoints (MinIO, moto, ...) and for bucket names with dots, which break TLS
        // certificates in host names.
        let virtual_hosted = endpoint.is_none() && !bucket.contains('.');
        let describe_endpoint = endpoint.clone().unwrap_or_else(|| {
            if virtual_hosted {
                format!("https://{bucket}.s3.{region}.amazonaws.com")
            } else {
                format!("https://s3.{region}.amazonaws.com")
            }
        });

        let build = |max_retries: usize| {
            let client_options = ClientOptions::new()
                .with_timeout(options.request_timeout)
                .with_connect_timeout(options.connect_timeout)
                .with_allow_http(allow_http);
            let mut builder = AmazonS3Builder::new()
                .with_bucket_name(&bucket)
                .with_region(&region)
                .with_virtual_hosted_style_request(virtual_hosted)
                .with_conditional_put(S3ConditionalPut::ETagMatch)
                .with_client_options(client_options)
                .with_retry(RetryConfig {
                    backoff: BackoffConfig {
                        init_backoff: Duration::from_millis(200),
                        max_backoff: Duration::from_secs(5),
                        base: 2.0,
                    },
                    max_retries,
                    retry_timeout: options.retry_timeout,
                });
            if let Some(endpoint) = &endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            builder = match &credentials {
                Some((access, secret)) => builder
                    .with_access_key_id(access.expose())
                    .with_secret_access_key(secret.expose()),
                None => builder.with_skip_signature(true),
            };
            builder.build()
        };
        let built = build(options.max_retries).and_then(|c| Ok((c, build(0)?)));
        let redact: Vec<Secret> = credentials
            .iter()
            .flat_map(|(a, s)| [a.clone(), s.clone()])
            .collect();
        let ctx = Context {
            name: name.to_owned(),
            bucket,
            endpoint: describe_endpoint,
            region,
            signed: credentials.is_some(),
            access_var,
            secret_var,
            redact,
        };
        let (client, create_client) = built.map_err(|e| {
            ProviderError::new(
                ErrorClass::InvalidInput,
                ctx.redacted(format!(
                    "data store {name:?}: cannot configure the S3 client for {}: {e}",
                    ctx.describe()
                )),
            )
        })?;
        tracing::debug!(
            store = %ctx.describe(),
            signed = ctx.signed,
            "S3 completion store for data store {name:?}"
        );
        Ok(S3Store {
            ctx,
            client,
            create_client,
        })
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.ctx.bucket
    }

    fn path(&self, key: &str) -> Result<Path, ProviderError> {
        let invalid = |why: String| {
            ProviderError::new(
                ErrorClass::InvalidInput,
                format!(
                    "{}: {key:?} is not a usable object key: {why}",
                    self.ctx.describe()
                ),
            )
        };
        if key.trim_matches('/').is_empty() {
            return Err(invalid("it is empty".into()));
        }
        Path::parse(key).map_err(|e| invalid(e.to_string()))
    }

    /// Reads the object; `Ok(None)` when the key (not the bucket) is missing.
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, ProviderError> {
        let path = self.path(key)?;
        let result = match self.client.get(&path).await {
            Ok(result) => result,
            Err(e) if is_missing_key(&e) => return Ok(None),
            Err(e) => return Err(classify(&self.ctx, Op::Read, key, &e)),
        };
        match result.bytes().await {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(e) => Err(classify(&self.ctx, Op::Read, key, &e)),
        }
    }
}

/// Accepts `http(s)://host[...]`, returns it without trailing slashes.
fn check_endpoint(url: &str) -> Result<String, &'static str> {
    // The S3 client panics on what it cannot turn into a request URI (an unclosed `[`, a port
    // over 65535): refuse those here, with the entry named.
    let parsed = url::Url::parse(url).map_err(|_| "is not a valid URL")?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host");
    }
    if url.parse::<http::Uri>().is_err() {
        return Err("is not a valid URL");
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("is not an http:// or https:// URL")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err("has no host");
    }
    if url.contains(char::is_whitespace) {
        return Err("contains white space");
    }
    if rest.contains(['?', '#']) {
        return Err("must not have a query or fragment");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[async_trait::async_trait]
impl CompletionStore for S3Store {
    fn describe(&self) -> String {
        self.ctx.describe()
    }

    /// A GET rather than a HEAD: a HEAD answer has no body, so a missing bucket
    /// (`NoSuchBucket`) would look like a missing object. Markers are a few bytes.
    async fn exists(&self, key: &str) -> Result<bool, ProviderError> {
        Ok(self.read(key).await?.is_some())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProviderError> {
        self.read(key).await
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), ProviderError> {
        let path = self.path(key)?;
        self.client
            .put_opts(&path, body.into(), PutOptions::from(PutMode::Overwrite))
            .await
            .map(|_| ())
            .map_err(|e| classify(&self.ctx, Op::Write, key, &e))
    }

    async fn create_new(&self, key: &str, body: Vec<u8>) -> Result<Created, ProviderError> {
        let path = self.path(key)?;
        match self
            .create_client
            .put_opts(&path, body.into(), PutOptions::from(PutMode::Create))
            .await
        {
            Ok(_) => Ok(Created::Created),
            // 412 (S3, moto) or 304 (the HTTP spec) for an existing object; object_store
            // reports both as AlreadyExists. A 409 ConditionalRequestConflict (a concurrent
            // write still in flight) is not an answer: it is classified as retryable.
            Err(
                e @ (object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. }),
            ) if !is_create_conflict(&e) => Ok(Created::AlreadyExists),
            Err(e) => Err(classify(&self.ctx, Op::Create, key, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            check_endpoint("https://minio.example.org/").as_deref(),
            Ok("https://minio.example.org")
        );
        assert_eq!(
            check_endpoint("HTTP://127.0.0.1:9000").as_deref(),
            Ok("HTTP://127.0.0.1:9000")
        );
        assert!(check_endpoint("s3.amazonaws.com").is_err());
        assert!(check_endpoint("ftp://host").is_err());
        assert!(check_endpoint("https://").is_err());
        assert!(check_endpoint("https://host?x=1").is_err());
    }

    #[test]
    fn default_options_are_bounded() {
        let o = S3Options::default();
        assert_eq!(o.max_retries, 3);
        assert!(o.request_timeout <= Duration::from_secs(30));
        assert!(o.connect_timeout <= Duration::from_secs(10));
    }
}
