//! Progress of lifecycle operations on the terminal or in a CI log.

use std::io::IsTerminal;
use std::time::Duration;

use ephflow::core::lifecycle::{Event, Observer};

/// Reports progress: a spinner on a terminal, plain lines otherwise; notices for GitHub
/// Actions when running there.
pub struct Progress {
    spinner: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new() -> Self {
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { spinner }
    }

    pub fn done(&self) {
        if let Some(s) = &self.spinner {
            s.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn event(&self, event: &Event) {
        let line = match event {
            Event::Phase { phase, at, state } => format!(
                "[{:>6.1}s] {phase}{}",
                at.as_secs_f64(),
                state.map(|s| format!(" (VM {s})")).unwrap_or_default()
            ),
            Event::Retrying { message, after } => {
                format!("retrying in {:.1}s: {message}", after.as_secs_f64())
            }
        };
        match &self.spinner {
            Some(s) => s.set_message(line),
            None => eprintln!("{line}"),
        }
    }
}
