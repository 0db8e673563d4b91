//! `ephflow plan`: the simulation's figures on a workflow small enough to check by hand, the
//! parallel strategy never slower than the sequential one on the corpus, bad input, and the
//! Gantt chart as headless Chromium lays it out.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::world::{ephflow, text};

fn fixture(name: &str) -> PathBuf {
    support::root().join("tests/fixtures/plan").join(name)
}

fn plan_json(file: &Path, args: &[&str]) -> Value {
    let out = ephflow()
        .arg("plan")
        .arg(file)
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(v: &Value, expected: f64) -> bool {
    (v.as_f64().unwrap() - expected).abs() < 1e-6
}

/// prep 100 s → train (VM) 300 s → report 50 s; boot 90, dispatch 10, lifecycle calls 2,
/// runner noticed 3.1 s after it is online. Worked out by hand:
/// - parallel: start 0–2 (VM asked at 2, ready at 92); prep 12–112; poll 122–124 (the VM is
///   long ready); train 134–434; report 444–494; stop 504–506.
/// - sequential: start 0–2; poll 12–95.1; prep 105.1–205.1; train 215.1–515.1; report
///   525.1–575.1; stop 585.1–587.1.
/// - no overlap: prep 0–100; train ready at 110, VM asked at 112, ready at 202, train
///   205.1–505.1; report 515.1–565.1; VM stopped at 507.1.
#[test]
fn figures_match_the_hand_computed_schedule() {
    let v = plan_json(
        &fixture("simple.json"),
        &[
            "--durations",
            fixture("simple-durations.yaml").to_str().unwrap(),
        ],
    );
    let s = &v["scenarios"][0]["strategies"];
    let p = &s["parallel"];
    assert!(close(&p["makespan"], 506.0), "{p}");
    assert!(close(&p["vm_billed"], 504.0), "{p}");
    assert!(close(&p["vm_idle"], 204.0), "{p}");
    assert!(close(&p["poll_seconds"], 2.0), "{p}");
    assert!(close(&p["vm_action_starts"][0]["start"], 134.0), "{p}");
    assert_eq!(
        p["critical_path"],
        serde_json::json!([
            "faasr-vm-start",
            "prep",
            "faasr-vm-poll-train",
            "train",
            "report",
            "faasr-vm-stop"
        ])
    );
    let q = &s["sequential"];
    assert!(close(&q["makespan"], 587.1), "{q}");
    assert!(close(&q["vm_billed"], 585.1), "{q}");
    assert!(close(&q["poll_seconds"], 83.1), "{q}");
    assert_eq!(
        q["critical_path"].as_array().unwrap()[..3],
        ["faasr-vm-start", "faasr-vm-poll", "prep"]
    );
    let n = &s["no-overlap"];
    assert!(close(&n["makespan"], 565.1), "{n}");
    assert!(close(&n["vm_billed"], 395.1), "{n}");
    assert!(close(&n["vm_idle"], 95.1), "{n}");
    assert!(close(&n["vm_action_starts"][0]["start"], 205.1), "{n}");
}

#[test]
fn parallel_is_never_slower_than_sequential_on_the_corpus() {
    let files: Vec<PathBuf> = support::corpus_workflows()
        .into_iter()
        .filter(|f| {
            let t = std::fs::read_to_string(f).unwrap();
            t.contains("\"RequiresVM\": true") || t.contains("\"RequiresVM\":true")
        })
        .filter(|f| {
            !support::CORPUS_REJECTED
                .iter()
                .any(|(name, _)| f.ends_with(name))
        })
        .collect();
    let mut planned = 0;
    for file in &files {
        let v = plan_json(file, &[]);
        for scenario in v["scenarios"].as_array().unwrap() {
            let s = &scenario["strategies"];
            let (p, q) = (
                s["parallel"]["makespan"].as_f64().unwrap(),
                s["sequential"]["makespan"].as_f64().unwrap(),
            );
            assert!(
                p <= q + 1e-9,
                "{}: parallel {p} > sequential {q} in {}",
                file.display(),
                scenario["scenario"]
            );
            planned += 1;
        }
    }
    if !files.is_empty() {
        assert!(planned >= files.len(), "every VM workflow planned");
        eprintln!(
            "planned {planned} scenarios of {} corpus VM workflows",
            files.len()
        );
    }
}

#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let durations = dir.path().join("d.json");
    std::fs::write(&durations, r#"{"trainn": 10}"#).unwrap();
    let out = ephflow()
        .arg("plan")
        .arg(fixture("simple.json"))
        .arg("--durations")
        .arg(&durations)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("\"trainn\" is not an action of the workflow; did you mean \"train\"?"),
        "{}",
        text(&out)
    );
    // Durations that would make the makespan infinite (and the chart loop forever: found by
    // audit) are refused; a year is the most one action may take.
    for (file, flag) in [(r#"{"default": 1e308}"#, None), ("{}", Some("1e308"))] {
        std::fs::write(&durations, file).unwrap();
        let chart = dir.path().join("huge.svg");
        let mut cmd = ephflow();
        cmd.arg("plan")
            .arg(fixture("simple.json"))
            .arg("--durations")
            .arg(&durations)
            .arg("--chart")
            .arg(&chart);
        if let Some(boot) = flag {
            cmd.args(["--boot", boot]);
        }
        let out = cmd.output().unwrap();
        assert_ne!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains("a year"), "{}", text(&out));
        assert!(!chart.exists());
    }
    let chart = dir.path().join("c.png");
    let out = ephflow()
        .arg("plan")
        .arg(fixture("simple.json"))
        .arg("--chart")
        .arg(&chart)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(".svg or .html"));
    assert!(!chart.exists());
    let out = ephflow()
        .arg("plan")
        .arg(fixture("simple.json"))
        .args(["--scenario", "prep=True"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("\"prep\" is not a conditional action (those are: none)"),
        "{}",
        text(&out)
    );
    let aug = dir.path().join("aug.json");
    ephflow()
        .arg("augment")
        .arg(fixture("simple.json"))
        .arg("-o")
        .arg(&aug)
        .assert()
        .code(0);
    let out = ephflow().arg("plan").arg(&aug).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("already augmented"), "{}", text(&out));
}

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        if found.is_some() {
            return found;
        }
    }
    support::missing("chromium (scripts/test.sh installs it with apt-get)");
    None
}

