//! Reading and writing workflow files without losing anything.
//!
//! The parsed [`serde_json::Value`] (with `preserve_order`) is the source of truth for writing:
//! key order, unknown keys and values the typed model never looks at survive untouched. The
//! typed [`Workflow`] is a view of it for the semantic checks and the tools.

use serde::Serialize;

use crate::model::Workflow;
use crate::{json_text, pointer};

/// A workflow file whose text is well-formed JSON with an object at the top.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    value: serde_json::Value,
}

/// Why a file is not a well-formed workflow document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text is not JSON.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// An object has the same key twice (JSON parsers keep only the last value, so the first
    /// would be lost without a word).
    #[error(
        "duplicate key \"{key}\" at line {line}, column {column}: JSON keeps only the last value"
    )]
    DuplicateKey {
        /// 1-based line of the second key's closing quote.
        line: usize,
        /// 1-based column.
        column: usize,
        /// JSON pointer of the key.
        pointer: String,
        /// The key.
        key: String,
    },
    /// The JSON is not an object.
    #[error("the workflow must be a JSON object, found {found}")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
}

/// The document's structure does not fit the typed model (reported at a JSON pointer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct ModelError {
    /// Where.
    pub pointer: String,
    /// What serde said.
    pub message: String,
}

impl Document {
    /// Parses workflow text (a leading UTF-8 byte-order mark, as some editors write, is
    /// ignored). A key given twice in one object is an error (see [`ParseError::DuplicateKey`]).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value = json_text::parse(text).map_err(|(e, duplicate)| match duplicate {
            Some(d) => ParseError::DuplicateKey {
                line: e.line(),
                column: e.column(),
                pointer: d.pointer,
                key: d.key,
            },
            None => ParseError::Syntax {
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            },
        })?;
        Self::from_value(value)
    }

    /// Wraps an already parsed value.
    pub fn from_value(value: serde_json::Value) -> Result<Self, ParseError> {
        if !value.is_object() {
            return Err(ParseError::NotAnObject {
                found: json_type(&value),
            });
        }
        Ok(Document { value })
    }

    /// Serializes a typed workflow into a new document.
    pub fn from_workflow(workflow: &Workflow) -> Self {
        let value = serde_json::to_value(workflow).expect("the workflow model always serializes");
        Document { value }
    }

    /// The JSON value.
    pub fn value(&self) -> &serde_json::Value {
        &self.value
    }

    /// Mutable access for tools that edit the document in place.
    pub fn value_mut(&mut self) -> &mut serde_json::Value {
        &mut self.value
    }

    /// Consumes the document, returning its value.
    pub fn into_value(self) -> serde_json::Value {
        self.value
    }

    /// The typed view. Fails with a pointer when a value has the wrong shape; run schema
    /// validation first for friendlier messages.
    pub fn workflow(&self) -> Result<Workflow, ModelError> {
        if let Some(e) = array_for_struct(&self.value) {
            return Err(e);
        }
        let mut w: Workflow =
            serde_path_to_error::deserialize(&self.value).map_err(|e| ModelError {
                pointer: path_to_pointer(e.path()),
                message: e.inner().to_string(),
            })?;
        w.keep_unknown_keys(&self.value);
        Ok(w)
    }

    /// The text FaaSr's tools write: 4-space indent, keys in document order, final newline.
    pub fn to_pretty_string(&self) -> String {
        to_pretty_string(&self.value)
    }

    /// Writes [`Document::to_pretty_string`] to `out`.
    pub fn write_pretty(&self, out: impl std::io::Write) -> std::io::Result<()> {
        write_pretty(&self.value, out)
    }
}

/// serde's derived structs also accept arrays (fields in declaration order), which the schema
/// rejects and which would give model-derived diagnostics pointers (`/ActionList/a/FaaSServer`)
/// that do not exist in the document (found by fuzzing): refuse them where a struct is read.
fn array_for_struct(value: &serde_json::Value) -> Option<ModelError> {
    let error = |tokens: &[&str], what: &str| ModelError {
        pointer: pointer::from_tokens(tokens.iter().copied()),
        message: format!("invalid type: sequence, expected {what}"),
    };
    if value
        .get("VMConfig")
        .is_some_and(serde_json::Value::is_array)
    {
        return Some(error(&["VMConfig"], "an object"));
    }
    for section in ["ActionList", "ComputeServers", "DataStores"] {
        let Some(map) = value.get(section).and_then(serde_json::Value::as_object) else {
            continue;
        };
        for (name, entry) in map {
            if entry.is_array() {
                return Some(error(&[section, name], "an object"));
            }
            if section == "ActionList"
                && entry
                    .get("Resources")
                    .is_some_and(serde_json::Value::is_array)
            {
                return Some(error(&[section, name, "Resources"], "an object"));
            }
        }
    }
    None
}

/// Pretty-prints any JSON value with 4-space indentation and a final newline.
pub fn to_pretty_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    write_pretty(value, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes what [`to_pretty_string`] returns, without building it in memory.
pub fn write_pretty<T: Serialize + ?Sized>(
    value: &T,
    mut out: impl std::io::Write,
) -> std::io::Result<()> {
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut ser).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// The JSON type name of a value, for messages.
pub fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut p = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => pointer::push(&mut p, &index.to_string()),
            Segment::Map { key } => pointer::push(&mut p, key),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    p
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = Document::parse("{\n  \"a\": 1,\n  \"b\": }\n").unwrap_err();
        match err {
            ParseError::Syntax { line, column, .. } => assert_eq!((line, column), (3, 8)),
            other => panic!("unexpected {other:?}"),
        }
        assert!(Document::parse("\u{feff}{}").is_ok());
        assert_eq!(
            Document::parse("{\"a\": 1,\n\"a\": 2}").unwrap_err(),
            ParseError::DuplicateKey {
                line: 2,
                column: 3,
                pointer: "/a".into(),
                key: "a".into()
            }
        );
        assert_eq!(
            Document::parse("[1]").unwrap_err(),
            ParseError::NotAnObject { found: "an array" }
        );
    }

    #[test]
    fn writes_four_space_indent_in_document_order() {
        let doc = Document::parse(r#"{"z": 1, "a": {"y": [1, 2], "b": null}}"#).unwrap();
        assert_eq!(
            doc.to_pretty_string(),
            "{\n    \"z\": 1,\n    \"a\": {\n        \"y\": [\n            1,\n            2\n        ],\n        \"b\": null\n    }\n}\n"
        );
    }
}
