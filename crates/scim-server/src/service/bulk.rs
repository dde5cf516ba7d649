//! /Bulk (RFC 7644 §3.7): many operations in one request, each run through
//! the same create / replace / patch / delete as a single request, so each
//! is atomic on its own and audited like any other mutation.
//!
//! `bulkId` references (`"bulkId:qwerty"`, as a whole value, inside a
//! quoted filter value of a PATCH path, or in an operation's path) make an
//! operation depend on the POST that defines that bulkId. Operations run in
//! dependency order (request order where there is none), whatever their
//! order in the request; each reference is replaced by the id the POST
//! created. An operation on a circular chain of references, or one that
//! refers to a POST that failed, fails on its own with a detail that names
//! the bulkIds. Results come back in request order; with `failOnErrors`,
//! processing stops once that many operations have failed and only the
//! operations processed so far are reported.

use super::{PatchOutcome, Service, ServiceError, View};
use scim_core::ScimError;
use scim_core::etag::{self, Condition};
use scim_core::messages::{BULK_REQUEST_URN, BulkOperation, BulkOperationResult, BulkRequest, BulkResponse};
use scim_store::{Ctx, Kind};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const PREFIX: &str = "bulkId:";

impl Service {
    /// Runs a BulkRequest body.
    pub async fn bulk(&self, ctx: &Ctx, body: Value, view: &View) -> Result<BulkResponse, ServiceError> {
        let req: BulkRequest = serde_json::from_value(body)
            .map_err(|e| ScimError::invalid_syntax(format!("not a valid BulkRequest: {e}")))?;
        if !req.schemas.iter().any(|s| s.eq_ignore_ascii_case(BULK_REQUEST_URN)) {
            return Err(
                ScimError::invalid_syntax(format!("a BulkRequest must list the schema '{BULK_REQUEST_URN}'")).into(),
            );
        }
        let max = self.settings.bulk_max_operations;
        if req.operations.len() > max as usize {
            return Err(ScimError::new(
                413,
                None,
                format!(
                    "the bulk request has {} operations; maxOperations is {max}",
                    req.operations.len()
                ),
            )
            .into());
        }
        if req.fail_on_errors == Some(0) {
            return Err(ScimError::invalid_value("failOnErrors must be at least 1").into());
        }
        let plan = Plan::of(&req.operations)?;
        let mut created: BTreeMap<&str, Result<String, ()>> = BTreeMap::new();
        let mut results: Vec<Option<BulkOperationResult>> = vec![None; req.operations.len()];
        let mut errors = 0u32;
        for &i in &plan.order {
            if req.fail_on_errors.is_some_and(|limit| errors >= limit) {
                break;
            }
            let op = &req.operations[i];
            let outcome = match &plan.blocked[i] {
                Some(e) => Err(e.clone()),
                None => match resolve(op, &plan.refs[i], &created) {
                    Ok(op) => self.run(ctx, &op, view).await,
                    Err(e) => Err(e),
                },
            };
            if let Some(bulk_id) = op.bulk_id.as_deref()
                && op.method.eq_ignore_ascii_case("POST")
            {
                let id = match &outcome {
                    Ok(done) => done.id.clone().ok_or(()),
                    Err(_) => Err(()),
                };
                created.insert(bulk_id, id);
            }
            results[i] = Some(match outcome {
                Ok(done) => BulkOperationResult {
                    method: op.method.to_uppercase(),
                    bulk_id: op.bulk_id.clone(),
                    version: done.version.map(etag::render),
                    location: Some(done.location),
                    status: done.status.to_string(),
                    response: None,
                },
                Err(e) => {
                    errors += 1;
                    BulkOperationResult {
                        method: op.method.to_uppercase(),
                        bulk_id: op.bulk_id.clone(),
                        version: None,
                        location: None,
                        status: e.status.to_string(),
                        response: Some(e.to_json()),
                    }
                }
            });
        }
        Ok(BulkResponse::new(results.into_iter().flatten().collect()))
    }

