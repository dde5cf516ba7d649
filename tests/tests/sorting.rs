//! sortBy everywhere, on every backend: every attribute and sub-attribute
//! of every schema of /Users and /Groups (extensions included, from the
//! example in `deploy/extensions/`), ascending and descending, in the order
//! scim-core's reference comparator gives the returned resources, and
//! stable across pages by index and by cursor.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scim_core::schema::{Registry, ResourceType};
use scim_core::sort::{SortOrder, SortSpec};
use scim_server::Config;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

const USERS: usize = 9;
const GROUPS: usize = 7;

fn example() -> Config {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/extensions/scim-server.toml");
    Config::load(Some(&path)).unwrap()
}

/// Values with ties, case differences and signs, so order is meaningful.
fn value(def: &Value, i: usize) -> Value {
    let strings = ["b", "A", "a", "C", "b", "d", "B", "c", "a"];
    let s = strings[i % strings.len()];
    if let Some(canon) = def["canonicalValues"].as_array().filter(|c| !c.is_empty()) {
        return canon[i % canon.len()].clone();
    }
    match def["type"].as_str().unwrap() {
        "string" => json!(format!("{s}{}", i % 3)),
        "boolean" => json!(i.is_multiple_of(3)),
        "integer" => json!([5, -2, 5, 11, 0, 7, -2][i % 7]),
        "decimal" => json!([1.5, -0.25, 1.5, 3.0, 0.0][i % 5]),
        "dateTime" => json!(
            [
                "2024-03-01T10:00:00Z",
                "2024-03-01T11:00:00+02:00",
                "2023-12-31T23:59:59Z",
                "2024-03-01T10:00:00Z",
                "2025-01-01T00:00:00.5Z"
            ][i % 5]
        ),
        "reference" => json!(format!("https://example.com/{s}{}", i % 2)),
        "binary" => json!(["QUFB", "QkJC", "QUFB", "Q0ND"][i % 4]),
        other => panic!("no generator for {other}"),
    }
}

fn writable(def: &Value) -> bool {
    def["mutability"] != "readOnly"
}

/// One resource's attributes of one schema, generated from its definition;
/// about a quarter of them left out so missing values sort too.
fn fill(attrs: &[Value], i: usize, skip: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for (n, def) in attrs.iter().enumerate() {
        let name = def["name"].as_str().unwrap();
        if !writable(def) || skip.contains(&name) || (i + n).is_multiple_of(4) {
            continue;
        }
        let v = match def["subAttributes"].as_array() {
            Some(subs) => {
                let element = |k: usize, primary: bool| {
                    let mut o = Map::new();
                    for (m, sub) in subs.iter().enumerate() {
                        let sub_name = sub["name"].as_str().unwrap();
                        if !writable(sub) || (i + k + m).is_multiple_of(5) && sub_name != "value" {
                            continue;
                        }
                        if sub_name == "primary" {
                            if primary {
                                o.insert("primary".into(), json!(true));
                            }
                            continue;
                        }
                        o.insert(sub_name.into(), value(sub, i * 3 + k + m));
                    }
                    Value::Object(o)
                };
                if def["multiValued"] == true {
                    // The second element is primary for even resources, so
                    // the sort reads it instead of the first.
                    json!([element(0, false), element(1, i.is_multiple_of(2))])
                } else {
                    element(0, false)
                }
            }
            None if def["multiValued"] == true => json!([value(def, i), value(def, i + 1)]),
            None => value(def, i + n),
        };
        out.insert(name.into(), v);
    }
    out
}

/// Every sortable path of a resource type: each attribute and each
/// sub-attribute, URN-qualified for extensions.
fn paths(schemas: &[(String, Vec<Value>, bool)]) -> Vec<String> {
    let mut out = Vec::new();
    for (urn, attrs, core) in schemas {
        let prefix = if *core { String::new() } else { format!("{urn}:") };
        for def in attrs {
            let name = def["name"].as_str().unwrap();
            out.push(format!("{prefix}{name}"));
            for sub in def["subAttributes"].as_array().into_iter().flatten() {
                out.push(format!("{prefix}{name}.{}", sub["name"].as_str().unwrap()));
            }
        }
    }
    out.extend(
        [
            "id",
            "externalId",
            "meta.created",
            "meta.lastModified",
            "meta.version",
            "meta.resourceType",
        ]
        .map(String::from),
    );
    out
}

/// The schemas of a resource type as /Schemas serves them: (urn, attributes, is core).
async fn schemas_of(c: &Scim, rt: &str) -> Vec<(String, Vec<Value>, bool)> {
    let rt = c.get(&format!("/ResourceTypes/{rt}")).await.expect(200).json;
    let mut urns = vec![(rt["schema"].as_str().unwrap().to_string(), true)];
    for e in rt["schemaExtensions"].as_array().into_iter().flatten() {
        urns.push((e["schema"].as_str().unwrap().to_string(), false));
    }
    let mut out = Vec::new();
    for (urn, core) in urns {
        let s = c.get(&format!("/Schemas/{urn}")).await.expect(200).json;
        out.push((urn, s["attributes"].as_array().unwrap().clone(), core));
    }
    out
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter().map(|x| x["id"].as_str().unwrap().to_string()).collect()
}

