//! object_store errors → [`ProviderError`]s a user can act on.
//!
//! object_store keeps the HTTP status and the S3 error document only inside its error text
//! (its retry error type is private), so the facts are read back from that text: the status
//! code, the S3 `<Code>` and `<Message>`. The raw text is never passed on whole: an S3 error
//! document can echo the access key id (`<AWSAccessKeyId>`), and the credentials are
//! secrets here. As a last line, every message is scrubbed of the credential values.

use ephflow_core::provider::{ErrorClass, ProviderError, Secret};
use object_store::client::{HttpError, HttpErrorKind};

/// What the failed call was doing, for the message and the IAM action it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Read,
    Write,
    Create,
}

impl Op {
    fn doing(self) -> &'static str {
        match self {
            Op::Read => "reading",
            Op::Write => "writing",
            Op::Create => "creating",
        }
    }

    fn permission(self) -> &'static str {
        match self {
            Op::Read => "s3:GetObject",
            Op::Write | Op::Create => "s3:PutObject",
        }
    }
}

/// What messages name: the data store, its bucket and endpoint, the secret variables.
pub(crate) struct Context {
    pub name: String,
    pub bucket: String,
    pub endpoint: String,
    pub region: String,
    pub signed: bool,
    pub access_var: String,
    pub secret_var: String,
    /// Credential values to scrub from any message (never printed: `Secret` redacts).
    pub redact: Vec<Secret>,
}

impl Context {
    pub fn describe(&self) -> String {
        format!("s3://{} ({})", self.bucket, self.endpoint)
    }

    /// `message` with every credential value replaced.
    pub fn redacted(&self, mut message: String) -> String {
        for secret in &self.redact {
            if !secret.expose().is_empty() && message.contains(secret.expose()) {
                message = message.replace(secret.expose(), "[redacted]");
            }
        }
        message
    }
}

/// What could be read back from an object_store error.
#[derive(Debug, Default, PartialEq, Eq)]
struct Facts {
    status: Option<u16>,
    code: Option<String>,
    message: Option<String>,
    transport: Option<(HttpErrorKind, String)>,
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(text[start..start + len].trim()).filter(|s| !s.is_empty())
}

fn facts(err: &object_store::Error) -> Facts {
    let text = err.to_string();
    let status = text.find("status code: ").and_then(|i| {
        let digits = text.get(i + 13..i + 16)?;
        digits.parse().ok()
    });
    let mut transport = None;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(http) = e.downcast_ref::<HttpError>() {
            // The chain below HttpError: reqwest → hyper → io ("Connection refused").
            let mut parts = vec![];
            let mut below = std::error::Error::source(http);
            while let Some(b) = below {
                let s = b.to_string();
                if !parts.iter().any(|p: &String| p.contains(&s)) {
                    parts.push(s);
                }
                below = b.source();
            }
            transport = Some((http.kind(), parts.join(": ")));
            break;
        }
        source = e.source();
    }
    Facts {
        status,
        code: between(&text, "<Code>", "</Code>").map(str::to_owned),
        message: between(&text, "<Message>", "</Message>").map(str::to_owned),
        transport,
    }
}

/// A 404 for the object, not for the bucket: an absent key.
pub(crate) fn is_missing_key(err: &object_store::Error) -> bool {
    matches!(err, object_store::Error::NotFound { .. })
        && facts(err).code.as_deref() != Some("NoSuchBucket")
}

/// A 409 to a conditional create: another conditional write to the key is in flight.
pub(crate) fn is_create_conflict(err: &object_store::Error) -> bool {
    let f = facts(err);
    f.status == Some(409) || f.code.as_deref() == Some("ConditionalRequestConflict")
}

