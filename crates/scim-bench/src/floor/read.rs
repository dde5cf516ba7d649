//! The read floors (W2, W3, W6): stored text by key, bare or rendered.

use super::{GROUPS_IN_MEMORY, RENDERED, SCIM_JSON, e, members};
use actix_web::{HttpRequest, HttpResponse, web};
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The real server's page cache per point-read connection on one core.
const CACHE_KIB: i64 = 16 * 1024;

pub(super) struct Floor {
    conn: Mutex<Connection>,
    pub(super) tenant: String,
    /// Every user id in id order: startIndex N is `ids[N - 1]`.
    ids: Vec<String>,
    /// Every user's direct groups as (group id, displayName as JSON), read
    /// at start: the `GROUPS_IN_MEMORY` variant, as if each user's row
    /// carried its groups.
    groups: HashMap<String, Vec<(String, String)>>,
}

/// How the users of a request are answered.
enum View {
    /// The stored text as it is.
    Bare,
    /// With `id`, `groups` and `meta` (base URL), the groups read by one
    /// statement per request.
    Rendered(String),
    /// As `Rendered`, the groups taken from memory.
    GroupsInMemory(String),
}

impl Floor {
    pub(super) fn open(db: &Path) -> Result<Floor, String> {
        let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(e("open"))?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(e("cache_size"))?;
        let tenant: String = conn
            .query_row("SELECT id FROM tenants WHERE name = 'bench'", [], |r| r.get(0))
            .map_err(e("tenant 'bench'"))?;
        let ids = conn
            .prepare("SELECT id FROM resources WHERE tenant = ?1 AND kind = 'User' ORDER BY id")
            .map_err(e("prepare"))?
            .query_map([&tenant], |r| r.get::<_, String>(0))
            .map_err(e("ids"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e("ids"))?;
        let mut groups: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut stmt = conn
            .prepare(
                "SELECT m.member_id, m.group_id, json_extract(r.doc, '$.displayName')
                 FROM memberships m CROSS JOIN resources r ON r.tenant = m.tenant AND r.kind = 'Group' AND r.id = m.group_id
                 WHERE m.tenant = ?1",
            )
            .map_err(e("prepare"))?;
        let mut found = stmt.query([&tenant]).map_err(e("memberships"))?;
        while let Some(row) = found.next().map_err(e("memberships"))? {
            let (member, group, display): (String, String, Option<String>) = (
                row.get(0).map_err(e("memberships"))?,
                row.get(1).map_err(e("memberships"))?,
                row.get(2).map_err(e("memberships"))?,
            );
            let display = serde_json::Value::from(display).to_string();
            groups.entry(member).or_default().push((group, display));
        }
        drop(found);
        drop(stmt);
        Ok(Floor {
            conn: Mutex::new(conn),
            tenant,
            ids,
            groups,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The users `by` selects for `key`, answered as `view` says.
    fn users(&self, by: By, key: &str, view: &View) -> rusqlite::Result<Vec<String>> {
        let conn = self.conn();
        let rows: Vec<Row> = conn
            .prepare_cached(by.sql())?
            .query_map([&self.tenant, key], |r| {
                Ok(Row {
                    id: r.get(0)?,
                    version: r.get(1)?,
                    created: r.get(2)?,
                    modified: r.get(3)?,
                    doc: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let (base, mut groups) = match view {
            View::Bare => return Ok(rows.into_iter().map(|r| r.doc).collect()),
            View::Rendered(base) => (base, self.direct_groups(&conn, &rows, base)?),
            View::GroupsInMemory(base) => (base, self.groups_in_memory(&rows, base)),
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let mine = groups.remove(&r.id);
                r.render(mine.as_deref(), base)
            })
            .collect())
    }

    /// The direct groups of each row's user, as rendered `groups` values,
    /// read the way the real server reads them (`groups_of_each` in
    /// scim-store-sqlite): for one user, one statement joining its
    /// memberships to their groups; for a page in id order, one range scan
    /// of the memberships between its first and last id, then each distinct
    /// group once. Less than the real server does, which only makes the
    /// floor cheaper: no snapshot, no limit on the scan with its fallback to
    /// probes, no filtering to the page's users (the range holds only
    /// them), no look for nested groups (the bench data has none).
    fn direct_groups(&self, conn: &Connection, rows: &[Row], base: &str) -> rusqlite::Result<HashMap<String, String>> {
        let mut groups: HashMap<String, String> = HashMap::new();
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(groups);
        };
        if rows.len() == 1 {
            let mut stmt = conn.prepare_cached(
                "SELECT m.group_id, json_extract(r.doc, '$.displayName')
                 FROM memberships m
                 CROSS JOIN resources r ON r.tenant = ?1 AND r.kind = 'Group' AND r.id = m.group_id
                 WHERE m.tenant = ?1 AND m.member_id = ?2",
            )?;
            let mut found = stmt.query([&self.tenant, &first.id])?;
            while let Some(r) = found.next()? {
                let group: String = r.get(0)?;
                let display = serde_json::Value::from(r.get::<_, Option<String>>(1)?).to_string();
                push_group(groups.entry(first.id.clone()).or_default(), &group, &display, base);
            }
            return Ok(groups);
        }
        let pairs: Vec<(String, String)> = conn
            .prepare_cached(
                "SELECT member_id, group_id FROM memberships INDEXED BY memberships_member
                 WHERE tenant = ?1 AND member_id >= ?2 AND member_id <= ?3",
            )?
            .query_map([&self.tenant, &first.id, &last.id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut distinct: Vec<&str> = pairs.iter().map(|(_, g)| g.as_str()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let list = serde_json::Value::from(distinct).to_string();
        let displays: HashMap<String, String> = conn
            .prepare_cached(
                "SELECT r.id, json_extract(r.doc, '$.displayName') FROM json_each(?2) AS w
                 CROSS JOIN resources r ON r.tenant = ?1 AND r.kind = 'Group' AND r.id = w.value",
            )?
            .query_map([&self.tenant, &list], |r| {
                Ok((
                    r.get(0)?,
                    serde_json::Value::from(r.get::<_, Option<String>>(1)?).to_string(),
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (member, group) in &pairs {
            if let Some(display) = displays.get(group) {
                push_group(groups.entry(member.clone()).or_default(), group, display, base);
            }
        }
        Ok(groups)
    }

    /// `direct_groups` from the map read at start.
    fn groups_in_memory(&self, rows: &[Row], base: &str) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for row in rows {
            if let Some(list) = self.groups.get(&row.id) {
                let mut text = String::new();
                for (group, display) in list {
                    push_group(&mut text, group, display, base);
                }
                out.insert(row.id.clone(), text);
            }
        }
        out
    }
}

/// Appends one rendered `groups` value to a comma-separated list.
fn push_group(list: &mut String, group: &str, display: &str, base: &str) {
    if !list.is_empty() {
        list.push(',');
    }
    for part in [
        "{\"value\":\"",
        group,
        "\",\"$ref\":\"",
        base,
        "/Groups/",
        group,
        "\",\"display\":",
        display,
        ",\"type\":\"direct\"}",
    ] {
        list.push_str(part);
    }
}

/// How the users of a request are selected (`?1` tenant, `?2` key).
#[derive(Clone, Copy)]
enum By {
    /// W2: the primary key.
    Id,
    /// W3: the userName index.
    UserName,
    /// W6: 100 rows from an id on, in id order.
    PageFrom,
}

impl By {
    fn sql(self) -> &'static str {
        match self {
            By::Id => {
                "SELECT id, version, created, modified, doc FROM resources WHERE tenant = ?1 AND kind = 'User' AND id = ?2"
            }
            By::UserName => {
                "SELECT id, version, created, modified, doc FROM resources
                 WHERE tenant = ?1 AND kind = 'User' AND user_name_key = ?2"
            }
            By::PageFrom => {
                "SELECT id, version, created, modified, doc FROM resources
                 WHERE tenant = ?1 AND kind = 'User' AND id >= ?2 ORDER BY id LIMIT 100"
            }
        }
    }
}

struct Row {
    id: String,
    version: i64,
    created: String,
    modified: String,
    doc: String,
}

impl Row {
    /// The stored text with `id` first and `groups` and `meta` last, not
    /// parsed (a stored document is a JSON object).
    fn render(self, groups: Option<&str>, base: &str) -> String {
        let Row {
            id,
            version,
            created,
            modified,
            doc,
        } = self;
        let body = members(&doc).unwrap_or_default();
        let groups = groups.unwrap_or_default();
        // Written into one buffer sized for all of it, as the real server
        // writes its text path: nothing is moved while it grows.
        let mut out = String::with_capacity(doc.len() + groups.len() + 2 * id.len() + base.len() + 200);
        let version = version.to_string();
        for part in [
            "{\"id\":\"",
            &id,
            "\",",
            body,
            if body.is_empty() { "" } else { "," },
            if groups.is_empty() { "" } else { "\"groups\":[" },
            groups,
            if groups.is_empty() { "" } else { "]," },
            "\"meta\":{\"resourceType\":\"User\",\"created\":\"",
            &created,
            "\",\"lastModified\":\"",
            &modified,
            "\",\"version\":\"W/\\\"",
            &version,
            "\\\"\",\"location\":\"",
            base,
            "/Users/",
            &id,
            "\"}}",
        ] {
            out.push_str(part);
        }
        out
    }
}

pub(super) fn json(text: String) -> HttpResponse {
    HttpResponse::Ok().content_type(SCIM_JSON).body(text)
}

pub(super) fn failed(err: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::InternalServerError().body(err.to_string())
}

fn list(total: usize, start: usize, docs: &[String]) -> String {
    let head = format!(
        "{{\"schemas\":[\"{LIST_URN}\"],\"totalResults\":{total},\"startIndex\":{start},\"itemsPerPage\":{},\"Resources\":[",
        docs.len()
    );
    let mut out = String::with_capacity(head.len() + docs.iter().map(|d| d.len() + 1).sum::<usize>() + 2);
    out.push_str(&head);
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(doc);
    }
    out.push_str("]}");
    out
}

pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// How to answer, by the path's prefix.
fn view(req: &HttpRequest) -> View {
    let base = || format!("http://{}/scim/v2", req.connection_info().host());
    if req.path().starts_with(RENDERED) {
        View::Rendered(base())
    } else if req.path().starts_with(GROUPS_IN_MEMORY) {
        View::GroupsInMemory(base())
    } else {
        View::Bare
    }
}

/// W2: one user by id.
pub(super) async fn get(floor: web::Data<Floor>, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    match floor.users(By::Id, &id, &view(&req)) {
        Ok(mut docs) => match docs.pop() {
            Some(doc) => json(doc),
            None => HttpResponse::NotFound().finish(),
        },
        Err(err) => failed(err),
    }
}

/// W3's `filter=userName eq "..."` or W6's `startIndex=N`.
pub(super) async fn list_users(
    floor: web::Data<Floor>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let view = view(&req);
    if let Some(filter) = query.get("filter") {
        let name = filter
            .strip_prefix("userName eq \"")
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or_default()
            .to_lowercase();
        return match floor.users(By::UserName, &name, &view) {
            Ok(docs) => json(list(docs.len(), 1, &docs)),
            Err(err) => failed(err),
        };
    }
    let start: usize = query.get("startIndex").and_then(|s| s.parse().ok()).unwrap_or(1);
    let Some(first) = floor.ids.get(start.saturating_sub(1)) else {
        return json(list(floor.ids.len(), start, &[]));
    };
    match floor.users(By::PageFrom, first, &view) {
        Ok(docs) => json(list(floor.ids.len(), start, &docs)),
        Err(err) => failed(err),
    }
}
