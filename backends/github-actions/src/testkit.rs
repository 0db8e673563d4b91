//! Test kit (feature `testkit`): an in-process fake of the GitHub REST API parts ephflow uses
//! (self-hosted runners, workflow dispatch, repository contents), on a loopback port.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use ephflow_core::testkit::http::{self, Reply, Request};

/// A registered runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRunner {
    /// Its name.
    pub name: String,
    /// `online` or `offline`.
    pub status: String,
    /// Whether it runs a job.
    pub busy: bool,
}

/// A request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `GET` or `POST`.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The `Authorization` header.
    pub authorization: String,
    /// The body.
    pub body: String,
}

/// A scripted answer: status and extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripted {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`x-ratelimit-reset`, `retry-after`, ...).
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct State {
    runners: Vec<FakeRunner>,
    /// (runner, polls left before it comes online).
    comes_online: Option<(String, usize)>,
    ignore_name_filter: bool,
    answers: VecDeque<(String, Scripted)>,
    /// Path parts whose next request gets no answer at all.
    hangs: Vec<String>,
    contents: HashMap<(String, String), Vec<u8>>,
    /// (workflow file, status, updated_at), oldest first.
    runs: Vec<(String, String, String)>,
    seen: Vec<Seen>,
    /// Labels by runner name (unset: GitHub's defaults for a Linux x64 runner).
    runner_labels: HashMap<String, Vec<String>>,
    /// The repository's `permissions` object (unset: a collaborator with push).
    repo_permissions: Option<Vec<(String, bool)>>,
    /// The OIDC token served at [`FakeGitHub::oidc_request_url`] (unset: [`FAKE_ID_TOKEN`]).
    id_token: Option<String>,
}

/// The OIDC token the fake hands out unless told otherwise: a JWT (unsigned) whose claims are
/// a repository's `main` branch and AWS's audience.
pub const FAKE_ID_TOKEN: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL3Rva2VuLmFjdGlvbnMuZ2l0aHVidXNlcmNvbnRlbnQuY29tIiwic3ViIjoicmVwbzpvd25lci9yZXBvOnJlZjpyZWZzL2hlYWRzL21haW4iLCJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSJ9.";

/// The path of the fake's OIDC token endpoint (GitHub's is on another host, given to the job
/// as `ACTIONS_ID_TOKEN_REQUEST_URL`).
const OIDC_ROUTE: &str = "/_ephflow/oidc/token";

/// The fake API. Cheap to clone; the server stops with the process.
#[derive(Clone)]
pub struct FakeGitHub {
    /// `http://127.0.0.1:PORT` (use as `GITHUB_API_URL`).
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    /// Starts a fake with no runners and no files.
    pub fn start() -> FakeGitHub {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let url = http::serve(move |request: &Request| {
            shared.lock().expect("not poisoned").seen.push(Seen {
                method: request.method.clone(),
                path: request.path.clone(),
                authorization: request.header("authorization").unwrap_or("").to_owned(),
                body: request.body.clone(),
            });
            if take_hang(&shared, &request.path) {
                return Reply::Hang;
            }
            let (status, mut headers, body) = respond(&shared, &request.method, &request.path);
            headers.push(("Content-Type".into(), "application/json".into()));
            Reply::Send {
                status,
                headers,
                body,
            }
        });
        FakeGitHub { url, state }
    }

    /// Registers a runner.
    pub fn add_runner(&self, name: &str, status: &str, busy: bool) {
        self.state
            .lock()
            .expect("not poisoned")
            .runners
            .push(FakeRunner {
                name: name.to_owned(),
                status: status.to_owned(),
                busy,
            });
    }

    /// The runner `name` registers offline and reports online after `polls` list requests.
    pub fn runner_comes_online_after(&self, name: &str, polls: usize) {
        self.add_runner(name, "offline", false);
        self.state.lock().expect("not poisoned").comes_online = Some((name.to_owned(), polls));
    }

    /// Answers runner lists with every runner, as an API without the name filter does (forces
    /// pagination).
    pub fn ignore_name_filter(&self) {
        self.state.lock().expect("not poisoned").ignore_name_filter = true;
    }