/// Checks every path of `endpoint` in both orders against the reference
/// comparator, in one page and in pages of 4 by index and by cursor.
async fn check_all(c: &Scim, endpoint: &str, filter: &str, rt: &ResourceType, paths: &[String]) -> usize {
    let all = c
        .get(&format!("/{endpoint}?filter={}&count=100", enc(filter)))
        .await
        .expect(200)
        .resources()
        .clone();
    let mut checked = 0;
    for path in paths {
        for order in [SortOrder::Ascending, SortOrder::Descending] {
            let Ok(spec) = SortSpec::new(path, order, &[rt]) else {
                // Not sortable by definition (a complex attribute without a
                // `value`): the server must say so too.
                c.get(&format!("/{endpoint}?sortBy={}", enc(path)))
                    .await
                    .expect_error(400, Some("invalidValue"));
                continue;
            };
            let mut expected = all.clone();
            expected.sort_by(|a, b| spec.compare(rt, a, b));
            let expected = ids(&expected);
            let order_text = if order == SortOrder::Ascending {
                "ascending"
            } else {
                "descending"
            };
            let q = format!("filter={}&sortBy={}&sortOrder={order_text}", enc(filter), enc(path));
            let one = c.get(&format!("/{endpoint}?{q}&count=100")).await.expect(200);
            assert_eq!(ids(one.resources()), expected, "{endpoint} sortBy={path} {order_text}");
            let mut by_index = Vec::new();
            for start in (1..=all.len()).step_by(4) {
                let r = c
                    .get(&format!("/{endpoint}?{q}&count=4&startIndex={start}"))
                    .await
                    .expect(200);
                by_index.extend(ids(r.resources()));
            }
            assert_eq!(by_index, expected, "{endpoint} sortBy={path} {order_text}, index pages");
            let mut by_cursor = Vec::new();
            let mut cursor = String::new();
            loop {
                let r = c
                    .get(&format!("/{endpoint}?{q}&count=4&cursor={}", enc(&cursor)))
                    .await
                    .expect(200);
                by_cursor.extend(ids(r.resources()));
                match r.json["nextCursor"].as_str() {
                    Some(next) => cursor = next.to_string(),
                    None => break,
                }
            }
            assert_eq!(
                by_cursor, expected,
                "{endpoint} sortBy={path} {order_text}, cursor pages"
            );
            checked += 1;
        }
    }
    checked
}

async fn every_attribute_of_every_schema(b: Backend) {
    let config = example();
    let registry: Registry = config.registry().unwrap();
    let srv = TestServer::start_on_with(b, |c| c.schemas = config.schemas.clone()).await;
    let c = &srv.client;

    let user_schemas = schemas_of(c, "User").await;
    let mut user_ids = Vec::new();
    for i in 0..USERS {
        let mut doc = Map::new();
        let mut schemas = Vec::new();
        for (urn, attrs, core) in &user_schemas {
            schemas.push(json!(urn));
            let part = fill(attrs, i, &["userName", "password", "groups"]);
            if *core {
                doc.extend(part);
            } else if !part.is_empty() {
                doc.insert(urn.clone(), Value::Object(part));
            }
        }
        doc.insert("schemas".into(), Value::Array(schemas));
        doc.insert(
            "userName".into(),
            json!(format!("srt-{}-{i}", ["b", "A", "a", "C"][i % 4])),
        );
        doc.insert("externalId".into(), value(&json!({"type": "string"}), i + 7));
        let r = c.post("/Users", &Value::Object(doc)).await.expect(201);
        user_ids.push(r.id());
    }
    let group_schemas = schemas_of(c, "Group").await;
    for i in 0..GROUPS {
        let mut doc = Map::new();
        let mut schemas = Vec::new();
        for (urn, attrs, core) in &group_schemas {
            schemas.push(json!(urn));
            let part = fill(attrs, i, &["displayName", "members"]);
            if *core {
                doc.extend(part);
            } else if !part.is_empty() {
                doc.insert(urn.clone(), Value::Object(part));
            }
        }
        doc.insert("schemas".into(), Value::Array(schemas));
        doc.insert(
            "displayName".into(),
            json!(format!("srt {}{i}", ["b", "A", "a", "C"][i % 4])),
        );
        let members: Vec<Value> = user_ids
            .iter()
            .skip(i)
            .take(i % 3)
            .map(|id| json!({"value": id}))
            .collect();
        doc.insert("members".into(), Value::Array(members));
        c.post("/Groups", &Value::Object(doc)).await.expect(201);
    }

    // Values the server derives when rendering cannot be sorted by.
    for (endpoint, path) in [
        ("Users", "groups"),
        ("Users", "groups.value"),
        ("Groups", "members.$ref"),
    ] {
        let r = c
            .get(&format!("/{endpoint}?sortBy={}", enc(path)))
            .await
            .expect_error(400, Some("invalidValue"));
        assert!(r.json["detail"].as_str().unwrap().contains("derives"), "{}", r.text);
    }
    c.get("/Users?sortBy=password")
        .await
        .expect_error(400, Some("invalidValue"));

    let derived = |p: &String| !(p.starts_with("groups") || p == "password" || p == "members.$ref");
    let user_paths: Vec<String> = paths(&user_schemas).into_iter().filter(derived).collect();
    let group_paths: Vec<String> = paths(&group_schemas).into_iter().filter(derived).collect();
    let checked = check_all(c, "Users", r#"userName sw "srt-""#, registry.user(), &user_paths).await
        + check_all(c, "Groups", r#"displayName sw "srt ""#, registry.group(), &group_paths).await;
    // Both orders of nearly every path: the extension's too.
    assert!(
        user_paths.iter().any(|p| p.contains("acme:2.0:User:workstation.floor")),
        "{user_paths:?}"
    );
    assert!(checked > 2 * 70, "only {checked} sorts checked");
    srv.stop().await;
}

backend_tests!(every_attribute_of_every_schema);
