//! The `InvokeNext` grammar: which actions an action triggers when it finishes.
//!
//! FaaSr accepts an array whose items are action names (`"b"`), ranked names (`"b(3)"`: run `b`
//! three times, ranks 1..3) and at most one conditional object (`{"True": [...], "False": [...]}`,
//! chosen by the action's boolean return value). The FaaSr runtime also tolerates a bare string
//! or a bare conditional object instead of the array; [`InvokeNext`] models both forms so such
//! files round-trip unchanged.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::names;

/// An action's successors as written in the file: the canonical array, or one of the bare forms
/// the FaaSr runtime tolerates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InvokeNext {
    /// The canonical form: an array of names, ranked names and at most one conditional object.
    List(Vec<InvokeItem>),
    /// A single item without the surrounding array (tolerated by the runtime, rejected by
    /// FaaSr's registration schema).
    Bare(InvokeItem),
}

impl InvokeNext {
    /// The items, whichever form was written.
    pub fn items(&self) -> &[InvokeItem] {
        match self {
            InvokeNext::List(items) => items,
            InvokeNext::Bare(item) => std::slice::from_ref(item),
        }
    }

    /// Whether the action triggers nothing (a leaf).
    pub fn is_empty(&self) -> bool {
        self.items().iter().all(InvokeItem::is_empty)
    }

    /// Calls `f` for every edge written here, in file order, with where it sits. Allocates
    /// nothing (graph building calls it for every action).
    pub fn visit_edges<'a>(&'a self, mut f: impl FnMut(&'a ActionRef, EdgeSlot)) {
        let bare = matches!(self, InvokeNext::Bare(_));
        for (i, item) in self.items().iter().enumerate() {
            let item_index = i as u32;
            match item {
                InvokeItem::Action(target) => f(
                    target,
                    EdgeSlot {
                        item: item_index,
                        branch: None,
                        position: 0,
                        bare,
                    },
                ),
                InvokeItem::Conditional(cond) => {
                    for (branch, list) in cond.branches() {
                        for (j, target) in list.iter().enumerate() {
                            f(
                                target,
                                EdgeSlot {
                                    item: item_index,
                                    branch: Some(branch),
                                    position: j as u32,
                                    bare,
                                },
                            );
                        }
                    }
                }
            }
        }
    }

    /// Every edge written here, in file order, with the branch it sits on and its JSON pointer
    /// relative to the `InvokeNext` value (for example `/1/True/0`).
    pub fn edges(&self) -> Vec<InvokeEdge<'_>> {
        let mut out = Vec::new();
        self.visit_edges(|target, slot| {
            out.push(InvokeEdge {
                target,
                branch: slot.branch,
                pointer: slot.pointer_suffix(),
            })
        });
        out
    }
}

/// Where an edge sits in an `InvokeNext` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EdgeSlot {
    /// Index of the item in the array (0 for a bare value).
    pub item: u32,
    /// The branch of the conditional object, `None` for a plain item.
    pub branch: Option<Branch>,
    /// Index in the branch list (0 for a plain item).
    pub position: u32,
    /// Whether the InvokeNext value is a bare item rather than an array.
    pub bare: bool,
}

impl EdgeSlot {
    /// JSON pointer of the edge relative to the `InvokeNext` value.
    pub fn pointer_suffix(&self) -> String {
        let item = if self.bare {
            String::new()
        } else {
            format!("/{}", self.item)
        };
        match self.branch {
            None => item,
            Some(b) => format!("{item}/{}/{}", b.key(), self.position),
        }
    }
}

impl JsonSchema for InvokeNext {
    fn schema_name() -> Cow<'static, str> {
        "InvokeNext".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let item = generator.subschema_for::<InvokeItem>();
        let conditional = generator.subschema_for::<ConditionalBranches>();
        json_schema!({
            "description": "Actions to trigger when this action succeeds: an array of action names, \
                ranked names `name(N)` (run N copies, ranks 1..N) and at most one conditional object \
                {\"True\": [...], \"False\": [...]} chosen by the action's boolean result. An empty \
                array or a missing key makes the action a leaf. A bare name or bare conditional \
                object without the array is tolerated by the FaaSr runtime, but FaaSr's registration \
                schema rejects it.",
            "anyOf": [
                {
                    "type": "array",
                    "items": item,
                    "minContains": 0,
                    "maxContains": 1,
                    "contains": conditional,
                },
                item,
            ]
        })
    }
}