/// Measures what Chromium drew: every bar's and VM band's box, and the painted style.
const PROBE: &str = r#"<pre id="probe"></pre><script>
const out = [...document.querySelectorAll('g.panel')].map(g => {
  const box = e => { const b = e.getBoundingClientRect(); return {left: b.left, right: b.right, width: b.width, height: b.height}; };
  const band = g.querySelector('rect.vm-band');
  return {
    strategy: g.dataset.strategy,
    band: band ? box(band) : null,
    bars: [...g.querySelectorAll('rect.bar')].map(r => ({
      action: r.dataset.action, kind: r.classList[1], start: +r.dataset.start, ...box(r),
      fill: getComputedStyle(r).fill, opacity: +getComputedStyle(r).fillOpacity,
    })),
  };
});
document.getElementById('probe').textContent = JSON.stringify(out);
</script>"#;

#[test]
fn the_chart_shows_the_vm_band_around_vm_actions_and_shaded_polls() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("plan.svg");
    let html = dir.path().join("plan.html");
    for out in [&svg, &html] {
        ephflow()
            .arg("plan")
            .arg(support::root().join("examples/ml-pipeline.json"))
            .args(["--scenario", "evaluate=False", "--chart"])
            .arg(out)
            .assert()
            .code(0);
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>") && page.contains("<table>"),
        "a page with the summary"
    );
    let probe = dir.path().join("probe.html");
    std::fs::write(
        &probe,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\">{}{PROBE}</body></html>",
            std::fs::read_to_string(&svg).unwrap()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", probe.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe ran: {dom}"))
        .replace("&quot;", "\"");
    let panels: Value = serde_json::from_str(&json).unwrap();
    let panels = panels.as_array().unwrap();
    let names: Vec<&str> = panels
        .iter()
        .map(|p| p["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["parallel", "sequential", "no-overlap"]);
    for panel in panels {
        let band = &panel["band"];
        let bars = panel["bars"].as_array().unwrap();
        assert!(bars.len() >= 5, "{panel}");
        let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
        for bar in bars {
            assert!(
                f(bar, "width") >= 1.0 && f(bar, "height") > 0.0,
                "every job is visible: {bar}"
            );
            assert!(f(bar, "right") <= 1000.5, "inside the chart: {bar}");
            match bar["kind"].as_str().unwrap() {
                "vm-action" => {
                    assert!(
                        f(band, "left") <= f(bar, "left") + 0.5,
                        "the VM runs before {bar}"
                    );
                    assert!(
                        f(band, "right") >= f(bar, "right") - 0.5,
                        "and after it: {bar}"
                    );
                    assert_eq!(bar["fill"], "rgb(192, 57, 43)");
                }
                "poll" => assert!(f(bar, "opacity") < 0.5, "polls are shaded: {bar}"),
                _ => assert!((f(bar, "opacity") - 1.0).abs() < 1e-9, "{bar}"),
            }
        }
        // Rows follow time: a later start is drawn further right.
        for w in bars.windows(2) {
            assert!(f(&w[0], "start") <= f(&w[1], "start"));
            assert!(f(&w[0], "left") <= f(&w[1], "left") + 0.01);
        }
    }
    // The parallel strategy asks for the VM at the entry, long before its VM action; the
    // no-overlap reference only when the VM action is ready.
    let first_vm = |p: &Value| {
        p["bars"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["kind"] == "vm-action")
            .unwrap()["left"]
            .as_f64()
            .unwrap()
    };
    let lead = |p: &Value| first_vm(p) - p["band"]["left"].as_f64().unwrap();
    assert!(
        lead(&panels[0]) > lead(&panels[2]),
        "parallel boots the VM ahead of time"
    );
}
