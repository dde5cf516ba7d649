//! `--reuse`: the data of an earlier `--keep` run, read from its SQLite
//! file (read-only, while no server runs on it), so a profiling session
//! can run the workloads again without preloading.

use crate::workloads::user_name;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;

pub struct Reused {
    /// Preloaded user `i` (userName `user_name(i)`) at index `i`.
    pub users: Vec<String>,
    /// `(size, id)` of each W5 group found.
    pub groups: Vec<(usize, String)>,
}

fn e(what: &'static str) -> impl Fn(rusqlite::Error) -> String {
    move |err| format!("--reuse, {what}: {err}")
}

/// The preloaded users (in preload order) and the W5 groups of `sizes`.
pub fn read(db: &Path, sizes: &[usize]) -> Result<Reused, String> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(e("open"))?;
    let tenant: String = conn
        .query_row("SELECT id FROM tenants WHERE name = 'bench'", [], |r| r.get(0))
        .map_err(e("tenant 'bench'"))?;
    let mut by_name = conn
        .prepare("SELECT id FROM resources WHERE tenant = ?1 AND kind = 'User' AND user_name_key = ?2")
        .map_err(e("prepare"))?;
    let mut users = Vec::new();
    // The preload named its users user0000000@..., user0000001@..., in order.
    while let Some(id) = by_name
        .query_row([&tenant, &user_name(users.len()).to_lowercase()], |r| {
            r.get::<_, String>(0)
        })
        .optional()
        .map_err(e("users"))?
    {
        users.push(id);
    }
    if users.is_empty() {
        return Err(format!("--reuse: {} holds no preloaded users", db.display()));
    }
    let mut groups = Vec::new();
    for &size in sizes {
        let id: Option<String> = conn
            .query_row(
                "SELECT id FROM resources WHERE tenant = ?1 AND kind = 'Group' AND display_name_key = ?2",
                [&tenant, &format!("bench group of {size}")],
                |r| r.get(0),
            )
            .optional()
            .map_err(e("groups"))?;
        if let Some(id) = id {
            groups.push((size, id));
        }
    }
    Ok(Reused { users, groups })
}