    /// The next request whose path contains `path_part` gets `status` and `headers`.
    pub fn answer_next(&self, path_part: &str, status: u16, headers: &[(&str, &str)]) {
        self.state.lock().expect("not poisoned").answers.push_back((
            path_part.to_owned(),
            Scripted {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            },
        ));
    }

    /// The next request whose path contains `path_part` is read and never answered (a hanging
    /// API: the client's own timeouts must end it).
    pub fn hang_next(&self, path_part: &str) {
        self.state
            .lock()
            .expect("not poisoned")
            .hangs
            .push(path_part.to_owned());
    }

    /// Puts a file in the repository at `git_ref`.
    pub fn add_file(&self, path: &str, git_ref: &str, content: &[u8]) {
        self.state
            .lock()
            .expect("not poisoned")
            .contents
            .insert((path.to_owned(), git_ref.to_owned()), content.to_vec());
    }

    /// Sets the runner `name`'s status (`online` / `offline`) and busy flag, registering it
    /// when it is not yet (the e2e harness plays the VM's runner agent with it).
    pub fn set_runner(&self, name: &str, status: &str, busy: bool) {
        let mut st = self.state.lock().expect("not poisoned");
        match st.runners.iter_mut().find(|r| r.name == name) {
            Some(r) => {
                r.status = status.to_owned();
                r.busy = busy;
            }
            None => st.runners.push(FakeRunner {
                name: name.to_owned(),
                status: status.to_owned(),
                busy,
            }),
        }
    }

    /// Adds a run of `workflow_file` (newest last): `status` is GitHub's (`queued`,
    /// `in_progress`, `completed`), `updated_at` RFC 3339.
    pub fn add_run(&self, workflow_file: &str, status: &str, updated_at: &str) {
        self.state.lock().expect("not poisoned").runs.push((
            workflow_file.to_owned(),
            status.to_owned(),
            updated_at.to_owned(),
        ));
    }

    /// Sets the labels the runner `name` reports (by default `self-hosted`, `Linux`, `X64`,
    /// as GitHub gives a Linux x64 runner).
    pub fn set_runner_labels(&self, name: &str, labels: &[&str]) {
        self.state
            .lock()
            .expect("not poisoned")
            .runner_labels
            .insert(
                name.to_owned(),
                labels.iter().map(|l| (*l).to_owned()).collect(),
            );
    }

    /// Sets the `permissions` object of `GET /repos/{owner}/{repo}` (by default admin false,
    /// maintain false, push true, triage true, pull true).
    pub fn set_repo_permissions(&self, permissions: &[(&str, bool)]) {
        self.state.lock().expect("not poisoned").repo_permissions = Some(
            permissions
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
        );
    }

    /// What a job with `id-token: write` gets as `ACTIONS_ID_TOKEN_REQUEST_URL`: the fake's
    /// token endpoint, with a query already (GitHub's has `api-version`), so the audience is
    /// appended with `&`.
    pub fn oidc_request_url(&self) -> String {
        format!("{}{OIDC_ROUTE}?api-version=2.0", self.url)
    }

    /// Serves `token` as the OIDC token from now on.
    pub fn set_id_token(&self, token: &str) {
        self.state.lock().expect("not poisoned").id_token = Some(token.to_owned());
    }

    /// Every request received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("not poisoned").seen.clone()
    }
}

