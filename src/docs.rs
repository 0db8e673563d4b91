//! Reference documents generated from the code, so they cannot drift: the VMConfig reference
//! from the generated JSON Schema (every registered provider's part included). The test
//! `tests/docs.rs` regenerates `docs/vmconfig.md` (and the CLI reference from the `--help`
//! texts) and fails when the committed copy differs.

use serde_json::Value;

use crate::core::registry::RegistryError;
use crate::core::validate::document_schema;
use crate::schema::generate::Draft;

/// One table row per property of `object` (a schema object with `properties`), nested objects
/// flattened as `Parent.Child` rows.
fn table(object: &Value, defs: &Value) -> String {
    let mut out = String::from(
        "| field | type | required | constraints | description |\n|---|---|---|---|---|\n",
    );
    rows(object, defs, "", &mut out);
    out
}

fn rows(object: &Value, defs: &Value, prefix: &str, out: &mut String) {
    let required: Vec<&str> = object["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, property) in object["properties"].as_object().into_iter().flatten() {
        let property = resolve(property, defs);
        let description = property["description"]
            .as_str()
            .unwrap_or("")
            .replace('\n', " ")
            .replace('|', "\\|");
        let field = format!("{prefix}{name}");
        out.push_str(&format!(
            "| `{field}` | {} | {} | {} | {description} |\n",
            type_of(property, defs),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                ""
            },
            constraints(property).replace('|', "\\|"),
        ));
        if property["properties"].is_object() {
            rows(property, defs, &format!("{field}."), out);
        }
    }
}

/// Follows a local `$ref`.
fn resolve<'a>(schema: &'a Value, defs: &'a Value) -> &'a Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        Some(name) => &defs[name],
        None => schema,
    }
}

fn type_of(schema: &Value, defs: &Value) -> String {
    let schema = resolve(schema, defs);
    match &schema["type"] {
        Value::String(t) if t == "array" => format!("array of {}", type_of(&schema["items"], defs)),
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ if schema["enum"].is_array() => "string".into(),
        _ => "any".into(),
    }
}

fn constraints(schema: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(values) = schema["enum"].as_array() {
        let listed: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        parts.push(format!("one of {}", listed.join(", ")));
    }
    for (key, label) in [
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minItems", "min items"),
    ] {
        if let Some(v) = schema[key].as_u64() {
            parts.push(format!("{label} {v}"));
        }
    }
    if let Some(p) = schema["pattern"].as_str() {
        parts.push(format!("pattern `{p}`"));
    }
    parts.join("; ")
}

/// `docs/vmconfig.md`: the common VMConfig fields, then each registered provider's.
pub fn vmconfig_reference() -> Result<String, RegistryError> {
    let schema = document_schema(Draft::Draft2020_12)?;
    let defs = &schema["$defs"];
    let vm = &defs["VMConfig"];
    let mut out = String::from(
        "# VMConfig reference\n\n\
         <!-- Generated from the JSON Schema by `cargo test --test docs`; do not edit. Regenerate with\n\
         `EPHFLOW_BLESS=1 cargo test --test docs`. -->\n\n",
    );
    out.push_str(vm["description"].as_str().unwrap_or(""));
    out.push_str("\n\nKeys not listed here are kept as written (tools store settings there).\n\n## Every provider\n\n");
    out.push_str(&table(vm, defs));
    for clause in vm["allOf"].as_array().into_iter().flatten() {
        let Some(kind) = clause["if"]["properties"]["Provider"]["const"].as_str() else {
            continue;
        };
        let provider = resolve(&clause["then"], defs);
        out.push_str(&format!("\n## `Provider: \"{kind}\"`\n\n"));
        if let Some(d) = provider["description"].as_str() {
            out.push_str(d);
            out.push_str("\n\n");
        }
        out.push_str(&table(provider, defs));
    }
    Ok(out)
}
