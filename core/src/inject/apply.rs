//! Applying an augmentation to a document (order-preserving) or to a typed workflow.

use ephflow_schema::Document;
use ephflow_schema::model::{Action, NonEmptyString, Workflow};
use serde_json::{Map, Value};

use super::Augmented;

/// Key order of injected actions, as FaaSr's reference tool writes them.
const INJECTED_KEY_ORDER: [&str; 6] = [
    "FunctionName",
    "FaaSServer",
    "Type",
    "RequiresVM",
    "InvokeNext",
    "_faasr_builtin",
];

impl Augmented {
    /// The augmented document: original keys keep their order and values; changed
    /// InvokeNext values are replaced in place (or added last in their action); injected
    /// actions and their containers are appended.
    pub fn apply(&self, doc: Document) -> Document {
        let mut value = doc.into_value();
        let Some(entry) = &self.entry else {
            return Document::from_value(value).expect("the input is an object");
        };
        let top = value.as_object_mut().expect("documents are objects");
        top.insert("FunctionInvoke".into(), Value::String(entry.clone()));
        let actions = top
            .get_mut("ActionList")
            .and_then(Value::as_object_mut)
            .expect("a valid workflow has an ActionList object");
        for (name, next) in &self.invoke_next {
            if let Some(Value::Object(action)) = actions.get_mut(name) {
                action.insert("InvokeNext".into(), to_value(next));
            }
        }
        for (name, action) in &self.actions {
            actions.insert(name.clone(), injected_value(action));
        }
        let containers = top
            .entry("ActionContainers")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(containers) = containers {
            for (name, image) in &self.containers {
                containers.insert(name.clone(), Value::String(image.clone()));
            }
        }
        Document::from_value(value).expect("the input is an object")
    }

    /// The augmented typed workflow.
    pub fn apply_to_workflow(&self, workflow: Workflow) -> Workflow {
        let mut w = workflow;
        let Some(entry) = &self.entry else { return w };
        w.function_invoke = entry.clone();
        for (name, next) in &self.invoke_next {
            if let Some(a) = w.action_list.get_mut(name) {
                a.invoke_next = Some(next.clone());
            }
        }
        for (name, action) in &self.actions {
            w.action_list.insert(name.clone(), action.clone());
        }
        let containers = w.action_containers.get_or_insert_with(Default::default);
        for (name, image) in &self.containers {
            containers.insert(name.clone(), NonEmptyString(image.clone()));
        }
        w
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("model types serialize")
}

fn injected_value(action: &Action) -> Value {
    let Value::Object(mut fields) = to_value(action) else {
        unreachable!("actions serialize to objects")
    };
    let mut ordered = Map::new();
    for key in INJECTED_KEY_ORDER {
        if let Some(v) = fields.remove(key) {
            ordered.insert(key.to_owned(), v);
        }
    }
    ordered.extend(fields);
    Value::Object(ordered)
}
