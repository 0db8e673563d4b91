//! The fuzz targets: each takes raw input bytes and returns the outcome signature (a short
//! text summarising what happened, used to decide which inputs are worth keeping) or the
//! description of a broken invariant. A panic is a crash; the engine catches it.

use ephflow::core::inject::{self, Options, Strategy};
use ephflow::core::registry::{ReaperOptions, RenderOptions};
use ephflow::core::validate::{Report, validate_document};
use ephflow::schema::Document;
use ephflow::schema::model::Workflow;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Once;

/// What a target reports for one input: its outcome signature, or a broken invariant.
pub type TargetResult = Result<String, String>;

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(ephflow::register_plugins);
}

fn text_of(input: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(input)
}

/// Parses and validates, checking the diagnostics' invariants; returns the document, the
/// report (when the input parsed) and the signature so far.
fn parse_and_validate(input: &[u8]) -> Result<(Option<(Document, Report)>, String), String> {
    setup();
    let text = text_of(input);
    let doc = match Document::parse(&text) {
        Ok(doc) => doc,
        Err(e) => {
            let msg = e.to_string();
            if msg.trim().is_empty() {
                return Err(format!("parse error with an empty message: {e:?}"));
            }
            let class = format!("{e:?}");
            let class = class.split([' ', '{', '(']).next().unwrap_or("").to_owned();
            return Ok((None, format!("parse-error:{class}")));
        }
    };
    let report = validate_document(&doc).map_err(|e| format!("registry error: {e}"))?;
    let mut codes = BTreeSet::new();
    for d in &report.diagnostics {
        if d.message.trim().is_empty() {
            return Err(format!(
                "diagnostic {} at {:?} has an empty message",
                d.code, d.pointer
            ));
        }
        if !d.pointer.is_empty() && doc.value().pointer(&d.pointer).is_none() {
            return Err(format!(
                "diagnostic {} ({}) has pointer {:?} which does not resolve in the document",
                d.code, d.message, d.pointer
            ));
        }
        codes.insert(format!("{:?}:{}", d.severity, d.code));
    }
    let sig = format!(
        "valid={} model={} codes={}",
        report.is_valid(),
        report.workflow.is_some(),
        codes.into_iter().collect::<Vec<_>>().join(",")
    );
    Ok((Some((doc, report)), sig))
}

/// Target 1: `Document::parse` + `validate_document` never panic; every diagnostic has a
/// non-empty message and a JSON pointer that is empty or resolves in the document.
pub fn parse_validate(input: &[u8]) -> TargetResult {
    parse_and_validate(input).map(|(_, sig)| sig)
}

fn without_invoke_next(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.shift_remove("InvokeNext");
    }
    v
}

