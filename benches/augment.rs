//! Benchmark: validate + augment synthetic workflows of 1k to 1M actions.
//!
//! `cargo bench --bench augment` (release build). Prints, per size, the in-process time of
//! each phase and the wall time of the whole `ephflow augment` process. Sizes can be given as
//! arguments: `cargo bench --bench augment -- 1000 100000`.

use std::time::{Duration, Instant};

use ephflow::core::inject::{Options, Strategy, inject};
use ephflow::core::testkit::synthetic::{Shape, generate};
use ephflow::core::validate::{check_workflow, validate_document};
use ephflow::schema::Document;

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    ephflow::register_plugins();
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    corpus_analysis();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "{:>9} {:>6} {:>5} {:>9} {:>8} {:>9} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "actions",
        "conds",
        "stops",
        "MB",
        "parse",
        "validate",
        "inject",
        "apply",
        "revalid",
        "write",
        "process"
    );
    for (shape_name, conditional_every) in [("layers", 100), ("conditional-heavy", 1)] {
        println!(
            "shape: {shape_name} (width 8, a VM action every 50 workers, a conditional every {conditional_every} layer(s))"
        );
        for &n in &sizes {
            let shape = Shape {
                actions: n,
                width: 8,
                vm_every: 50,
                conditional_every,
            };
            let text = generate(&shape).to_string();
            let path = dir.path().join(format!("synthetic-{n}.json"));
            std::fs::write(&path, &text).unwrap();
            let (doc, t_parse) = time(|| Document::parse(&text).unwrap());
            let (report, t_validate) = time(|| validate_document(&doc).unwrap());
            assert!(
                report.is_valid(),
                "{:#?}",
                &report.diagnostics[..report.diagnostics.len().min(5)]
            );
            let w = report.workflow.unwrap();
            let conds = w
                .action_list
                .values()
                .filter(|a| {
                    a.invoke_next
                        .as_ref()
                        .is_some_and(|n| n.edges().iter().any(|e| e.branch.is_some()))
                })
                .count();
            let (a, t_inject) = time(|| inject(&w, Strategy::Parallel, &Options::default()));
            let a = match a {
                Ok(a) => a,
                Err(e) => {
                    println!("{n:>9} {conds:>6}  inject failed: {e}");
                    continue;
                }
            };
            let (out, t_apply) = time(|| a.apply(doc.clone()));
            let (again, t_revalidate) =
                time(|| check_workflow(&a.apply_to_workflow(w.clone())).unwrap());
            assert!(!again.iter().any(|d| d.is_error()));
            let (written, t_write) = time(|| out.to_pretty_string());
            let output = dir.path().join("out.json");
            let runs = if n >= 1_000_000 { 1 } else { 3 };
            let process = (0..runs)
                .map(|_| {
                    let (status, t) = time(|| {
                        std::process::Command::new(env!("CARGO_BIN_EXE_ephflow"))
                            .arg("augment")
                            .arg(&path)
                            .arg("--output")
                            .arg(&output)
                            .stdout(std::process::Stdio::null())
                            .stderr(std::process::Stdio::null())
                            .status()
                            .unwrap()
                    });
                    assert!(status.success());
                    t
                })
                .min()
                .unwrap();
            println!(
                "{:>9} {:>6} {:>5} {:>9.1} {:>8} {:>9} {:>8} {:>9} {:>9} {:>9} {:>10}",
                w.action_list.len(),
                conds,
                a.stops.len(),
                written.len() as f64 / 1e6,
                ms(t_parse),
                ms(t_validate),
                ms(t_inject),
                ms(t_apply),
                ms(t_revalidate),
                ms(t_write),
                ms(process)
            );
        }
    }
}

/// Scenario analysis (run conditions, executions, stop placement) on every corpus workflow,
/// VM or not, including the 303-action one.
fn corpus_analysis() {
    use ephflow::core::graph::Graph;
    use ephflow::core::inject::teardown;
    use ephflow::core::scenarios;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/faasr");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "corpus not found at {}: skipping the corpus analysis",
            dir.display()
        );
        return;
    };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    println!(
        "{:>40} {:>7} {:>9} {:>6} {:>10}",
        "corpus workflow", "actions", "scenarios", "stops", "analysis ms"
    );
    for path in files {
        let doc = Document::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Ok(w) = doc.workflow() else { continue };
        let ((count, stops), t) = time(|| {
            let g = Graph::build(&w);
            let order = g.topological_order().unwrap();
            let mut rc = g.run_conditions(&order);
            let all = scenarios::enumerate(&g, &order, &rc, 100_000).unwrap();
            let plan = teardown::plan(&g, &order, &mut rc, &all, "stop").unwrap();
            (all.len(), plan.stops.len())
        });
        let name = path.file_name().unwrap().to_string_lossy();
        println!(
            "{name:>40} {:>7} {count:>9} {stops:>6} {:>10.3}",
            w.action_list.len(),
            t.as_secs_f64() * 1000.0
        );
    }
}