    /// One operation, references already resolved.
    async fn run(&self, ctx: &Ctx, op: &BulkOperation, view: &View) -> Result<Done, ScimError> {
        let method = op.method.to_ascii_uppercase();
        let (kind, id) = parse_path(&op.path)?;
        let cond = op
            .version
            .as_deref()
            .map(|v| Condition::parse("version", v))
            .transpose()?;
        let data = || {
            op.data
                .as_ref()
                .ok_or_else(|| ScimError::invalid_syntax(format!("a {method} operation needs 'data'")))
        };
        let location = |id: &str| format!("{}{}/{id}", view.base, self.rt(kind).endpoint);
        let shown = |e: ServiceError| self.shown(e);
        match (method.as_str(), id) {
            ("POST", None) => {
                if op.bulk_id.as_deref().is_none_or(str::is_empty) {
                    return Err(ScimError::invalid_syntax("a POST operation needs a bulkId"));
                }
                let out = self.create(ctx, kind, data()?, view).await.map_err(shown)?;
                let id = out.doc.get("id").and_then(Value::as_str).map(str::to_string);
                Ok(Done {
                    status: 201,
                    location: out.location,
                    version: Some(out.version),
                    id,
                })
            }
            ("PUT", Some(id)) => {
                let out = self
                    .replace(ctx, kind, &id, data()?, cond.as_ref(), view)
                    .await
                    .map_err(shown)?;
                Ok(Done::at(200, out.location, out.version))
            }
            ("PATCH", Some(id)) => match self
                .patch(ctx, kind, &id, data()?, cond.as_ref(), view)
                .await
                .map_err(shown)?
            {
                PatchOutcome::Resource(out) => Ok(Done::at(200, out.location, out.version)),
                PatchOutcome::NoContent { version, location } => Ok(Done::at(204, location, version)),
            },
            ("DELETE", Some(id)) => {
                self.delete(ctx, kind, &id, cond.as_ref()).await.map_err(shown)?;
                Ok(Done {
                    status: 204,
                    location: location(&id),
                    version: None,
                    id: None,
                })
            }
            ("POST", Some(_)) => Err(ScimError::invalid_path(format!(
                "POST goes to a resource endpoint such as /Users, not to '{}'",
                op.path
            ))),
            ("PUT" | "PATCH" | "DELETE", None) => Err(ScimError::invalid_path(format!(
                "{method} needs a resource path such as /Users/{{id}}, not '{}'",
                op.path
            ))),
            _ => Err(ScimError::invalid_syntax(format!(
                "unsupported bulk method '{}'; use POST, PUT, PATCH or DELETE",
                op.method
            ))),
        }
    }

    /// What the client is told about a failed operation; internal details
    /// go to the log, as for a single request.
    fn shown(&self, e: ServiceError) -> ScimError {
        if e.is_internal() {
            tracing::error!(error = %e, "bulk operation failed");
        }
        e.to_scim()
    }
}

/// A finished operation.
struct Done {
    status: u16,
    location: String,
    version: Option<u64>,
    /// The new resource's id (POST).
    id: Option<String>,
}

impl Done {
    fn at(status: u16, location: String, version: u64) -> Done {
        Done {
            status,
            location,
            version: Some(version),
            id: None,
        }
    }
}

/// `/Users`, `/Groups/{id}`: the kind and the id, if any.
fn parse_path(path: &str) -> Result<(Kind, Option<String>), ScimError> {
    let bad = || {
        ScimError::invalid_path(format!(
            "bulk path '{path}' is not /Users, /Groups, /Users/{{id}} or /Groups/{{id}}"
        ))
    };
    let rest = path.strip_prefix('/').ok_or_else(bad)?;
    let (endpoint, id) = match rest.split_once('/') {
        Some((e, id)) if !id.is_empty() && !id.contains('/') => (e, Some(id.to_string())),
        Some(_) => return Err(bad()),
        None => (rest, None),
    };
    let kind = if endpoint.eq_ignore_ascii_case("Users") {
        Kind::User
    } else if endpoint.eq_ignore_ascii_case("Groups") {
        Kind::Group
    } else {
        return Err(bad());
    };
    Ok((kind, id))
}

