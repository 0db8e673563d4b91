//! The GitHub Actions workflow files `ephflow register` rendered, read back the way GitHub
//! would use them: jobs, their `env:` with `${{ secrets.X }}` and `${{ github.event.inputs.X }}`
//! filled in, and their steps' `run:` scripts.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// Every rendered file of a workflow, keyed by the action it runs.
pub struct Rendered {
    files: BTreeMap<String, Value>,
}

/// One step of a job.
pub struct Step {
    /// `env:` entries, unexpanded.
    pub env: Vec<(String, Value)>,
    /// The `run:` script.
    pub run: String,
}

/// What the `${{ }}` expressions of a job may refer to.
pub struct Context<'a> {
    /// The repository's secrets.
    pub secrets: &'a BTreeMap<String, String>,
    /// The workflow_dispatch inputs.
    pub inputs: Vec<(&'static str, String)>,
}

impl Rendered {
    /// Reads every `<workflow_name>-<Action>.yml` in `dir` with PyYAML (a YAML 1.1 reader, as
    /// GitHub's is strict about `on`); files of no action (the reaper's) are left out. `None`
    /// (after `missing`) without python3 and PyYAML.
    pub fn load(dir: &Path, workflow_name: &str, actions: &[String]) -> Option<Rendered> {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("register wrote the directory")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yml"))
            .collect();
        paths.sort();
        let have_yaml = std::process::Command::new("python3")
            .args(["-c", "import yaml"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !have_yaml {
            crate::support::missing("python3 with PyYAML (pip install pyyaml)");
            return None;
        }
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import json, sys, yaml\njson.dump([yaml.safe_load(open(p)) for p in sys.argv[1:]], sys.stdout)",
            ])
            .args(&paths)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "PyYAML cannot read the rendered files: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let docs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("PyYAML wrote JSON");
        let mut files = BTreeMap::new();
        for (path, doc) in paths.iter().zip(docs) {
            let name = path.file_name().unwrap().to_string_lossy();
            let action = name
                .strip_prefix(&format!("{workflow_name}-"))
                .and_then(|n| n.strip_suffix(".yml"))
                .filter(|a| actions.iter().any(|x| x == a));
            if let Some(action) = action {
                files.insert(action.to_owned(), doc);
            }
        }
        Some(Rendered { files })
    }

    /// The job `job` of `action`'s file, when it has one.
    pub fn job(&self, action: &str, job: &str) -> Option<&Value> {
        self.files.get(action)?.get("jobs")?.get(job)
    }

    /// The job that runs `action` (FaaSr's job name).
    pub fn main_job(&self, action: &str) -> Option<&Value> {
        self.job(action, "run_docker_image")
    }

    /// The failure-teardown job of `action`'s file, checked to be the one GitHub would start
    /// after the main job failed or was cancelled.
    pub fn teardown(&self, action: &str) -> Option<&Value> {
        let job = self.job(action, "stop_vm_on_failure")?;
        let condition = job["if"].as_str().unwrap_or_default();
        assert!(
            condition.contains("failure()") && condition.contains("cancelled()"),
            "{action}: stop_vm_on_failure runs on `{condition}`"
        );
        assert_eq!(job["needs"], "run_docker_image", "{action}: teardown needs");
        Some(job)
    }
}

/// A job's steps.
pub fn steps(job: &Value) -> Vec<Step> {
    job["steps"]
        .as_array()
        .expect("a job has steps")
        .iter()
        .map(|s| Step {
            env: entries(&s["env"]),
            run: s["run"]
                .as_str()
                .expect("every rendered step runs")
                .to_owned(),
        })
        .collect()
}

/// A job's (or step's) `env:` with every expression filled in from `ctx`.
pub fn env(job: &Value, ctx: &Context) -> Vec<(String, String)> {
    expand_all(&entries(&job["env"]), ctx)
}

/// `entries` with every expression filled in.
pub fn expand_all(entries: &[(String, Value)], ctx: &Context) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|(k, v)| (k.clone(), expand(v, ctx)))
        .collect()
}

fn entries(map: &Value) -> Vec<(String, Value)> {
    map.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// One `env:` value: a literal, or a whole `${{ secrets.X }}` / `${{ github.event.inputs.X }}`
/// (the only expressions ephflow renders; anything else fails the test, as does a secret
/// FaaSr's conventions do not derive).
fn expand(value: &Value, ctx: &Context) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let Some(expr) = text
        .trim()
        .strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
    else {
        assert!(!text.contains("${{"), "an embedded expression: {text}");
        return text;
    };
    let expr = expr.trim();
    if let Some(name) = expr.strip_prefix("secrets.") {
        ctx.secrets
            .get(name)
            .unwrap_or_else(|| panic!("the rendered env asks for secret {name}, which FaaSr's conventions do not derive from this workflow"))
            .clone()
    } else if let Some(name) = expr.strip_prefix("github.event.inputs.") {
        ctx.inputs
            .iter()
            .find(|(k, _)| *k == name)
            .unwrap_or_else(|| panic!("no workflow_dispatch input {name}"))
            .1
            .clone()
    } else {
        panic!("an expression the harness does not evaluate: {text}")
    }
}
