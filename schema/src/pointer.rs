//! JSON pointers (RFC 6901) for diagnostics.

/// Appends one reference token to a pointer, escaping `~` and `/`.
pub fn push(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// Builds a pointer from reference tokens.
pub fn from_tokens<I, S>(tokens: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut p = String::new();
    for t in tokens {
        push(&mut p, t.as_ref());
    }
    p
}

/// Splits a pointer into unescaped reference tokens.
pub fn tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .strip_prefix('/')
        .unwrap_or(pointer)
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_splits() {
        let p = from_tokens(["ActionList", "a/b~c", "InvokeNext"]);
        assert_eq!(p, "/ActionList/a~1b~0c/InvokeNext");
        assert_eq!(tokens(&p), vec!["ActionList", "a/b~c", "InvokeNext"]);
        assert!(tokens("").is_empty());
    }
}