/// Injects with `strategy` and checks the augmented document; returns the augmented workflow
/// and a signature fragment.
fn augment_one(
    doc: &Document,
    workflow: &Workflow,
    strategy: Strategy,
) -> Result<(Option<Workflow>, String), String> {
    let options = Options {
        builtin_image: Some("img".into()),
        ..Options::default()
    };
    let a = match inject::inject(workflow, strategy, &options) {
        Ok(a) => a,
        Err(e) => {
            let msg = e.to_string();
            if msg.trim().is_empty() {
                return Err(format!("inject error with an empty message: {e:?}"));
            }
            let class = format!("{e:?}");
            let class = class.split([' ', '{', '(']).next().unwrap_or("").to_owned();
            return Ok((None, format!("{}:err:{class}", strategy.name())));
        }
    };
    let name = strategy.name();
    let augmented_doc = a.apply(doc.clone());
    let report = validate_document(&augmented_doc).map_err(|e| format!("registry error: {e}"))?;
    if !report.is_valid() {
        let errors: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{} at {}: {}", d.code, d.pointer, d.message))
            .collect();
        return Err(format!(
            "{name}: the augmented document does not validate: {errors:?}"
        ));
    }
    let augmented = report
        .workflow
        .ok_or_else(|| format!("{name}: no workflow model for a valid augmented document"))?;
    // Every original action is still there, unchanged except for InvokeNext; everything
    // else at the top level is unchanged too, except what injection owns.
    let before = doc.value();
    let after = augmented_doc.value();
    if let (Some(Value::Object(b)), Some(Value::Object(af))) =
        (before.get("ActionList"), after.get("ActionList"))
    {
        for (action, old) in b {
            match af.get(action) {
                None => return Err(format!("{name}: action {action:?} disappeared")),
                Some(new) if without_invoke_next(old) != without_invoke_next(new) => {
                    return Err(format!(
                        "{name}: action {action:?} changed beyond InvokeNext: {old} -> {new}"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    if let (Value::Object(b), Value::Object(af)) = (before, after) {
        for (key, old) in b {
            if key == "FunctionInvoke" || key == "ActionList" || key == "ActionContainers" {
                continue;
            }
            if af.get(key) != Some(old) {
                return Err(format!("{name}: top-level {key:?} changed"));
            }
        }
        if let (Some(Value::Object(oc)), Some(Value::Object(nc))) =
            (b.get("ActionContainers"), af.get("ActionContainers"))
        {
            for (k, v) in oc {
                if nc.get(k) != Some(v) {
                    return Err(format!("{name}: ActionContainers[{k:?}] changed"));
                }
            }
        }
    }
    if let Err(problems) = inject::verify::verify(workflow, &augmented, &a) {
        return Err(format!("{name}: verify reports {problems:?}"));
    }
    let sig = format!(
        "{name}:ok:actions={} gated={}",
        a.actions.len().min(8),
        a.gated.len().min(4)
    );
    Ok((Some(augmented), sig))
}

fn augment_all(input: &[u8]) -> Result<(Vec<Workflow>, String), String> {
    let (parsed, sig) = parse_and_validate(input)?;
    let Some((doc, report)) = parsed else {
        return Ok((Vec::new(), sig));
    };
    let Some(workflow) = report.workflow.as_ref().filter(|_| report.is_valid()) else {
        return Ok((Vec::new(), sig));
    };
    let mut sigs = vec![sig];
    let mut augmented = Vec::new();
    for strategy in [Strategy::Parallel, Strategy::Sequential] {
        let (w, s) = augment_one(&doc, workflow, strategy)?;
        sigs.push(s);
        augmented.extend(w);
    }
    Ok((augmented, sigs.join(" | ")))
}

/// Target 2: any input that validates is augmented in both strategies; the augmented
/// document validates, every original action is unchanged except `InvokeNext`, and
/// `inject::verify::verify` finds nothing.
pub fn augment(input: &[u8]) -> TargetResult {
    augment_all(input).map(|(_, sig)| sig)
}

/// The `${{` expressions the renderer itself writes.
fn allowed_expression(expr: &str) -> bool {
    const FIXED: [&str; 3] = [
        "${{ github.event.inputs.OVERWRITTEN }}",
        "${{ github.event.inputs.PAYLOAD_URL }}",
        "${{ failure() || cancelled() }}",
    ];
    if FIXED.contains(&expr) {
        return true;
    }
    let Some(name) = expr
        .strip_prefix("${{ secrets.")
        .and_then(|r| r.strip_suffix(" }}"))
    else {
        return false;
    };
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every `${{` in `s` must open one of the renderer's own expressions.
fn check_expressions(s: &str, file: &str) -> Result<(), String> {
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        let tail = &rest[i..];
        let expr = match tail.find("}}") {
            Some(j) => &tail[..j + 2],
            None => tail,
        };
        if !allowed_expression(expr) {
            return Err(format!(
                "{file}: an expression that the renderer does not write reached the YAML: {s:?}"
            ));
        }
        rest = &tail[3..];
    }
    Ok(())
}

fn walk_strings(v: &Value, file: &str) -> Result<(), String> {
    match v {
        Value::String(s) => check_expressions(s, file),
        Value::Array(items) => items.iter().try_for_each(|i| walk_strings(i, file)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            check_expressions(k, file)?;
            walk_strings(v, file)
        }),
        _ => Ok(()),
    }
}

fn render_variants(w: &Workflow) -> Vec<(&'static str, RenderOptions)> {
    let stop_step = w.vm_config.as_ref().and_then(|vm| {
        ephflow::core::registry::provider(&vm.provider)
            .ok()
            .flatten()
            .and_then(|p| (p.ci_stop_step)(vm))
    });
    let reaper = Some(ReaperOptions {
        image: "ghcr.io/ephflow/ephflow:latest".into(),
        payload_path: "workflow.json".into(),
    })
    .filter(|_| w.vm_config.is_some());
    vec![
        ("plain", RenderOptions::default()),
        (
            "stop",
            RenderOptions {
                stop_step: stop_step.clone(),
                ..RenderOptions::default()
            },
        ),
        (
            "native+reaper",
            RenderOptions {
                stop_step,
                native_builtin_image: Some("ghcr.io/ephflow/ephflow:latest".into()),
                reaper,
            },
        ),
    ]
}

/// Target 3: any input that validates and augments renders to either a clear error or YAML
/// files that parse, in which the only `${{` are the renderer's own.
pub fn render(input: &[u8]) -> TargetResult {
    let (augmented, sig) = augment_all(input)?;
    let mut sigs = vec![sig];
    for w in &augmented {
        for (variant, options) in render_variants(w) {
            match ephflow_github::render::render(w, &options) {
                Err(e) => {
                    let msg = e.to_string();
                    if msg.trim().is_empty() {
                        return Err(format!("render error with an empty message: {e:?}"));
                    }
                    let class = format!("{e:?}");
                    let class = class.split([' ', '{', '(']).next().unwrap_or("").to_owned();
                    sigs.push(format!("{variant}:err:{class}"));
                }
                Ok(files) => {
                    for f in &files {
                        let value: Value = serde_saphyr::from_str(&f.text).map_err(|e| {
                            format!("{variant}: {} is not YAML ({e}):\n{}", f.name, f.text)
                        })?;
                        walk_strings(&value, &f.name)?;
                        check_expressions(&f.text, &f.name)?;
                    }
                    sigs.push(format!("{variant}:ok:{}", files.len().min(6)));
                }
            }
        }
    }
    Ok(sigs.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert!(allowed_expression("${{ secrets.GH_PAT }}"));
        assert!(!allowed_expression("${{ secrets.A-B }}"));
        assert!(!allowed_expression("${{ github.token }}"));
        assert!(check_expressions("x ${{ secrets.A }} y", "f").is_ok());
        assert!(check_expressions("${{ secrets.A }}${{ x }}", "f").is_err());
        assert!(check_expressions("${{", "f").is_err());
    }
}
