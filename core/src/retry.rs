//! Bounded retries of one request that is safe to repeat, outside the lifecycle engine (which
//! keeps its own, under the phase deadlines): store requests, workflow reads, credential
//! exchanges.

use std::future::Future;
use std::time::Duration;

use crate::provider::ProviderError;

/// The longest pause, whatever a failure asks for.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Runs `op`; after a transient failure ([`crate::provider::ErrorClass::is_retryable`]) waits
/// the next of `pauses` — or the wait the failure asks for, at most 30 s — and runs it again,
/// so at most `pauses.len() + 1` times. `on_retry` hears each failure that is retried, with
/// the wait (to log it).
pub async fn transient<T, F, Fut>(
    pauses: &[Duration],
    mut op: F,
    mut on_retry: impl FnMut(&ProviderError, Duration),
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut pauses = pauses.iter();
    loop {
        match op().await {
            Err(e) if e.class.is_retryable() => {
                let Some(pause) = pauses.next() else {
                    return Err(e);
                };
                let wait = e.retry_after.unwrap_or(*pause).min(MAX_PAUSE);
                on_retry(&e, wait);
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}
