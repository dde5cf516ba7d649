//! Custom schema extensions, from the example shipped in
//! `deploy/extensions/`, on every backend: listed in /Schemas and
//! /ResourceTypes, validated, filterable, sortable, projectable, and
//! patchable by full URN path.

// Test code: a failed unwrap or assertion is a failed test (clippy.toml
// allows these in #[test] functions; the helpers here need it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scim_server::Config;
use serde_json::{Value, json};
use std::path::PathBuf;

const ACME_USER: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";
const ACME_GROUP: &str = "urn:example:params:scim:schemas:extension:acme:2.0:Group";

/// The shipped example configuration, as an operator would load it.
fn example() -> Config {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/extensions/scim-server.toml");
    Config::load(Some(&path)).unwrap()
}

async fn start(b: Backend) -> TestServer {
    let extensions = example().schemas;
    assert_eq!(extensions.extensions.len(), 2);
    TestServer::start_on_with(b, |c| c.schemas = extensions).await
}

fn acme_user(name: &str, badge: i64, clearance: &str, floor: i64) -> Value {
    let mut u = user(name);
    u["schemas"] = json!([USER_URN, ACME_USER]);
    u[ACME_USER] = json!({
        "badgeNumber": badge,
        "contractor": badge % 2 == 0,
        "startDate": format!("2024-0{}-01T09:00:00Z", badge % 9 + 1),
        "clearance": clearance,
        "workstation": {"building": "HQ", "floor": floor}
    });
    u
}

async fn discovery_lists_the_extensions(b: Backend) {
    let srv = start(b).await;
    let c = srv.client_with(None);
    let schemas = c.get("/Schemas").await.expect(200);
    let ids: Vec<&str> = schemas.resources().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&ACME_USER) && ids.contains(&ACME_GROUP), "{ids:?}");
    let s = c.get(&format!("/Schemas/{ACME_USER}")).await.expect(200);
    let names: Vec<&str> = s.json["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["badgeNumber", "contractor", "startDate", "clearance", "workstation"]
    );
    let rt = c.get("/ResourceTypes/User").await.expect(200);
    assert!(
        rt.json["schemaExtensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["schema"] == ACME_USER && e["required"] == false),
        "{}",
        rt.text
    );
    let rt = c.get("/ResourceTypes/Group").await.expect(200);
    assert_eq!(rt.json["schemaExtensions"][0]["schema"], ACME_GROUP, "{}", rt.text);
    srv.stop().await;
}

async fn values_are_validated(b: Backend) {
    let srv = start(b).await;
    let c = &srv.client;
    let created = c.post("/Users", &acme_user("ext-ok", 7, "secret", 3)).await.expect(201);
    assert_eq!(created.json[ACME_USER]["badgeNumber"], 7);
    assert_eq!(created.json[ACME_USER]["workstation"]["floor"], 3);
    // Wrong types and unknown attributes of the extension are rejected.
    let mut bad = acme_user("ext-bad", 1, "public", 1);
    bad[ACME_USER]["badgeNumber"] = json!("seven");
    c.post("/Users", &bad).await.expect_error(400, Some("invalidValue"));
    let mut bad = acme_user("ext-bad", 1, "public", 1);
    bad[ACME_USER]["shoeSize"] = json!(44);
    c.post("/Users", &bad).await.expect_error(400, Some("invalidValue"));
    // A group extension on a user is not an extension of users.
    let mut bad = user("ext-wrong-type");
    bad[ACME_GROUP] = json!({"costCenter": "x"});
    c.post("/Users", &bad).await.expect_error(400, Some("invalidValue"));
    // Groups take theirs.
    let mut g = group("Ext group", &[]);
    g["schemas"] = json!([GROUP_URN, ACME_GROUP]);
    g[ACME_GROUP] = json!({"costCenter": "CC-9", "mailEnabled": true});
    let g = c.post("/Groups", &g).await.expect(201);
    assert_eq!(g.json[ACME_GROUP]["costCenter"], "CC-9");
    srv.stop().await;
}

