//! The read side: a fixed set of read-only connections, each used by one
//! blocking task at a time. In WAL mode readers never wait for the writer.

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
    /// How long a read retries while the database is locked. Only shared-
    /// cache in-memory databases lock readers out (WAL files never do).
    lock_wait: Duration,
}

impl Readers {
    pub(crate) fn new(conns: Vec<Connection>, lock_wait: Duration) -> Readers {
        let permits = Arc::new(Semaphore::new(conns.len()));
        Readers {
            idle: Mutex::new(conns),
            permits,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic elsewhere cannot leave the list of idle connections
        // half-changed (push and pop are atomic on it), so poisoning is moot.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
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
