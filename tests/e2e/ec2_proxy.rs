//! A counting proxy in front of moto, used as `AWS_ENDPOINT_URL_EC2` by the jobs only (the
//! builtins and the teardown's AWS CLI), so the tally is the workflow's EC2 traffic and not the
//! harness's own observations (the runner agent and the VM checks talk to moto directly).
//!
//! moto's request recorder was not used: it needs `MOTO_ENABLE_RECORDING` in moto's
//! environment (the testkit's launcher does not set it; without it the download answers 500)
//! and it would record the harness's requests too.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ephflow_core::testkit::http::{self, Request};

use crate::events::{Event, EventLog};

/// EC2 actions that change the VM's power state: logged in sequence with the jobs.
const POWER: &[&str] = &["StartInstances", "StopInstances"];

/// The proxy; requests counted by EC2 action.
pub struct Ec2Proxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl Ec2Proxy {
    /// Forwards to `moto` (its URL); power-state requests go to `log`.
    pub fn start(moto: &str, log: Arc<EventLog>) -> Ec2Proxy {
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let tally = counts.clone();
        let upstream = moto.trim_start_matches("http://").to_owned();
        let url = http::serve(move |request: &Request| {
            let action = request
                .body
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .unwrap_or("(no Action)")
                .to_owned();
            *tally
                .lock()
                .expect("not poisoned")
                .entry(action.clone())
                .or_insert(0) += 1;
            if POWER.contains(&action.as_str()) {
                log.push(Event::Ec2 { action });
            }
            http::forward(&upstream, request)
        });
        Ec2Proxy { url, counts }
    }

    /// Requests so far, by EC2 action.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.counts.lock().expect("not poisoned").clone()
    }
}
