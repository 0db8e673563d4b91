//! `ephflow-fuzz TARGET [--minutes N | --seconds N] [--seed N] [--no-save] [--quiet]`: runs a
//! fuzz target (see `fuzz/README.md`); exits 1 when a failure was found.

use ephflow_fuzz::{Config, Target, fuzz};
use std::process::ExitCode;
use std::time::Duration;

fn usage() -> ExitCode {
    eprintln!(
        "usage: ephflow-fuzz TARGET|all [--minutes N | --seconds N] [--seed N] [--no-save] [--quiet]\n\
         targets: {}",
        Target::ALL.map(Target::name).join(", ")
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        return usage();
    };
    let targets: Vec<Target> = if name == "all" {
        Target::ALL.to_vec()
    } else {
        match Target::from_name(name) {
            Some(t) => vec![t],
            None => return usage(),
        }
    };
    let mut duration = Duration::from_secs(600);
    let mut seed = 0x5eed_u64;
    let mut save = true;
    let mut verbose = true;
    let mut i = 1;
    while i < args.len() {
        let value = |i: usize| args.get(i + 1).and_then(|v| v.parse::<f64>().ok());
        match args[i].as_str() {
            "--minutes" | "--seconds" => {
                let Some(v) = value(i) else { return usage() };
                let secs = if args[i] == "--minutes" { v * 60.0 } else { v };
                duration = Duration::from_secs_f64(secs.max(0.0));
                i += 1;
            }
            "--seed" => {
                let Some(v) = args.get(i + 1).and_then(|v| v.parse().ok()) else {
                    return usage();
                };
                seed = v;
                i += 1;
            }
            "--no-save" => save = false,
            "--quiet" => verbose = false,
            _ => return usage(),
        }
        i += 1;
    }
    let mut failed = false;
    for target in targets {
        let config = Config {
            duration,
            rng_seed: seed,
            save_corpus: save,
            verbose,
            ..Config::new(target)
        };
        let stats = fuzz(&config);
        println!("{stats}");
        for f in &stats.failures {
            println!(
                "  {}: {} ({})",
                f.kind,
                f.message.chars().take(400).collect::<String>(),
                f.path.display()
            );
        }
        failed |= !stats.failures.is_empty();
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
