//! `ephflow plan`: what each injection strategy costs, before anything runs.

use std::path::PathBuf;

use super::stdout::outln;
use clap::{Args, ValueEnum};
use ephflow::core::inject::{self, Options, Strategy};
use ephflow::core::plan::{self, Durations, Metrics, Scenario, Schedule, Timing, chart};
use ephflow::core::text::duration_to_the_second as clock;
use ephflow::exit::Exit;
use ephflow::schema::model::Workflow;
use serde_json::json;

/// Simulate a workflow under the parallel and the sequential strategy (and, for reference,
/// with no VM overlap: the VM started only when the first VM action is ready) and report, per
/// strategy and conditional scenario: the makespan, when each VM action starts, the VM's billed
/// and idle seconds, the hosted-runner seconds spent in polls, and the critical path.
///
/// The model: each action takes its duration (--durations; ranked copies run side by side on
/// hosted runners, one at a time on the VM's runner); each hop costs --dispatch-latency; the VM
/// is ready --boot seconds after vm_start's request (plus --status-lag with
/// WaitForStatusChecks); a poll notices the runner 3.1 s after it comes online on average
/// (measured); FaaSr's fan-in runs a join once all its predecessors ran.
///
/// Exit codes: 0 planned, 1 invalid workflow, no VM action or a bad --durations file, 2 usage,
/// 5 a file could not be read or written.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The workflow (original, not augmented: plan augments it both ways).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Seconds per action, JSON or YAML: `{"train-model": 3600, "default": 60}` or
    /// `{"default": 60, "actions": {"train-model": 3600}}` [default: 60 s each].
    #[arg(long, value_name = "FILE")]
    durations: Option<PathBuf>,
    /// Seconds from vm_start's request to the runner online (field: 30-60 s warm, 2-4 min
    /// cold).
    #[arg(long, value_name = "SECONDS", default_value_t = 90.0, value_parser = seconds)]
    boot: f64,
    /// Extra seconds until the EC2 status checks pass, for VMConfig.WaitForStatusChecks
    /// (field: 3-5 min).
    #[arg(long, value_name = "SECONDS", default_value_t = 240.0, value_parser = seconds)]
    status_lag: f64,
    /// Seconds from a dispatch to the job running (field: 5-20 s).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = seconds)]
    dispatch_latency: f64,
    /// Simulate one scenario: the result of each conditional action, `evaluate=False,b=True`
    /// (unnamed ones: True) [default: every combination, up to 16].
    #[arg(long, value_name = "ACTION=BOOL,...")]
    scenario: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Also draw a Gantt chart of the first scenario (or --scenario): one row per action, the
    /// VM's lifetime as a band, polls shaded. `.svg` or `.html`.
    #[arg(long, value_name = "OUT")]
    chart: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// Scenarios simulated by default before asking for --scenario.
const SCENARIO_LIMIT: usize = 16;

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if ephflow::core::plan::is_plan_seconds(s) => Ok(s),
        _ => Err(format!(
            "\"{text}\" is not a number of seconds from 0 to {} (a year)",
            ephflow::core::plan::MAX_SECONDS
        )),
    }
}

fn read_durations(path: &std::path::Path, workflow: &Workflow) -> Result<Durations, Exit> {
    let text = ephflow::io::read_text(path).map_err(|e| {
        eprintln!("error: {e}");
        Exit::Io
    })?;
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(json_error) => serde_saphyr::from_str(&text).map_err(|yaml_error| {
            eprintln!(
                "error: {}: neither JSON ({json_error}) nor YAML ({yaml_error})",
                path.display()
            );
            Exit::InvalidInput
        })?,
    };
    let durations = Durations::from_value(&value).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        Exit::InvalidInput
    })?;
    let unknown = durations.unknown(workflow);
    if !unknown.is_empty() {
        let names: Vec<&str> = workflow.action_list.keys().map(String::as_str).collect();
        for u in &unknown {
            let hint = ephflow::schema::suggest::closest(u, names.iter().copied())
                .map(|g| format!("; did you mean \"{g}\"?"))
                .unwrap_or_default();
            eprintln!(
                "error: {}: \"{u}\" is not an action of the workflow{hint}",
                path.display()
            );
        }
        return Err(Exit::InvalidInput);
    }
    Ok(durations)
}

