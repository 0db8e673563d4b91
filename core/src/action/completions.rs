//! Completion markers and fan-in, on the DefaultDataStore.
//!
//! Markers are FaaSr's: after success an action writes
//! `{FaaSrLog}/{WorkflowName}/{InvocationTimestamp}/{InvocationID}/function_completions/<Action>.done`
//! (`<Action>.<rank>.done` for a ranked copy), so ephflow's builtins and FaaSr's user actions
//! see each other's.
//!
//! Fan-in: an action with several predecessors is dispatched once per predecessor (per
//! predecessor copy, for a ranked one); each invocation checks every marker and leaves quietly
//! while one is missing (the last predecessor's invocation will find them all). When they are
//! all there, several invocations may see it at once, so they hold an election: each tries to
//! create `.../ephflow_claims/<Action>.claim` with a conditional create (S3 `If-None-Match: *`,
//! atomic on S3 since 2024 and on compatible stores), and only the one whose create succeeds
//! proceeds. This replaces FaaSr's lock (flag files read back after a random wait), which
//! needs several round trips and is only probabilistically exclusive. The claim holds the
//! claimant's token (the GitHub run id when there is one), so a re-run of the winning job
//! recognises its own claim and proceeds, while the losers never do.

use std::time::Duration;

use ephflow_schema::model::Workflow;

use super::ActionError;
use super::invocation::Invocation;
use super::store::{CompletionStore, Created};
use crate::graph::Graph;
use crate::provider::ProviderError;

/// FaaSr's default log folder when `FaaSrLog` is empty.
pub const DEFAULT_LOG_FOLDER: &str = "FaaSrLog";

/// The keys of one invocation's markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    base: String,
}

impl Completions {
    /// The markers of `invocation` of `workflow`.
    pub fn new(workflow: &Workflow, invocation: &Invocation) -> Self {
        let log = workflow
            .faasr_log
            .clone()
            .flatten()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_LOG_FOLDER.to_owned());
        Completions {
            base: format!(
                "{}/{}/{}/{}",
                log.trim_end_matches('/'),
                workflow.workflow_name,
                invocation.timestamp,
                invocation.id
            ),
        }
    }

    /// The marker `action` (copy `rank`) writes on success.
    pub fn done_key(&self, action: &str, rank: Option<u32>) -> String {
        match rank {
            Some(r) => format!("{}/function_completions/{action}.{r}.done", self.base),
            None => format!("{}/function_completions/{action}.done", self.base),
        }
    }

    /// The fan-in election object of `action`.
    pub fn claim_key(&self, action: &str) -> String {
        format!("{}/ephflow_claims/{action}.claim", self.base)
    }
}

/// Every marker `action` waits for: one per predecessor, one per copy of a ranked one.
pub fn expected_markers(
    workflow: &Workflow,
    completions: &Completions,
    action: &str,
) -> Vec<String> {
    let graph = Graph::build(workflow);
    let Some(id) = graph.id(action) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for pred in graph.predecessors(id) {
        let name = graph.name(pred);
        // A ranked action has exactly one incoming edge, which carries the rank.
        let copies = graph
            .in_edges(pred)
            .iter()
            .find(|e| e.is_ranked())
            .and_then(|e| e.rank);
        match copies {
            Some(n) => keys.extend((1..=n).map(|r| completions.done_key(name, Some(r)))),
            None => keys.push(completions.done_key(name, None)),
        }
    }
    keys
}

/// The outcome of the fan-in check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FanIn {
    /// This invocation runs the action.
    Proceed,
    /// A predecessor has not finished: another invocation will run the action.
    Waiting {
        /// The first missing marker.
        missing: String,
    },
    /// Another invocation won the election.
    Lost,
}

/// Runs the fan-in check of `action` for the invocation holding `token`. With at most one
/// expected marker there is only ever one invocation, so nothing is read.
pub async fn fan_in(
    store: &dyn CompletionStore,
    expected: &[String],
    claim_key: &str,
    token: &str,
) -> Result<FanIn, ActionError> {
    if expected.len() <= 1 {
        return Ok(FanIn::Proceed);
    }
    for key in expected {
        if !retrying(|| store.exists(key))
            .await
            .map_err(|e| store_error(store, e))?
        {
            return Ok(FanIn::Waiting {
                missing: key.clone(),
            });
        }
    }
    let created = retrying(|| store.create_new(claim_key, token.as_bytes().to_vec()))
        .await
        .map_err(|e| store_error(store, e))?;
    if created == Created::Created {
        return Ok(FanIn::Proceed);
    }
    // Ours from an earlier attempt (a retried request, or a re-run of this job)?
    let holder = retrying(|| store.get(claim_key))
        .await
        .map_err(|e| store_error(store, e))?;
    Ok(if holder.as_deref() == Some(token.as_bytes()) {
        FanIn::Proceed
    } else {
        FanIn::Lost
    })
}

