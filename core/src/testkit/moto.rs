//! A moto server (EC2 and S3 in one process) on a free loopback port.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::missing;

/// Serves moto's app single-threaded. moto checks `If-None-Match: *` and then writes, in two
/// steps; served from one thread, requests cannot interleave, so a conditional create is
/// atomic as it is on S3 (the fan-in tests depend on it). HTTP/1.0 without threads: every
/// request gets its own connection, so one client cannot hold the server.
const LAUNCHER: &str = "import sys\n\
from werkzeug.serving import run_simple\n\
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app\n\
run_simple('127.0.0.1', int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)\n";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a loopback port")
        .local_addr()
        .expect("bound")
        .port()
}

/// A moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Moto {
    /// Starts moto (`python3 -m pip install 'moto[server]'`) on a free port; `None` (after
    /// [`missing`]) when python3 or moto is not installed.
    pub fn start() -> Option<Moto> {
        let have_moto = Command::new("python3")
            .args(["-c", "import moto.moto_server.werkzeug_app, werkzeug"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !have_moto {
            missing("moto (python3 -m pip install 'moto[server]')");
            return None;
        }
        let port = free_port();
        let child = Command::new("python3")
            .args(["-c", LAUNCHER, &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start on {url}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Moto { child, url })
    }

    /// Creates an S3 bucket (moto accepts unsigned requests).
    pub fn create_bucket(&self, bucket: &str) {
        use std::io::{Read, Write};
        let host = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("moto is listening");
        write!(
            stream,
            "PUT /{bucket} HTTP/1.0\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"
        )
        .expect("request sent");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response read");
        assert!(
            response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
            "moto did not create bucket {bucket}: {response}"
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
