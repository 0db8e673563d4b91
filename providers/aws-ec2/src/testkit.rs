//! Test kit (feature `testkit`): a moto server on a free loopback port, a scripted fake EC2
//! endpoint for the failures moto cannot produce, and a ready-made build context.

use std::sync::{Arc, Mutex};

use ephflow_core::provider::{BuildContext, Secret, StaticSecrets};
use ephflow_core::schema::model::VmConfig;
use ephflow_core::testkit::http::{self, Reply, Request};

pub use ephflow_core::testkit::moto::Moto;

/// A VMConfig for `instance` in us-east-1, named `TESTVM`.
pub fn context(instance: &str) -> BuildContext {
    let config: VmConfig = serde_json::from_value(serde_json::json!({
        "Name": "TESTVM", "Provider": "AWS", "InstanceId": instance, "Region": "us-east-1"
    }))
    .unwrap();
    BuildContext {
        config,
        secrets: Arc::new(StaticSecrets(vec![
            ("TESTVM_AccessKey".into(), Secret::new("AKIAFAKEACCESSKEY")),
            (
                "TESTVM_SecretKey".into(),
                Secret::new("fake-secret-key-never-printed"),
            ),
        ])),
    }
}

/// One scripted answer of the fake EC2 endpoint.
#[derive(Debug, Clone)]
pub enum Answer {
    /// An EC2 XML error with this HTTP status and code.
    Error(u16, &'static str),
    /// A success body for the action asked.
    Ok,
    /// Never answer.
    Hang,
}

/// A fake EC2 endpoint: answers each request with the next scripted answer for its Action
/// (then `Ok` once the script runs out), with the instance in `state`.
pub struct FakeEc2 {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Actions received, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
}

fn status_body(instance: &str, state: &str) -> String {
    let code = match state {
        "pending" => 0,
        "running" => 16,
        "stopping" => 64,
        _ => 80,
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstanceStatusResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r1</requestId><instanceStatusSet><item><instanceId>{instance}</instanceId><availabilityZone>us-east-1a</availabilityZone><instanceState><code>{code}</code><name>{state}</name></instanceState><systemStatus><status>not-applicable</status></systemStatus><instanceStatus><status>not-applicable</status></instanceStatus></item></instanceStatusSet></DescribeInstanceStatusResponse>"#
    )
}

fn change_body(action: &str, instance: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<{action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r2</requestId><instancesSet><item><instanceId>{instance}</instanceId><currentState><code>0</code><name>pending</name></currentState><previousState><code>80</code><name>stopped</name></previousState></item></instancesSet></{action}Response>"#
    )
}

impl FakeEc2 {
    /// How many requests for `action` arrived.
    pub fn count(&self, action: &str) -> usize {
        self.seen
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|a| *a == action)
            .count()
    }

    /// Serves `script` (action → answers in order) for `instance` in `state`.
    pub fn start(instance: &str, state: &str, script: Vec<(&'static str, Answer)>) -> FakeEc2 {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Mutex::new(script);
        let (instance, state) = (instance.to_owned(), state.to_owned());
        let seen_by_server = seen.clone();
        let url = http::serve(move |request: &Request| {
            let action = request
                .body
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .unwrap_or("")
                .to_owned();
            seen_by_server
                .lock()
                .expect("not poisoned")
                .push(action.clone());
            let answer = {
                let mut s = script.lock().expect("not poisoned");
                match s.iter().position(|(a, _)| *a == action) {
                    Some(i) => s.remove(i).1,
                    None => Answer::Ok,
                }
            };
            let (status, xml) = match answer {
                Answer::Hang => return Reply::Hang,
                Answer::Ok if action == "DescribeInstanceStatus" => {
                    (200, status_body(&instance, &state))
                }
                Answer::Ok => (200, change_body(&action, &instance)),
                Answer::Error(status, code) => (
                    status,
                    format!(
                        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code><Message>scripted {code}</Message></Error></Errors><RequestID>r3</RequestID></Response>"#
                    ),
                ),
            };
            Reply::Send {
                status,
                headers: vec![("Content-Type".into(), "text/xml;charset=UTF-8".into())],
                body: xml,
            }
        });
        FakeEc2 { url, seen }
    }
}

/// Creates an instance on the moto server at `url` and stops it; returns its id.
pub async fn moto_stopped_instance(url: &str) -> String {
    use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("x", "y", None, None, "test"))
        .endpoint_url(url)
        .build();
    let client = aws_sdk_ec2::Client::from_conf(config);
    let out = client
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("moto runs instances");
    let id = out.instances()[0]
        .instance_id()
        .expect("instances have ids")
        .to_owned();
    client
        .stop_instances()
        .instance_ids(&id)
        .send()
        .await
        .expect("moto stops instances");
    id
}
