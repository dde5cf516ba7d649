//! The one writer: a thread that owns the only read-write connection and
//! commits requests in groups.
//!
//! Group commit: the thread waits for a request, then takes whatever else
//! is already queued (up to `max_batch`), runs them all in ONE transaction,
//! each inside its own SAVEPOINT, and COMMITs once. A request that fails is
//! rolled back to its savepoint and answered with its error; the others
//! still commit. Replies go out only after the COMMIT returned, so an
//! acknowledged write is durable (at `synchronous = FULL` it survives a
//! power cut). Under concurrent load, requests queue while the previous
//! commit syncs, so the cost of one sync is shared by the whole next batch:
//! write throughput is not capped at one fsync per write. Under no load a
//! batch is one request and nothing waits for company.

use crate::error::{Error, Result};
use crate::mutate;
use rusqlite::Connection;
use scim_store::{Ctx, Kind, NewResource, Precondition, StoreError, Stored, Tenant, TokenRecord, Update};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

/// One write request.
pub(crate) enum Op {
    Create {
        ctx: Ctx,
        kind: Kind,
        doc: NewResource,
    },
    /// Many creates as one atomic request: all or none (bulk loads).
    CreateMany {
        ctx: Ctx,
        kind: Kind,
        docs: Vec<NewResource>,
    },
    Update {
        ctx: Ctx,
        kind: Kind,
        id: String,
        expect: Precondition,
        update: Update,
    },
    Delete {
        ctx: Ctx,
        kind: Kind,
        id: String,
        expect: Precondition,
    },
    CreateTenant {
        name: String,
    },
    DeleteTenant {
        id: String,
    },
    CreateToken {
        token: TokenRecord,
    },
    RevokeToken {
        id: String,
    },
    TouchToken {
        id: String,
        at: chrono::DateTime<chrono::Utc>,
    },
}

/// What a write request produced.
pub(crate) enum Done {
    Stored(Stored),
    Many(Vec<Stored>),
    Tenant(Tenant),
    Unit,
}

struct Request {
    op: Op,
    reply: oneshot::Sender<Result<Done, StoreError>>,
}

/// Counters of the writer, for tests and monitoring.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) commits: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) largest_batch: AtomicU64,
    pub(crate) failed_commits: AtomicU64,
}

/// The handle the store holds. Dropping it closes the queue; the thread
/// finishes what is queued, closes the connection and is joined.
pub(crate) struct Writer {
    queue: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    pub(crate) counters: Arc<Counters>,
}

impl Writer {
    pub(crate) fn start(conn: Connection, max_batch: usize) -> Result<Writer> {
        let max_batch = max_batch.max(1);
        // Room for a few batches: beyond that, callers wait (backpressure)
        // instead of queueing without bound.
        let (tx, rx) = mpsc::channel(max_batch.saturating_mul(4));
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        let thread = std::thread::Builder::new()
            .name("scim-sqlite-writer".into())
            .spawn(move || run(conn, rx, max_batch, &thread_counters))
            .map_err(|e| Error::Join(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            queue: Some(tx),
            thread: Some(thread),
            counters,
        })
    }

    /// Queues a request and waits for its reply (sent after its commit).
    pub(crate) async fn submit(&self, op: Op) -> Result<Done, StoreError> {
        let queue = self.queue.as_ref().ok_or(Error::WriterGone)?;
        let (reply, answer) = oneshot::channel();
        queue.send(Request { op, reply }).await.map_err(|_| Error::WriterGone)?;
        answer.await.map_err(|_| Error::WriterGone)?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue = None;
        if let Some(thread) = self.thread.take() {
            // Waits for the queued requests to commit and the file to be
            // closed, so that reopening the same path sees everything.
            let _ = thread.join();
        }
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Request>, max_batch: usize, counters: &Counters) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch, counters);
    }
    // Closing: refresh the planner's statistics (cheap when not needed).
    let _ = conn.execute_batch("PRAGMA optimize");
}

fn run_batch(conn: &Connection, batch: Vec<Request>, counters: &Counters) {
    let n = batch.len() as u64;
    counters.requests.fetch_add(n, Ordering::Relaxed);
    counters.largest_batch.fetch_max(n, Ordering::Relaxed);
    if let Err(e) = conn.prepare_cached("BEGIN IMMEDIATE").and_then(|mut s| s.execute([])) {
        let e = StoreError::from(Error::from(e));
        for r in batch {
            let _ = r.reply.send(Err(e.clone()));
        }
        return;
    }
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut broken = None;
    for Request { op, reply } in batch {
        if broken.is_some() {
            outcomes.push((reply, Err(Error::BatchAborted)));
            continue;
        }
        match in_savepoint(conn, op) {
            Ok(outcome) => outcomes.push((reply, outcome)),
            Err(e) => {
                // The transaction itself is gone: nothing in it can commit.
                broken = Some(StoreError::from(e));
                outcomes.push((reply, Err(Error::BatchAborted)));
            }
        }
    }
    let committed = match broken {
        Some(e) => Err(e),
        None => conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
            .map_err(|e| StoreError::from(Error::from(e))),
    };
    match committed {
        Ok(()) => {
            counters.commits.fetch_add(1, Ordering::Relaxed);
            for (reply, outcome) in outcomes {
                let _ = reply.send(outcome.map_err(StoreError::from));
            }
        }
        Err(e) => {
            counters.failed_commits.fetch_add(1, Ordering::Relaxed);
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            // Nothing of this batch is stored: every request fails, the ones
            // that had failed on their own keep their own error.
            for (reply, outcome) in outcomes {
                let answer = match outcome {
                    Ok(_) | Err(Error::BatchAborted) => Err(e.clone()),
                    Err(own) => Err(StoreError::from(own)),
                };
                let _ = reply.send(answer);
            }
        }
    }
}

