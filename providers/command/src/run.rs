//! Running one command: `sh -c TEXT` in its own process group, its output captured (bounded),
//! killed with its whole group when it outlives its bound.
//!
//! std processes with helper threads rather than tokio's `process` feature: the waits are
//! still async (a oneshot channel under `tokio::time::timeout`), and the workspace keeps one
//! tokio feature set (changing it would rebuild every crate on tokio, the EC2 SDK included).

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Standard output kept: its first MiB (Describe prints one small JSON object).
const STDOUT_CAP: usize = 1 << 20;
/// Standard error kept: its last 64 KiB (messages quote its tail).
const STDERR_CAP: usize = 64 << 10;
/// How long to wait, once the command exited, for its pipes to close (a background process
/// it left behind may hold them open; what was read by then is used).
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// How a command ended.
#[derive(Debug)]
pub(crate) struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its standard output (the first [`STDOUT_CAP`] bytes).
    pub stdout: Vec<u8>,
    /// Its standard error (the last [`STDERR_CAP`] bytes).
    pub stderr: Vec<u8>,
}

impl Finished {
    /// The exit code, or `None` when a signal ended the command.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The signal that ended the command.
    pub fn signal(&self) -> Option<i32> {
        self.status.signal()
    }
}

/// Why a command did not finish.
#[derive(Debug)]
pub(crate) enum RunError {
    /// `sh` could not be started (or waited for).
    Spawn(std::io::Error),
    /// It ran longer than its bound and was killed, with its process group.
    TimedOut,
}

/// Output read by a helper thread, kept within a cap.
struct Capture {
    buffer: Arc<Mutex<Vec<u8>>>,
    closed: tokio::sync::oneshot::Receiver<()>,
}

impl Capture {
    /// Reads `pipe` to its end on a thread, keeping the first `cap` bytes (`tail`: the last).
    fn spawn(mut pipe: impl Read + Send + 'static, cap: usize, tail: bool) -> Capture {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let (done, closed) = tokio::sync::oneshot::channel();
        let shared = buffer.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        let mut b = shared.lock().unwrap_or_else(|e| e.into_inner());
                        if tail {
                            b.extend_from_slice(&chunk[..n]);
                            if b.len() > 2 * cap {
                                let excess = b.len() - cap;
                                b.drain(..excess);
                            }
                        } else if b.len() < cap {
                            let room = cap - b.len();
                            b.extend_from_slice(&chunk[..n.min(room)]);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = done.send(());
        });
        Capture { buffer, closed }
    }

    /// What was read, after waiting at most `grace` for the pipe to close.
    async fn finish(self, grace: Duration, cap: usize, tail: bool) -> Vec<u8> {
        let _ = tokio::time::timeout(grace, self.closed).await;
        let mut b = std::mem::take(&mut *self.buffer.lock().unwrap_or_else(|e| e.into_inner()));
        if tail && b.len() > cap {
            b.drain(..b.len() - cap);
        }
        b
    }
}

/// Runs `sh -c text` with `env` added to (and `unset` removed from) ephflow's environment,
/// standard input closed, in a new process group; kills the group after `timeout`.
pub(crate) async fn run(
    text: &str,
    env: &[(String, String)],
    unset: &[&str],
    timeout: Duration,
) -> Result<Finished, RunError> {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(text)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for name in unset {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().map_err(RunError::Spawn)?;
    // The child leads its own group: the group id is its pid.
    let group = child.id() as libc::pid_t;
    let stdout = child
        .stdout
        .take()
        .map(|p| Capture::spawn(p, STDOUT_CAP, false));
    let stderr = child
        .stderr
        .take()
        .map(|p| Capture::spawn(p, STDERR_CAP, true));
    let (tx, mut exited) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match tokio::time::timeout(timeout, &mut exited).await {
        Ok(Ok(status)) => status.map_err(RunError::Spawn)?,
        Ok(Err(_)) => {
            return Err(RunError::Spawn(std::io::Error::other(
                "the thread waiting for the command ended",
            )));
        }
        Err(_) => match exited.try_recv() {
            // It exited just as the bound ran out.
            Ok(status) => status.map_err(RunError::Spawn)?,
            Err(_) => {
                kill_group(group);
                return Err(RunError::TimedOut);
            }
        },
    };
    let stdout = match stdout {
        Some(c) => c.finish(PIPE_GRACE, STDOUT_CAP, false).await,
        None => Vec::new(),
    };
    let stderr = match stderr {
        Some(c) => c.finish(PIPE_GRACE, STDERR_CAP, true).await,
        None => Vec::new(),
    };
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// SIGKILL to every process of the group (the shell and whatever it started).
fn kill_group(group: libc::pid_t) {
    if group > 1 {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        let _ = unsafe { libc::kill(-group, libc::SIGKILL) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn captures_output_and_exit_code() {
        let done = run(
            "echo out; echo err >&2; exit 7",
            &[("X".into(), "1".into())],
            &[],
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(done.code(), Some(7));
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
    }

    #[tokio::test]
    async fn a_background_process_holding_the_pipes_does_not_hold_us() {
        let started = std::time::Instant::now();
        let done = run("sleep 5 & echo ok", &[], &[], Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(done.code(), Some(0));
        assert_eq!(done.stdout, b"ok\n");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn kills_the_whole_group_on_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let script = format!("(sleep 1; touch '{}') & sleep 30", marker.display());
        let started = std::time::Instant::now();
        let err = run(&script, &[], &[], Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(err, RunError::TimedOut));
        assert!(started.elapsed() < Duration::from_secs(1));
        std::thread::sleep(Duration::from_millis(1300));
        assert!(!marker.exists(), "a process of the group survived the kill");
    }
}
