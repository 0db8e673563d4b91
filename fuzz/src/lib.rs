//! Fuzz targets for ephflow that run on the stable toolchain, and a small mutation-based,
//! corpus-keeping fuzzer to drive them (see `fuzz/README.md`).
//!
//! libFuzzer (cargo-fuzz) needs nightly; this engine needs nothing but std: it mutates the
//! corpus (raw byte edits and JSON-aware edits), keeps inputs that reach a new *outcome
//! signature* (what a target reports: diagnostic codes, error classes, injection and
//! rendering results), catches panics with `catch_unwind`, and saves crashing, invariant-
//! breaking or slow inputs under `fuzz/artifacts/<target>/`.

pub mod mutate;
pub mod targets;

use mutate::Rng;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use targets::{augment, parse_validate, render};

/// A fuzz target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// [`targets::parse_validate`].
    ParseValidate,
    /// [`targets::augment`].
    Augment,
    /// [`targets::render`].
    Render,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 3] = [Target::ParseValidate, Target::Augment, Target::Render];

    /// The name used on the command line and for directories.
    pub fn name(self) -> &'static str {
        match self {
            Target::ParseValidate => "parse_validate",
            Target::Augment => "augment",
            Target::Render => "render",
        }
    }

    /// The target called `name`.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Runs the target on one input.
    pub fn run(self, input: &[u8]) -> targets::TargetResult {
        match self {
            Target::ParseValidate => parse_validate(input),
            Target::Augment => augment(input),
            Target::Render => render(input),
        }
    }
}

/// The workspace root (the fuzz crate's parent directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// The seed inputs: the JSON files of the FaaSr corpus (`$EPHFLOW_CORPUS/faasr` or
/// `../shared/corpus/faasr`), `tests/fixtures/**` and `examples/**`.
pub fn seed_files() -> Vec<PathBuf> {
    let root = workspace_root();
    let corpus = std::env::var_os("EPHFLOW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpus"));
    let mut out = Vec::new();
    for dir in [
        corpus.join("faasr"),
        root.join("tests/fixtures"),
        root.join("examples"),
    ] {
        json_files(&dir, &mut out);
    }
    out
}

/// The JSON files of a corpus directory.
pub fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    json_files(dir, &mut out);
    out
}

/// How to run a target.
#[derive(Debug, Clone)]
pub struct Config {
    /// The target.
    pub target: Target,
    /// How long to mutate (after the initial corpus has been run).
    pub duration: Duration,
    /// Where the corpus is read from and, when `save_corpus`, written to.
    pub corpus_dir: PathBuf,
    /// Where crashing, invariant-breaking and slow inputs go.
    pub artifacts_dir: PathBuf,
    /// Extra seed files run before mutating.
    pub seeds: Vec<PathBuf>,
    /// Rewrite `corpus_dir` at the end with the minimised corpus.
    pub save_corpus: bool,
    /// The random seed.
    pub rng_seed: u64,
    /// An input running longer than this is saved as `slow-*` and counted as a failure.
    pub max_input_time: Duration,
    /// Corpus caps after minimisation: files, total bytes.
    pub max_corpus_files: usize,
    /// See `max_corpus_files`.
    pub max_corpus_bytes: usize,
    /// Print progress to stderr.
    pub verbose: bool,
}

impl Config {
    /// Defaults for `target`: corpus in `fuzz/corpus/<target>`, artifacts in
    /// `fuzz/artifacts/<target>`, the seed files, 10 minutes.
    pub fn new(target: Target) -> Config {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        Config {
            target,
            duration: Duration::from_secs(600),
            corpus_dir: dir.join("corpus").join(target.name()),
            artifacts_dir: dir.join("artifacts").join(target.name()),
            seeds: seed_files(),
            save_corpus: true,
            rng_seed: 0x5eed,
            max_input_time: Duration::from_secs(10),
            max_corpus_files: 200,
            max_corpus_bytes: 2 << 20,
            verbose: false,
        }
    }
}

