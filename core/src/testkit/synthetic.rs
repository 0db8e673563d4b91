//! Synthetic workflows of any size, for benchmarks and scale tests.
//!
//! The workflow is a chain of layers. Each layer fans out from `fan-<j>` to `width` workers
//! and joins them in `join-<j>`, which invokes the next layer. Every `conditional_every`-th
//! join is conditional: True continues, False ends the run in `exit-<j>`. Every
//! `vm_every`-th worker requires the VM; every third worker runs on Lambda.

use serde_json::{Map, Value, json};

/// The size and texture of a synthetic workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Roughly how many actions (the last layer is cut to fit).
    pub actions: usize,
    /// Workers per layer.
    pub width: usize,
    /// One worker in this many requires the VM (0: none).
    pub vm_every: usize,
    /// One layer in this many ends in a conditional join (0: none).
    pub conditional_every: usize,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            actions: 1000,
            width: 8,
            vm_every: 50,
            conditional_every: 100,
        }
    }
}

/// Generates the workflow document.
pub fn generate(shape: &Shape) -> Value {
    let width = shape.width.max(1);
    let mut actions = Map::new();
    let mut containers = Map::new();
    let image = "ghcr.io/faasr/github-actions-python:latest";
    let mut worker_count = 0usize;
    let mut layer = 0usize;
    let mut push = |actions: &mut Map<String, Value>,
                    name: String,
                    server: &str,
                    next: Value,
                    vm: bool| {
        let mut a = json!({"FunctionName": "step", "FaaSServer": server, "Type": "Python", "InvokeNext": next});
        if vm {
            a["RequiresVM"] = json!(true);
        }
        if server == "GH" {
            containers.insert(name.clone(), json!(image));
        }
        actions.insert(name, a);
    };
    loop {
        let remaining = shape.actions.saturating_sub(actions.len());
        let workers = width.min(remaining.saturating_sub(2)).max(1);
        let last = remaining <= width + 3;
        let conditional = !last
            && shape.conditional_every > 0
            && (layer + 1).is_multiple_of(shape.conditional_every);
        let fan = format!("fan-{layer}");
        let join = format!("join-{layer}");
        let names: Vec<String> = (0..workers).map(|i| format!("w-{layer}-{i}")).collect();
        push(&mut actions, fan, "GH", json!(names), false);
        for name in names {
            worker_count += 1;
            let vm = shape.vm_every > 0 && worker_count.is_multiple_of(shape.vm_every);
            let server = if !vm && worker_count.is_multiple_of(3) {
                "Lambda"
            } else {
                "GH"
            };
            push(&mut actions, name, server, json!([join.clone()]), vm);
        }
        let next_fan = format!("fan-{}", layer + 1);
        let next = if last {
            json!([])
        } else if conditional {
            let exit = format!("exit-{layer}");
            json!([{"True": [next_fan], "False": [exit]}])
        } else {
            json!([next_fan])
        };
        push(&mut actions, join, "GH", next, false);
        if conditional {
            push(
                &mut actions,
                format!("exit-{layer}"),
                "GH",
                json!([]),
                false,
            );
        }
        layer += 1;
        if last {
            break;
        }
    }
    json!({
        "WorkflowName": "synthetic",
        "FunctionInvoke": "fan-0",
        "DefaultDataStore": "S3",
        "LoggingDataStore": "S3",
        "FaaSrLog": "FaaSrLog",
        "ComputeServers": {
            "GH": {"FaaSType": "GitHubActions", "UserName": "example-org", "ActionRepoName": "synthetic", "Branch": "main"},
            "Lambda": {"FaaSType": "Lambda", "Region": "us-east-1"}
        },
        "DataStores": {"S3": {"Bucket": "synthetic", "Region": "us-east-1"}},
        "VMConfig": {"Name": "SYNTH", "Provider": "AWS", "InstanceId": "i-0123456789abcdef0", "Region": "us-east-1", "RunnerName": "synthetic-runner"},
        "ActionList": actions,
        "ActionContainers": containers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_textures() {
        let w = generate(&Shape {
            actions: 1000,
            width: 8,
            vm_every: 10,
            conditional_every: 5,
        });
        let actions = w["ActionList"].as_object().unwrap();
        assert!((990..=1010).contains(&actions.len()), "{}", actions.len());
        let vm = actions.values().filter(|a| a["RequiresVM"] == true).count();
        assert!(vm > 50, "{vm}");
        assert!(actions.contains_key("exit-4"));
    }
}
