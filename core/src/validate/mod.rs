//! Validation: the generated JSON Schema first, then the semantic rules the schema cannot
//! express (references, FaaSr's graph rules, VM rules). Every problem is reported, each with
//! its JSON pointer, its culprit, what was expected and a hint.
//!
//! Semantic rules need the typed model, so they run once the document has the right shape;
//! until then the schema's own findings are the report.

mod graph_rules;
mod portability;
mod references;
mod vm;

use std::sync::OnceLock;

use ephflow_schema::model::Workflow;
use ephflow_schema::{Diagnostic, Document, Draft, SchemaValidator, Severity};
use serde_json::Value;

use crate::graph::Graph;
use crate::registry::{self, RegistryError};

/// What validation found.
#[derive(Debug, Clone)]
pub struct Report {
    /// Errors first, then warnings; each group in document order.
    pub diagnostics: Vec<Diagnostic>,
    /// The typed workflow, when the document had the right shape to build one.
    pub workflow: Option<Workflow>,
}

impl Report {
    /// Whether no error was found (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.workflow.is_some() && !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Number of diagnostics of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

/// The document schema for `draft`, composed with every registered provider.
pub fn document_schema(draft: Draft) -> Result<Value, RegistryError> {
    let providers: Vec<_> = registry::providers()?.iter().map(|p| p.schema()).collect();
    Ok(ephflow_schema::document_schema(draft, &providers))
}

fn schema_validator() -> Result<&'static SchemaValidator, RegistryError> {
    static VALIDATOR: OnceLock<Result<SchemaValidator, RegistryError>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema = document_schema(Draft::Draft2020_12)?;
            Ok(SchemaValidator::new(schema)
                .expect("the generated schema compiles (checked by the schema snapshot test)"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Validates a whole document: schema, then semantics.
pub fn validate_document(doc: &Document) -> Result<Report, RegistryError> {
    let mut diagnostics = schema_validator()?.validate(doc.value());
    let workflow = match doc.workflow() {
        Ok(w) => Some(w),
        Err(e) => {
            // The schema explains shape errors better; the model's view is reported only
            // where the schema found nothing in or around the same place (for example a
            // rank too large for 32 bits, which the pattern accepts).
            let related = |d: &Diagnostic| {
                e.pointer.starts_with(&d.pointer) || d.pointer.starts_with(&e.pointer)
            };
            if !diagnostics.iter().any(related) {
                diagnostics.push(match invoke_next_culprit(doc.value(), &e.pointer) {
                    Some(culprit) => culprit,
                    None => Diagnostic::error("invalid-value", e.pointer, e.message),
                });
            }
            None
        }
    };
    if let Some(w) = &workflow {
        let semantic = check_workflow(w)?;
        // A semantic finding is more specific than a schema finding at the same place
        // (for example an unknown Provider, which the schema reports as a bad enum value);
        // a semantic warning never hides a schema error (a bare `"InvokeNext": {}` was
        // reported only as "not an array", and passed: found by fuzzing).
        diagnostics.retain(|d| {
            !semantic
                .iter()
                .any(|s| s.pointer == d.pointer && (s.is_error() || !d.is_error()))
        });
        diagnostics.extend(semantic);
    }
    // A misspelt key that another finding already names (a missing required field, a
    // missing VMConfig) is said once, there.
    let named_elsewhere = |d: &Diagnostic| {
        let key = format!("\"{}\"", pointer_tail(&d.pointer));
        diagnostics.iter().any(|o| {
            o.code != ephflow_schema::validate::IGNORED_KEY
                && (o.message.contains(&key) || o.hint.as_deref().is_some_and(|h| h.contains(&key)))
        })
    };
    let duplicates: Vec<usize> = (0..diagnostics.len())
        .filter(|&i| {
            diagnostics[i].code == ephflow_schema::validate::IGNORED_KEY
                && named_elsewhere(&diagnostics[i])
        })
        .collect();
    for i in duplicates.into_iter().rev() {
        diagnostics.remove(i);
    }
    diagnostics.sort_by_key(|d| d.severity);
    Ok(Report {
        diagnostics,
        workflow,
    })
}

/// The last token of a JSON pointer (`/VMConfig/IdleTimout` → `IdleTimout`).
fn pointer_tail(pointer: &str) -> String {
    ephflow_schema::pointer::tokens(pointer)
        .last()
        .cloned()
        .unwrap_or_default()
}

/// serde's untagged `InvokeNext` hides why a reference did not parse ("did not match any
/// variant"); find the reference the schema accepted but the model cannot hold (a rank too
/// large for 32 bits) and name it.
fn invoke_next_culprit(value: &Value, pointer: &str) -> Option<Diagnostic> {
    if !pointer.ends_with("/InvokeNext") {
        return None;
    }
    fn item<'a>(at: String, v: &'a Value, refs: &mut Vec<(String, &'a str)>) {
        match v {
            Value::String(text) => refs.push((at, text)),
            Value::Object(branches) => {
                for (key, list) in branches {
                    for (j, v) in list.as_array().into_iter().flatten().enumerate() {
                        if let Some(text) = v.as_str() {
                            refs.push((format!("{at}/{key}/{j}"), text));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut refs = Vec::new();
    match value.pointer(pointer)? {
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                item(format!("{pointer}/{i}"), v, &mut refs);
            }
        }
        v => item(pointer.to_owned(), v, &mut refs),
    }
    refs.into_iter().find_map(|(at, text)| {
        let err = ephflow_schema::model::ActionRef::parse(text).err()?;
        let (code, expected) = match err {
            ephflow_schema::model::ActionRefError::RankTooLarge(_) => (
                "bad-rank",
                format!("a rank from 1 to {}", graph_rules::MAX_RANK),
            ),
            ephflow_schema::model::ActionRefError::BadName(_) => {
                ("bad-format", "an action name, or `name(N)`".to_owned())
            }
        };
        Some(Diagnostic::error(code, at, err.to_string()).expected(expected))
    })
}

/// The semantic rules alone, on an already typed workflow.
pub fn check_workflow(workflow: &Workflow) -> Result<Vec<Diagnostic>, RegistryError> {
    let graph = Graph::build(workflow);
    let mut out = Vec::new();
    references::check(workflow, &graph, &mut out);
    graph_rules::check(workflow, &graph, &mut out);
    vm::check(workflow, &registry::provider_kinds()?, &mut out);
    portability::check(workflow, &mut out);
    Ok(out)
}

/// `"a", "b" and "c"` for messages.
fn listing<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names
        .iter()
        .map(|n| format!("\"{}\"", n.as_ref()))
        .collect();
    match quoted.len() {
        0 => "none".to_owned(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// What a reference should have named: `one of "a" and "b"`, or a note that `container` is empty.
fn one_of<S: AsRef<str>>(names: &[S], container: &str) -> String {
    if names.is_empty() {
        format!("a name defined in {container} (it defines none)")
    } else {
        format!("one of {}", listing(names))
    }
}

/// "did you mean ...?" or the fallback hint.
fn hint_for(name: &str, known: &[&str], fallback: String) -> String {
    match ephflow_schema::suggest::closest(name, known.iter().copied()) {
        Some(g) => format!("did you mean \"{g}\"?"),
        None => fallback,
    }
}

/// When the workflow lacks the top-level key `field` but has an unknown key that looks like a
/// misspelling of it (kept in `extra`, as FaaSr tolerates unknown keys): `did you mean
/// "VMConfig"? the workflow has "VmConfig" (at /VmConfig)`.
fn misspelt_top_level(w: &Workflow, field: &str) -> Option<String> {
    let key = ephflow_schema::suggest::misspelt_key(
        field,
        w.extra.keys().map(String::as_str),
        &Workflow::FIELDS,
    )?;
    Some(format!(
        "did you mean \"{field}\"? the workflow has \"{key}\" (at {})",
        ephflow_schema::pointer::from_tokens([key])
    ))
}
