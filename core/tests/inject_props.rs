//! Property tests of injection over random workflows with ranks, conditionals (including
//! empty branches), joins, several GitHubActions servers and VM actions anywhere.

use ephflow_core::inject::{Options, Strategy as Wiring, inject, verify::verify};
use ephflow_core::registry::ProviderRegistration;
use ephflow_core::validate::validate_document;
use ephflow_schema::Document;
use ephflow_schema::model::Workflow;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

// A provider for this test crate only, so VMConfig validates without linking a cloud crate.
inventory::submit! {
    ProviderRegistration {
        kind: "TEST",
        description: "test provider",
        config_schema: |_| ephflow_core::schemars::Schema::default(),
        build: |_| Box::pin(async {
            Err(ephflow_core::provider::ProviderError::new(
                ephflow_core::provider::ErrorClass::Unsupported,
                "schema-only test provider",
            ))
        }),
        ci_stop_step: |_| None,
        access_policy: |_, _| None,
    }
}

/// Per action after the first: (how it is reached, which predecessor, a second number, VM?,
/// server).
type Spec = Vec<(u8, u8, u8, bool, u8)>;

fn build(spec: &Spec) -> Value {
    let n = spec.len() + 1;
    let name = |i: usize| format!("n{i}");
    let mut plain: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut cond: Vec<Map<String, Value>> = vec![Map::new(); n];
    let mut ranked = vec![false; n];
    let mut vm = vec![false; n];
    let mut server = vec!["GH"; n];
    // The entry itself requires the VM in about one workflow in four.
    vm[0] = spec[0].2.is_multiple_of(4);
    for (k, &(how, p, q, wants_vm, srv)) in spec.iter().enumerate() {
        let i = k + 1;
        let p = p as usize % i;
        server[i] = ["GH", "GH2", "Lambda"][srv as usize % 3];
        vm[i] = wants_vm && server[i] != "Lambda";
        match how % 6 {
            0 => {
                let branch = if q % 2 == 0 { "True" } else { "False" };
                let other = if branch == "True" { "False" } else { "True" };
                let list = cond[p].entry(branch).or_insert_with(|| json!([]));
                list.as_array_mut().unwrap().push(json!(name(i)));
                if q % 3 == 0 {
                    cond[p].entry(other).or_insert_with(|| json!([]));
                }
            }
            1 if !ranked[p] => {
                ranked[i] = true;
                plain[p].push(format!("{}({})", name(i), 2 + q % 3));
            }
            4 | 5 => {
                plain[p].push(name(i));
                let q = q as usize % i;
                if q != p {
                    plain[q].push(name(i));
                }
            }
            _ => plain[p].push(name(i)),
        }
    }
    let mut actions = Map::new();
    let mut containers = Map::new();
    for i in 0..n {
        let mut next: Vec<Value> = plain[i].iter().map(|s| json!(s)).collect();
        if !cond[i].is_empty() {
            next.push(Value::Object(cond[i].clone()));
        }
        let mut a = json!({"FunctionName": "f", "FaaSServer": server[i], "InvokeNext": next});
        if vm[i] {
            a["RequiresVM"] = json!(true);
        }
        actions.insert(name(i), a);
        if server[i] != "Lambda" {
            containers.insert(name(i), json!("ghcr.io/faasr/github-actions-python:latest"));
        }
    }
    json!({
        "WorkflowName": "prop", "FunctionInvoke": "n0", "DefaultDataStore": "S3",
        "LoggingDataStore": "S3", "FaaSrLog": "log",
        "ComputeServers": {
            "GH": {"FaaSType": "GitHubActions", "UserName": "u", "ActionRepoName": "r"},
            "GH2": {"FaaSType": "GitHubActions", "UserName": "u", "ActionRepoName": "r2"},
            "Lambda": {"FaaSType": "Lambda", "Region": "us-east-1"}
        },
        "DataStores": {"S3": {"Bucket": "b"}},
        "VMConfig": {"Name": "VM", "Provider": "TEST"},
        "ActionList": actions,
        "ActionContainers": containers
    })
}

fn errors(doc: &Document) -> Vec<String> {
    validate_document(doc)
        .unwrap()
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect()
}

fn spec() -> impl Strategy<Value = Spec> {
    prop::collection::vec(
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<bool>(),
            any::<u8>(),
        ),
        1..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn injection_keeps_its_promises(spec in spec()) {
        let doc = Document::from_value(build(&spec)).unwrap();
        let input_errors = errors(&doc);
        let has_vm = doc.value()["ActionList"].as_object().unwrap().values().any(|a| a["RequiresVM"] == true);
        // Without VM actions, VMConfig only warns; with them the generator must be valid.
        prop_assert!(input_errors.is_empty(), "generator made an invalid workflow: {input_errors:#?}");
        let workflow: Workflow = doc.workflow().unwrap();
        for strategy in [Wiring::Parallel, Wiring::Sequential] {
            let a = inject(&workflow, strategy, &Options::default()).unwrap();
            prop_assert_eq!(a.is_unchanged(), !has_vm);
            let again = inject(&workflow, strategy, &Options::default()).unwrap();
            prop_assert_eq!(&a, &again, "not deterministic");
            let out = a.apply(doc.clone());
            let typed = a.apply_to_workflow(workflow.clone());
            prop_assert_eq!(out.value(), &serde_json::to_value(&typed).unwrap());
            let out_errors = errors(&out);
            prop_assert!(out_errors.is_empty(), "{:?}: augmented workflow invalid: {out_errors:#?}\n{}", strategy, out.to_pretty_string());
            if let Err(problems) = verify(&workflow, &typed, &a) {
                prop_assert!(false, "{:?}: {problems:#?}\n{}", strategy, out.to_pretty_string());
            }
        }
    }
}

/// The generator reaches the interesting shapes: several stops, executions without a clean
/// stop, ranked VM actions, VM entries.
#[test]
fn the_generator_covers_the_hard_shapes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(Default::default()),
    );
    let (mut several_stops, mut uncovered, mut ranked_vm, mut vm_entry) = (0, 0, 0, 0);
    for _ in 0..2000 {
        let spec = spec().new_tree(&mut runner).unwrap().current();
        let doc = Document::from_value(build(&spec)).unwrap();
        let w = doc.workflow().unwrap();
        let a = inject(&w, Wiring::Parallel, &Options::default()).unwrap();
        several_stops += usize::from(a.stops.len() > 1);
        uncovered += usize::from(!a.uncovered.is_empty());
        ranked_vm += usize::from(a.actions.values().any(|p| {
            p.invoke_next
                .as_ref()
                .is_some_and(|n| n.edges().iter().any(|e| e.target.rank().is_some()))
        }));
        vm_entry += usize::from(a.gated.iter().any(|g| g == "n0"));
    }
    eprintln!(
        "several stops {several_stops}, uncovered {uncovered}, ranked VM {ranked_vm}, VM entry {vm_entry}"
    );
    assert!(
        several_stops > 50 && uncovered > 20 && ranked_vm > 20 && vm_entry > 20,
        "weak generator"
    );
}