/// The order to run operations in, what each refers to, and the operations
/// that cannot run at all.
#[derive(Debug)]
struct Plan {
    order: Vec<usize>,
    /// The bulkIds each operation refers to.
    refs: Vec<BTreeSet<String>>,
    /// Set for operations on or behind a circular reference, or referring
    /// to a bulkId no POST defines.
    blocked: Vec<Option<ScimError>>,
}

impl Plan {
    fn of(ops: &[BulkOperation]) -> Result<Plan, ScimError> {
        let mut defined: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, op) in ops.iter().enumerate() {
            let Some(bulk_id) = op.bulk_id.as_deref() else { continue };
            if !op.method.eq_ignore_ascii_case("POST") {
                continue;
            }
            if let Some(first) = defined.insert(bulk_id, i) {
                return Err(ScimError::invalid_value(format!(
                    "bulkId '{bulk_id}' is used by operations {} and {}; each POST needs its own",
                    first + 1,
                    i + 1
                )));
            }
        }
        let refs: Vec<BTreeSet<String>> = ops.iter().map(references).collect();
        let mut blocked: Vec<Option<ScimError>> = vec![None; ops.len()];
        let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); ops.len()];
        for (i, r) in refs.iter().enumerate() {
            for bulk_id in r {
                match defined.get(bulk_id.as_str()) {
                    Some(&d) => {
                        deps[i].insert(d);
                    }
                    None => {
                        blocked[i] = Some(ScimError::invalid_value(format!(
                            "no POST operation in this request has bulkId '{bulk_id}'"
                        )));
                    }
                }
            }
        }
        // Kahn's algorithm, taking the lowest ready index first, so
        // independent operations keep their request order.
        let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
        let mut ready: BTreeSet<usize> = (0..ops.len()).filter(|&i| waiting[i] == 0).collect();
        let mut order = Vec::with_capacity(ops.len());
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for (j, d) in deps.iter().enumerate() {
                if d.contains(&i) {
                    waiting[j] -= 1;
                    if waiting[j] == 0 {
                        ready.insert(j);
                    }
                }
            }
        }
        // What is left is on a cycle or waits for one.
        let stuck: Vec<usize> = (0..ops.len()).filter(|i| !order.contains(i)).collect();
        for &i in &stuck {
            let name = |k: usize| ops[k].bulk_id.clone().unwrap_or_else(|| format!("#{}", k + 1));
            let detail = match cycle_through(i, &deps) {
                Some(cycle) => {
                    let chain: Vec<String> = cycle.iter().map(|&k| name(k)).collect();
                    format!(
                        "circular bulkId reference: {} -> {}; each of these operations needs the id another creates",
                        chain.join(" -> "),
                        name(cycle[0])
                    )
                }
                None => {
                    let on: Vec<String> = deps[i].iter().filter(|d| stuck.contains(d)).map(|&d| name(d)).collect();
                    format!(
                        "refers to bulkId {}, which is part of a circular reference",
                        on.join(", ")
                    )
                }
            };
            blocked[i] = Some(ScimError::new(409, None, detail));
            order.push(i);
        }
        Ok(Plan { order, refs, blocked })
    }
}

/// The cycle of dependencies through `start`, if it is on one.
fn cycle_through(start: usize, deps: &[BTreeSet<usize>]) -> Option<Vec<usize>> {
    // Depth-first from `start` along dependencies, back to `start`.
    let mut path = vec![start];
    let mut iters: Vec<Vec<usize>> = vec![deps[start].iter().copied().collect()];
    let mut seen = BTreeSet::from([start]);
    while let Some(next) = iters.last_mut().and_then(Vec::pop) {
        if next == start {
            return Some(path);
        }
        if seen.insert(next) {
            path.push(next);
            iters.push(deps[next].iter().copied().collect());
        }
        while iters.last().is_some_and(Vec::is_empty) {
            iters.pop();
            path.pop();
        }
    }
    None
}