/// A failing input.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `crash` (panic), `invariant` (the target reported a broken invariant) or `slow`.
    pub kind: &'static str,
    /// The panic message or the broken invariant.
    pub message: String,
    /// Where the input was saved.
    pub path: PathBuf,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Stats {
    /// The target.
    pub target: Target,
    /// Wall time, initial corpus included.
    pub elapsed: Duration,
    /// Inputs executed.
    pub executions: u64,
    /// Distinct outcome signatures seen.
    pub signatures: usize,
    /// Corpus entries after minimisation.
    pub corpus_files: usize,
    /// Their total size.
    pub corpus_bytes: usize,
    /// Distinct failures (one per message).
    pub failures: Vec<Failure>,
}

impl Stats {
    /// Executions per second.
    pub fn execs_per_sec(&self) -> f64 {
        self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {:.0} s, {} execs, {:.1} execs/s, {} signatures, corpus {} files / {} bytes, {} failures",
            self.target.name(),
            self.elapsed.as_secs_f64(),
            self.executions,
            self.execs_per_sec(),
            self.signatures,
            self.corpus_files,
            self.corpus_bytes,
            self.failures.len()
        )
    }
}

fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if FUZZING.with(|f| f.get()) {
                let msg = match info.payload().downcast_ref::<&str>() {
                    Some(s) => (*s).to_owned(),
                    None => info
                        .payload()
                        .downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| "panic".into()),
                };
                let loc = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{loc}")));
            } else {
                previous(info);
            }
        }));
    });
}

thread_local! {
    static FUZZING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `target` on `input`, catching panics: `Ok(signature)` or the failure kind and message.
pub fn run_one(target: Target, input: &[u8]) -> Result<String, (&'static str, String)> {
    install_quiet_panic_hook();
    FUZZING.with(|f| f.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| target.run(input)));
    FUZZING.with(|f| f.set(false));
    match result {
        Ok(Ok(sig)) => Ok(sig),
        Ok(Err(msg)) => Err(("invariant", msg)),
        Err(_) => Err((
            "crash",
            LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "panic".into()),
        )),
    }
}

struct Entry {
    data: Vec<u8>,
    signature: String,
}

/// The watchdog: saves the running input and aborts when one input runs too long (a hang
/// cannot be interrupted in-thread).
type Running = Arc<Mutex<Option<(Instant, Vec<u8>)>>>;

