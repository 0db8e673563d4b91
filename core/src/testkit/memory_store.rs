//! An in-memory [`CompletionStore`] with the same promises as S3 (atomic create), and counts
//! of the requests it served, for tests and embedders.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::action::store::{CompletionStore, Created};
use crate::provider::ProviderError;

/// Objects in a map behind a mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    requests: Mutex<usize>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }

    /// The object at `key`.
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        self.objects.lock().unwrap().get(key).cloned()
    }

    /// How many requests were served.
    pub fn requests(&self) -> usize {
        *self.requests.lock().unwrap()
    }

    fn count(&self) {
        *self.requests.lock().unwrap() += 1;
    }
}

#[async_trait::async_trait]
impl CompletionStore for MemoryStore {
    fn describe(&self) -> String {
        "memory".to_owned()
    }

    async fn exists(&self, key: &str) -> Result<bool, ProviderError> {
        self.count();
        Ok(self.objects.lock().unwrap().contains_key(key))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProviderError> {
        self.count();
        Ok(self.objects.lock().unwrap().get(key).cloned())
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), ProviderError> {
        self.count();
        self.objects.lock().unwrap().insert(key.to_owned(), body);
        Ok(())
    }

    async fn create_new(&self, key: &str, body: Vec<u8>) -> Result<Created, ProviderError> {
        self.count();
        let mut objects = self.objects.lock().unwrap();
        if objects.contains_key(key) {
            return Ok(Created::AlreadyExists);
        }
        objects.insert(key.to_owned(), body);
        Ok(Created::Created)
    }
}