/// The bulkIds an operation refers to: in its path and anywhere in its data.
fn references(op: &BulkOperation) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(id) = op.path.split('/').nth(2).and_then(|s| s.strip_prefix(PREFIX)) {
        out.insert(id.to_string());
    }
    if let Some(data) = &op.data {
        collect(data, &mut out);
    }
    out
}

fn collect(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(PREFIX) {
                out.insert(id.to_string());
            }
            out.extend(quoted(s).into_iter().map(|(_, id)| id.to_string()));
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect(i, out)),
        _ => {}
    }
}

/// `"bulkId:x"` inside a string (a filter in a PATCH path): each byte range
/// of the quoted reference, and its bulkId.
fn quoted(s: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let needle = format!("\"{PREFIX}");
    let mut from = 0;
    while let Some(at) = s[from..].find(&needle).map(|i| i + from) {
        let id_start = at + needle.len();
        let Some(len) = s[id_start..].find('"') else { break };
        out.push((at..id_start + len + 1, &s[id_start..id_start + len]));
        from = id_start + len + 1;
    }
    out
}

/// The operation with every reference replaced by the id its POST created.
fn resolve(
    op: &BulkOperation,
    refs: &BTreeSet<String>,
    created: &BTreeMap<&str, Result<String, ()>>,
) -> Result<BulkOperation, ScimError> {
    let mut ids = BTreeMap::new();
    for r in refs {
        match created.get(r.as_str()) {
            Some(Ok(id)) => {
                ids.insert(r.clone(), id.clone());
            }
            _ => {
                return Err(ScimError::new(
                    409,
                    None,
                    format!("refers to bulkId '{r}', whose POST operation failed"),
                ));
            }
        }
    }
    let mut op = op.clone();
    if ids.is_empty() {
        return Ok(op);
    }
    let mut parts: Vec<String> = op.path.split('/').map(str::to_string).collect();
    if let Some(id) = parts
        .get(2)
        .and_then(|s| s.strip_prefix(PREFIX))
        .and_then(|r| ids.get(r))
    {
        parts[2] = id.clone();
        op.path = parts.join("/");
    }
    if let Some(data) = &mut op.data {
        replace(data, &ids);
    }
    Ok(op)
}

