//! File input and output: whole-file reads, atomic writes that never replace an input.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// Reading failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing failed (nothing was written to `path`).
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The output would replace one of the inputs.
    #[error("refusing to write {path}: it is an input file; choose another output path")]
    WouldOverwriteInput {
        /// The file.
        path: PathBuf,
    },
}

/// Whether `path` means standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path == Path::new("-")
}

/// Reads a UTF-8 file; `-` reads standard input.
pub fn read_text(path: &Path) -> Result<String, IoError> {
    let read = |p: &Path| -> std::io::Result<String> {
        if is_stdin(p) {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
            Ok(s)
        } else {
            std::fs::read_to_string(p)
        }
    };
    read(path).map_err(|source| IoError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, flushed,
/// then renamed over the target. Readers see the old file or the new one, never a torn one.
/// Refuses to replace any of `inputs`.
pub fn write_atomic(path: &Path, contents: &[u8], inputs: &[&Path]) -> Result<(), IoError> {
    write_atomic_with(path, inputs, |w| w.write_all(contents))
}

/// [`write_atomic`], with the contents produced by `write` into a buffered writer (a large
/// document is serialized straight to disk instead of into memory first).
pub fn write_atomic_with(
    path: &Path,
    inputs: &[&Path],
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), IoError> {
    let target = canonical_or_self(path);
    if inputs.iter().any(|i| canonical_or_self(i) == target) {
        return Err(IoError::WouldOverwriteInput {
            path: path.to_owned(),
        });
    }
    let err = |source| IoError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Said plainly, before the temporary file's own error (which names the temporary path)
    // could say it less clearly.
    if !dir.is_dir() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "the directory {} does not exist; create it or choose another output path",
                dir.display()
            ),
        )));
    }
    if path.is_dir() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory; give the path of a file",
        )));
    }
    // A replaced file keeps its mode; a new one gets the mode any new file gets here
    // (0666 less the umask), not the temporary file's private 0600.
    let mode = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ephflow-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        // The kind only: the error's text names the temporary file, not the output.
        .map_err(|e| err(std::io::Error::from(e.kind())))?;
    if let Some(mode) = mode {
        tmp.as_file().set_permissions(mode).map_err(err)?;
    }
    {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        write(&mut buffered).map_err(err)?;
        buffered.flush().map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

fn canonical_or_self(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_and_protects_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.json");
        std::fs::write(&input, "{}").unwrap();
        let out = dir.path().join("out.json");
        write_atomic(&out, b"new", &[&input]).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "new");
        let err = write_atomic(&input, b"clobber", &[&input]).unwrap_err();
        assert!(matches!(err, IoError::WouldOverwriteInput { .. }));
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "{}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".ephflow-")
            })
            .collect();
        assert!(leftovers.is_empty());
    }

    /// A new file gets the usual mode (0666 less the umask, as `File::create` would), not
    /// the temporary file's 0600; a replaced file keeps its own.
    #[cfg(unix)]
    #[test]
    fn new_files_get_the_usual_mode_and_replaced_files_keep_theirs() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let usual = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        let out = dir.path().join("out.json");
        write_atomic(&out, b"1", &[]).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), usual);
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&out, b"2", &[]).unwrap();
        assert_eq!(mode(&out), 0o640);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "2");
    }

    /// A missing directory and a directory in place of the file are named, with no
    /// temporary file's path in the message.
    #[test]
    fn a_missing_directory_or_a_directory_target_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nodir").join("plan.svg");
        let text = write_atomic(&missing, b"x", &[]).unwrap_err().to_string();
        assert!(text.contains("nodir does not exist"), "{text}");
        assert!(!text.contains(".ephflow-"), "{text}");
        let text = write_atomic(dir.path(), b"x", &[]).unwrap_err().to_string();
        assert!(text.contains("is a directory"), "{text}");
    }
}