/// The classified error for `op` on `key`.
pub(crate) fn classify(
    ctx: &Context,
    op: Op,
    key: &str,
    err: &object_store::Error,
) -> ProviderError {
    use object_store::Error as E;
    let f = facts(err);
    let code = f.code.as_deref().unwrap_or("");
    let status = f.status;
    let bucket = &ctx.bucket;
    let name = &ctx.name;
    let object_arn = format!("arn:aws:s3:::{bucket}/{key}");
    let check_store = format!(
        "check Bucket, Endpoint and Region ({}) of data store {name:?}",
        ctx.region
    );

    let (class, detail) = if matches!(err, E::NotImplemented { .. } | E::NotSupported { .. }) {
        (
            ErrorClass::Unsupported,
            format!("the S3 client cannot do this here: {err}"),
        )
    } else if matches!(err, E::InvalidPath { .. }) {
        (
            ErrorClass::InvalidInput,
            format!("the key is not a valid object key: {err}"),
        )
    } else if code == "NoSuchBucket" {
        (
            ErrorClass::NotFound,
            format!(
                "bucket {bucket:?} does not exist at {}: {check_store}",
                ctx.endpoint
            ),
        )
    } else if matches!(err, E::NotFound { .. }) || status == Some(404) {
        (ErrorClass::NotFound, "no such object".to_owned())
    } else if matches!(err, E::PermissionDenied { .. } | E::Unauthenticated { .. })
        || matches!(status, Some(401 | 403))
    {
        (
            ErrorClass::PermissionDenied,
            denied(ctx, op, code, &object_arn),
        )
    } else if status == Some(429) || code == "SlowDown" || code == "TooManyRequests" {
        (
            ErrorClass::RateLimited,
            "the server asks to slow down: retry later".to_owned(),
        )
    } else if matches!(err, E::AlreadyExists { .. }) || status == Some(409) {
        (
            ErrorClass::Temporary,
            "a concurrent write to the same key is in flight: retry".to_owned(),
        )
    } else if matches!(err, E::Precondition { .. } | E::NotModified { .. }) {
        (
            ErrorClass::InvalidState,
            "the object changed under a conditional request".to_owned(),
        )
    } else if status == Some(408) {
        (
            ErrorClass::Timeout,
            "the server timed out waiting for the request: retry".to_owned(),
        )
    } else if let Some(s @ 500..=599) = status {
        (
            ErrorClass::Temporary,
            format!("the server failed ({s}) after the client's own retries: retry later"),
        )
    } else if matches!(status, Some(300..=399)) || err.to_string().contains("redirect") {
        (
            ErrorClass::InvalidInput,
            format!(
                "the server redirects: the bucket is probably in another region; {check_store}"
            ),
        )
    } else if code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException"
    {
        (
            ErrorClass::InvalidInput,
            format!("the request names the wrong region; {check_store}"),
        )
    } else if let Some(s @ 400..=499) = status {
        (
            ErrorClass::InvalidInput,
            format!("the server rejected the request ({s}); {check_store}"),
        )
    } else if let Some((kind, why)) = &f.transport {
        match kind {
            HttpErrorKind::Timeout => (
                ErrorClass::Timeout,
                format!(
                    "no answer from {} in time ({why}): retry later",
                    ctx.endpoint
                ),
            ),
            HttpErrorKind::Connect => (
                ErrorClass::Temporary,
                format!(
                    "cannot connect to {} ({why}): check the network and Endpoint of data \
                     store {name:?}",
                    ctx.endpoint
                ),
            ),
            _ => (
                ErrorClass::Temporary,
                format!("the connection to {} failed ({why}): retry", ctx.endpoint),
            ),
        }
    } else {
        (ErrorClass::Temporary, format!("{err}"))
    };

    let mut message = format!(
        "{} s3://{bucket}/{key} ({}): {detail}",
        op.doing(),
        ctx.endpoint
    );
    if let Some(said) = &f.message {
        message.push_str(&format!(" [the server said: {said}]"));
    }
    let mut error = ProviderError::new(class, ctx.redacted(message));
    if !code.is_empty() {
        error = error.with_code(ctx.redacted(code.to_owned()));
    }
    error
}

