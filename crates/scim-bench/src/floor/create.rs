//! The W1 floor: `POST /Users` as the least a durable create does. The
//! body is parsed (any server must, to find `userName` and the indexed
//! values), and the rows the real store writes per create (the resource,
//! its email, the audit event; the counts follow by trigger) go to one
//! writer thread that commits whatever is queued as one transaction (group
//! commit) at the run's `synchronous`, before the 201 is sent. No schema
//! validation, no uniqueness message, no savepoint per request, no
//! rendering beyond splicing `id` and `meta` into the body, and no
//! verdict (the real store's `scim_verdict`, which spares its list pages
//! a reading of each user: work a floor need not do).

use super::{SCIM_JSON, e};
use actix_web::{HttpRequest, HttpResponse, web};
use rusqlite::{Connection, params};
use serde_json::Value;
use std::path::Path;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Most creates one transaction takes (the real writer's default).
const MAX_BATCH: usize = 256;

/// What one create writes.
struct NewUser {
    id: String,
    user_name_key: String,
    external_id: Option<String>,
    display_name_key: Option<String>,
    email: Option<String>,
    doc: String,
}

/// A create and where its outcome goes: the commit's timestamp.
type Job = (NewUser, oneshot::Sender<Result<String, String>>);

/// The writer thread's queue.
pub(super) struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    pub(super) fn start(db: &Path, synchronous: &str, tenant: String) -> Result<Writer, String> {
        let conn = Connection::open(db).map_err(e("open for writing"))?;
        conn.pragma_update(None, "synchronous", synchronous)
            .map_err(e("synchronous"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(e("busy_timeout"))?;
        // No checkpoint inside a commit: the real store turns automatic
        // checkpoints off and runs them on a thread of its own.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(e("wal_autocheckpoint"))?;
        let (queue, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("floor-writer".into())
            .spawn(move || write_batches(&conn, &tenant, &jobs))
            .map_err(|err| format!("floor server: no writer thread: {err}"))?;
        Ok(Writer { queue })
    }

    async fn create(&self, user: NewUser) -> Result<String, String> {
        let (reply, outcome) = oneshot::channel();
        self.queue
            .send((user, reply))
            .map_err(|_| "the writer stopped".to_string())?;
        outcome.await.map_err(|_| "the writer dropped a create".to_string())?
    }
}

/// Takes what is queued (up to `MAX_BATCH`), commits it as one
/// transaction, answers each create; until the queue closes.
fn write_batches(conn: &Connection, tenant: &str, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = commit(conn, tenant, &batch).map_err(|err| err.to_string());
        if outcome.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for (_, reply) in batch {
            let _ = reply.send(outcome.clone());
        }
    }
}

fn commit(conn: &Connection, tenant: &str, batch: &[Job]) -> rusqlite::Result<String> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let stamp: String = conn
        .prepare_cached("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')")?
        .query_row([], |r| r.get(0))?;
    for (user, _) in batch {
        let seq: i64 = conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit WHERE tenant = ?1")?
            .query_row([tenant], |r| r.get(0))?;
        conn.prepare_cached(
            "INSERT INTO resources (tenant, kind, id, version, created, modified, user_name_key, external_id,
                                    display_name_key, doc, created_seq)
             VALUES (?1, 'User', ?2, 1, ?3, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            tenant,
            user.id,
            stamp,
            user.user_name_key,
            user.external_id,
            user.display_name_key,
            user.doc,
            seq
        ])?;
        if let Some(email) = &user.email {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO resource_emails (tenant, value_key, resource_id, type) VALUES (?1, ?2, ?3, 'work')",
            )?
            .execute(params![tenant, email, user.id])?;
        }
        conn.prepare_cached(
            "INSERT INTO audit (tenant, seq, time, actor, request_id, op, kind, resource_id, version, change, origin)
             VALUES (?1, ?2, ?3, 'floor', '', 'create', 'User', ?4, 1, ?5, NULL)",
        )?
        .execute(params![tenant, seq, stamp, user.id, user.doc])?;
    }
    conn.prepare_cached("COMMIT")?.execute([])?;
    Ok(stamp)
}

/// W1: creates the user in the body; 201 with `id` and `meta` spliced in.
pub(super) async fn create(writer: web::Data<Writer>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(doc) => doc,
        Err(err) => return HttpResponse::BadRequest().body(err.to_string()),
    };
    let text = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_string);
    let Some(user_name) = text("userName") else {
        return HttpResponse::BadRequest().body("no userName");
    };
    let email = doc
        .get("emails")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let id = uuid::Uuid::new_v4().to_string();
    let text_body = String::from_utf8_lossy(&body);
    let Some(inner) = super::members_then_comma(&text_body) else {
        return HttpResponse::BadRequest().body("not a JSON object");
    };
    let user = NewUser {
        id: id.clone(),
        user_name_key: user_name.to_lowercase(),
        external_id: text("externalId"),
        display_name_key: text("displayName").map(|d| d.to_lowercase()),
        email,
        doc: text_body.into_owned(),
    };
    match writer.create(user).await {
        Ok(stamp) => {
            let location = format!("http://{}/scim/v2/Users/{id}", req.connection_info().host());
            HttpResponse::Created()
                .content_type(SCIM_JSON)
                .insert_header(("Location", location.clone()))
                .body(format!(
                    "{{\"id\":\"{id}\",{inner}\"meta\":{{\"resourceType\":\"User\",\"created\":\"{stamp}\",\
                     \"lastModified\":\"{stamp}\",\"version\":\"W/\\\"1\\\"\",\"location\":\"{location}\"}}}}"
                ))
        }
        Err(err) => HttpResponse::InternalServerError().body(err),
    }
}