/// One item of an `InvokeNext` array: an action name, a ranked name `name(N)`, or one
/// conditional object `{"True": [...], "False": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum InvokeItem {
    /// An unconditional successor, possibly ranked.
    Action(ActionRef),
    /// Successors chosen by the action's boolean result.
    Conditional(ConditionalBranches),
}

impl InvokeItem {
    fn is_empty(&self) -> bool {
        match self {
            InvokeItem::Action(_) => false,
            InvokeItem::Conditional(c) => c.branches().all(|(_, list)| list.is_empty()),
        }
    }
}

/// A conditional successor object: `True` runs when the action returns true, `False` otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1))]
pub struct ConditionalBranches {
    /// Actions to trigger when the action returns true.
    #[serde(rename = "True", default, skip_serializing_if = "Option::is_none")]
    pub on_true: Option<Vec<ActionRef>>,
    /// Actions to trigger when the action returns false.
    #[serde(rename = "False", default, skip_serializing_if = "Option::is_none")]
    pub on_false: Option<Vec<ActionRef>>,
}

impl<'de> Deserialize<'de> for ConditionalBranches {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only the object form: serde's derive also accepts a sequence (`[["b"]]` read as
        // `{"True": ["b"]}`), which the schema rejects and whose edges would get pointers
        // (`.../True/0`) that do not exist in the document (found by fuzzing).
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Object {
            #[serde(rename = "True", default)]
            on_true: Option<Vec<ActionRef>>,
            #[serde(rename = "False", default)]
            on_false: Option<Vec<ActionRef>>,
        }
        struct ObjectOnly;
        impl<'de> serde::de::Visitor<'de> for ObjectOnly {
            type Value = ConditionalBranches;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a conditional object {\"True\": [...], \"False\": [...]}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let o = Object::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ConditionalBranches {
                    on_true: o.on_true,
                    on_false: o.on_false,
                })
            }
        }
        deserializer.deserialize_map(ObjectOnly)
    }
}

impl ConditionalBranches {
    /// The branches present, `True` first.
    pub fn branches(&self) -> impl Iterator<Item = (Branch, &[ActionRef])> {
        [
            (Branch::True, self.on_true.as_deref()),
            (Branch::False, self.on_false.as_deref()),
        ]
        .into_iter()
        .filter_map(|(b, l)| l.map(|l| (b, l)))
    }
}

/// Which side of a conditional an edge is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Branch {
    /// Taken when the action returns true.
    True,
    /// Taken when the action returns false.
    False,
}

impl Branch {
    /// The JSON key of this branch.
    pub fn key(self) -> &'static str {
        match self {
            Branch::True => "True",
            Branch::False => "False",
        }
    }

    /// The other branch.
    pub fn other(self) -> Branch {
        match self {
            Branch::True => Branch::False,
            Branch::False => Branch::True,
        }
    }
}

impl fmt::Display for Branch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// One edge as written in an `InvokeNext` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeEdge<'a> {
    /// The target, with its rank.
    pub target: &'a ActionRef,
    /// `None` for an unconditional edge.
    pub branch: Option<Branch>,
    /// JSON pointer of the edge relative to the `InvokeNext` value.
    pub pointer: String,
}

/// A reference to an action in `InvokeNext`: `name` or `name(N)`.
///
/// The text is kept as written, so a file round-trips byte for byte even if it says `b(01)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActionRef {
    text: String,
    name_len: usize,
    rank: Option<u32>,
}

/// Why an `InvokeNext` string is not a valid action reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionRefError {
    /// The name part does not match the action-name grammar.
    #[error(
        "`{0}` is not an action name or `name(N)`: names start with a letter and contain only letters, digits and dashes"
    )]
    BadName(String),
    /// The rank does not fit in 32 bits.
    #[error("the rank in `{0}` is too large")]
    RankTooLarge(String),
}

