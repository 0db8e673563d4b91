//! The GitHub Actions backend on octocrab (PAT auth, no automatic retries: the dispatch POST
//! must never be re-sent blindly, and GETs are retried by the lifecycle engine, which knows the
//! phase budget).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ephflow_core::backend::{
    AccessReport, BackendContext, ExecutionBackend, RunState, RunnerStatus, WorkflowRun,
};
use ephflow_core::provider::{ErrorClass, ProviderError};
use octocrab::Octocrab;
use serde::Deserialize;

/// The GitHub repository of a GitHubActions compute server.
#[derive(Debug, Clone)]
pub struct GithubBackend {
    client: Octocrab,
    owner: String,
    repo: String,
    token_source: TokenSource,
}

/// Where the token came from (logged; the value never is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `<Server>_PAT`.
    ServerPat(String),
    /// `GH_PAT`.
    GhPat,
    /// `GITHUB_TOKEN` (the workflow's own token).
    GithubToken,
}

#[derive(Deserialize)]
struct RunnerList {
    total_count: usize,
    runners: Vec<Runner>,
}

#[derive(Deserialize)]
struct Runner {
    name: String,
    status: String,
    busy: bool,
    #[serde(default)]
    labels: Vec<RunnerLabel>,
}

#[derive(Deserialize)]
struct RunnerLabel {
    name: String,
}

/// The part of `GET /repos/{owner}/{repo}` that says what the token's user may do (absent
/// for GitHub App and `GITHUB_TOKEN` installation tokens).
#[derive(Deserialize)]
struct RepoAnswer {
    permissions: Option<RepoPermissions>,
}

#[derive(Deserialize)]
struct RepoPermissions {
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    maintain: bool,
    #[serde(default)]
    push: bool,
    #[serde(default)]
    triage: bool,
    #[serde(default)]
    pull: bool,
}

#[derive(Deserialize)]
struct RunList {
    workflow_runs: Vec<RunSummary>,
}

#[derive(Deserialize)]
struct RunSummary {
    status: Option<String>,
    updated_at: String,
}

/// Runners listed per page (GitHub's maximum).
const PER_PAGE: usize = 100;

/// Pages of runners read at most (10,000 runners): an API that keeps announcing more (a huge
/// `total_count`, found by audit) must not hold a poll in an endless loop of requests.
const MAX_RUNNER_PAGES: usize = 100;

