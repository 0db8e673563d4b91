//! A counting proxy in front of moto, used as `AWS_ENDPOINT_URL_EC2` by the jobs only (the
//! builtins and the teardown's AWS CLI), so the tally is the workflow's EC2 traffic and not the
//! harness's own observations (the runner agent and the VM checks talk to moto directly).
//!
//! moto's request recorder was not used: it needs `MOTO_ENABLE_RECORDING` in moto's
//! environment (the testkit's launcher does not set it; without it the download answers 500)
//! and it would record the harness's requests too.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use ephflow_core::testkit::http::{self, Reply, Request};

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
            forward(&upstream, request)
        });
        Ec2Proxy { url, counts }
    }

    /// Requests so far, by EC2 action.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.counts.lock().expect("not poisoned").clone()
    }
}

/// Sends `request` to `upstream` (`host:port`) over HTTP/1.0 (moto's server closes each
/// connection, so the response ends at EOF) and relays the answer.
fn forward(upstream: &str, request: &Request) -> Reply {
    let mut stream = TcpStream::connect(upstream).expect("moto is listening");
    let mut head = format!("{} {} HTTP/1.0\r\n", request.method, request.path);
    for (name, value) in &request.headers {
        if !matches!(
            name.as_str(),
            "connection" | "keep-alive" | "content-length"
        ) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", request.body.len()));
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(request.body.as_bytes()))
        .expect("request forwarded to moto");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("moto's response read");
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("moto answered without a header block: {text}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("moto answered without a status: {head}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| {
            !matches!(
                k.to_ascii_lowercase().as_str(),
                "content-length" | "connection" | "transfer-encoding"
            )
        })
        .collect();
    Reply::Send {
        status,
        headers,
        body: body.to_owned(),
    }
}
