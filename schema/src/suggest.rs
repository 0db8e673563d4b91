//! "Did you mean ...?" for misspelt names.

/// The candidate closest to `word`: equal ignoring case first, then one that starts with the
/// word (`GitHub` → `GitHubActions`), then one within an edit distance of a third of the
/// word's length.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let candidate = c.to_lowercase();
        let d = if candidate == lower {
            0
        } else if lower.chars().count() >= 3 && candidate.starts_with(&lower) {
            1
        } else {
            distance(&lower, &candidate)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Among the `present` keys of an object, the first that looks like a misspelling of `wanted`,
/// a key the object should have but lacks: a key that is not itself one of the `valid` keys of
/// that place (so a valid key is never blamed), and is closer to `wanted` than to any other
/// valid key (`VmConfig` → `VMConfig`, `FunctionInvok` → `FunctionInvoke`).
pub fn misspelt_key<'a>(
    wanted: &str,
    present: impl IntoIterator<Item = &'a str>,
    valid: &[&str],
) -> Option<&'a str> {
    present.into_iter().find(|key| {
        *key != wanted
            && !valid.contains(key)
            && closest(key, valid.iter().copied().chain([wanted])) == Some(wanted)
    })
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_case_slips() {
        let known = ["RequiresVM", "FaaSServer", "InvokeNext"];
        assert_eq!(closest("RequiresVm", known), Some("RequiresVM"));
        assert_eq!(closest("InvokNext", known), Some("InvokeNext"));
        assert_eq!(closest("Colour", known), None);
        assert_eq!(closest("GH2", ["GH", "AWS"]), Some("GH"));
        assert_eq!(
            closest("GitHub", ["Lambda", "GitHubActions"]),
            Some("GitHubActions")
        );
        assert_eq!(closest("Gi", ["GitHubActions"]), None);
    }

    #[test]
    fn misspelt_keys_are_unknown_near_misses_of_the_wanted_key() {
        let valid = ["Name", "Provider", "InstanceId", "Region", "RunnerName"];
        let present = ["Name", "Provder", "InstanceID", "Region"];
        assert_eq!(misspelt_key("Provider", present, &valid), Some("Provder"));
        assert_eq!(
            misspelt_key("InstanceId", present, &valid),
            Some("InstanceID")
        );
        // A valid key is never blamed, however close: "Region" is not a misspelt "RegionX".
        assert_eq!(misspelt_key("RegionX", present, &valid), None);
        assert_eq!(misspelt_key("RunnerName", ["Name"], &valid), None);
        // Nothing close: no suggestion.
        assert_eq!(misspelt_key("Provider", ["Colour"], &valid), None);
        // Closer to another valid key than to the wanted one: not this one's misspelling.
        assert_eq!(misspelt_key("Name", ["RunerName"], &valid), None);
        assert_eq!(
            misspelt_key("VMConfig", ["VmConfig"], &["VMConfig", "WorkflowName"]),
            Some("VmConfig")
        );
    }
}
