//! Validation never panics, whatever the input: random mutations of real workflows.

mod support;

use ephflow::core::validate::validate_document;
use ephflow::schema::Document;
use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*), so a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_value(rng: &mut Rng, names: &[String]) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!(rng.next() as i64),
        3 => json!(-0.5),
        4 => json!([]),
        5 => json!({}),
        6 => json!([{"True": [], "False": ["x(0)"]}, {"True": ["y"]}]),
        7 => json!("a(99999999999999)"),
        8 => json!(format!("{}(3)", names[rng.below(names.len())])),
        9 => json!([names[rng.below(names.len())].clone()]),
        10 => json!("faasr-vm-poll-x"),
        _ => json!(names[rng.below(names.len())].clone()),
    }
}

/// Every path to a value in the document.
fn paths(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            paths(
                c,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| paths(c, format!("{at}/{i}"), out)),
        _ => {}
    }
}

fn mutate(doc: &mut Value, rng: &mut Rng, names: &[String]) {
    let mut all = Vec::new();
    paths(doc, String::new(), &mut all);
    let at = &all[rng.below(all.len())];
    let replacement = random_value(rng, names);
    let Some(target) = doc.pointer_mut(at) else {
        return;
    };
    match (rng.below(3), target) {
        (0, Value::Object(m)) if !m.is_empty() => {
            let key = m.keys().nth(rng.below(m.len())).unwrap().clone();
            m.shift_remove(&key);
        }
        (1, Value::Object(m)) => {
            m.insert(names[rng.below(names.len())].clone(), replacement);
        }
        (_, target) => *target = replacement,
    }
}

#[test]
fn mutated_workflows_never_panic() {
    support::link_plugins();
    let mut inputs = support::corpus_workflows();
    inputs.push(support::root().join("examples/ml-pipeline.json"));
    let mut rng = Rng(0x5EED_2026_1204);
    let mut rejected = 0;
    for path in &inputs {
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut names: Vec<String> = original["ActionList"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        names.extend(
            [
                "GH",
                "S3",
                "VMConfig",
                "RequiresVM",
                "InvokeNext",
                "Provider",
            ]
            .map(String::from),
        );
        for round in 0..150 {
            let mut doc = original.clone();
            for _ in 0..=rng.below(4) {
                mutate(&mut doc, &mut rng, &names);
            }
            let result = std::panic::catch_unwind(|| match Document::from_value(doc.clone()) {
                Ok(d) => !validate_document(&d).unwrap().is_valid(),
                Err(_) => true,
            });
            match result {
                Ok(invalid) => rejected += usize::from(invalid),
                Err(_) => panic!("panic on {} round {round}: {doc}", path.display()),
            }
        }
    }
    // The mutations must actually exercise the error paths.
    assert!(
        rejected > inputs.len() * 50,
        "only {rejected} mutants were rejected"
    );
}
