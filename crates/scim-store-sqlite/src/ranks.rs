//! Rank checkpoints: index paging (`startIndex`) without a filter, in id
//! order, at any depth for the cost of a shallow page.
//!
//! SQLite's B-trees keep no subtree counts, so `OFFSET k` steps over `k`
//! index entries: a page deep into 1,000,000 users reads a million entries.
//! Here the store remembers, per tenant and kind, every `STEP`-th id in id
//! order. A page at offset `k` then starts at checkpoint `k / STEP` with an
//! `id >= ?` seek and skips fewer than `STEP` entries.
//!
//! Exactness: the checkpoints are tagged with `resource_counts.gen`, which
//! triggers bump in the same transaction as every insert or delete of that
//! tenant's resources of that kind (migration 2). A query reads `gen` in its
//! own snapshot and uses the checkpoints only when the tags are equal, so
//! they describe exactly the rows it sees; otherwise it rebuilds them from
//! that snapshot (one scan of the primary-key index) or, when rebuilding
//! would cost more than it saves, falls back to a plain OFFSET.

use crate::error::Result;
use rusqlite::{Connection, params};
use scim_store::Kind;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Ids between two checkpoints: the most entries a page skips by OFFSET.
/// A skipped entry is a whole row of the clustered table (a user is about
/// 400 bytes, ten to a 4 KiB page): at 256, the skip read 13 leaf pages
/// on average, more than a page of 100 users itself, and took 13% of W6's
/// CPU (docs/performance.md). At 16 it reads about one.
pub(crate) const STEP: u64 = 16;
/// Tenant-and-kind pairs remembered at once (each costs about 44 bytes per
/// `STEP` resources: 2.8 MB for a million users).
const MAX_ENTRIES: usize = 64;
/// While resources keep being created or deleted, checkpoints go stale as
/// fast as they are built: rebuild only when the last build is at least
/// this many times its own duration ago, so rebuilding takes a bounded
/// share of the time (the rest falls back to OFFSET, as without this).
const REBUILD_SPACING: u32 = 8;

/// The length of the ids this server gives (hyphenated UUIDs), to size
/// the buffer of checkpoints (any other length works too).
const ID_BYTES: usize = 36;

/// Every `STEP`-th id in id order, in one buffer: two allocations however
/// many checkpoints there are (one `String` each cost 72 bytes).
struct Ids {
    text: String,
    /// Where each id ends in `text`; it starts where the one before ends.
    ends: Vec<usize>,
}

impl Ids {
    /// Where the page at `offset` starts: at the id of rank
    /// `offset / STEP * STEP`, skipping the rest.
    fn start(&self, offset: u64) -> Option<Start> {
        let i = usize::try_from(offset / STEP).ok()?;
        let end = *self.ends.get(i)?;
        let begin = match i.checked_sub(1) {
            Some(before) => *self.ends.get(before)?,
            None => 0,
        };
        Some(Start {
            from_id: self.text.get(begin..end)?.to_string(),
            skip: offset % STEP,
        })
    }
}

/// The checkpoints of one tenant and kind, for one generation.
struct Checkpoints {
    generation: i64,
    ids: Arc<Ids>,
    built: Instant,
    took: Duration,
}

/// The checkpoints of every tenant and kind paged so far.
#[derive(Default)]
pub(crate) struct Ranks {
    map: Mutex<HashMap<(String, Kind), Checkpoints>>,
    /// Held while checkpoints are built (see `start`).
    building: Mutex<()>,
}

/// Where a page at some offset starts: the first id at or after which it
/// lies, and how many entries to skip from there.
pub(crate) struct Start {
    pub(crate) from_id: String,
    pub(crate) skip: u64,
}

impl Ranks {
    /// The start of the page at `offset` (0-based) in the snapshot `conn`
    /// reads, whose `resource_counts` row says `n` resources of generation
    /// `generation`. `None`: use a plain OFFSET. Without `may_build`, only
    /// current checkpoints are used, never rebuilt (a scan of the index).
    pub(crate) fn start(
        &self,
        conn: &Connection,
        tenant: &str,
        kind: Kind,
        (n, generation): (u64, i64),
        offset: u64,
        may_build: bool,
    ) -> Result<Option<Start>> {
        if offset < STEP || offset >= n {
            return Ok(None);
        }
        let key = (tenant.to_string(), kind);
        let current = |map: &HashMap<(String, Kind), Checkpoints>| match map.get(&key) {
            Some(c) if c.generation == generation => Some(c.ids.clone()),
            _ => None,
        };
        if let Some(ids) = current(&self.lock()) {
            return Ok(ids.start(offset));
        }
        if !may_build {
            return Ok(None);
        }
        // One build at a time. The reads that find no checkpoints while
        // another read builds them wait for it and take its result: a
        // burst of deep pages each building its own copy held that many
        // copies at once.
        let _building = self.building.lock().unwrap_or_else(PoisonError::into_inner);
        {
            let map = self.lock();
            if let Some(ids) = current(&map) {
                return Ok(ids.start(offset));
            }
            if map
                .get(&key)
                .is_some_and(|c| c.built.elapsed() < c.took * REBUILD_SPACING)
            {
                return Ok(None);
            }
        }
        let Some((ids, took)) = build(conn, tenant, kind, n)? else {
            return Ok(None);
        };
        let ids = Arc::new(ids);
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
            // Forget the oldest: it is rebuilt if paged again.
            if let Some(oldest) = map.iter().min_by_key(|(_, c)| c.built).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(
            key,
            Checkpoints {
                generation,
                ids: ids.clone(),
                built: Instant::now(),
                took,
            },
        );
        Ok(ids.start(offset))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Kind), Checkpoints>> {
        // Entries are replaced whole under the lock: a panic cannot leave
        // one half-written.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every `STEP`-th id of the snapshot, from the primary-key index alone.
/// `None` when the scan disagrees with `n` (the counts table was tampered
/// with): then the checkpoints could not be trusted.
fn build(conn: &Connection, tenant: &str, kind: Kind, n: u64) -> Result<Option<(Ids, Duration)>> {
    let started = Instant::now();
    let mut stmt = conn.prepare_cached("SELECT id FROM resources WHERE tenant = ?1 AND kind = ?2 ORDER BY id")?;
    let mut rows = stmt.query(params![tenant, kind.as_str()])?;
    let count = usize::try_from(n / STEP + 1).unwrap_or(0);
    let mut ids = Ids {
        text: String::with_capacity(count.saturating_mul(ID_BYTES)),
        ends: Vec::with_capacity(count),
    };
    let mut seen = 0u64;
    while let Some(row) = rows.next()? {
        if seen.is_multiple_of(STEP) {
            ids.text
                .push_str(row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?);
            ids.ends.push(ids.text.len());
        }
        seen += 1;
    }
    Ok((seen == n).then(|| (ids, started.elapsed())))
}