async fn filter_sort_project_and_patch(b: Backend) {
    let srv = start(b).await;
    let c = &srv.client;
    for (name, badge, clearance, floor) in [
        ("ext-a", 30, "secret", 2),
        ("ext-b", 10, "public", 5),
        ("ext-c", 20, "Secret", 1),
        ("ext-d", 40, "internal", 4),
    ] {
        c.post("/Users", &acme_user(name, badge, clearance, floor))
            .await
            .expect(201);
    }
    c.create_user("ext-plain").await;
    let names = |r: &Resp| -> Vec<String> {
        r.resources()
            .iter()
            .map(|u| u["userName"].as_str().unwrap().to_string())
            .collect()
    };
    // Filters by full URN path; strings compare case-insensitively.
    let cases: &[(String, &[&str])] = &[
        (format!(r#"{ACME_USER}:clearance eq "secret""#), &["ext-a", "ext-c"]),
        (format!("{ACME_USER}:badgeNumber gt 15"), &["ext-a", "ext-c", "ext-d"]),
        (format!("{ACME_USER}:workstation.floor le 2"), &["ext-a", "ext-c"]),
        (
            format!("{ACME_USER}:contractor eq true"),
            &["ext-a", "ext-b", "ext-c", "ext-d"],
        ),
        (
            format!(r#"{ACME_USER}:startDate ge "2024-04-01T00:00:00Z""#),
            &["ext-a", "ext-d"],
        ),
        (
            format!("{ACME_USER}:badgeNumber pr"),
            &["ext-a", "ext-b", "ext-c", "ext-d"],
        ),
        (
            format!("not ({ACME_USER}:badgeNumber pr) and userName sw \"ext\""),
            &["ext-plain"],
        ),
        // The short name resolves to the extension too.
        ("badgeNumber eq 10".to_string(), &["ext-b"]),
    ];
    for (filter, expected) in cases {
        let r = c
            .get(&format!("/Users?filter={}&sortBy=userName", enc(filter)))
            .await
            .expect(200);
        assert_eq!(names(&r), *expected, "{filter}");
    }
    // Sort by extension attributes; users without one sort last.
    for (by, order, expected) in [
        (
            format!("{ACME_USER}:badgeNumber"),
            "ascending",
            ["ext-b", "ext-c", "ext-a", "ext-d", "ext-plain"],
        ),
        (
            format!("{ACME_USER}:badgeNumber"),
            "descending",
            ["ext-plain", "ext-d", "ext-a", "ext-c", "ext-b"],
        ),
        (
            format!("{ACME_USER}:workstation.floor"),
            "ascending",
            ["ext-c", "ext-a", "ext-d", "ext-b", "ext-plain"],
        ),
    ] {
        let r = c
            .get(&format!(
                "/Users?filter={}&sortBy={}&sortOrder={order}",
                enc(r#"userName sw "ext-""#),
                enc(&by)
            ))
            .await
            .expect(200);
        assert_eq!(names(&r), expected, "{by} {order}");
    }
    // Projection: the whole extension, one attribute of it, or without it.
    let r = c
        .get(&format!(
            "/Users?filter={}&attributes={}",
            enc(r#"userName eq "ext-a""#),
            enc(ACME_USER)
        ))
        .await
        .expect(200);
    let u = &r.resources()[0];
    assert!(u.get("userName").is_none() && u[ACME_USER]["badgeNumber"] == 30, "{u}");
    let r = c
        .get(&format!(
            "/Users?filter={}&attributes={}",
            enc(r#"userName eq "ext-a""#),
            enc(&format!("{ACME_USER}:workstation.floor"))
        ))
        .await
        .expect(200);
    assert_eq!(r.resources()[0][ACME_USER], json!({"workstation": {"floor": 2}}));
    let r = c
        .get(&format!(
            "/Users?filter={}&excludedAttributes={}",
            enc(r#"userName eq "ext-a""#),
            enc(ACME_USER)
        ))
        .await
        .expect(200);
    assert!(r.resources()[0].get(ACME_USER).is_none());
    // PATCH by full URN path.
    let id = c.filter("Users", r#"userName eq "ext-b""#).await.resources()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = patch(json!([
        {"op": "replace", "path": format!("{ACME_USER}:workstation.floor"), "value": 9},
        {"op": "replace", "path": format!("{ACME_USER}:clearance"), "value": "internal"},
        {"op": "remove", "path": format!("{ACME_USER}:contractor")}
    ]));
    let r = c.patch(&format!("/Users/{id}"), &body).await.expect(200);
    assert_eq!(r.json[ACME_USER]["workstation"], json!({"building": "HQ", "floor": 9}));
    assert_eq!(r.json[ACME_USER]["clearance"], "internal");
    assert!(r.json[ACME_USER].get("contractor").is_none(), "{}", r.text);
    let bad = patch(json!([{"op": "replace", "path": format!("{ACME_USER}:badgeNumber"), "value": "x"}]));
    c.patch(&format!("/Users/{id}"), &bad)
        .await
        .expect_error(400, Some("invalidValue"));
    let r = c
        .filter("Users", &format!("{ACME_USER}:workstation.floor eq 9"))
        .await
        .expect(200);
    assert_eq!(names(&r), ["ext-b"]);
    srv.stop().await;
}

backend_tests!(
    discovery_lists_the_extensions,
    values_are_validated,
    filter_sort_project_and_patch,
);

/// A broken extension file stops start-up with the key and the file named.
#[test]
fn a_bad_extension_file_is_a_configuration_error() {
    let dir = TempDir::new("scim-ext");
    let file = dir.path().join("broken.json");
    std::fs::write(&file, r#"{"id": "not-a-urn", "attributes": []}"#).unwrap();
    let toml = dir.path().join("scim.toml");
    std::fs::write(
        &toml,
        "[[schemas.extensions]]\nresource_type = \"User\"\nfile = \"broken.json\"\n",
    )
    .unwrap();
    let e = Config::load(Some(&toml)).unwrap_err().to_string();
    assert!(e.contains("schemas.extensions") && e.contains("broken.json"), "{e}");
    std::fs::write(&file, "{").unwrap();
    let e = Config::load(Some(&toml)).unwrap_err().to_string();
    assert!(e.contains("not JSON"), "{e}");
}
