//! Schema validation with messages a workflow author can act on.
//!
//! The `jsonschema` crate finds every violation; this module turns each into a [`Diagnostic`]
//! that names the culprit (from the instance pointer), says what was expected (from the
//! failing schema node's own description) and suggests a fix (known field names for typos,
//! per-platform required fields, ...).

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::document::json_type;
use crate::model::FaaSType;
use crate::{pointer, suggest};

/// The code of the warning for a tolerated key that looks like a misspelt field.
pub const IGNORED_KEY: &str = "ignored-key";

/// A compiled document schema.
pub struct SchemaValidator {
    schema: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for SchemaValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaValidator").finish_non_exhaustive()
    }
}

/// The schema itself is broken (a bug in a provider's schema, not in the user's file).
#[derive(Debug, thiserror::Error)]
#[error("the generated JSON Schema does not compile: {0}")]
pub struct SchemaCompileError(String);

impl SchemaValidator {
    /// Compiles a draft 2020-12 document schema (see [`crate::document_schema`]).
    pub fn new(schema: Value) -> Result<Self, SchemaCompileError> {
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .map_err(|e| SchemaCompileError(e.to_string()))?;
        Ok(SchemaValidator { schema, validator })
    }

    /// The schema this validator checks against.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Every schema violation in `doc`, in document order.
    pub fn validate(&self, doc: &Value) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = self
            .validator
            .iter_errors(doc)
            .flat_map(|e| self.describe_all(doc, &e))
            .collect();
        out.dedup();
        let ignored = self.ignored_keys(doc);
        out.extend(ignored);
        out
    }

    /// Warnings for keys FaaSr tolerates but nothing reads (the top level and VMConfig accept
    /// any key) that look like a misspelling of a field the object lacks: `IdleTimout` is
    /// kept, and the reaper silently uses its default. Only near misses are named, so a
    /// tool's own extra keys pass quietly.
    fn ignored_keys(&self, doc: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for at in ["", "/VMConfig"] {
            let Some(object) = doc.pointer(at).and_then(Value::as_object) else {
                continue;
            };
            let valid = self.valid_keys(at);
            for key in object.keys() {
                if valid.contains(&key.as_str()) || key.starts_with('$') {
                    continue;
                }
                let Some(meant) = suggest::closest(key, valid.iter().copied()) else {
                    continue;
                };
                if object.contains_key(meant) {
                    continue;
                }
                let mut key_at = at.to_owned();
                pointer::push(&mut key_at, key);
                let place = if at.is_empty() {
                    "the workflow"
                } else {
                    "VMConfig"
                };
                out.push(
                    Diagnostic::warning(
                        IGNORED_KEY,
                        key_at,
                        format!(
                            "\"{key}\" is not a field of {place} that ephflow or FaaSr reads: it is kept as written, and ignored"
                        ),
                    )
                    .hint(format!("did you mean \"{meant}\"? rename it")),
                );
            }
        }
        out
    }

    /// Describes an error; for "none of the alternatives matched" errors, describes instead the
    /// errors of the one alternative whose type fits the value (the one the author meant),
    /// or lists the allowed constants.
    fn describe_all(&self, doc: &Value, err: &jsonschema::ValidationError<'_>) -> Vec<Diagnostic> {
        let context = match err.kind() {
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => context,
            _ => return vec![self.describe(doc, err)],
        };
        let at = err.instance_path().as_str();
        if let Some(options) = self
            .keyword_parent(err.schema_path().as_str())
            .and_then(constant_alternatives)
        {
            let field = pointer::tokens(at).last().cloned().unwrap_or_default();
            return vec![unknown_value(at, &field, err.instance(), &options)];
        }
        let fitting: Vec<&Vec<jsonschema::ValidationError<'static>>> = context
            .iter()
            .filter(|branch| !branch.iter().any(|e| type_mismatch(e, at)))
            .collect();
        match fitting.as_slice() {
            [branch] if !branch.is_empty() => branch
                .iter()
                .flat_map(|e| self.describe_all(doc, e))
                .collect(),
            _ => vec![self.describe(doc, err)],
        }
    }

    fn describe(&self, doc: &Value, err: &jsonschema::ValidationError<'_>) -> Diagnostic {
        let at = err.instance_path().as_str().to_owned();
        let node = self.keyword_parent(err.schema_path().as_str());
        let described = node
            .and_then(|n| n.get("description"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let instance = err.instance();
        let field = pointer::tokens(&at).last().cloned().unwrap_or_default();
        match err.kind() {
            ValidationErrorKind::Required { property } => {
                let property = property.as_str().unwrap_or_default();
                let valid = self.valid_keys(&at);
                // Only where the schema of this object was found (and so its valid keys are
                // known): a valid key is never blamed.
                let misspelt = doc
                    .pointer(&at)
                    .filter(|_| valid.contains(&property))
                    .and_then(Value::as_object)
                    .and_then(|o| {
                        suggest::misspelt_key(property, o.keys().map(String::as_str), &valid)
                    });
                if let Some(key) = misspelt {
                    let mut key_at = at.clone();
                    pointer::push(&mut key_at, key);
                    return Diagnostic::error(
                        "missing-field",
                        at.clone(),
                        format!(
                            "required field \"{property}\" is missing; \"{key}\" (at {key_at}) looks like a misspelling of it"
                        ),
                    )
                    .hint(format!("rename \"{key}\" to \"{property}\""));
                }
                let d = Diagnostic::error(
                    "missing-field",
                    at.clone(),
                    format!("required field \"{property}\" is missing"),
                );
                match required_because(doc, &at) {
                    Some(why) => d.hint(why),
                    None => d.hint(format!("add \"{property}\"")),
                }
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = node
                    .and_then(|n| n.get("properties"))
                    .and_then(Value::as_object)
                    .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
                    .unwrap_or_default();
                let mut d = Diagnostic::error(
                    "unknown-field",
                    at.clone(),
                    format!(
                        "unknown field{} {}",
                        plural(unexpected.len()),
                        quoted(unexpected)
                    ),
                );
                if !known.is_empty() {
                    d = d.expected(format!("one of: {}", known.join(", ")));
                }
                let guesses: Vec<String> = unexpected
                    .iter()
                    .filter_map(|u| suggest::closest(u, known.iter().copied()))
                    .map(|g| format!("\"{g}\""))
                    .collect();
                if guesses.is_empty() {
                    d.hint("remove it; FaaSr rejects unknown fields here")
                } else {
                    d.hint(format!("did you mean {}?", guesses.join(" or ")))
                }
            }
            ValidationErrorKind::Type { kind } => {
                let wanted: Vec<String> = match kind {
                    TypeKind::Single(t) => vec![t.to_string()],
                    TypeKind::Multiple(ts) => ts.iter().map(|t| t.to_string()).collect(),
                };
                let want = wanted
                    .iter()
                    .map(|t| article(t))
                    .collect::<Vec<_>>()
                    .join(" or ");
                let mut d = Diagnostic::error(
                    "wrong-type",
                    at.clone(),
                    format!(
                        "{} must be {want}, found {}",
                        name_of(&field),
                        show(instance)
                    ),
                );
                if let Some(desc) = described {
                    d = d.expected(desc);
                }
                match retype_hint(instance, &wanted) {
                    Some(hint) => d.hint(hint),
                    None => d,
                }
            }
            ValidationErrorKind::Pattern { pattern } => {
                let mut d = Diagnostic::error(
                    "bad-format",
                    at.clone(),
                    format!(
                        "{} {} does not match {pattern}",
                        name_of(&field),
                        show(instance)
                    ),
                );
                if let Some(desc) = described {
                    d = d.expected(desc);
                }
                match pattern_hint(instance, pattern) {
                    Some(hint) => d.hint(hint),
                    None => d,
                }
            }
            ValidationErrorKind::PropertyNames { error } => {
                // The inner error repeats the name (with its quotes escaped); the rule it broke
                // is said as `expected`.
                let expected = match error.kind() {
                    ValidationErrorKind::Pattern { .. } => {
                        "a letter, then letters, digits and dashes (FaaSr uses action names in file names)"
                    }
                    ValidationErrorKind::MinLength { .. } => "a name that is not empty",
                    _ => "a name this section accepts",
                };
                Diagnostic::error(
                    "bad-name",
                    at.clone(),
                    format!("name {} is not allowed", show(error.instance())),
                )
                .expected(expected)
                .hint("rename it, and every reference to it (InvokeNext, FunctionInvoke, FaaSServer, DefaultDataStore, ActionContainers)")
            }
            ValidationErrorKind::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|v| v.as_str().map_or(v.to_string(), str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                unknown_value(&at, &field, instance, &options)
            }
            ValidationErrorKind::MaxLength { limit } => Diagnostic::error(
                "too-long",
                at.clone(),
                format!(
                    "{} is {} characters long",
                    name_of(&field),
                    instance.as_str().map_or(0, |s| s.chars().count())
                ),
            )
            .expected(format!("at most {limit} characters")),
            ValidationErrorKind::Contains => Diagnostic::error(
                "several-conditionals",
                at.clone(),
                "InvokeNext holds more than one conditional object",
            )
            .expected("at most one {\"True\": [...], \"False\": [...]} object per InvokeNext")
            .hint("merge the conditional objects into one"),
            ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
                let mut d = Diagnostic::error(
                    "invalid-value",
                    at.clone(),
                    format!(
                        "{} has none of the accepted forms (found {})",
                        name_of(&field),
                        show(instance)
                    ),
                );
                if let Some(desc) = described {
                    d = d.expected(desc);
                }
                d
            }
            ValidationErrorKind::MinProperties { limit }
            | ValidationErrorKind::MinItems { limit } => Diagnostic::error(
                "empty",
                at.clone(),
                format!(
                    "{} needs at least {limit} entr{}",
                    name_of(&field),
                    if *limit == 1 { "y" } else { "ies" }
                ),
            ),
            _ => {
                let mut d = Diagnostic::error("invalid-value", at.clone(), err.to_string());
                if let Some(desc) = described {
                    d = d.expected(desc);
                }
                d
            }
        }
    }

    /// Follows `$ref`s within the document schema.
    fn resolve<'s>(&'s self, mut node: &'s Value) -> &'s Value {
        for _ in 0..16 {
            let target = node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| self.schema.pointer(p));
            match target {
                Some(t) => node = t,
                None => break,
            }
        }
        node
    }

    /// The schema of the value at instance pointer `at` (`/ComputeServers/GH` → the
    /// ComputeServer definition).
    fn node_at(&self, at: &str) -> Option<&Value> {
        let mut node = self.resolve(&self.schema);
        for t in pointer::tokens(at) {
            let next = node
                .get("properties")
                .and_then(|p| p.get(t.as_str()))
                .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?;
            node = self.resolve(next);
        }
        Some(node)
    }

    /// The keys the schema declares for the object at instance pointer `at`: its
    /// `properties`, and those of its conditional branches (each provider's VMConfig fields).
    /// A key outside these may be tolerated (top level, VMConfig) but is never a field ephflow
    /// or FaaSr reads under that name.
    fn valid_keys(&self, at: &str) -> Vec<&str> {
        let Some(node) = self.node_at(at) else {
            return Vec::new();
        };
        let branches = node
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|clause| clause.get("then"))
            .map(|then| self.resolve(then));
        std::iter::once(node)
            .chain(branches)
            .filter_map(|n| n.get("properties").and_then(Value::as_object))
            .flat_map(|p| p.keys().map(String::as_str))
            .collect()
    }

    /// The schema object holding the failing keyword (`.../properties/X/pattern` → `.../properties/X`).
    fn keyword_parent(&self, schema_path: &str) -> Option<&Value> {
        let mut tokens = pointer::tokens(schema_path);
        tokens.pop();
        let mut node = &self.schema;
        for t in &tokens {
            node = match node {
                Value::Object(m) => m.get(t)?,
                Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

/// Whether `err` says the value at `at` has the wrong JSON type (directly, or in every
/// alternative of a nested `anyOf`/`oneOf`).
fn type_mismatch(err: &jsonschema::ValidationError<'_>, at: &str) -> bool {
    if err.instance_path().as_str() != at {
        return false;
    }
    match err.kind() {
        ValidationErrorKind::Type { .. } => true,
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
                .iter()
                .all(|branch| branch.iter().any(|e| type_mismatch(e, at)))
        }
        _ => false,
    }
}

/// `oneOf`/`anyOf` whose alternatives are all constants (how schemars writes documented
/// enums): the allowed values.
fn constant_alternatives(node: &Value) -> Option<Vec<String>> {
    let alternatives = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))?
        .as_array()?;
    alternatives
        .iter()
        .map(|a| a.get("const").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn unknown_value(at: &str, field: &str, instance: &Value, options: &[String]) -> Diagnostic {
    let d = Diagnostic::error(
        "unknown-value",
        at,
        format!(
            "{} {} is not an accepted value",
            name_of(field),
            show(instance)
        ),
    )
    .expected(format!("one of: {}", options.join(", ")));
    match instance
        .as_str()
        .and_then(|s| suggest::closest(s, options.iter().map(String::as_str)))
    {
        Some(g) => d.hint(format!("did you mean \"{g}\"?")),
        None => d,
    }
}

/// Explains conditional requirements: per-platform server fields, per-provider VM fields.
fn required_because(doc: &Value, at: &str) -> Option<String> {
    let target = doc.pointer(at)?;
    let tokens = pointer::tokens(at);
    match tokens.first().map(String::as_str) {
        Some("ComputeServers") if tokens.len() == 2 => {
            let t: FaaSType = serde_json::from_value(target.get("FaaSType")?.clone()).ok()?;
            Some(format!(
                "a {t} server needs {}",
                t.required_fields().join(", ")
            ))
        }
        Some("VMConfig") => {
            let provider = target.get("Provider")?.as_str()?;
            Some(format!(
                "a VMConfig with Provider \"{provider}\" needs the fields that provider requires; see `ephflow schema`"
            ))
        }
        _ => None,
    }
}

fn name_of(field: &str) -> String {
    if field.is_empty() {
        "the workflow".to_owned()
    } else if field.bytes().all(|b| b.is_ascii_digit()) {
        format!("entry {field}")
    } else {
        format!("\"{field}\"")
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() <= 60 => format!("\"{s}\""),
        Value::String(_) => "a long string".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        other => json_type(other).to_owned(),
    }
}

/// A value of the wrong type that is one quoting step from the right one: `"true"` for a
/// boolean, `"3"` for a number, `3` for a string.
fn retype_hint(instance: &Value, wanted: &[String]) -> Option<String> {
    let wants = |t: &str| wanted.iter().any(|w| w == t);
    match instance {
        Value::String(s) => {
            let unquoted: Value = serde_json::from_str(s.trim()).ok()?;
            let fits = match &unquoted {
                Value::Bool(_) => wants("boolean"),
                Value::Number(n) => wants("number") || (wants("integer") && n.is_i64()),
                _ => false,
            };
            fits.then(|| format!("write {unquoted} without quotes"))
        }
        Value::Number(_) | Value::Bool(_) if wants("string") => {
            Some(format!("quote it: \"{instance}\""))
        }
        _ => None,
    }
}

/// A string that misses its pattern only by case or surrounding spaces, with the fix.
fn pattern_hint(instance: &Value, pattern: &str) -> Option<String> {
    let text = instance.as_str()?;
    let schema = serde_json::json!({ "type": "string", "pattern": pattern });
    let validator = jsonschema::validator_for(&schema).ok()?;
    [
        (text.trim().to_owned(), "without the surrounding spaces"),
        (text.to_lowercase(), "in lower case"),
        (
            text.trim().to_lowercase(),
            "in lower case, without the spaces",
        ),
    ]
    .into_iter()
    .find(|(fixed, _)| fixed != text && validator.is_valid(&Value::String(fixed.clone())))
    .map(|(fixed, how)| format!("write it {how}: \"{fixed}\""))
}

fn article(t: &str) -> String {
    match t {
        "array" | "object" | "integer" => format!("an {t}"),
        "null" => "null".to_owned(),
        _ => format!("a {t}"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
