//! The floor: the least any server built like ours (actix-web, SQLite) does
//! to answer W2, W3 and W6, measured on the same database and the same CPU
//! as the real server.
//!
//! `scim-bench --floor-server DB` serves, on one actix-web worker, only
//! what cannot be skipped: route the request, read the stored JSON text
//! from SQLite (W2: by primary key; W3: through the userName index; W6: a
//! range of 100 rows from an in-memory list of ids, the perfect rank
//! index) and send that text. No authentication, no logging, no parsing,
//! no `meta`, no `groups`, no projection, no ETag. Whatever a SCIM server
//! on this stack adds, it cannot be faster than this; so when a floor's
//! rate is below a target's share of the real /healthz rate, the target is
//! out of reach for this stack on this machine, and the report says so.
//!
//! One more W6 variant (`/rendered/...`) adds what RFC 7643 requires in
//! each listed user and what the real server derives at read time: the
//! page's direct groups in one statement (the real server's
//! `groups_of_each` query), and `id`, `groups` and `meta` spliced into the
//! stored text without parsing it. It is the cost of rendering from the
//! stored text, the design docs/performance.md names as the next step for
//! W6, measured before anyone builds it.

use crate::load::{self, Load, Next, Outcome};
use crate::server::{Server, Spec};
use crate::workloads;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use rusqlite::{Connection, OpenFlags};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

const SCIM_JSON: &str = "application/scim+json";
const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Where the floor serves its rendered variants.
const RENDERED: &str = "/rendered/scim/v2";
/// The real server's page cache per point-read connection on one core.
const CACHE_KIB: i64 = 16 * 1024;

struct Floor {
    conn: Mutex<Connection>,
    tenant: String,
    /// Every user id in id order: startIndex N is `ids[N - 1]`.
    ids: Vec<String>,
}

fn e(what: &'static str) -> impl Fn(rusqlite::Error) -> String {
    move |err| format!("floor server, {what}: {err}")
}

impl Floor {
    fn open(db: &Path) -> Result<Floor, String> {
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
        Ok(Floor {
            conn: Mutex::new(conn),
            tenant,
            ids,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The users `by` selects for `key`: their stored text as it is, or
    /// rendered (`Some(base URL)`) with `id`, direct groups and `meta`.
    fn users(&self, by: By, key: &str, rendered: Option<&str>) -> rusqlite::Result<Vec<String>> {
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
        let Some(base) = rendered else {
            return Ok(rows.into_iter().map(|r| r.doc).collect());
        };
        let mut groups = self.direct_groups(&conn, &rows, base)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mine = groups.remove(&r.id);
                r.render(mine.as_deref(), base)
            })
            .collect())
    }

    /// The direct groups of each row's user, as rendered `groups` values,
    /// in one statement (the real server's `groups_of_each` query).
    fn direct_groups(&self, conn: &Connection, rows: &[Row], base: &str) -> rusqlite::Result<HashMap<String, String>> {
        let ids = serde_json::Value::from(rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>()).to_string();
        let mut stmt = conn.prepare_cached(
            "SELECT m.member_id, m.group_id, json_extract(r.doc, '$.displayName')
             FROM (SELECT value AS id FROM json_each(?2)) AS w
             CROSS JOIN memberships m ON m.tenant = ?1 AND m.member_id = w.id
             CROSS JOIN resources r ON r.tenant = ?1 AND r.kind = 'Group' AND r.id = m.group_id",
        )?;
        let mut found = stmt.query([&self.tenant, &ids])?;
        let mut groups: HashMap<String, String> = HashMap::new();
        while let Some(r) = found.next()? {
            let (member, group): (String, String) = (r.get(0)?, r.get(1)?);
            let display = serde_json::Value::from(r.get::<_, Option<String>>(2)?).to_string();
            let list = groups.entry(member).or_default();
            if !list.is_empty() {
                list.push(',');
            }
            list.push_str(&format!(
                "{{\"value\":\"{group}\",\"$ref\":\"{base}/Groups/{group}\",\"display\":{display},\"type\":\"direct\"}}"
            ));
        }
        Ok(groups)
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
        let body = doc.trim().trim_start_matches('{').trim_end_matches('}');
        let groups = groups.map(|g| format!(",\"groups\":[{g}]")).unwrap_or_default();
        format!(
            "{{\"id\":\"{id}\",{body}{groups},\"meta\":{{\"resourceType\":\"User\",\"created\":\"{created}\",\
             \"lastModified\":\"{modified}\",\"version\":\"W/\\\"{version}\\\"\",\"location\":\"{base}/Users/{id}\"}}}}"
        )
    }
}

fn json(text: String) -> HttpResponse {
    HttpResponse::Ok().content_type(SCIM_JSON).body(text)
}

fn failed(err: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::InternalServerError().body(err.to_string())
}

