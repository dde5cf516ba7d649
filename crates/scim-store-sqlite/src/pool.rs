//! The read side: read-only connections, each used by one task at a time.
//! In WAL mode readers never wait for the writer.
//!
//! Two ways to run a read:
//! - `with` moves it to tokio's blocking pool, on one of the `readers`
//!   connections, for reads that may step over rows they do not return
//!   (filters, sorts, counts, a group's whole member list);
//! - `inline` runs it on the calling thread, for point reads (one key, a
//!   bounded handful of rows) and reads of exactly what they return (a
//!   page of the index, a page's groups), which cost no more than
//!   rendering their answer on that thread: handing them to another thread
//!   and waking the caller again costs a large share of the read, and on a
//!   busy core it is two context switches per read. These reads have
//!   connections of their own (one per thread that can run them at once),
//!   so they never wait behind a scan: when none is idle they go to the
//!   blocking pool like any other read.

use crate::error::{Error, Result};
use rusqlite::Connection;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub(crate) struct Readers {
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection: a task holding a permit always finds an
    /// idle connection.
    permits: Arc<Semaphore>,
    /// Idle connections for `inline`, taken and put back without waiting.
    point: Mutex<Vec<Connection>>,
    /// How long a read retries while the database is locked. Only shared-
    /// cache in-memory databases lock readers out (WAL files never do).
    lock_wait: Duration,
}

impl Readers {
    /// `conns` serve `with`; `point` serve `inline` (none where readers can
    /// be locked out, as in in-memory databases: a read would then wait on
    /// an async thread).
    pub(crate) fn new(conns: Vec<Connection>, point: Vec<Connection>, lock_wait: Duration) -> Readers {
        let permits = Arc::new(Semaphore::new(conns.len()));
        Readers {
            idle: Mutex::new(conns),
            permits,
            point: Mutex::new(point),
            lock_wait,
        }
    }

    /// Runs `f` on a reader connection, off the async threads.
    pub(crate) async fn with<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T> + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Join(e.to_string()))?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = this
                .lock()
                .pop()
                .ok_or_else(|| Error::Join("no idle reader connection".into()))?;
            let lease = Lease {
                pool: &this,
                conn: Some(conn),
            };
            match &lease.conn {
                Some(conn) => this.retry_locked(conn, &f),
                None => Err(Error::Join("no idle reader connection".into())),
            }
        })
        .await
        .map_err(|e| Error::Join(e.to_string()))?
    }

    /// Runs `f` on an idle point-read connection on the calling thread;
    /// when none is idle, on the blocking pool like `with`.
    pub(crate) async fn inline<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T> + Send + 'static,
    {
        let taken = lock(&self.point).pop();
        let Some(conn) = taken else {
            return self.with(f).await;
        };
        let out = self.retry_locked(&conn, &f);
        // Back even when `f` failed; a panic in `f` loses this connection
        // (point reads fall back to the blocking pool), never the process.
        lock(&self.point).push(conn);
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        lock(&self.idle)
    }

    fn give_back(&self, conn: Connection) {
        self.lock().push(conn);
    }

    fn retry_locked<T>(&self, conn: &Connection, f: &impl Fn(&Connection) -> Result<T>) -> Result<T> {
        let started = Instant::now();
        loop {
            match f(conn) {
                Err(Error::Sqlite(e))
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseLocked)
                        && started.elapsed() < self.lock_wait =>
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => return other,
            }
        }
    }
}

/// A connection taken from the pool; it goes back when the lease ends, even
/// if the read panicked, so the pool never shrinks.
struct Lease<'a> {
    pool: &'a Readers,
    conn: Option<Connection>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.give_back(conn);
        }
    }
}

fn lock(list: &Mutex<Vec<Connection>>) -> std::sync::MutexGuard<'_, Vec<Connection>> {
    // A panic elsewhere cannot leave a list of idle connections half-changed
    // (push and pop are atomic on it), so poisoning is moot.
    list.lock().unwrap_or_else(PoisonError::into_inner)
}