fn denied(ctx: &Context, op: Op, code: &str, object_arn: &str) -> String {
    let (access, secret) = (&ctx.access_var, &ctx.secret_var);
    let bucket = &ctx.bucket;
    match code {
        "InvalidAccessKeyId" => {
            format!(
                "the access key in {access} is not known to {}",
                ctx.endpoint
            )
        }
        "SignatureDoesNotMatch" => {
            format!("the signature does not match: {secret} is not the secret key of {access}")
        }
        "RequestTimeTooSkewed" => {
            "this machine's clock is too far off the server's: fix the clock".to_owned()
        }
        _ if !ctx.signed => format!(
            "anonymous access is refused: the bucket policy must allow {} on {object_arn} to \
             everyone, or set the repository secrets {access} and {secret}",
            op.permission()
        ),
        _ => {
            let mut needs = format!(
                "the credentials in {access} need {} on {object_arn}",
                op.permission()
            );
            if op == Op::Read {
                needs.push_str(&format!(
                    " (and s3:ListBucket on arn:aws:s3:::{bucket}, without which S3 reports a \
                     missing object as 403)"
                ));
            }
            needs
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            name: "S3".into(),
            bucket: "b".into(),
            endpoint: "http://127.0.0.1:1".into(),
            region: "us-east-1".into(),
            signed: true,
            access_var: "S3_AccessKey".into(),
            secret_var: "S3_SecretKey".into(),
            redact: vec![Secret::new("AKIASENTINEL")],
        }
    }

    fn generic(text: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: text.to_owned().into(),
        }
    }

    #[test]
    fn statuses_and_codes() {
        let c = ctx();
        let cases = [
            (
                "Server returned non-2xx status code: 503 Service Unavailable: <Error><Code>SlowDown</Code></Error>",
                ErrorClass::RateLimited,
            ),
            (
                "Server returned non-2xx status code: 429 Too Many Requests: ",
                ErrorClass::RateLimited,
            ),
            (
                "Server returned non-2xx status code: 500 Internal Server Error: ",
                ErrorClass::Temporary,
            ),
            (
                "Server returned non-2xx status code: 400 Bad Request: <Code>AuthorizationHeaderMalformed</Code>",
                ErrorClass::InvalidInput,
            ),
            (
                "Server returned non-2xx status code: 403 Forbidden: <Code>AccessDenied</Code>",
                ErrorClass::PermissionDenied,
            ),
            (
                "Server returned non-2xx status code: 301 Moved Permanently",
                ErrorClass::InvalidInput,
            ),
            ("something odd", ErrorClass::Temporary),
        ];
        for (text, class) in cases {
            assert_eq!(
                classify(&c, Op::Read, "k", &generic(text)).class,
                class,
                "{text}"
            );
        }
    }

    #[test]
    fn permission_message_names_the_action_and_never_the_key_id() {
        let e = classify(
            &ctx(),
            Op::Write,
            "p/k",
            &generic(
                "status code: 403 Forbidden: <Error><Code>AccessDenied</Code>\
                 <Message>Access Denied</Message><AWSAccessKeyId>AKIASENTINEL</AWSAccessKeyId></Error>",
            ),
        );
        assert_eq!(e.class, ErrorClass::PermissionDenied);
        assert_eq!(e.code.as_deref(), Some("AccessDenied"));
        let text = e.to_string();
        assert!(
            text.contains("s3:PutObject on arn:aws:s3:::b/p/k"),
            "{text}"
        );
        assert!(!text.contains("AKIASENTINEL"), "{text}");
    }

    #[test]
    fn missing_bucket_is_not_a_missing_key() {
        let nf = |body: &str| object_store::Error::NotFound {
            path: "k".into(),
            source: body.to_owned().into(),
        };
        assert!(is_missing_key(&nf(
            "status code: 404 Not Found: <Code>NoSuchKey</Code>"
        )));
        let bucket = nf("status code: 404 Not Found: <Code>NoSuchBucket</Code>");
        assert!(!is_missing_key(&bucket));
        let e = classify(&ctx(), Op::Read, "k", &bucket);
        assert_eq!(e.class, ErrorClass::NotFound);
        assert!(e.message.contains("bucket \"b\" does not exist"), "{e}");
    }

    #[test]
    fn redaction() {
        assert_eq!(ctx().redacted("x AKIASENTINEL y".into()), "x [redacted] y");
    }
}
