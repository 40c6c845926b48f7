//! In-memory stand-ins for the three ports, for testing the guard's core without AWS:
//! each keeps what was done to it and can be told to fail, so claim, lease, resend and
//! mode capping are tested exactly. The moto tests (`tests/`) stay the end-to-end proof.

use crate::ports::{AlertSink, AwsError, Created, EvidenceStore, Live, PolicyStore};
use crossguard_engine::alert::Alert;
use crossguard_engine::{Resource, ResourceKind};
use std::collections::HashMap;
use std::sync::Mutex;

pub fn aws_error(operation: &'static str, code: &str) -> AwsError {
    AwsError {
        operation,
        code: Some(code.into()),
        message: format!("injected {code}"),
    }
}

/// Policies by resource name. `fail_reads`/`fail_writes` fail that many calls.
pub struct MemPolicies {
    pub kind: ResourceKind,
    pub live: Mutex<HashMap<String, Live>>,
    pub writes: Mutex<Vec<(String, Option<String>)>>,
    pub fail_reads: Mutex<u32>,
    pub fail_writes: Mutex<u32>,
    /// Answers for the next reads, before the stored policy (a change made meanwhile).
    pub next_reads: Mutex<std::collections::VecDeque<Live>>,
}

impl MemPolicies {
    pub fn new(kind: ResourceKind) -> Self {
        MemPolicies {
            kind,
            live: Mutex::new(HashMap::new()),
            writes: Mutex::new(Vec::new()),
            fail_reads: Mutex::new(0),
            fail_writes: Mutex::new(0),
            next_reads: Mutex::new(Default::default()),
        }
    }

    pub fn set(&self, name: &str, live: Live) {
        self.live.lock().unwrap().insert(name.into(), live);
    }

    pub fn get(&self, name: &str) -> Live {
        self.live
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or(Live::Gone)
    }

    pub fn writes(&self) -> Vec<(String, Option<String>)> {
        self.writes.lock().unwrap().clone()
    }
}

fn take(n: &Mutex<u32>) -> bool {
    let mut n = n.lock().unwrap();
    let fail = *n > 0;
    *n = n.saturating_sub(1);
    fail
}

impl PolicyStore for MemPolicies {
    fn kind(&self) -> ResourceKind {
        self.kind
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        if take(&self.fail_reads) {
            return Err(aws_error("GetPolicy", "ThrottlingException"));
        }
        if let Some(live) = self.next_reads.lock().unwrap().pop_front() {
            return Ok(live);
        }
        Ok(self.get(&r.name))
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        if take(&self.fail_writes) {
            return Err(aws_error("PutPolicy", "ThrottlingException"));
        }
        self.writes
            .lock()
            .unwrap()
            .push((r.name.clone(), Some(policy.into())));
        self.set(&r.name, Live::Policy(policy.into()));
        Ok(())
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        if take(&self.fail_writes) {
            return Err(aws_error("DeletePolicy", "ThrottlingException"));
        }
        self.writes.lock().unwrap().push((r.name.clone(), None));
        self.set(&r.name, Live::NoPolicy);
        Ok(())
    }
}

/// Alerts sent; `fail_next` fails that many publishes.
#[derive(Default)]
pub struct MemAlerts {
    pub sent: Mutex<Vec<Alert>>,
    pub fail_next: Mutex<u32>,
}

impl MemAlerts {
    pub fn sent(&self) -> Vec<Alert> {
        self.sent.lock().unwrap().clone()
    }
}

impl AlertSink for MemAlerts {
    async fn publish(&self, alert: &Alert) -> Result<String, AwsError> {
        if take(&self.fail_next) {
            return Err(aws_error("Publish", "Throttling"));
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push(alert.clone());
        Ok(format!("msg-{}", sent.len()))
    }
}

/// Evidence objects by key; `fail_creates`/`fail_replaces` fail that many calls.
/// `racer`: another invocation's object, written under the key just before the next
/// conditional create (the race the conditional write is there to lose safely).
#[derive(Default)]
pub struct MemEvidence {
    pub objects: Mutex<HashMap<String, Vec<u8>>>,
    pub fail_creates: Mutex<u32>,
    pub fail_replaces: Mutex<u32>,
    pub racer: Mutex<Option<Vec<u8>>>,
}

impl MemEvidence {
    pub fn put(&self, key: &str, body: &[u8]) {
        self.objects
            .lock()
            .unwrap()
            .insert(key.into(), body.to_vec());
    }

    pub fn json(&self, key: &str) -> Option<serde_json::Value> {
        let objects = self.objects.lock().unwrap();
        objects
            .get(key)
            .map(|b| serde_json::from_slice(b).expect("evidence is JSON"))
    }
}

impl EvidenceStore for MemEvidence {
    async fn create(&self, key: &str, body: Vec<u8>) -> Result<Created, AwsError> {
        if take(&self.fail_creates) {
            return Err(aws_error("PutObject", "SlowDown"));
        }
        let mut objects = self.objects.lock().unwrap();
        if let Some(body) = self.racer.lock().unwrap().take() {
            objects.insert(key.into(), body);
        }
        if objects.contains_key(key) {
            return Ok(Created::AlreadyExists);
        }
        objects.insert(key.into(), body);
        Ok(Created::Yes)
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, AwsError> {
        Ok(self.objects.lock().unwrap().get(key).cloned())
    }

    async fn replace(&self, key: &str, body: Vec<u8>) -> Result<(), AwsError> {
        if take(&self.fail_replaces) {
            return Err(aws_error("PutObject", "SlowDown"));
        }
        self.objects.lock().unwrap().insert(key.into(), body);
        Ok(())
    }
}
