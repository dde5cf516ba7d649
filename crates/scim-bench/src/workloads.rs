//! The data (users as identity providers send them), loading it through the
//! API, and the requests of each workload.

use crate::client::{Conn, Method};
use crate::load::{Next, Req, Worker};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The SCIM base path the read workloads (W2, W3, W6) address; the floor
/// server (`floor.rs`) serves its variants under other prefixes.
pub const BASE: &str = "/scim/v2";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// Operations per /Bulk request while preloading (the server's default
/// `maxOperations`).
const BULK_OPS: usize = 1000;
/// Members per PATCH while filling the groups.
const MEMBERS_PER_PATCH: usize = 1000;

/// The userName of preloaded user `i`.
pub fn user_name(i: usize) -> String {
    format!("user{i:07}@example.com")
}

/// A user as identity providers provision them, ~400 bytes of JSON.
pub fn user(i: usize, name: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": name,
        "externalId": format!("ext-{i:07}"),
        "displayName": format!("User {i:07}"),
        "name": {"givenName": "User", "familyName": format!("N{i:07}")},
        "active": true,
        "emails": [{"value": name, "type": "work", "primary": true}],
    })
}

/// Preloads `n` users through POST /Bulk, `concurrency` requests at a time.
pub async fn load_users(addr: SocketAddr, token: &str, n: usize, concurrency: usize) -> Result<Vec<String>, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (next, token) = (next.clone(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr, Some(&token));
            let mut got: Vec<(usize, String)> = Vec::new();
            loop {
                let first = next.fetch_add(BULK_OPS, Ordering::Relaxed);
                if first >= n {
                    return Ok::<_, String>(got);
                }
                let last = (first + BULK_OPS).min(n);
                let ops: Vec<Value> = (first..last)
                    .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": user(i, &user_name(i))}))
                    .collect();
                let body = json!({"schemas": [BULK_URN], "Operations": ops}).to_string();
                let status = conn
                    .request(Method::Post, "/scim/v2/Bulk", Some(body.as_bytes()))
                    .await
                    .map_err(|e| format!("preload /Bulk: {e}"))?;
                let resp: Value = serde_json::from_slice(conn.body()).map_err(|e| format!("preload /Bulk: {e}"))?;
                if status != 200 {
                    return Err(format!("preload /Bulk answered {status}: {resp}"));
                }
                let results = resp["Operations"].as_array().cloned().unwrap_or_default();
                for (i, r) in (first..last).zip(results.iter()) {
                    let id = r["location"].as_str().and_then(|l| l.rsplit('/').next());
                    match (r["status"].as_str(), id) {
                        (Some("201"), Some(id)) => got.push((i, id.to_string())),
                        _ => return Err(format!("preload: creating user {i} failed: {r}")),
                    }
                }
            }
        }));
    }
    let mut ids = vec![String::new(); n];
    for t in tasks {
        let got = t.await.map_err(|e| format!("preload task: {e}"))??;
        for (i, id) in got {
            ids[i] = id;
        }
    }
    Ok(ids)
}

/// Creates one group per size and fills it with the first `size` users by
/// PATCH add requests of 1,000 members each.
pub async fn load_groups(
    addr: SocketAddr,
    token: &str,
    users: &[String],
    sizes: &[usize],
) -> Result<Vec<(usize, String)>, String> {
    let mut conn = Conn::new(addr, Some(token));
    let mut out = Vec::new();
    for &size in sizes {
        let body = json!({"schemas": [GROUP_URN], "displayName": format!("bench group of {size}")}).to_string();
        let status = conn
            .request(Method::Post, "/scim/v2/Groups", Some(body.as_bytes()))
            .await
            .map_err(|e| format!("creating a group: {e}"))?;
        let created: Value = serde_json::from_slice(conn.body()).map_err(|e| format!("creating a group: {e}"))?;
        let Some(id) = created["id"].as_str().filter(|_| status == 201).map(str::to_string) else {
            return Err(format!("creating a group answered {status}: {created}"));
        };
        for chunk in users[..size.min(users.len())].chunks(MEMBERS_PER_PATCH) {
            let members: Vec<Value> = chunk.iter().map(|u| json!({"value": u})).collect();
            let body = patch_body(json!([{"op": "add", "path": "members", "value": members}]));
            let status = conn
                .request(Method::Patch, &format!("/scim/v2/Groups/{id}"), Some(&body))
                .await
                .map_err(|e| format!("filling a group: {e}"))?;
            if !(200..300).contains(&status) {
                return Err(format!(
                    "filling a group answered {status}: {}",
                    String::from_utf8_lossy(conn.body())
                ));
            }
        }
        out.push((size, id));
    }
    Ok(out)
}

