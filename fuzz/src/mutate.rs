//! Mutations: raw byte edits and JSON-aware edits of workflow documents.

use serde_json::{Map, Value, json};

/// A small, fast, seedable pseudo-random generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; zero is remapped).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A random element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Strings that tend to break things.
const NASTY_STRINGS: &[&str] = &[
    "${{ github.token }}",
    "${{",
    "${{ secrets.GH_PAT }}",
    "}}",
    "",
    " ",
    "\u{0}",
    "\n",
    "\r\n",
    "\t",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{202e}",
    "\u{feff}",
    "é",
    "日本語",
    "🚀",
    "\u{10ffff}",
    "a(1)",
    "(0)",
    "(2)",
    "(4294967296)",
    "(-1)",
    "(99999999999999999999)",
    "faasr-vm-start",
    "faasr-vm-stop",
    "faasr-vm-poll",
    "GH",
    "GitHubActions",
    "AWS",
    "Lambda",
    "OpenWhisk",
    "i-0123456789abcdef0",
    "us-east-1",
    "true",
    "on",
    "no",
    "<<",
    "=",
    "~",
    "null",
    "-",
    "/",
    "~1",
    "~0",
    "\"",
    "\\",
    "'",
    "`",
    "$(id)",
    "a b",
    "a:b",
    "x*?|<>",
];

/// Tokens inserted into raw bytes.
const NASTY_BYTES: &[&str] = &[
    "${{",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "\\u0000",
    "\\ud800",
    "1e999",
    "-0",
    "99999999999999999999",
    "null",
    "true",
    "\u{0}",
    "\u{feff}",
    "(1)",
    "(0)",
    "\\\"",
];

fn nasty_value(rng: &mut Rng) -> Value {
    match rng.below(14) {
        0 => Value::Null,
        1 => Value::Bool(rng.one_in(2)),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(u64::MAX),
        5 => json!(i64::MIN),
        6 => json!(1e308),
        7 => json!(0.5),
        8 => json!([]),
        9 => json!({}),
        10 => Value::String(rng.pick(NASTY_STRINGS).to_string()),
        11 => json!([rng.pick(NASTY_STRINGS).to_string()]),
        12 => Value::String("x".repeat(rng.below(300))),
        _ => serde_json::from_str("123456789012345678901234567890").unwrap_or(Value::Null),
    }
}

/// Mutates raw bytes in place.
pub fn mutate_bytes(data: &mut Vec<u8>, rng: &mut Rng) {
    let n = 1 + rng.below(4);
    for _ in 0..n {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next_u64() as u8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let k = (1 + rng.below(16)).min(len - i);
                data.drain(i..i + k);
            }
            3 => {
                let i = rng.below(len + 1);
                let t = rng.pick(NASTY_BYTES).as_bytes().to_vec();
                data.splice(i..i, t);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let k = (1 + rng.below(64)).min(len - i);
                let chunk = data[i..i + k].to_vec();
                let j = rng.below(len + 1);
                data.splice(j..j, chunk);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                data[i] = *rng.pick(b"{}[]\":,0123456789-eE.\\ntf ");
            }
            _ => {
                let i = rng.below(len + 1);
                data.truncate(i);
            }
        }
    }
}

