//! JSON text to a [`Value`], refusing duplicate object keys.
//!
//! serde_json (like Python's `json`, which FaaSr uses) silently keeps the last of two equal
//! keys. In a workflow file that is almost always a paste or merge mistake, and the first value
//! would vanish from every file we write, so the parse stops at the second key and says where
//! it is. One pass builds the value and checks, so a large workflow is not read twice.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::pointer;

/// The second occurrence of a key in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DuplicateKey {
    /// JSON pointer of the key (its object's pointer plus the key).
    pub pointer: String,
    /// The key.
    pub key: String,
}

/// Parses `text`. On a duplicate key the error is serde_json's (with the line and column of the
/// second key's closing quote) and `duplicate` names the key.
pub(crate) fn parse(text: &str) -> Result<Value, (serde_json::Error, Option<DuplicateKey>)> {
    let mut state = State::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Build { state: &mut state }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    value.map_err(|e| (e, state.duplicate))
}

#[derive(Default)]
struct State {
    /// Reference tokens of the value being built.
    path: Vec<String>,
    duplicate: Option<DuplicateKey>,
}

struct Build<'s> {
    state: &'s mut State,
}

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON text cannot hold NaN or infinities, so this is never Null in practice.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            self.state.path.push(items.len().to_string());
            let next = seq.next_element_seed(Build {
                state: &mut *self.state,
            })?;
            self.state.path.pop();
            match next {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let pointer = pointer::from_tokens(self.state.path.iter().chain([&key]));
                let message = format!("duplicate key \"{key}\"");
                self.state.duplicate = Some(DuplicateKey { pointer, key });
                return Err(de::Error::custom(message));
            }
            self.state.path.push(key);
            let value = map.next_value_seed(Build {
                state: &mut *self.state,
            });
            let key = self.state.path.pop().expect("pushed above");
            object.insert(key, value?);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_what_serde_json_builds() {
        let text = r#"{"z": [1, -2, 3.5, 18446744073709551615, true, null, "s\n"], "a": {}, "b": {"c": []}}"#;
        let ours = parse(text).unwrap();
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(
            serde_json::to_string(&ours).unwrap(),
            serde_json::to_string(&theirs).unwrap(),
            "key order kept"
        );
    }

    #[test]
    fn the_second_key_is_the_culprit() {
        let text = "{\n  \"A\": {\"x/y\": [{\"k\": 1,\n \"k\": 2}]}\n}";
        let (err, dup) = parse(text).unwrap_err();
        assert_eq!(
            dup,
            Some(DuplicateKey {
                pointer: "/A/x~1y/0/k".into(),
                key: "k".into()
            })
        );
        assert_eq!(err.line(), 3);
        assert!(err.to_string().starts_with("duplicate key \"k\""), "{err}");
    }

    #[test]
    fn syntax_errors_have_no_duplicate() {
        let (err, dup) = parse("{\"a\": 1,}").unwrap_err();
        assert!(dup.is_none());
        assert!(err.is_syntax(), "{err}");
        assert!(parse("{} x").is_err(), "trailing characters refused");
    }
}
