//! WAL checkpoints off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that crosses the
//! threshold: that commit copies about a thousand pages into the database
//! file and syncs it while every request of its batch waits. Here the
//! writer's automatic checkpoint is off and this thread, on its own
//! connection, runs PASSIVE checkpoints (which never block the writer or
//! readers) shortly after commits. The WAL is still synced on every commit,
//! so durability does not change; the checkpoint's own syncs simply happen
//! beside the writer instead of in its way.

use crate::error::{Error, Result};
use crate::writer::Counters;
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the thread looks for new commits to checkpoint.
const INTERVAL: Duration = Duration::from_millis(50);

pub(crate) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn start(conn: Connection, counters: Arc<Counters>) -> Result<Checkpointer> {
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("scim-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &stopped, &counters))
            .map_err(|e| Error::Join(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>, counters: &Counters) {
    let mut seen = 0;
    loop {
        match stopped.recv_timeout(INTERVAL) {
            Err(RecvTimeoutError::Timeout) => {}
            // Dropped: the store is closing (the last connection to close
            // checkpoints and removes the WAL by itself).
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let commits = counters.commits.load(Ordering::Relaxed);
        if commits != seen {
            seen = commits;
            // Busy (another checkpoint, a reader on old frames) only means
            // less was copied this time; the next round continues.
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
    }
}