fn patch_body(operations: Value) -> Vec<u8> {
    json!({"schemas": [PATCH_URN], "Operations": operations})
        .to_string()
        .into_bytes()
}

/// Percent-encodes a query parameter value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn healthz() -> Next {
    Arc::new(|_: &mut Worker| Req::get("/healthz".into()))
}

/// W1: POST /Users with userNames no run has used.
pub fn w1_create(run: &str) -> Next {
    let run = run.to_string();
    Arc::new(move |w: &mut Worker| {
        let name = format!("w1-{run}-{}-{}@example.com", w.index, w.seq);
        let body = user(w.seq as usize, &name).to_string().into_bytes();
        Req::with_body(Method::Post, "/scim/v2/Users".into(), body)
    })
}

/// W2: GET /Users/{id} of a random preloaded user.
pub fn w2_get(base: &'static str, users: Arc<Vec<String>>) -> Next {
    Arc::new(move |w: &mut Worker| {
        let id = &users[w.rng.below(users.len())];
        Req::get(format!("{base}/Users/{id}"))
    })
}

/// W3: GET /Users?filter=userName eq "..." of a random preloaded user.
pub fn w3_filter(base: &'static str, users: usize) -> Next {
    Arc::new(move |w: &mut Worker| {
        let filter = format!("userName eq \"{}\"", user_name(w.rng.below(users)));
        Req::get(format!("{base}/Users?filter={}", encode(&filter)))
    })
}

/// W4: PATCH /Users/{id} replacing `active` and `displayName`.
pub fn w4_patch(users: Arc<Vec<String>>) -> Next {
    Arc::new(move |w: &mut Worker| {
        let i = w.rng.below(users.len());
        let body = patch_body(json!([
            {"op": "replace", "path": "active", "value": w.seq % 2 == 1},
            {"op": "replace", "path": "displayName", "value": format!("User {i:07} ({})", w.seq)},
        ]));
        Req::with_body(Method::Patch, format!("/scim/v2/Users/{}", users[i]), body)
    })
}

/// W5: PATCH /Groups/{id} adding one member, as Entra sends one PATCH per
/// member in parallel. Each worker removes the member it added with its
/// next (unmeasured) request, so the group stays at its size plus at most
/// one member per worker for the whole run. Worker `i` of `workers` adds
/// users `size + i`, `size + i + workers`, ...: no two workers ever touch
/// the same member.
pub fn w5_add_member(users: Arc<Vec<String>>, group: String, size: usize, workers: usize) -> Next {
    Arc::new(move |w: &mut Worker| {
        let path = format!("/scim/v2/Groups/{group}");
        if let Some(member) = w.pending.take() {
            let body = patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{member}\"]")}]));
            let mut req = Req::with_body(Method::Patch, path, body);
            req.measured = false;
            return req;
        }
        // Users outside the group: the group holds users[..size].
        let outside = users.len().saturating_sub(size).max(1);
        let k = (w.seq as usize / 2).wrapping_mul(workers.max(1)).wrapping_add(w.index);
        let member = users[(size + k % outside) % users.len()].clone();
        let body = patch_body(json!([{"op": "add", "path": "members", "value": [{"value": member}]}]));
        w.pending = Some(member);
        Req::with_body(Method::Patch, path, body)
    })
}

/// W6: GET /Users?startIndex=random&count=100.
pub fn w6_page(base: &'static str, users: usize) -> Next {
    Arc::new(move |w: &mut Worker| {
        let start = 1 + w.rng.below(users.saturating_sub(99).max(1));
        Req::get(format!("{base}/Users?startIndex={start}&count=100"))
    })
}

/// Times an async step.
pub async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let t = Instant::now();
    let out = f.await;
    (out, t.elapsed())
}