struct Watchdog {
    current: Running,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(limit: Duration, artifacts: PathBuf, target: Target) -> Watchdog {
        let current: Running = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (current.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let guard = c.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((started, input)) = guard.as_ref()
                    && started.elapsed() > limit * 3
                {
                    let _ = std::fs::create_dir_all(&artifacts);
                    let path = artifacts.join(format!("hang-{:016x}.json", hash_of(input)));
                    let _ = std::fs::write(&path, input);
                    eprintln!(
                        "{}: an input ran over {:?}; saved to {}; aborting",
                        target.name(),
                        limit * 3,
                        path.display()
                    );
                    std::process::exit(3);
                }
            }
        });
        Watchdog {
            current,
            stop,
            handle: Some(handle),
        }
    }

    fn set(&self, input: Option<&[u8]>) {
        let mut guard = self.current.lock().unwrap_or_else(|e| e.into_inner());
        *guard = input.map(|i| (Instant::now(), i.to_vec()));
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A failure message with quoted text blanked out, so one bug met under many names is
/// saved once.
fn failure_key(message: &str) -> String {
    let mut key = String::new();
    let mut quoted = false;
    for c in message.chars().take(300) {
        if c == '"' {
            quoted = !quoted;
            key.push(c);
        } else if !quoted {
            key.push(c);
        }
    }
    key
}

/// Runs a fuzzing session as `config` says and returns its figures.
pub fn fuzz(config: &Config) -> Stats {
    let started = Instant::now();
    let mut rng = Rng::new(config.rng_seed);
    let watchdog = Watchdog::start(
        config.max_input_time,
        config.artifacts_dir.clone(),
        config.target,
    );
    let mut corpus: Vec<Entry> = Vec::new();
    let mut best: HashMap<String, usize> = HashMap::new();
    let mut failures: Vec<Failure> = Vec::new();
    let mut failure_messages: HashSet<String> = HashSet::new();
    let executions = std::cell::Cell::new(0u64);

    let mut exec = |data: Vec<u8>,
                    corpus: &mut Vec<Entry>,
                    best: &mut HashMap<String, usize>,
                    failures: &mut Vec<Failure>| {
        watchdog.set(Some(&data));
        let t0 = Instant::now();
        let result = run_one(config.target, &data);
        let took = t0.elapsed();
        watchdog.set(None);
        executions.set(executions.get() + 1);
        let result = match result {
            Ok(_) if took > config.max_input_time => Err((
                "slow",
                format!("took {took:?} (limit {:?})", config.max_input_time),
            )),
            other => other,
        };
        match result {
            Ok(signature) => match best.get(&signature) {
                Some(&i) => {
                    if data.len() < corpus[i].data.len() {
                        corpus[i].data = data;
                    }
                }
                None => {
                    best.insert(signature.clone(), corpus.len());
                    corpus.push(Entry { data, signature });
                }
            },
            Err((kind, message)) => {
                // One artifact per distinct message, quoted names ignored (panic locations
                // included).
                let key = failure_key(&message);
                if failure_messages.insert(key) {
                    let _ = std::fs::create_dir_all(&config.artifacts_dir);
                    let path = config
                        .artifacts_dir
                        .join(format!("{kind}-{:016x}.json", hash_of(&data)));
                    let _ = std::fs::write(&path, &data);
                    let _ = std::fs::write(path.with_extension("txt"), &message);
                    if config.verbose {
                        eprintln!(
                            "{}: {kind}: {} ({})",
                            config.target.name(),
                            message.chars().take(500).collect::<String>(),
                            path.display()
                        );
                    }
                    failures.push(Failure {
                        kind,
                        message,
                        path,
                    });
                }
            }
        }
    };

    // Initial corpus: committed corpus, seeds, and seeds with `${{` injected.
    let mut initial: Vec<PathBuf> = corpus_files(&config.corpus_dir);
    initial.extend(config.seeds.iter().cloned());
    for path in &initial {
        let Ok(data) = std::fs::read(path) else {
            continue;
        };
        let variants = if config.target == Target::ParseValidate {
            Vec::new()
        } else {
            mutate::expression_variants(&data, 12)
        };
        exec(data, &mut corpus, &mut best, &mut failures);
        for v in variants {
            exec(v, &mut corpus, &mut best, &mut failures);
        }
    }
    if corpus.is_empty() {
        exec(b"{}".to_vec(), &mut corpus, &mut best, &mut failures);
    }
    let initial_done = Instant::now();
    let mut last_report = Instant::now();
    while initial_done.elapsed() < config.duration {
        let i = rng.below(corpus.len());
        let j = rng.below(corpus.len());
        let input = mutate::mutate(&corpus[i].data, &corpus[j].data, &mut rng);
        exec(input, &mut corpus, &mut best, &mut failures);
        if config.verbose && last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            eprintln!(
                "{}: {:.0} s, {} execs, {} signatures, {} failures",
                config.target.name(),
                started.elapsed().as_secs_f64(),
                executions.get(),
                best.len(),
                failures.len()
            );
        }
    }
    drop(watchdog);

    // Minimise: one (the smallest seen) input per signature, within the caps.
    let signatures = corpus.len();
    // Deepest first (valid, then augmented / rendered), then smallest.
    let depth = |sig: &str| sig.matches(":ok").count() + usize::from(sig.contains("valid=true"));
    corpus.sort_by_key(|e| (std::cmp::Reverse(depth(&e.signature)), e.data.len()));
    let mut kept: Vec<&Entry> = Vec::new();
    let mut bytes = 0;
    for e in &corpus {
        if kept.len() >= config.max_corpus_files || bytes + e.data.len() > config.max_corpus_bytes {
            break;
        }
        bytes += e.data.len();
        kept.push(e);
    }
    if config.save_corpus {
        let _ = std::fs::create_dir_all(&config.corpus_dir);
        for old in corpus_files(&config.corpus_dir) {
            let _ = std::fs::remove_file(old);
        }
        for e in &kept {
            let path = config
                .corpus_dir
                .join(format!("{:016x}.json", hash_of(&e.data)));
            let _ = std::fs::write(path, &e.data);
        }
    }
    Stats {
        target: config.target,
        elapsed: started.elapsed(),
        executions: executions.get(),
        signatures,
        corpus_files: kept.len(),
        corpus_bytes: bytes,
        failures,
    }
}