impl ActionRef {
    /// Parses `name` or `name(N)`.
    pub fn parse(text: &str) -> Result<Self, ActionRefError> {
        let (name, rank) = match text.strip_suffix(')').and_then(|t| t.split_once('(')) {
            Some((name, digits))
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                let rank = digits
                    .parse::<u32>()
                    .map_err(|_| ActionRefError::RankTooLarge(text.to_owned()))?;
                (name, Some(rank))
            }
            _ => (text, None),
        };
        if !names::is_action_name(name) {
            return Err(ActionRefError::BadName(text.to_owned()));
        }
        Ok(ActionRef {
            text: text.to_owned(),
            name_len: name.len(),
            rank,
        })
    }

    /// A plain (unranked) reference.
    pub fn plain(name: &str) -> Result<Self, ActionRefError> {
        Self::parse(name).and_then(|r| match r.rank {
            None => Ok(r),
            Some(_) => Err(ActionRefError::BadName(name.to_owned())),
        })
    }

    /// A reference with an explicit rank (`None` writes the plain name).
    pub fn with_rank(name: &str, rank: Option<u32>) -> Result<Self, ActionRefError> {
        match rank {
            None => Self::plain(name),
            Some(n) => Self::parse(&format!("{name}({n})")),
        }
    }

    /// The action's name, without the rank.
    pub fn name(&self) -> &str {
        &self.text[..self.name_len]
    }

    /// The rank as written (`b(3)` → `Some(3)`), `None` for a plain name.
    pub fn rank(&self) -> Option<u32> {
        self.rank
    }

    /// How many copies FaaSr starts: the rank, or 1.
    pub fn copies(&self) -> u32 {
        self.rank.unwrap_or(1)
    }

    /// The reference as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for ActionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for ActionRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ActionRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        ActionRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for ActionRef {
    fn schema_name() -> Cow<'static, str> {
        "ActionRef".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The name of an action in ActionList, optionally ranked as `name(N)` to run N copies.",
            "type": "string",
            "pattern": names::ACTION_REF,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_plain_and_ranked() {
        let r = ActionRef::parse("train(12)").unwrap();
        assert_eq!((r.name(), r.rank(), r.copies()), ("train", Some(12), 12));
        let r = ActionRef::parse("train").unwrap();
        assert_eq!((r.name(), r.rank(), r.copies()), ("train", None, 1));
        assert_eq!(ActionRef::with_rank("x", Some(4)).unwrap().as_str(), "x(4)");
    }

    #[test]
    fn rejects_bad_refs() {
        for bad in ["", "1a", "a_b", "a()", "a(x)", "a(1", "a)(", "(3)"] {
            assert!(ActionRef::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(matches!(
            ActionRef::parse("a(99999999999)"),
            Err(ActionRefError::RankTooLarge(_))
        ));
    }

    #[test]
    fn mixed_list_edges_with_pointers() {
        let v = json!(["a", {"True": ["b(2)"], "False": []}, "c"]);
        let inv: InvokeNext = serde_json::from_value(v.clone()).unwrap();
        let edges: Vec<_> = inv
            .edges()
            .into_iter()
            .map(|e| (e.target.to_string(), e.branch, e.pointer))
            .collect();
        assert_eq!(
            edges,
            vec![
                ("a".into(), None, "/0".into()),
                ("b(2)".into(), Some(Branch::True), "/1/True/0".into()),
                ("c".into(), None, "/2".into()),
            ]
        );
        assert_eq!(serde_json::to_value(&inv).unwrap(), v);
    }

    #[test]
    fn bare_forms_round_trip() {
        for v in [json!("next"), json!({"False": ["x"]})] {
            let inv: InvokeNext = serde_json::from_value(v.clone()).unwrap();
            assert!(matches!(inv, InvokeNext::Bare(_)));
            assert_eq!(serde_json::to_value(&inv).unwrap(), v);
        }
        let leaf: InvokeNext = serde_json::from_value(json!([{"True": []}])).unwrap();
        assert!(leaf.is_empty());
    }
}
