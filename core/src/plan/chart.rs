//! The Gantt chart of a plan: one panel per strategy on a shared time axis, one row per job, the
//! VM's lifetime as a band behind the rows, polls shaded (they only wait), VM actions in red.
//! Plain SVG (no script), embeddable in HTML; elements carry classes and `data-` attributes so
//! tools and tests can read what is drawn.

use std::fmt::Write;

use super::simulate::{JobKind, Schedule};
use crate::text::duration as clock;

const WIDTH: f64 = 1000.0;
const LABEL: f64 = 280.0;
const PLOT: f64 = WIDTH - LABEL - 40.0;
const ROW: f64 = 18.0;
const TITLE: f64 = 28.0;
const AXIS: f64 = 24.0;

/// One panel: a title and a schedule.
pub struct Panel<'a> {
    /// Strategy name (`parallel`, ...).
    pub name: &'a str,
    /// Its schedule.
    pub schedule: &'a Schedule,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn class(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Action => "action",
        JobKind::VmAction => "vm-action",
        JobKind::Start => "start",
        JobKind::Poll => "poll",
        JobKind::Stop => "stop",
    }
}

/// A tick step giving at most about 10 ticks.
fn tick_step(span: f64) -> f64 {
    [
        1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0,
        28800.0, 86400.0,
    ]
    .into_iter()
    .find(|s| span / s <= 10.0)
    .unwrap_or(86400.0)
}

/// The chart as an SVG document.
pub fn svg(title: &str, panels: &[Panel]) -> String {
    let span = panels
        .iter()
        .map(|p| p.schedule.makespan)
        .fold(1.0, f64::max);
    let x = |t: f64| LABEL + t / span * PLOT;
    let height: f64 = TITLE
        + panels
            .iter()
            .map(|p| TITLE + ROW * p.schedule.jobs.len() as f64 + AXIS)
            .sum::<f64>();
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="ephflow-plan" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">
<style>
.bar.action {{ fill: #7f8c8d; }}
.bar.vm-action {{ fill: #c0392b; }}
.bar.start, .bar.stop {{ fill: #2c6fbb; }}
.bar.poll {{ fill: #2c6fbb; fill-opacity: 0.3; stroke: #2c6fbb; stroke-dasharray: 3 2; }}
.vm-band {{ fill: #f39c12; fill-opacity: 0.15; stroke: #f39c12; }}
.tick {{ stroke: #ddd; }}
</style>
<text x="8" y="18" font-size="14" font-weight="bold">{}</text>
"##,
        escape(title)
    );
    let mut top = TITLE;
    for panel in panels {
        let s = panel.schedule;
        let rows = ROW * s.jobs.len() as f64;
        let _ = writeln!(
            out,
            r#"<g class="panel" data-strategy="{}" data-makespan="{:.1}">"#,
            escape(panel.name),
            s.makespan
        );
        let _ = writeln!(
            out,
            r#"<text x="8" y="{:.1}" font-size="13" font-weight="bold">{} — makespan {}</text>"#,
            top + 18.0,
            escape(panel.name),
            clock(s.makespan)
        );
        let body = top + TITLE;
        let step = tick_step(span);
        let mut t = 0.0;
        while t <= span + 1e-9 {
            let _ = writeln!(
                out,
                r#"<line class="tick" x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{2:.1}"/><text x="{0:.1}" y="{3:.1}" text-anchor="middle" fill="grey">{4}</text>"#,
                x(t),
                body,
                body + rows,
                body + rows + 14.0,
                clock(t)
            );
            t += step;
        }
        if let Some(w) = s.vm {
            let _ = writeln!(
                out,
                r#"<rect class="vm-band" data-requested="{:.1}" data-ready="{:.1}" data-stopped="{:.1}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>VM: requested {}, ready {}, stop requested {}</title></rect>"#,
                w.requested,
                w.ready,
                w.stopped,
                x(w.requested),
                body,
                (x(w.stopped) - x(w.requested)).max(1.0),
                rows,
                clock(w.requested),
                clock(w.ready),
                clock(w.stopped)
            );
        }
        for (i, job) in s.jobs.iter().enumerate() {
            let y = body + ROW * i as f64;
            let label = if job.copies > 1 {
                format!("{} ×{}", job.action, job.copies)
            } else {
                job.action.clone()
            };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="bar {}" data-action="{}" data-start="{:.1}" data-finish="{:.1}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}: {} → {}</title></rect>"#,
                LABEL - 6.0,
                y + ROW - 5.0,
                escape(&label),
                class(job.kind),
                escape(&job.action),
                job.start,
                job.finish,
                x(job.start),
                y + 3.0,
                (x(job.finish) - x(job.start)).max(1.5),
                ROW - 6.0,
                escape(&job.action),
                clock(job.start),
                clock(job.finish)
            );
        }
        out.push_str("</g>\n");
        top = body + rows + AXIS;
    }
    out.push_str("</svg>\n");
    out
}

/// The chart in a standalone HTML page, with `summary` (already-escaped HTML, a table) above.
pub fn html(title: &str, summary: &str, svg: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{0}</title>\n<style>body {{ font-family: sans-serif; margin: 1.5em; }} table {{ border-collapse: collapse; margin-bottom: 1em; }} td, th {{ border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }} th:first-child, td:first-child {{ text-align: left; }}</style>\n</head>\n<body>\n<h1>{0}</h1>\n{1}\n{2}</body>\n</html>\n",
        escape(title),
        summary,
        svg
    )
}

/// Escapes text for the summary table.
pub fn escape_html(text: &str) -> String {
    escape(text)
}