fn list(total: usize, start: usize, docs: &[String]) -> String {
    format!(
        "{{\"schemas\":[\"{LIST_URN}\"],\"totalResults\":{total},\"startIndex\":{start},\"itemsPerPage\":{},\"Resources\":[{}]}}",
        docs.len(),
        docs.join(",")
    )
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The base URL of rendered answers; `None` for bare ones.
fn rendered(req: &HttpRequest) -> Option<String> {
    req.path()
        .starts_with(RENDERED)
        .then(|| format!("http://{}/scim/v2", req.connection_info().host()))
}

/// W2: one user by id.
async fn get(floor: web::Data<Floor>, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    match floor.users(By::Id, &id, rendered(&req).as_deref()) {
        Ok(mut docs) => match docs.pop() {
            Some(doc) => json(doc),
            None => HttpResponse::NotFound().finish(),
        },
        Err(err) => failed(err),
    }
}

/// W3's `filter=userName eq "..."` or W6's `startIndex=N`.
async fn list_users(
    floor: web::Data<Floor>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let base = rendered(&req);
    if let Some(filter) = query.get("filter") {
        let name = filter
            .strip_prefix("userName eq \"")
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or_default()
            .to_lowercase();
        return match floor.users(By::UserName, &name, base.as_deref()) {
            Ok(docs) => json(list(docs.len(), 1, &docs)),
            Err(err) => failed(err),
        };
    }
    let start: usize = query.get("startIndex").and_then(|s| s.parse().ok()).unwrap_or(1);
    let Some(first) = floor.ids.get(start.saturating_sub(1)) else {
        return json(list(floor.ids.len(), start, &[]));
    };
    match floor.users(By::PageFrom, first, base.as_deref()) {
        Ok(docs) => json(list(floor.ids.len(), start, &docs)),
        Err(err) => failed(err),
    }
}

/// Serves the floor on a free loopback port until killed; prints
/// `listening ADDR` on stdout once bound.
pub fn serve(db: &Path) -> Result<(), String> {
    let floor = web::Data::new(Floor::open(db)?);
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(floor.clone())
                .route("/healthz", web::get().to(healthz))
                .route("/scim/v2/Users/{id}", web::get().to(get))
                .route("/scim/v2/Users", web::get().to(list_users))
                .route("/rendered/scim/v2/Users/{id}", web::get().to(get))
                .route("/rendered/scim/v2/Users", web::get().to(list_users))
        })
        .disable_signals()
        .bind("127.0.0.1:0")
        .map_err(|err| format!("floor server: cannot bind: {err}"))?;
        let addr = server.addrs().first().copied().ok_or("floor server: no address")?;
        let mut out = std::io::stdout();
        writeln!(out, "listening {addr}")
            .and_then(|()| out.flush())
            .map_err(|err| format!("floor server: {err}"))?;
        server.run().await.map_err(|err| format!("floor server: {err}"))
    })
}

/// One measured floor: its name, how it went, and the target of the
/// workload it is the floor of (a share of the real /healthz rate), for
/// the rendered floors: only those give what RFC 7643 requires. The first
/// is the bare /healthz.
pub struct Measured {
    pub name: &'static str,
    pub outcome: Outcome,
    pub target: Option<f64>,
}

/// Starts the floor server on `spec`'s database (the real server must be
/// stopped) and runs /healthz and W2, W3, W6 against it with `load`'s
/// settings.
pub async fn measure(spec: &Spec, load: Load, users: Arc<Vec<String>>) -> Result<Vec<Measured>, String> {
    let mut server = Server::start_floor(spec).await?;
    let load = Load {
        addr: server.addr,
        server_pid: Some(server.pid),
        ..load
    };
    let n = users.len();
    let b = workloads::BASE;
    let runs: [(&'static str, Next, Option<f64>); 7] = [
        ("floor: GET /healthz, no middleware", workloads::healthz(), None),
        (
            "floor: W2, stored text by id",
            workloads::w2_get(b, users.clone()),
            None,
        ),
        ("floor: W3, stored text by userName", workloads::w3_filter(b, n), None),
        (
            "floor: W6, 100 stored texts by id range",
            workloads::w6_page(b, n),
            None,
        ),
        (
            "floor: W2 rendered (id, groups, meta)",
            workloads::w2_get(RENDERED, users),
            Some(0.5),
        ),
        ("floor: W3 rendered", workloads::w3_filter(RENDERED, n), Some(0.4)),
        ("floor: W6 rendered", workloads::w6_page(RENDERED, n), Some(0.05)),
    ];
    let mut out = Vec::new();
    for (seed, (name, next, target)) in (100u64..).zip(runs) {
        crate::progress(format!("{name}: {} s", load.window.as_secs()));
        let outcome = load::run(load, "", seed, next).await;
        out.push(Measured { name, outcome, target });
    }
    server.stop();
    Ok(out)
}