fn replace(v: &mut Value, ids: &BTreeMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(PREFIX).and_then(|r| ids.get(r)) {
                *s = id.clone();
                return;
            }
            let found = quoted(s);
            if found.is_empty() {
                return;
            }
            let mut text = String::with_capacity(s.len());
            let mut last = 0;
            for (range, r) in found {
                text.push_str(&s[last..range.start]);
                match ids.get(r) {
                    Some(id) => text.push_str(&format!("\"{id}\"")),
                    None => text.push_str(&s[range.clone()]),
                }
                last = range.end;
            }
            text.push_str(&s[last..]);
            *s = text;
        }
        Value::Array(items) => items.iter_mut().for_each(|i| replace(i, ids)),
        Value::Object(map) => map.values_mut().for_each(|i| replace(i, ids)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(method: &str, bulk_id: Option<&str>, path: &str, data: Value) -> BulkOperation {
        BulkOperation {
            method: method.into(),
            bulk_id: bulk_id.map(str::to_string),
            version: None,
            path: path.into(),
            data: Some(data),
        }
    }

    #[test]
    fn references_are_found_in_paths_values_and_filters() {
        let o = op(
            "PATCH",
            None,
            "/Groups/bulkId:g",
            json!({"Operations": [
                {"op": "add", "path": "members", "value": [{"value": "bulkId:u1"}]},
                {"op": "remove", "path": "members[value eq \"bulkId:u2\"]"}
            ]}),
        );
        let refs: Vec<String> = references(&o).into_iter().collect();
        assert_eq!(refs, ["g", "u1", "u2"]);
        // A value that merely mentions the prefix mid-text is no reference.
        let o = op("POST", Some("x"), "/Users", json!({"title": "see bulkId:u1"}));
        assert!(references(&o).is_empty());
    }

    #[test]
    fn resolving_replaces_every_reference() {
        let o = op(
            "PATCH",
            None,
            "/Groups/bulkId:g",
            json!({"Operations": [
                {"op": "add", "path": "members", "value": [{"value": "bulkId:u1"}]},
                {"op": "remove", "path": "members[value eq \"bulkId:u2\"] "}
            ]}),
        );
        let created = BTreeMap::from([
            ("g", Ok("G-ID".to_string())),
            ("u1", Ok("U1-ID".to_string())),
            ("u2", Ok("U2-ID".to_string())),
        ]);
        let r = resolve(&o, &references(&o), &created).unwrap();
        assert_eq!(r.path, "/Groups/G-ID");
        let data = r.data.unwrap();
        assert_eq!(data["Operations"][0]["value"][0]["value"], "U1-ID");
        assert_eq!(data["Operations"][1]["path"], "members[value eq \"U2-ID\"] ");
        // A reference to a failed POST fails the operation.
        let failed = BTreeMap::from([("g", Err(())), ("u1", Ok("x".into())), ("u2", Ok("y".into()))]);
        assert_eq!(resolve(&o, &references(&o), &failed).unwrap_err().status, 409);
    }

    #[test]
    fn operations_run_in_dependency_order_and_cycles_are_named() {
        let ops = vec![
            op(
                "POST",
                Some("g"),
                "/Groups",
                json!({"members": [{"value": "bulkId:u"}]}),
            ),
            op("POST", Some("u"), "/Users", json!({"userName": "u"})),
            op("POST", Some("a"), "/Users", json!({"manager": {"value": "bulkId:b"}})),
            op("POST", Some("b"), "/Users", json!({"manager": {"value": "bulkId:a"}})),
            op("PATCH", None, "/Users/bulkId:a", json!({})),
            op("DELETE", None, "/Users/bulkId:nobody", json!({})),
        ];
        let plan = Plan::of(&ops).unwrap();
        let pos = |i: usize| plan.order.iter().position(|&x| x == i).unwrap();
        assert!(pos(1) < pos(0), "u before g: {:?}", plan.order);
        assert_eq!(plan.order.len(), ops.len());
        for i in [2, 3] {
            let e = plan.blocked[i].as_ref().unwrap();
            assert_eq!(e.status, 409);
            assert!(e.detail.contains("circular"), "{}", e.detail);
            assert!(
                e.detail.contains("a -> b") || e.detail.contains("b -> a"),
                "{}",
                e.detail
            );
        }
        assert!(plan.blocked[4].as_ref().unwrap().detail.contains("circular"));
        assert_eq!(plan.blocked[5].as_ref().unwrap().status, 400);
        assert!(plan.blocked[0].is_none() && plan.blocked[1].is_none());
    }

    #[test]
    fn duplicate_bulk_ids_are_rejected() {
        let ops = vec![
            op("POST", Some("x"), "/Users", json!({})),
            op("POST", Some("x"), "/Users", json!({})),
        ];
        assert!(Plan::of(&ops).unwrap_err().detail.contains("operations 1 and 2"));
    }

    #[test]
    fn paths_name_a_kind_and_maybe_an_id() {
        assert_eq!(parse_path("/Users").unwrap(), (Kind::User, None));
        assert_eq!(parse_path("/groups/abc").unwrap(), (Kind::Group, Some("abc".into())));
        for bad in ["Users", "/Widgets", "/Users/", "/Users/a/b", ""] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }
}
