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

use crate::load::{self, Load, Next, Outcome};
use crate::server::{Server, Spec};
use crate::workloads;
use actix_web::{App, HttpResponse, HttpServer, web};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

const SCIM_JSON: &str = "application/scim+json";
const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
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

    fn one(&self, sql: &str, key: &str) -> rusqlite::Result<Option<String>> {
        self.conn()
            .prepare_cached(sql)?
            .query_row([&self.tenant, key], |r| r.get(0))
            .optional()
    }

    /// Up to 100 documents from `startIndex` (1-based) in id order.
    fn page(&self, start: usize) -> rusqlite::Result<Vec<String>> {
        let Some(first) = self.ids.get(start.saturating_sub(1)) else {
            return Ok(Vec::new());
        };
        self.conn()
            .prepare_cached(
                "SELECT doc FROM resources WHERE tenant = ?1 AND kind = 'User' AND id >= ?2 ORDER BY id LIMIT 100",
            )?
            .query_map([&self.tenant, first], |r| r.get(0))?
            .collect()
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

async fn get(floor: web::Data<Floor>, id: web::Path<String>) -> HttpResponse {
    match floor.one(
        "SELECT doc FROM resources WHERE tenant = ?1 AND kind = 'User' AND id = ?2",
        &id,
    ) {
        Ok(Some(doc)) => json(doc),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(err) => failed(err),
    }
}

/// W3's `filter=userName eq "..."` or W6's `startIndex=N`.
async fn users(floor: web::Data<Floor>, query: web::Query<HashMap<String, String>>) -> HttpResponse {
    if let Some(filter) = query.get("filter") {
        let name = filter
            .strip_prefix("userName eq \"")
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or_default()
            .to_lowercase();
        let sql = "SELECT doc FROM resources WHERE tenant = ?1 AND kind = 'User' AND user_name_key = ?2";
        return match floor.one(sql, &name) {
            Ok(doc) => json(list(doc.iter().len(), 1, doc.as_slice())),
            Err(err) => failed(err),
        };
    }
    let start = query.get("startIndex").and_then(|s| s.parse().ok()).unwrap_or(1);
    match floor.page(start) {
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
                .route("/scim/v2/Users", web::get().to(users))
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
/// workload it is the floor of (a share of the real /healthz rate).
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
    let runs: [(&'static str, Next, Option<f64>); 4] = [
        ("floor: GET /healthz, no middleware", workloads::healthz(), None),
        ("floor: W2, one read by id", workloads::w2_get(users), Some(0.5)),
        ("floor: W3, one read by userName", workloads::w3_filter(n), Some(0.4)),
        ("floor: W6, 100 rows by id range", workloads::w6_page(n), Some(0.05)),
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