impl GithubBackend {
    /// Builds the backend for a GitHubActions server: repository `UserName/ActionRepoName`,
    /// API base `GITHUB_API_URL` (GitHub Enterprise) or the public API, token from
    /// `<Server>_PAT`, then `GH_PAT`, then `GITHUB_TOKEN`.
    pub fn build(ctx: &BackendContext) -> Result<Self, ProviderError> {
        let base = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|s| !s.is_empty());
        Self::build_with(ctx, base.as_deref())
    }

    /// [`GithubBackend::build`] with an explicit API base (tests, embedding).
    pub fn build_with(ctx: &BackendContext, api_base: Option<&str>) -> Result<Self, ProviderError> {
        let invalid = |m: String| ProviderError::new(ErrorClass::InvalidInput, m);
        let owner = ctx.server.user_name.clone().ok_or_else(|| {
            invalid(format!(
                "ComputeServers.{}.UserName is required",
                ctx.server_name
            ))
        })?;
        let repo = ctx.server.action_repo_name.clone().ok_or_else(|| {
            invalid(format!(
                "ComputeServers.{}.ActionRepoName is required",
                ctx.server_name
            ))
        })?;
        let server_pat = format!("{}_PAT", ctx.server_name);
        let (token, source) = if let Some(t) = ctx.secrets.get(&server_pat) {
            (t, TokenSource::ServerPat(server_pat.clone()))
        } else if let Some(t) = ctx.secrets.get("GH_PAT") {
            (t, TokenSource::GhPat)
        } else if let Some(t) = ctx.secrets.get("GITHUB_TOKEN") {
            (t, TokenSource::GithubToken)
        } else {
            // A server called GH has GH_PAT as its own variable: name it once.
            let names = if server_pat == "GH_PAT" {
                "GH_PAT or GITHUB_TOKEN".to_owned()
            } else {
                format!("{server_pat}, GH_PAT or GITHUB_TOKEN")
            };
            return Err(invalid(format!("no GitHub token: set {names}")));
        };
        let mut builder = Octocrab::builder()
            .personal_token(token.expose().to_owned())
            .set_connect_timeout(Some(Duration::from_secs(5)))
            .set_read_timeout(Some(Duration::from_secs(20)));
        if let Some(base) = api_base {
            builder = builder
                .base_uri(base)
                .map_err(|e| invalid(format!("GITHUB_API_URL {base:?} is not a URL: {e}")))?;
        }
        let client = builder.build().map_err(|e| {
            ProviderError::new(
                ErrorClass::Unsupported,
                format!("cannot build the GitHub client: {e}"),
            )
        })?;
        tracing::info!(repository = %format!("{owner}/{repo}"), token = ?source, "GitHub backend ready (the token is never logged)");
        Ok(GithubBackend {
            client,
            owner,
            repo,
            token_source: source,
        })
    }

    /// Sends a request; returns the status, the rate-limit facts and the body.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, RateLimit, String), ProviderError> {
        let response = match body {
            None => self.client._get(path).await,
            Some(b) => self.client._post(path, Some(b)).await,
        }
        .map_err(|e| {
            ProviderError::new(
                ErrorClass::Temporary,
                format!(
                    "{method} {path} got no answer (not sent, or no response in time): {}",
                    error_chain(&e)
                ),
            )
        })?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let limit = RateLimit {
            remaining: header("x-ratelimit-remaining").and_then(|v| v.parse().ok()),
            reset: header("x-ratelimit-reset").and_then(|v| v.parse().ok()),
            retry_after: header("retry-after").and_then(|v| v.parse().ok()),
        };
        let text = self
            .client
            .body_to_string(response)
            .await
            .unwrap_or_default();
        Ok((status, limit, text))
    }

    /// Turns a non-success answer into a classified error naming what is missing.
    fn failure(
        &self,
        what: &str,
        needs: &str,
        status: u16,
        limit: &RateLimit,
        body: &str,
    ) -> ProviderError {
        let repo = format!("{}/{}", self.owner, self.repo);
        let message = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let rate_limited = status == 429
            || (status == 403 && (limit.remaining == Some(0) || limit.retry_after.is_some()));
        if rate_limited {
            let wait = limit.wait();
            let mut e = ProviderError::new(
                ErrorClass::RateLimited,
                format!(
                    "GitHub rate limit reached for {what} on {repo}{}",
                    limit
                        .reset
                        .map(|r| format!("; it resets at unix time {r}"))
                        .unwrap_or_default()
                ),
            )
            .with_code(status.to_string());
            if let Some(w) = wait {
                e = e.with_retry_after(w);
            }
            return e;
        }
        let (class, text) = match status {
            401 => (
                ErrorClass::PermissionDenied,
                format!(
                    "GitHub rejected the token for {what} on {repo} (401): check the PAT secret"
                ),
            ),
            403 => (
                ErrorClass::PermissionDenied,
                format!("the token may not {what} on {repo} (403: {message}); it needs {needs}"),
            ),
            404 => (
                ErrorClass::NotFound,
                format!(
                    "{what}: {repo} or the resource was not found (404); check UserName/ActionRepoName, and that the token can see the repository ({needs})"
                ),
            ),
            422 => (
                ErrorClass::InvalidInput,
                format!("GitHub refused to {what} on {repo} (422: {message})"),
            ),
            s if s >= 500 => (
                ErrorClass::Temporary,
                format!("GitHub failed to {what} on {repo} ({s})"),
            ),
            s => (
                ErrorClass::InvalidInput,
                format!("unexpected answer {s} to {what} on {repo}: {message}"),
            ),
        };
        ProviderError::new(class, text).with_code(status.to_string())
    }

    /// The self-hosted runner called `name`, or `None` when it is not registered. The name
    /// filter usually answers in one page; pages are followed anyway, never just the first.
    async fn find_runner(&self, name: &str) -> Result<Option<Runner>, ProviderError> {
        let mut page = 1;
        loop {
            let path = format!(
                "/repos/{}/{}/actions/runners?name={}&per_page={PER_PAGE}&page={page}",
                self.owner,
                self.repo,
                encode(name)
            );
            let (status, limit, body) = self.send("GET", &path, None).await?;
            if status != 200 {
                return Err(self.failure(
                    "list self-hosted runners",
                    "the \"Administration: read\" repository permission",
                    status,
                    &limit,
                    &body,
                ));
            }
            let list: RunnerList = serde_json::from_str(&body).map_err(|e| {
                ProviderError::new(
                    ErrorClass::Temporary,
                    format!("unreadable runner list: {e}"),
                )
            })?;
            let done = list.runners.is_empty() || page * PER_PAGE >= list.total_count;
            if let Some(r) = list.runners.into_iter().find(|r| r.name == name) {
                return Ok(Some(r));
            }
            if done {
                return Ok(None);
            }
            if page >= MAX_RUNNER_PAGES {
                return Err(ProviderError::new(
                    ErrorClass::Unsupported,
                    format!(
                        "no runner {name:?} among the first {} runners of {}/{} (the API announces {}); ephflow reads at most {MAX_RUNNER_PAGES} pages",
                        page * PER_PAGE,
                        self.owner,
                        self.repo,
                        list.total_count
                    ),
                ));
            }
            page += 1;
        }
    }
}