fn query(path: &str) -> HashMap<String, String> {
    path.split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), percent_decode(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode_base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn take_hang(state: &Mutex<State>, path: &str) -> bool {
    let mut st = state.lock().expect("not poisoned");
    match st.hangs.iter().position(|p| path.contains(p.as_str())) {
        Some(i) => {
            st.hangs.remove(i);
            true
        }
        None => false,
    }
}

fn respond(state: &Mutex<State>, method: &str, path: &str) -> (u16, Vec<(String, String)>, String) {
    let mut st = state.lock().expect("not poisoned");
    if let Some(i) = st
        .answers
        .iter()
        .position(|(p, _)| path.contains(p.as_str()))
    {
        let (_, a) = st.answers.remove(i).expect("found");
        if !(200..300).contains(&a.status) {
            let body = format!(r#"{{"message":"scripted {}"}}"#, a.status);
            return (a.status, a.headers, body);
        }
    }
    let q = query(path);
    let route = path.split('?').next().unwrap_or("");
    if method == "GET" && route == OIDC_ROUTE {
        let token = st.id_token.as_deref().unwrap_or(FAKE_ID_TOKEN);
        return (
            200,
            Vec::new(),
            format!(r#"{{"count":1,"value":"{token}"}}"#),
        );
    }
    if method == "GET" && route.ends_with("/actions/runners") {
        if let Some((name, left)) = st.comes_online.clone() {
            if left == 0 {
                if let Some(r) = st.runners.iter_mut().find(|r| r.name == name) {
                    r.status = "online".into();
                }
            } else {
                st.comes_online = Some((name, left - 1));
            }
        }
        let filtered: Vec<&FakeRunner> = st
            .runners
            .iter()
            .filter(|r| st.ignore_name_filter || q.get("name").is_none_or(|n| *n == r.name))
            .collect();
        let per_page: usize = q
            .get("per_page")
            .and_then(|v| v.parse().ok())
            .unwrap_or(30)
            .min(100);
        let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
        let items: Vec<String> = filtered
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .enumerate()
            .map(|(i, r)| {
                let labels: Vec<String> = st
                    .runner_labels
                    .get(&r.name)
                    .cloned()
                    .unwrap_or_else(|| vec!["self-hosted".into(), "Linux".into(), "X64".into()])
                    .iter()
                    .enumerate()
                    .map(|(j, l)| format!(r#"{{"id":{j},"name":"{l}","type":"read-only"}}"#))
                    .collect();
                format!(
                    r#"{{"id":{i},"name":"{}","os":"linux","status":"{}","busy":{},"labels":[{}]}}"#,
                    r.name,
                    r.status,
                    r.busy,
                    labels.join(",")
                )
            })
            .collect();
        let body = format!(
            r#"{{"total_count":{},"runners":[{}]}}"#,
            filtered.len(),
            items.join(",")
        );
        return (200, Vec::new(), body);
    }
    if method == "GET" && route.ends_with("/runs") && route.contains("/actions/workflows/") {
        let file = route
            .trim_end_matches("/runs")
            .rsplit('/')
            .next()
            .map(percent_decode)
            .unwrap_or_default();
        let runs: Vec<String> = st
            .runs
            .iter()
            .rev()
            .filter(|(f, _, _)| *f == file)
            .map(|(_, status, at)| format!(r#"{{"status":"{status}","updated_at":"{at}"}}"#))
            .collect();
        let body = format!(
            r#"{{"total_count":{},"workflow_runs":[{}]}}"#,
            runs.len(),
            runs.join(",")
        );
        return (200, Vec::new(), body);
    }
    // `GET /repos/{owner}/{repo}`: the repository, with what the token's user may do.
    if method == "GET"
        && let Some(full_name) = route.strip_prefix("/repos/")
        && full_name.split('/').count() == 2
    {
        let permissions: Vec<String> = match &st.repo_permissions {
            Some(p) => p.iter().map(|(k, v)| format!(r#""{k}":{v}"#)).collect(),
            None => vec![
                r#""admin":false"#.into(),
                r#""maintain":false"#.into(),
                r#""push":true"#.into(),
                r#""triage":true"#.into(),
                r#""pull":true"#.into(),
            ],
        };
        let body = format!(
            r#"{{"full_name":"{full_name}","private":true,"permissions":{{{}}}}}"#,
            permissions.join(",")
        );
        return (200, Vec::new(), body);
    }
    if method == "POST" && route.ends_with("/dispatches") {
        return (204, Vec::new(), String::new());
    }
    if method == "GET" && route.contains("/contents/") {
        let file = route
            .split_once("/contents/")
            .map(|(_, f)| percent_decode(f))
            .unwrap_or_default();
        let git_ref = q.get("ref").cloned().unwrap_or_else(|| "main".into());
        return match st.contents.get(&(file.clone(), git_ref)) {
            Some(c) => (
                200,
                Vec::new(),
                format!(
                    r#"{{"type":"file","path":"{file}","encoding":"base64","content":"{}"}}"#,
                    encode_base64(c)
                ),
            ),
            None => (404, Vec::new(), r#"{"message":"Not Found"}"#.into()),
        };
    }
    (404, Vec::new(), r#"{"message":"Not Found"}"#.into())
}