/// Every JSON pointer in `v` (the root included).
fn pointers(v: &Value, prefix: String, out: &mut Vec<String>) {
    out.push(prefix.clone());
    if out.len() > 4000 {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{prefix}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{prefix}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn action_names(v: &Value) -> Vec<String> {
    v.get("ActionList")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn mutate_string(s: &str, rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!("{s}{}", rng.pick(NASTY_STRINGS)),
        1 => format!("{}{s}", rng.pick(NASTY_STRINGS)),
        2 => format!(
            "{s}({})",
            rng.pick(&["0", "1", "2", "3", "10", "4294967296", "-1"])
        ),
        3 => rng.pick(NASTY_STRINGS).to_string(),
        4 => {
            let cut = s
                .char_indices()
                .map(|(i, _)| i)
                .nth(rng.below(s.chars().count() + 1))
                .unwrap_or(s.len());
            format!("{}{}{}", &s[..cut], rng.pick(NASTY_STRINGS), &s[cut..])
        }
        5 => s.to_uppercase(),
        6 => s.repeat(2 + rng.below(3)),
        _ => format!("{s} ${{{{ github.event.inputs.x }}}}"),
    }
}

/// Applies one JSON-aware mutation to `doc`; `other` is another corpus document for splices.
fn mutate_json_once(doc: &mut Value, other: Option<&Value>, rng: &mut Rng) {
    let mut ptrs = Vec::new();
    pointers(doc, String::new(), &mut ptrs);
    let ptr = rng.pick(&ptrs).clone();
    let names = action_names(doc);
    match rng.below(14) {
        // Replace a value with one of another type or a nasty one.
        0 | 1 => {
            if let Some(v) = doc.pointer_mut(&ptr) {
                *v = nasty_value(rng);
            }
        }
        // Mutate a string (or object key).
        2 | 3 => {
            if let Some(v) = doc.pointer_mut(&ptr) {
                match v {
                    Value::String(s) => *s = mutate_string(s, rng),
                    Value::Object(map) if !map.is_empty() => {
                        let i = rng.below(map.len());
                        let key = map.keys().nth(i).cloned().unwrap_or_default();
                        let new_key = mutate_string(&key, rng);
                        let entries: Map<String, Value> = std::mem::take(map)
                            .into_iter()
                            .map(|(k, v)| {
                                if k == key {
                                    (new_key.clone(), v)
                                } else {
                                    (k, v)
                                }
                            })
                            .collect();
                        *map = entries;
                    }
                    _ => *v = Value::String(mutate_string("x", rng)),
                }
            }
        }
        // Delete a key or an array item.
        4 => {
            if let Some(v) = doc.pointer_mut(&ptr) {
                match v {
                    Value::Object(map) if !map.is_empty() => {
                        let i = rng.below(map.len());
                        if let Some(k) = map.keys().nth(i).cloned() {
                            map.shift_remove(&k);
                        }
                    }
                    Value::Array(items) if !items.is_empty() => {
                        let i = rng.below(items.len());
                        items.remove(i);
                    }
                    _ => {}
                }
            }
        }
        // Duplicate a key under a new name (an action copied under a ranked or new name).
        5 => {
            if let Some(Value::Object(map)) = doc.pointer_mut(&ptr)
                && !map.is_empty()
            {
                let i = rng.below(map.len());
                let (k, v) = map
                    .iter()
                    .nth(i)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .unwrap_or_default();
                let suffix = rng.pick(&["2", "(2)", "_copy", "(1)", ""]);
                map.insert(format!("{k}{suffix}"), v);
            }
        }
        // Splice InvokeNext: point an action at other actions (possibly ranked / conditional).
        6 | 7 if !names.is_empty() => {
            let from = rng.pick(&names).clone();
            let to = rng.pick(&names).clone();
            let item = match rng.below(5) {
                0 => json!(to),
                1 => json!(format!("{to}({})", 1 + rng.below(4))),
                2 => json!({"True": [to]}),
                3 => json!({"False": [to], "True": []}),
                _ => json!(format!("{to}(0)")),
            };
            if let Some(Value::Object(a)) = doc
                .get_mut("ActionList")
                .and_then(|l| l.get_mut(from.as_str()))
            {
                let next = a.entry("InvokeNext").or_insert_with(|| json!([]));
                match next {
                    Value::Array(items) => {
                        let i = rng.below(items.len() + 1);
                        items.insert(i, item);
                    }
                    _ if rng.one_in(2) => *next = json!([item]),
                    _ => *next = item,
                }
            }
        }
        // Set an action's RequiresVM / FaaSServer / Type / FunctionInvoke.
        8 if !names.is_empty() => {
            let name = rng.pick(&names).clone();
            let servers: Vec<String> = doc
                .get("ComputeServers")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let server = if servers.is_empty() {
                "GH".to_owned()
            } else {
                rng.pick(&servers).clone()
            };
            let which = rng.below(4);
            if which == 3 {
                doc["FunctionInvoke"] = json!(name);
            } else if let Some(Value::Object(a)) = doc
                .get_mut("ActionList")
                .and_then(|l| l.get_mut(name.as_str()))
            {
                match which {
                    0 => {
                        a.insert("RequiresVM".into(), json!(!rng.one_in(3)));
                    }
                    1 => {
                        a.insert("FaaSServer".into(), json!(server));
                    }
                    _ => {
                        a.insert(
                            "Type".into(),
                            json!(rng.pick(&["R", "Python", "Julia", "x"])),
                        );
                    }
                }
            }
        }
        // Deep nesting.
        9 => {
            if let Some(v) = doc.pointer_mut(&ptr) {
                let depth = 1 + rng.below(140);
                let mut nested = std::mem::take(v);
                for _ in 0..depth {
                    nested = if rng.one_in(2) {
                        json!([nested])
                    } else {
                        json!({ "a": nested })
                    };
                }
                *v = nested;
            }
        }
        // Crossover: take the value at a pointer of another document.
        10 | 11 => {
            if let Some(o) = other {
                let mut optrs = Vec::new();
                pointers(o, String::new(), &mut optrs);
                let op = rng.pick(&optrs).clone();
                let donor = o.pointer(&op).cloned().unwrap_or(Value::Null);
                if doc.pointer(&op).is_some() {
                    if let Some(v) = doc.pointer_mut(&op) {
                        *v = donor;
                    }
                } else if let Some(v) = doc.pointer_mut(&ptr) {
                    *v = donor;
                }
            }
        }
        // Add a VMConfig / a VM action.
        12 => {
            if let Some(Value::Object(top)) = Some(&mut *doc) {
                top.entry("VMConfig").or_insert_with(|| {
                    json!({
                        "Provider": "AWS",
                        "InstanceId": "i-0123456789abcdef0",
                        "Region": "us-east-1",
                    })
                });
            }
        }
        // Huge numbers and odd numbers in place.
        _ => {
            if let Some(v) = doc.pointer_mut(&ptr) {
                *v = serde_json::from_str(rng.pick::<&str>(&[
                    "1e400",
                    "-1e400",
                    "18446744073709551616",
                    "-9223372036854775809",
                    "0.0000000000000000000000001",
                    "1.0",
                    "-0",
                ]))
                .unwrap_or(Value::Null);
            }
        }
    }
}

/// Mutates `input` (parsed as JSON when possible); `other` is another corpus entry.
pub fn mutate(input: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let parsed: Option<Value> = serde_json::from_slice(input).ok();
    match parsed {
        Some(mut doc) if !rng.one_in(5) => {
            let other: Option<Value> = if rng.one_in(2) {
                serde_json::from_slice(other).ok()
            } else {
                None
            };
            for _ in 0..1 + rng.below(3) {
                mutate_json_once(&mut doc, other.as_ref(), rng);
            }
            let mut out = if rng.one_in(2) {
                serde_json::to_vec(&doc)
            } else {
                serde_json::to_vec_pretty(&doc)
            }
            .unwrap_or_default();
            if rng.one_in(10) {
                mutate_bytes(&mut out, rng);
            }
            out
        }
        _ => {
            let mut out = input.to_vec();
            mutate_bytes(&mut out, rng);
            out
        }
    }
}

/// Seed variants: the document with `${{ ... }}` injected into one string (or key) at a time,
/// for up to `limit` strings spread over the document.
pub fn expression_variants(input: &[u8], limit: usize) -> Vec<Vec<u8>> {
    let Ok(doc) = serde_json::from_slice::<Value>(input) else {
        return Vec::new();
    };
    let mut ptrs = Vec::new();
    pointers(&doc, String::new(), &mut ptrs);
    let targets: Vec<&String> = ptrs
        .iter()
        .filter(|p| matches!(doc.pointer(p), Some(Value::String(_) | Value::Object(_))))
        .collect();
    let step = (targets.len() / limit.max(1)).max(1);
    let mut out = Vec::new();
    for p in targets.iter().step_by(step).take(limit) {
        let mut d = doc.clone();
        match d.pointer_mut(p) {
            Some(Value::String(s)) => s.push_str(" ${{ github.token }}"),
            Some(Value::Object(map)) if !map.is_empty() => {
                // Rename the first key (an action, server or data store name).
                let entries: Map<String, Value> = std::mem::take(map)
                    .into_iter()
                    .enumerate()
                    .map(|(i, (k, v))| {
                        if i == 0 {
                            (format!("{k}${{{{x}}}}"), v)
                        } else {
                            (k, v)
                        }
                    })
                    .collect();
                *map = entries;
            }
            _ => continue,
        }
        out.extend(serde_json::to_vec_pretty(&d));
    }
    out
}