/// Rate-limit facts of one answer.
#[derive(Debug, Clone, Copy, Default)]
struct RateLimit {
    remaining: Option<u64>,
    reset: Option<u64>,
    retry_after: Option<u64>,
}

impl RateLimit {
    /// How long GitHub asks us to wait.
    fn wait(&self) -> Option<Duration> {
        if let Some(s) = self.retry_after {
            return Some(Duration::from_secs(s));
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        self.reset
            .map(|r| Duration::from_secs(r.saturating_sub(now).max(1)))
    }
}

#[async_trait::async_trait]
impl ExecutionBackend for GithubBackend {
    fn describe(&self) -> String {
        format!("GitHub {}/{}", self.owner, self.repo)
    }

    async fn runner_status(&self, name: &str) -> Result<RunnerStatus, ProviderError> {
        Ok(match self.find_runner(name).await? {
            Some(r) => match (r.status.as_str(), r.busy) {
                ("online", true) => RunnerStatus::Busy,
                ("online", false) => RunnerStatus::Online,
                _ => RunnerStatus::Offline,
            },
            None => RunnerStatus::Absent,
        })
    }

    async fn runner_labels(&self, name: &str) -> Result<Option<Vec<String>>, ProviderError> {
        Ok(self
            .find_runner(name)
            .await?
            .map(|r| r.labels.into_iter().map(|l| l.name).collect()))
    }

    /// Reads the repository's `permissions` (what the token's user may do: push or admin
    /// may dispatch) and lists one runner to see that the list is readable. A fine-grained
    /// token's own narrower grants are not reported by GitHub: a dispatch can still fail.
    async fn check_access(&self) -> Result<AccessReport, ProviderError> {
        let token = match &self.token_source {
            TokenSource::ServerPat(name) => name.clone(),
            TokenSource::GhPat => "GH_PAT".into(),
            TokenSource::GithubToken => "GITHUB_TOKEN".into(),
        };
        let path = format!("/repos/{}/{}", self.owner, self.repo);
        let (status, limit, body) = self.send("GET", &path, None).await?;
        if status != 200 {
            return Err(self.failure(
                "read the repository",
                "the \"Metadata: read\" repository permission",
                status,
                &limit,
                &body,
            ));
        }
        let answer: RepoAnswer = serde_json::from_str(&body).map_err(|e| {
            ProviderError::new(
                ErrorClass::Temporary,
                format!("unreadable repository answer: {e}"),
            )
        })?;
        let (can_dispatch, detail) = match answer.permissions {
            Some(p) => {
                let strongest = [
                    (p.admin, "admin"),
                    (p.maintain, "maintain"),
                    (p.push, "push"),
                    (p.triage, "triage"),
                    (p.pull, "pull"),
                ]
                .into_iter()
                .find(|(has, _)| *has)
                .map_or("none", |(_, name)| name);
                (
                    Some(p.admin || p.maintain || p.push),
                    format!("repository permission {strongest}"),
                )
            }
            None => (None, "no repository permissions reported".to_owned()),
        };
        let path = format!(
            "/repos/{}/{}/actions/runners?per_page=1",
            self.owner, self.repo
        );
        let (status, limit, body) = self.send("GET", &path, None).await?;
        let can_read_runners = match status {
            200 => true,
            403 | 404 => false,
            s => {
                return Err(self.failure(
                    "list self-hosted runners",
                    "the \"Administration: read\" repository permission",
                    s,
                    &limit,
                    &body,
                ));
            }
        };
        Ok(AccessReport {
            credential_source: Some(token),
            can_dispatch,
            can_read_runners,
            detail,
        })
    }