struct Row {
    strategy: &'static str,
    schedule: Schedule,
    metrics: Metrics,
}

fn simulate_all(
    original: &Workflow,
    augmented: &[(&'static str, Workflow)],
    scenario: &Scenario,
    timing: &Timing,
) -> Vec<Row> {
    let mut rows: Vec<Row> = augmented
        .iter()
        .map(|(name, w)| {
            let schedule = plan::simulate(w, scenario, timing, false);
            Row {
                strategy: name,
                metrics: Metrics::of(&schedule),
                schedule,
            }
        })
        .collect();
    let schedule = plan::simulate(original, scenario, timing, true);
    rows.push(Row {
        strategy: "no-overlap",
        metrics: Metrics::of(&schedule),
        schedule,
    });
    rows
}

fn starts(m: &Metrics) -> String {
    if m.vm_action_starts.is_empty() {
        return "(none in this scenario)".into();
    }
    m.vm_action_starts
        .iter()
        .map(|(a, t)| format!("{a} at {}", clock(*t)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary_html(scenario: &Scenario, rows: &[Row]) -> String {
    let mut s = format!(
        "<p>Scenario: {}</p>\n<table>\n<tr><th>strategy</th><th>makespan</th><th>VM billed</th><th>VM idle</th><th>polls (hosted)</th><th>VM actions start</th></tr>\n",
        chart::escape_html(&scenario.label())
    );
    for r in rows {
        let m = &r.metrics;
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            r.strategy,
            clock(m.makespan),
            clock(m.vm_billed),
            clock(m.vm_idle),
            clock(m.poll_seconds),
            chart::escape_html(&starts(m))
        ));
    }
    s.push_str("</table>");
    s
}

pub fn run(args: PlanArgs) -> Exit {
    let (_, workflow) = match super::load_valid(&args.file, true, "nothing planned") {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    if workflow.vm_actions().next().is_none() {
        eprintln!(
            "error: {} has no RequiresVM actions: every strategy is the workflow itself; nothing to plan",
            args.file.display()
        );
        return Exit::InvalidInput;
    }
    let durations = match &args.durations {
        Some(path) => match read_durations(path, &workflow) {
            Ok(d) => d,
            Err(exit) => return exit,
        },
        None => Durations::default(),
    };
    let timing = Timing {
        durations,
        boot: args.boot,
        status_lag: args.status_lag,
        dispatch_latency: args.dispatch_latency,
        ..Timing::default()
    };
    // The image does not matter to timing; naming one keeps a workflow without
    // ActionContainers plannable.
    let options = Options {
        builtin_image: Some("plan".into()),
        ..Options::default()
    };
    let mut augmented = Vec::new();
    for (name, strategy) in [
        ("parallel", Strategy::Parallel),
        ("sequential", Strategy::Sequential),
    ] {
        match inject::inject(&workflow, strategy, &options) {
            Ok(a) => augmented.push((name, a.apply_to_workflow(workflow.clone()))),
            Err(e) => {
                eprintln!("error: {}: {e}; nothing planned", args.file.display());
                return Exit::InvalidInput;
            }
        }
    }
    let scenarios = match &args.scenario {
        Some(text) => match Scenario::parse(text, &workflow) {
            Ok(s) => vec![s],
            Err(e) => {
                eprintln!("error: --scenario: {e}");
                return Exit::Usage;
            }
        },
        None => match plan::scenarios(&workflow, SCENARIO_LIMIT) {
            Some(all) => all,
            None => {
                eprintln!(
                    "note: more than {SCENARIO_LIMIT} conditional scenarios; planning the one where every condition is True (choose others with --scenario)"
                );
                vec![Scenario::parse("", &workflow).expect("the empty scenario parses")]
            }
        },
    };
    let results: Vec<(Scenario, Vec<Row>)> = scenarios
        .into_iter()
        .map(|s| {
            let rows = simulate_all(&workflow, &augmented, &s, &timing);
            (s, rows)
        })
        .collect();

    if let Some(out) = &args.chart {
        let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
        let (scenario, rows) = &results[0];
        let panels: Vec<chart::Panel> = rows
            .iter()
            .map(|r| chart::Panel {
                name: r.strategy,
                schedule: &r.schedule,
            })
            .collect();
        let title = format!("{}: {}", workflow.workflow_name, scenario.label());
        let svg = chart::svg(&title, &panels);
        let text = match ext {
            "svg" => svg,
            "html" | "htm" => chart::html(&title, &summary_html(scenario, rows), &svg),
            _ => {
                eprintln!(
                    "error: --chart {}: the file must end in .svg or .html",
                    out.display()
                );
                return Exit::Usage;
            }
        };
        let inputs: Vec<&std::path::Path> = [Some(args.file.as_path()), args.durations.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if let Err(e) = ephflow::io::write_atomic(out, text.as_bytes(), &inputs) {
            return super::write_failed(&e);
        }
        eprintln!("wrote {}", out.display());
    }

    match args.format {
        Format::Json => {
            let scenarios: Vec<_> = results
                .iter()
                .map(|(s, rows)| {
                    let strategies: serde_json::Map<String, serde_json::Value> = rows
                        .iter()
                        .map(|r| {
                            let m = &r.metrics;
                            (
                                r.strategy.to_owned(),
                                json!({
                                    "makespan": tenths(m.makespan),
                                    "vm_billed": tenths(m.vm_billed),
                                    "vm_idle": tenths(m.vm_idle),
                                    "poll_seconds": tenths(m.poll_seconds),
                                    "vm_action_starts": m.vm_action_starts.iter()
                                        .map(|(a, t)| json!({"action": a, "start": tenths(*t)}))
                                        .collect::<Vec<_>>(),
                                    "critical_path": m.critical_path,
                                }),
                            )
                        })
                        .collect();
                    json!({"scenario": s.choices, "strategies": strategies})
                })
                .collect();
            outln!(
                "{}",
                json!({
                    "workflow": workflow.workflow_name,
                    "assumptions": {
                        "default_duration": timing.durations.default,
                        "boot": timing.boot,
                        "status_lag": timing.status_lag,
                        "dispatch_latency": timing.dispatch_latency,
                        "lifecycle_call": timing.lifecycle_call,
                        "detection_lag": timing.detection_lag,
                    },
                    "scenarios": scenarios,
                })
            );
        }
        Format::Table => {
            for (s, rows) in &results {
                outln!("scenario: {}", s.label());
                outln!(
                    "  {:<11} {:>10} {:>10} {:>10} {:>15}  VM actions start",
                    "strategy",
                    "makespan",
                    "VM billed",
                    "VM idle",
                    "polls (hosted)"
                );
                for r in rows {
                    let m = &r.metrics;
                    outln!(
                        "  {:<11} {:>10} {:>10} {:>10} {:>15}  {}",
                        r.strategy,
                        clock(m.makespan),
                        clock(m.vm_billed),
                        clock(m.vm_idle),
                        clock(m.poll_seconds),
                        starts(m)
                    );
                }
                for r in rows {
                    outln!(
                        "  critical path ({}): {}",
                        r.strategy,
                        r.metrics.critical_path.join(" → ")
                    );
                }
                outln!();
            }
        }
    }
    Exit::Success
}

/// Seconds for JSON: to the tenth, as the model is no finer (no `155.10000000000002`, no
/// `-0.0`).
fn tenths(s: f64) -> f64 {
    let rounded = (s * 10.0).round() / 10.0;
    if rounded == 0.0 { 0.0 } else { rounded }
}
