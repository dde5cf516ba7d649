//! The floor: the least any server built like ours (actix-web, SQLite) does
//! to answer W1, W2, W3 and W6, measured on the same database and the same
//! CPU as the real server.
//!
//! `scim-bench --floor-server DB` serves, with actix-web's default workers
//! like the real server (one per CPU it may use: one when pinned), only
//! what cannot be skipped: route the request, read the stored JSON text
//! from SQLite (W2: by primary key; W3: through the userName index; W6: a
//! range of 100 rows from an in-memory list of ids, the perfect rank
//! index) and send that text. No authentication, no logging, no parsing,
//! no `meta`, no `groups`, no projection, no ETag. Whatever a SCIM server
//! on this stack adds, it cannot be faster than this plus what every one
//! of its requests pays (the report's "best real ratio"); when even that
//! misses a target, the target is out of reach for this stack on this
//! machine, and the report says so.
//!
//! The rendered variants (`/rendered/...`) add what RFC 7643 requires in
//! each user and what the real server derives at read time: the direct
//! groups in one statement (the real server's `groups_of_each` query), and
//! `id`, `groups` and `meta` spliced into the stored text without parsing
//! it: the cost of rendering from the stored text, the design
//! docs/performance.md names as the next step for W6, measured before
//! anyone builds it. The targets are judged on these. The last variants
//! (`/groups-in-memory/...`) take every user's groups from memory (read at
//! start), as if each row carried its groups: what a schema that stored
//! them with the user would at best save.
//!
//! W1's floor (`create.rs`) is a parse and a group-committed insert of the
//! rows the real store writes per create, with no checkpoint at all (the
//! real store checkpoints on a thread of its own, on the same CPU).

mod create;
mod read;

use crate::load::{self, Load, Next, Outcome};
use crate::server::{Server, Spec};
use crate::workloads;
use actix_web::{App, HttpServer, web};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

const SCIM_JSON: &str = "application/scim+json";
/// Where the floor serves its rendered variants.
const RENDERED: &str = "/rendered/scim/v2";
/// Where it serves them with every user's groups read from memory.
const GROUPS_IN_MEMORY: &str = "/groups-in-memory/scim/v2";

/// The members of a JSON object's text, without its braces, followed by a
/// comma when there are any: what `{"id":...,` is followed by when
/// splicing. `None` when the text is not `{...}`.
fn members_then_comma(object: &str) -> Option<String> {
    let inner = members(object)?;
    Some(if inner.is_empty() {
        String::new()
    } else {
        format!("{inner},")
    })
}

/// The members of a JSON object's text, without its braces.
fn members(object: &str) -> Option<&str> {
    Some(object.trim().strip_prefix('{')?.strip_suffix('}')?.trim())
}

fn e(what: &'static str) -> impl Fn(rusqlite::Error) -> String {
    move |err| format!("floor server, {what}: {err}")
}

/// Serves the floor on a free loopback port until killed; prints
/// `listening ADDR` on stdout once bound.
pub fn serve(db: &Path, synchronous: &str) -> Result<(), String> {
    let floor = read::Floor::open(db)?;
    let writer = web::Data::new(create::Writer::start(db, synchronous, floor.tenant.clone())?);
    let floor = web::Data::new(floor);
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(floor.clone())
                .app_data(writer.clone())
                .route("/healthz", web::get().to(read::healthz))
                .route("/scim/v2/Users", web::post().to(create::create))
                .route("/scim/v2/Users/{id}", web::get().to(read::get))
                .route("/scim/v2/Users", web::get().to(read::list_users))
                .route("/rendered/scim/v2/Users/{id}", web::get().to(read::get))
                .route("/rendered/scim/v2/Users", web::get().to(read::list_users))
                .route("/groups-in-memory/scim/v2/Users/{id}", web::get().to(read::get))
                .route("/groups-in-memory/scim/v2/Users", web::get().to(read::list_users))
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

/// What a floor's rate is held against: a share of the real /healthz
/// rate (W2, W3, W6) or a multiple of the raw insert rate (W1).
#[derive(Debug, Clone, Copy)]
pub enum Share {
    Healthz(f64),
    RawInsert(f64),
}

/// One measured floor: its name, how it went, and the target of the
/// workload it is the floor of. Only the rendered reads and the create
/// carry a target: only they give what RFC 7643 requires. The first floor
/// is the bare /healthz.
pub struct Measured {
    pub name: &'static str,
    pub outcome: Outcome,
    pub target: Option<Share>,
}

/// Starts the floor server on `spec`'s database (the real server must be
/// stopped) and runs /healthz, W2, W3, W6 and, when `w1` (W1 was run),
/// W1 against it with `load`'s settings.
pub async fn measure(
    spec: &Spec,
    load: Load,
    users: Arc<Vec<String>>,
    w1: Option<&str>,
) -> Result<Vec<Measured>, String> {
    let mut server = Server::start_floor(spec).await?;
    let load = Load {
        addr: server.addr,
        server_pid: Some(server.pid),
        ..load
    };
    let n = users.len();
    let b = workloads::BASE;
    let mut runs: Vec<(&'static str, Next, Option<Share>)> = vec![
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
            workloads::w2_get(RENDERED, users.clone()),
            Some(Share::Healthz(0.5)),
        ),
        (
            "floor: W3 rendered",
            workloads::w3_filter(RENDERED, n),
            Some(Share::Healthz(0.4)),
        ),
        (
            "floor: W6 rendered",
            workloads::w6_page(RENDERED, n),
            Some(Share::Healthz(0.05)),
        ),
        (
            "floor: W2 rendered, groups from memory",
            workloads::w2_get(GROUPS_IN_MEMORY, users),
            Some(Share::Healthz(0.5)),
        ),
        (
            "floor: W3 rendered, groups from memory",
            workloads::w3_filter(GROUPS_IN_MEMORY, n),
            Some(Share::Healthz(0.4)),
        ),
        (
            "floor: W6 rendered, groups from memory",
            workloads::w6_page(GROUPS_IN_MEMORY, n),
            Some(Share::Healthz(0.05)),
        ),
    ];
    if let Some(run_id) = w1 {
        runs.push((
            "floor: W1, parse and group-committed insert",
            workloads::w1_create(&format!("{run_id}-floor")),
            Some(Share::RawInsert(2.0)),
        ));
    }
    let mut out = Vec::new();
    for (seed, (name, next, target)) in (100u64..).zip(runs) {
        crate::progress(format!("{name}: {} s", load.window.as_secs()));
        let outcome = load::run(load, "", seed, next).await;
        out.push(Measured { name, outcome, target });
    }
    server.stop();
    Ok(out)
}