    async fn dispatch(
        &self,
        workflow_file: &str,
        git_ref: &str,
        inputs: &[(String, String)],
    ) -> Result<(), ProviderError> {
        let path = format!(
            "/repos/{}/{}/actions/workflows/{}/dispatches",
            self.owner,
            self.repo,
            encode(workflow_file)
        );
        let inputs: serde_json::Map<String, serde_json::Value> = inputs
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let body = serde_json::json!({"ref": git_ref, "inputs": inputs});
        let (status, limit, text) = match self.send("POST", &path, Some(&body)).await {
            Ok(answer) => answer,
            // No answer: the request may have reached GitHub (a read timeout) and started
            // the workflow, so it is not retried either.
            Err(mut e) => {
                e.class = ErrorClass::OutcomeUnknown;
                e.message.push_str(NOT_RESENT);
                return Err(e);
            }
        };
        if status == 204 {
            return Ok(());
        }
        let mut e = self.failure(
            &format!("dispatch {workflow_file}"),
            "the \"Actions: write\" repository permission",
            status,
            &limit,
            &text,
        );
        // A failed POST may or may not have started the workflow: never retried blindly.
        if e.class == ErrorClass::Temporary {
            e.class = ErrorClass::OutcomeUnknown;
            e.message.push_str(NOT_RESENT);
        }
        Err(e)
    }

    async fn workflow_runs(
        &self,
        workflow_file: &str,
        limit: u32,
    ) -> Result<Vec<WorkflowRun>, ProviderError> {
        let path = format!(
            "/repos/{}/{}/actions/workflows/{}/runs?per_page={}",
            self.owner,
            self.repo,
            encode(workflow_file),
            limit.clamp(1, 100)
        );
        let (status, limit_facts, body) = self.send("GET", &path, None).await?;
        if status == 404 {
            // Not registered (yet): no runs.
            return Ok(Vec::new());
        }
        if status != 200 {
            return Err(self.failure(
                &format!("list the runs of {workflow_file}"),
                "the \"Actions: read\" repository permission",
                status,
                &limit_facts,
                &body,
            ));
        }
        let list: RunList = serde_json::from_str(&body).map_err(|e| {
            ProviderError::new(ErrorClass::Temporary, format!("unreadable run list: {e}"))
        })?;
        list.workflow_runs
            .into_iter()
            .map(|r| {
                let state = match r.status.as_deref() {
                    Some("completed") => RunState::Completed,
                    Some("in_progress") => RunState::InProgress,
                    _ => RunState::Queued,
                };
                let updated_at = chrono::DateTime::parse_from_rfc3339(&r.updated_at)
                    .map_err(|e| {
                        ProviderError::new(
                            ErrorClass::Temporary,
                            format!("unreadable run time {:?}: {e}", r.updated_at),
                        )
                    })?
                    .into();
                Ok(WorkflowRun { state, updated_at })
            })
            .collect()
    }

    async fn fetch_file(
        &self,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>, ProviderError> {
        let uri = format!(
            "/repos/{}/{}/contents/{}?ref={}",
            self.owner,
            self.repo,
            path.split('/').map(encode).collect::<Vec<_>>().join("/"),
            encode(git_ref)
        );
        let (status, limit, body) = self.send("GET", &uri, None).await?;
        match status {
            200 => {
                let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| {
                    ProviderError::new(
                        ErrorClass::Temporary,
                        format!("unreadable contents answer: {e}"),
                    )
                })?;
                let content: String = v["content"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                Ok(Some(decode_base64(&content).ok_or_else(|| {
                    ProviderError::new(
                        ErrorClass::Temporary,
                        format!("{path}: content is not base64"),
                    )
                })?))
            }
            404 => Ok(None),
            s => Err(self.failure(
                &format!("read {path}"),
                "the \"Contents: read\" repository permission",
                s,
                &limit,
                &body,
            )),
        }
    }
}

/// Percent-encodes a path segment or query value.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.bytes().filter(|&b| b != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let n = chunk.len();
        if n < 2 {
            return None;
        }
        out.push((acc >> 16) as u8);
        if n > 2 {
            out.push((acc >> 8) as u8);
        }
        if n > 3 {
            out.push(acc as u8);
        }
    }
    Some(out)
}

/// What a failed dispatch adds to its message: it is never sent twice.
const NOT_RESENT: &str = "; not re-sent, since the workflow may have started: check the Actions tab before invoking again";

/// An error and its sources, `: `-joined (octocrab's own text, "Service Error: client error
/// (SendRequest)", hides the cause: a timeout, a refused connection).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_encoding() {
        assert_eq!(decode_base64("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert!(decode_base64("a$==").is_none());
        assert_eq!(encode("gpu runner/1"), "gpu%20runner%2F1");
    }
}