/// Runs one request inside a savepoint. The outer `Result` is the
/// transaction's health (an error means it is no longer usable); the inner
/// one is the request's own outcome.
fn in_savepoint(conn: &Connection, op: Op) -> Result<Result<Done>> {
    // Prepared once: these run for every request.
    conn.prepare_cached("SAVEPOINT request")?.execute([])?;
    match apply(conn, op) {
        Ok(done) => {
            conn.prepare_cached("RELEASE request")?.execute([])?;
            Ok(Ok(done))
        }
        Err(e) if mutate::is_fatal(conn, &e) => Err(e),
        Err(e) => {
            conn.prepare_cached("ROLLBACK TO request")?.execute([])?;
            conn.prepare_cached("RELEASE request")?.execute([])?;
            Ok(Err(e))
        }
    }
}

fn apply(conn: &Connection, op: Op) -> Result<Done> {
    Ok(match op {
        Op::Create { ctx, kind, doc } => Done::Stored(mutate::create(conn, &ctx, kind, doc)?),
        Op::CreateMany { ctx, kind, docs } => {
            let mut out = Vec::with_capacity(docs.len());
            for doc in docs {
                out.push(mutate::create(conn, &ctx, kind, doc)?);
            }
            Done::Many(out)
        }
        Op::Update {
            ctx,
            kind,
            id,
            expect,
            update,
        } => Done::Stored(mutate::update(conn, &ctx, kind, &id, expect, update)?),
        Op::Delete { ctx, kind, id, expect } => {
            mutate::delete(conn, &ctx, kind, &id, expect)?;
            Done::Unit
        }
        Op::CreateTenant { name } => Done::Tenant(mutate::create_tenant(conn, &name)?),
        Op::DeleteTenant { id } => {
            mutate::delete_tenant(conn, &id)?;
            Done::Unit
        }
        Op::CreateToken { token } => {
            mutate::create_token(conn, &token)?;
            Done::Unit
        }
        Op::RevokeToken { id } => {
            mutate::revoke_token(conn, &id)?;
            Done::Unit
        }
        Op::TouchToken { id, at } => {
            mutate::touch_token(conn, &id, at)?;
            Done::Unit
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SqliteConfig;
    use crate::db::{self, Location};
    use scim_core::schema::Registry;
    use serde_json::json;

    fn create(tenant: &str, user_name: &str) -> (Request, oneshot::Receiver<Result<Done, StoreError>>) {
        let (reply, answer) = oneshot::channel();
        let ctx = Ctx::new(tenant, None, format!("create {user_name}"));
        let doc = NewResource {
            doc: json!({"userName": user_name}),
            members: Vec::new(),
        };
        (
            Request {
                op: Op::Create {
                    ctx,
                    kind: Kind::User,
                    doc,
                },
                reply,
            },
            answer,
        )
    }

    #[test]
    fn one_batch_one_commit_and_a_failure_stays_in_its_savepoint() {
        let dir = std::env::temp_dir().join(format!("scim-sqlite-writer-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = SqliteConfig::new(dir.join("w.db"));
        let conn = db::open_writer(&Location::new(&config), &config, &Arc::new(Registry::builtin())).unwrap();
        let tenant = mutate::create_tenant(&conn, "t").unwrap().id;
        let counters = Counters::default();
        let (a, ra) = create(&tenant, "a");
        let (dup, rdup) = create(&tenant, "A");
        let (b, rb) = create(&tenant, "b");
        run_batch(&conn, vec![a, dup, b], &counters);
        let outcome = |mut r: oneshot::Receiver<Result<Done, StoreError>>| r.try_recv().unwrap();
        assert!(matches!(outcome(ra), Ok(Done::Stored(_))));
        assert_eq!(
            outcome(rdup).err(),
            Some(StoreError::Conflict {
                attribute: "userName".into()
            })
        );
        assert!(matches!(outcome(rb), Ok(Done::Stored(_))));
        assert_eq!(
            counters.commits.load(Ordering::Relaxed),
            1,
            "three requests, one transaction"
        );
        assert_eq!(counters.requests.load(Ordering::Relaxed), 3);
        let users: i64 = conn
            .query_row("SELECT COUNT(*) FROM resources", [], |r| r.get(0))
            .unwrap();
        let events: i64 = conn.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)).unwrap();
        assert_eq!((users, events), (2, 2), "the failed request left rows behind");
        drop(conn);
        let _ = std::fs::remove_dir_all(dir);
    }
}