/// Writes `key`, the marker of a finished action.
pub async fn mark_done(store: &dyn CompletionStore, key: &str) -> Result<(), ActionError> {
    retrying(|| store.put(key, b"TRUE".to_vec()))
        .await
        .map_err(|e| store_error(store, e))
}

fn store_error(store: &dyn CompletionStore, source: ProviderError) -> ActionError {
    ActionError::Cloud {
        what: store.describe(),
        source,
    }
}

/// Store requests are idempotent (a repeated conditional create is resolved by the claim's
/// token), so transient failures get up to four more tries, 1-2-4-8 s apart (or as told).
async fn retrying<T, F, Fut>(op: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    const PAUSES: [Duration; 4] = [
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(4),
        Duration::from_secs(8),
    ];
    crate::retry::transient(&PAUSES, op, |e, wait| {
        tracing::warn!("store request failed ({e}); retrying in {wait:?}")
    })
    .await
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    use super::*;
    use crate::test_support::workflow;
    use crate::testkit::memory_store::MemoryStore;
    use serde_json::json;

    fn invocation() -> Invocation {
        Invocation {
            id: "id-1".into(),
            timestamp: "2026-12-04T19-05-09".into(),
            created: false,
        }
    }

    #[test]
    fn keys_follow_faasr() {
        let mut w = workflow(json!({"a": ["b(3)", "c"], "b": ["d"], "c": ["d"], "d": []}));
        let c = Completions::new(&w, &invocation());
        assert_eq!(
            c.done_key("b", Some(2)),
            "FaaSrLog/w/2026-12-04T19-05-09/id-1/function_completions/b.2.done"
        );
        assert_eq!(
            expected_markers(&w, &c, "d"),
            vec![
                "FaaSrLog/w/2026-12-04T19-05-09/id-1/function_completions/b.1.done",
                "FaaSrLog/w/2026-12-04T19-05-09/id-1/function_completions/b.2.done",
                "FaaSrLog/w/2026-12-04T19-05-09/id-1/function_completions/b.3.done",
                "FaaSrLog/w/2026-12-04T19-05-09/id-1/function_completions/c.done",
            ]
        );
        assert!(expected_markers(&w, &c, "a").is_empty());
        w.faasr_log = Some(Some("logs/".into()));
        assert_eq!(
            Completions::new(&w, &invocation()).claim_key("d"),
            "logs/w/2026-12-04T19-05-09/id-1/ephflow_claims/d.claim"
        );
    }

    #[tokio::test]
    async fn fan_in_waits_then_elects_one() {
        let store = MemoryStore::new();
        let expected = vec!["x/a.done".to_owned(), "x/b.done".to_owned()];
        store.put("x/a.done", b"TRUE".to_vec()).await.unwrap();
        assert_eq!(
            fan_in(&store, &expected, "x/claim", "t1").await.unwrap(),
            FanIn::Waiting {
                missing: "x/b.done".into()
            }
        );
        store.put("x/b.done", b"TRUE".to_vec()).await.unwrap();
        assert_eq!(
            fan_in(&store, &expected, "x/claim", "t1").await.unwrap(),
            FanIn::Proceed
        );
        assert_eq!(
            fan_in(&store, &expected, "x/claim", "t2").await.unwrap(),
            FanIn::Lost
        );
        assert_eq!(
            fan_in(&store, &expected, "x/claim", "t1").await.unwrap(),
            FanIn::Proceed,
            "the winner's re-run proceeds"
        );
        let before = store.requests();
        assert_eq!(
            fan_in(&store, &expected[..1], "x/c", "t").await.unwrap(),
            FanIn::Proceed
        );
        assert_eq!(
            store.requests(),
            before,
            "a single predecessor reads nothing"
        );
    }
}
