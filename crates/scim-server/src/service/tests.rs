//! The orchestration rules that the wire cannot show deterministically:
//! PATCH retries after a concurrent write, If-Match turning that into 412,
//! member-only PATCHes without compare-and-swap, and 204 for large groups.

use super::*;
use crate::admin;
use async_trait::async_trait;
use scim_core::etag::Condition;
use scim_store::{
    AuditEvent, AuditQuery, Capabilities, Ctx, GroupRef, Load, MemberCursor, MemberPage, NewResource, Page,
    Precondition, Query, StoreError, Stored, Tenant, TokenRecord, Update,
};
use scim_store_memory::MemoryStore;
use serde_json::json;
use std::sync::Mutex;

/// A store that records updates and, while `interfere` is above zero, lets
/// another writer change the resource just before a compare-and-swap update.
struct Spy {
    inner: Arc<dyn Store>,
    interfere: Mutex<u32>,
    updates: Mutex<Vec<(Precondition, bool)>>,
}

#[async_trait]
impl Store for Spy {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn create(&self, ctx: &Ctx, kind: Kind, doc: NewResource) -> Result<Stored, StoreError> {
        self.inner.create(ctx, kind, doc).await
    }
    async fn get(&self, ctx: &Ctx, kind: Kind, id: &str, load: Load) -> Result<Stored, StoreError> {
        self.inner.get(ctx, kind, id, load).await
    }
    async fn query(&self, ctx: &Ctx, kind: Kind, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(ctx, kind, query).await
    }
    async fn update(
        &self,
        ctx: &Ctx,
        kind: Kind,
        id: &str,
        expect: Precondition,
        update: Update,
    ) -> Result<Stored, StoreError> {
        self.updates.lock().unwrap().push((expect, update.doc.is_some()));
        let interfere = {
            let mut n = self.interfere.lock().unwrap();
            let go = *n > 0 && matches!(expect, Precondition::IfMatch(_));
            if go {
                *n -= 1;
            }
            go
        };
        if interfere {
            let current = self.inner.get(ctx, kind, id, Load::default()).await?;
            let mut doc = current.doc.clone();
            let title = format!("changed {}", current.version);
            doc["title"] = json!(title);
            let other = Update {
                doc: Some(doc),
                members: Default::default(),
            };
            self.inner.update(ctx, kind, id, Precondition::Any, other).await?;
        }
        self.inner.update(ctx, kind, id, expect, update).await
    }
    async fn delete(&self, ctx: &Ctx, kind: Kind, id: &str, expect: Precondition) -> Result<(), StoreError> {
        self.inner.delete(ctx, kind, id, expect).await
    }
    async fn members(&self, ctx: &Ctx, group: &str, page: MemberCursor) -> Result<MemberPage, StoreError> {
        self.inner.members(ctx, group, page).await
    }
    async fn groups_of(&self, ctx: &Ctx, member: &str) -> Result<Vec<GroupRef>, StoreError> {
        self.inner.groups_of(ctx, member).await
    }
    async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        self.inner.create_tenant(name).await
    }
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.inner.tenants().await
    }
    async fn tenant_by_name(&self, name: &str) -> Result<Tenant, StoreError> {
        self.inner.tenant_by_name(name).await
    }
    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        self.inner.delete_tenant(id).await
    }
    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.inner.create_token(token).await
    }
    async fn token(&self, id: &str) -> Result<TokenRecord, StoreError> {
        self.inner.token(id).await
    }
    async fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.tokens(tenant).await
    }
    async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        self.inner.revoke_token(id).await
    }
    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        self.inner.touch_token(id, at).await
    }
    async fn audit(&self, tenant: &str, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        self.inner.audit(tenant, query).await
    }
}

struct Fixture {
    spy: Arc<Spy>,
    service: Service,
    ctx: Ctx,
    view: View,
}

async fn fixture(patch_response_max_members: u64) -> Fixture {
    let registry = Arc::new(Registry::builtin());
    let inner: Arc<dyn Store> = Arc::new(MemoryStore::new(registry.clone()));
    let tenant = admin::create_tenant(inner.as_ref(), "acme").await.unwrap();
    let spy = Arc::new(Spy {
        inner,
        interfere: Mutex::new(0),
        updates: Mutex::new(Vec::new()),
    });
    let mut config = Config::default();
    config.scim.patch_response_max_members = patch_response_max_members;
    let settings = Settings::new(&config, spy.as_ref());
    let store: Arc<dyn Store> = spy.clone();
    Fixture {
        spy,
        service: Service::new(store, registry, settings),
        ctx: Ctx::new(tenant.id, None, "test"),
        view: View {
            base: "https://scim.test/scim/v2".into(),
            projection: Default::default(),
        },
    }
}

fn ops(list: serde_json::Value) -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list})
}

impl Fixture {
    async fn user(&self, name: &str) -> String {
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name});
        let out = self
            .service
            .create(&self.ctx, Kind::User, &body, &self.view)
            .await
            .unwrap();
        out.doc["id"].as_str().unwrap().to_string()
    }

    async fn group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<_> = members.iter().map(|m| json!({"value": m})).collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members});
        let out = self
            .service
            .create(&self.ctx, Kind::Group, &body, &self.view)
            .await
            .unwrap();
        out.doc["id"].as_str().unwrap().to_string()
    }

    fn interfere(&self, times: u32) {
        *self.spy.interfere.lock().unwrap() = times;
        self.spy.updates.lock().unwrap().clear();
    }

    fn updates(&self) -> Vec<(Precondition, bool)> {
        self.spy.updates.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_patch_that_races_another_writer_is_reapplied_and_loses_nothing() {
    let fx = fixture(1000).await;
    let id = fx.user("racer").await;
    fx.interfere(3);
    let body = ops(json!([{"op": "replace", "path": "displayName", "value": "Racer"}]));
    let out = fx
        .service
        .patch(&fx.ctx, Kind::User, &id, &body, None, &fx.view)
        .await
        .unwrap();
    let PatchOutcome::Resource(out) = out else {
        panic!("expected the resource")
    };
    // Both writers' changes are there: the interfering title and the patch.
    assert_eq!(out.doc["displayName"], "Racer");
    assert!(out.doc["title"].as_str().unwrap().starts_with("changed"));
    let updates = fx.updates();
    assert_eq!(updates.len(), 4, "three lost races, then success: {updates:?}");
    assert!(
        updates
            .iter()
            .all(|(p, doc)| matches!(p, Precondition::IfMatch(_)) && *doc)
    );
}

#[tokio::test]
async fn with_if_match_a_race_is_412() {
    let fx = fixture(1000).await;
    let id = fx.user("careful").await;
    fx.interfere(1);
    let body = ops(json!([{"op": "replace", "path": "displayName", "value": "Careful"}]));
    let cond = Condition::parse("If-Match", "W/\"1\"").unwrap();
    let e = fx
        .service
        .patch(&fx.ctx, Kind::User, &id, &body, Some(&cond), &fx.view)
        .await
        .unwrap_err();
    assert_eq!(e.to_scim().status, 412);
}

#[tokio::test]
async fn member_only_patches_send_no_document_and_no_precondition() {
    let fx = fixture(1000).await;
    let (a, b) = (fx.user("a").await, fx.user("b").await);
    let gid = fx.group("team", &[&a]).await;
    fx.interfere(5);
    let body = ops(json!([{"op": "add", "path": "members", "value": [{"value": b}]}]));
    let out = fx
        .service
        .patch(&fx.ctx, Kind::Group, &gid, &body, None, &fx.view)
        .await
        .unwrap();
    let PatchOutcome::Resource(out) = out else {
        panic!("expected the resource")
    };
    assert_eq!(out.doc["members"].as_array().unwrap().len(), 2);
    assert_eq!(fx.updates(), vec![(Precondition::Any, false)]);
    // Removing by filter composes without the list either.
    let body = ops(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]));
    fx.service
        .patch(&fx.ctx, Kind::Group, &gid, &body, None, &fx.view)
        .await
        .unwrap();
    assert_eq!(fx.updates(), vec![(Precondition::Any, false); 2]);
}

#[tokio::test]
async fn a_patch_that_needs_the_member_list_loads_it_and_compares_and_swaps() {
    let fx = fixture(1000).await;
    let (a, b) = (fx.user("a").await, fx.user("b").await);
    let inner = fx.group("inner", &[]).await;
    let gid = fx.group("mixed", &[&a, &b, &inner]).await;
    fx.interfere(0);
    let body = ops(json!([{"op": "remove", "path": "members[type eq \"Group\"]"}]));
    let out = fx
        .service
        .patch(&fx.ctx, Kind::Group, &gid, &body, None, &fx.view)
        .await
        .unwrap();
    let PatchOutcome::Resource(out) = out else {
        panic!("expected the resource")
    };
    let mut left: Vec<&str> = out.doc["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    left.sort();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort();
    assert_eq!(left, want);
    assert!(
        matches!(fx.updates()[..], [(Precondition::IfMatch(_), false)]),
        "{:?}",
        fx.updates()
    );
}

#[tokio::test]
async fn a_group_above_the_limit_answers_no_content_unless_members_are_excluded() {
    let fx = fixture(2).await;
    let ids = [
        fx.user("a").await,
        fx.user("b").await,
        fx.user("c").await,
        fx.user("d").await,
    ];
    let gid = fx.group("big", &[&ids[0], &ids[1], &ids[2]]).await;
    let body = ops(json!([{"op": "add", "path": "members", "value": [{"value": ids[3]}]}]));
    let out = fx
        .service
        .patch(&fx.ctx, Kind::Group, &gid, &body, None, &fx.view)
        .await
        .unwrap();
    assert!(matches!(out, PatchOutcome::NoContent { version: 2, .. }), "{out:?}");
    let slim = View {
        projection: scim_core::projection::Projection::parse(None, Some("members")).unwrap(),
        ..fx.view.clone()
    };
    let body = ops(json!([{"op": "replace", "path": "displayName", "value": "Big"}]));
    let out = fx
        .service
        .patch(&fx.ctx, Kind::Group, &gid, &body, None, &slim)
        .await
        .unwrap();
    let PatchOutcome::Resource(out) = out else {
        panic!("expected the resource")
    };
    assert_eq!(out.doc["displayName"], "Big");
    assert!(out.doc.get("members").is_none());
}

#[tokio::test]
async fn a_patch_that_changes_no_attribute_is_still_one_mutation_without_a_document() {
    let fx = fixture(1000).await;
    let id = fx.user("same").await;
    fx.interfere(3);
    // A password in the default (discard) mode changes no stored attribute.
    let body = ops(json!([{"op": "replace", "path": "password", "value": "n3w!"}]));
    let out = fx
        .service
        .patch(&fx.ctx, Kind::User, &id, &body, None, &fx.view)
        .await
        .unwrap();
    let PatchOutcome::Resource(out) = out else {
        panic!("expected the resource")
    };
    assert_eq!(out.version, 2);
    assert_eq!(fx.updates(), vec![(Precondition::Any, false)]);
}

#[test]
fn rendering_moves_the_document_into_the_same_resource_as_to_resource() {
    let at = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:00:00.123Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let user = Stored {
        kind: Kind::User,
        id: "u-1".into(),
        version: 3,
        created: at,
        modified: at + chrono::Duration::milliseconds(5),
        doc: json!({
            "userName": "bjensen",
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "name": {"givenName": "Barbara"},
            "emails": [{"value": "b@example.com", "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "x"},
        }),
        members: None,
    };
    let group = Stored {
        kind: Kind::Group,
        id: "g-1".into(),
        version: 1,
        created: at,
        modified: at,
        doc: json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"}),
        members: Some(vec![
            scim_core::members::Member {
                value: "u-1".into(),
                kind: Some(scim_core::members::MemberKind::User),
            },
            scim_core::members::Member {
                value: "g-2".into(),
                kind: None,
            },
        ]),
    };
    let empty_group = Stored {
        members: Some(Vec::new()),
        doc: json!("not an object"),
        ..group.clone()
    };
    for stored in [user, group, empty_group] {
        let expected = stored.to_resource();
        let got = read::into_resource(stored);
        // Equal values, and the same members in the same order.
        assert_eq!(got, expected);
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }
}

/// The extension of `service_with_every_returned`.
const RETURNED_URN: &str = "urn:example:params:scim:schemas:extension:returned:2.0:User";

/// A service whose users carry an extension with every `returned` kind, a
/// complex attribute that is `always` with a `never` sub-attribute, one with
/// `never` and `request` sub-attributes, an attribute named `id` and a
/// decimal.
fn service_with_every_returned() -> Service {
    let mut registry = Registry::builtin();
    let ext = json!({
        "id": RETURNED_URN,
        "name": "Returned",
        "attributes": [
            {"name": "secretCode", "type": "string", "returned": "never"},
            {"name": "onRequest", "type": "string", "returned": "request"},
            {"name": "badge", "type": "complex", "returned": "always", "subAttributes": [
                {"name": "code", "type": "string"},
                {"name": "hidden", "type": "string", "returned": "never"}
            ]},
            {"name": "card", "type": "complex", "subAttributes": [
                {"name": "number", "type": "string"},
                {"name": "pin", "type": "string", "returned": "never"},
                {"name": "note", "type": "string", "returned": "request"}
            ]},
            {"name": "id", "type": "string"},
            {"name": "score", "type": "decimal"}
        ]
    });
    registry.add_extension("User", &ext, false).unwrap();
    let registry = Arc::new(registry);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(registry.clone()));
    let settings = Settings::new(&Config::default(), store.as_ref());
    Service::new(store, registry, settings)
}

/// `ListPage::push_user` and GET's `text::user_json` give, byte for byte,
/// what `render_with_groups` gives under the default projection, or
/// decline: every document here either renders the same both ways or is
/// one the text path must leave to `Value` (and does).
#[tokio::test]
async fn a_user_rendered_from_its_text_is_the_user_rendered_through_value() {
    let f = fixture(1000).await;
    let service = service_with_every_returned();
    let rt = service.rt(Kind::User);
    let at = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:00:00.123Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let user = "urn:ietf:params:scim:schemas:core:2.0:User";
    let same = [
        json!({"schemas": [user], "userName": "bjensen", "name": {"givenName": "B", "familyName": "J"},
               "active": true, "emails": [{"value": "b@example.com", "type": "work", "primary": true}]}),
        json!({"userName": "schemas-last", "schemas": [user]}),
        json!({"schemas": [user, ENT], "userName": "ent", ENT: {"department": "R&D", "manager": {"value": "m-1"}}}),
        json!({"schemas": [user], "userName": "esc", "displayName": "Bob \"the\" \\ é\n\t\u{1}"}),
        // Sub-attributes are matched case-insensitively and kept as spelled.
        json!({"schemas": [user], "userName": "subcase", "emails": [{"VALUE": "x@example.com"}]}),
        json!({"schemas": [user], "userName": "single", "name": {"formatted": "S"}}),
        // `always` keeps the whole value, `never` sub-attributes included.
        json!({"schemas": [user, RETURNED_URN], "userName": "always", RETURNED_URN: {"badge": {"code": "c", "hidden": "h"}}}),
        json!({"schemas": [user, RETURNED_URN], "userName": "inner-id", RETURNED_URN: {"id": "inner", "card": {"number": "1"}}}),
        json!({"schemas": [user, RETURNED_URN], "userName": "decimal", RETURNED_URN: {"score": 0.30000000000000004}}),
    ];
    let declined = [
        json!({"schemas": [user], "userName": "pw", "password": "secret"}),
        json!({"schemas": [user], "USERNAME": "upper"}),
        json!({"schemas": [user], "userName": "unknown", "favourite": 1}),
        json!({"schemas": [user], "userName": "badsub", "emails": [{"value": "x", "colour": "red"}]}),
        json!({"schemas": [user], "userName": "emptyarray", "emails": []}),
        json!({"schemas": [user], "userName": "emptyobject", "name": {}}),
        json!({"schemas": [user], "userName": "scalar", "name": "not an object"}),
        json!({"schemas": [user], "userName": "scalars", "emails": ["x"]}),
        json!({"schemas": [user], "userName": "nested", "emails": [[{"value": "x"}]]}),
        json!({"schemas": [user], "userName": "groups", "groups": [{"value": "g"}]}),
        json!({"schemas": [user], "userName": "id", "id": "other"}),
        json!({"schemas": [user], "userName": "meta", "meta": {"resourceType": "User"}}),
        json!({"schemas": [user, ENT], "userName": "entempty", ENT: {}}),
        json!({"schemas": [user, ENT], "userName": "entunknown", ENT: {"colour": "red"}}),
        json!({"schemas": [user, ENT], "userName": "entcase", "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"department": "x"}}),
        json!({"schemas": [user, ENT], "userName": "entsubcase", ENT: {"DEPARTMENT": "x"}}),
        json!({"schemas": [user, RETURNED_URN], "userName": "never", RETURNED_URN: {"secretCode": "s"}}),
        json!({"schemas": [user, RETURNED_URN], "userName": "request", RETURNED_URN: {"onRequest": "r"}}),
        json!({"schemas": [user, RETURNED_URN], "userName": "subnever", RETURNED_URN: {"card": {"number": "1", "pin": "2"}}}),
        json!({"schemas": [user, RETURNED_URN], "userName": "subrequest", RETURNED_URN: {"card": {"note": "n"}}}),
    ];
    let groups = vec![
        GroupRef {
            id: "g-1".into(),
            display: Some("Admins \"A\"".into()),
            direct: true,
        },
        GroupRef {
            id: "g-2".into(),
            display: None,
            direct: false,
        },
    ];
    let stored_of = |doc: &serde_json::Value| Stored {
        kind: Kind::User,
        id: "u-1".into(),
        version: 7,
        created: at,
        modified: at + chrono::Duration::milliseconds(9),
        doc: doc.clone(),
        members: None,
    };
    let text_of = |doc: &serde_json::Value| scim_store::StoredText::of(stored_of(doc));
    let check = scim_core::projection::UnchangedByDefault::for_rendering(rt);
    // The user pushed after another one, or `None` (and nothing pushed);
    // rendered without a verdict and with the one a store would keep, the
    // same either way.
    let render = |item: &scim_store::StoredText, groups: &[GroupRef]| {
        let mut with_verdict = item.clone();
        with_verdict.verdict = Some(check.verdict(&item.doc));
        let [without, with] = [item, &with_verdict].map(|item| {
            let mut page = ListPage::index(1, 1, 2).unwrap();
            page.push_value(&json!({"before": 1})).unwrap();
            let pushed = page.push_user(&check, item, groups, &text::Location::new(&f.view.base, rt));
            let texts: Vec<String> = page.resources().map(str::to_string).collect();
            assert_eq!(texts.len(), 1 + usize::from(pushed));
            assert_eq!(texts[0], r#"{"before":1}"#);
            let listed = pushed.then(|| texts[1].clone());
            let alone = text::user_json(&check, item, groups, &text::Location::new(&f.view.base, rt));
            assert_eq!(alone, listed, "GET renders {} as a list page does", item.doc);
            listed
        });
        assert_eq!(without, with, "{}", item.doc);
        without
    };
    for doc in &same {
        for groups in [Vec::new(), groups.clone()] {
            let want = service
                .render_with_groups(&f.ctx, stored_of(doc), &f.view, Some(groups.clone()))
                .await
                .unwrap()
                .doc;
            let got = render(&text_of(doc), &groups).unwrap_or_else(|| panic!("the text path declined {doc}"));
            assert_eq!(got, serde_json::to_string(&want).unwrap(), "{doc}");
        }
    }
    for doc in &declined {
        assert!(
            render(&text_of(doc), &groups).is_none(),
            "the text path must leave {doc} to Value"
        );
    }
    // Text that is not a JSON object, or has a name written with escapes
    // or twice, is declined too.
    for raw in [
        "[1]",
        "{\"userName\":",
        "{\"user\\u004eame\":\"x\"}",
        "{\"userName\":\"a\",\"userName\":\"b\"}",
    ] {
        let mut item = text_of(&json!({}));
        item.doc = raw.to_string();
        assert!(render(&item, &[]).is_none(), "{raw}");
    }
}

/// A list of users under the default projection goes through the text
/// path where it can and through `Value` where it cannot: a user holding a
/// password (stored before hashing was on, say) lists without it.
#[tokio::test]
async fn a_list_of_users_renders_each_user_either_way_and_never_a_password() {
    let f = fixture(1000).await;
    let plain = f.user("plain").await;
    let hashed = f.user("with-password").await;
    let mut doc = f
        .spy
        .inner
        .get(&f.ctx, Kind::User, &hashed, Load::default())
        .await
        .unwrap()
        .doc;
    doc["password"] = json!("stored-secret");
    f.spy
        .inner
        .update(
            &f.ctx,
            Kind::User,
            &hashed,
            Precondition::Any,
            Update {
                doc: Some(doc),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let g = f.group("team", &[&plain]).await;
    let page = f
        .service
        .list(&f.ctx, Scope::One(Kind::User), &ListParams::default(), &f.view)
        .await
        .unwrap();
    let users: Vec<serde_json::Value> = page.resources().map(|r| serde_json::from_str(r).unwrap()).collect();
    assert_eq!(users.len(), 2);
    let body: serde_json::Value = serde_json::from_str(&page.clone().body().unwrap()).unwrap();
    assert_eq!(body["totalResults"], json!(2));
    assert_eq!(body["Resources"], json!(users));
    for (u, raw) in users.iter().zip(page.resources()) {
        let id = u["id"].as_str().unwrap();
        assert!(u.get("password").is_none(), "{u}");
        let one = f.service.get(&f.ctx, Kind::User, id, &f.view).await.unwrap().json;
        assert_eq!(raw, one, "a listed user is, byte for byte, the user GET returns");
    }
    let listed_plain = users.iter().find(|u| u["id"] == json!(plain)).unwrap();
    assert_eq!(listed_plain["groups"][0]["value"], json!(g));
}

/// `ListPage::body` writes a page exactly as serde writes the same
/// `ListResponse` of `Value`s: with and without resources, index or
/// cursor paged, with strings that need escaping; its resources are each
/// of those `Value`s' serialisation; and it refuses to end a page short.
#[test]
fn a_list_body_is_the_list_response_serde_writes() {
    use scim_core::messages::ListResponse;
    let docs = vec![
        json!({"id": "a", "emails": [{"value": "a@example.com"}], "n": 0.1}),
        json!({"id": "b\"c", "displayName": "é\n"}),
    ];
    let pages = [
        ListResponse::new(2, 1, docs.clone()),
        ListResponse::new(7, 3, Vec::new()),
        ListResponse {
            next_cursor: Some("next\"1".into()),
            previous_cursor: Some("prev".into()),
            start_index: None,
            ..ListResponse::new(9, 1, docs.clone())
        },
    ];
    for want in pages {
        let count = want.resources.len();
        let mut page = match want.start_index {
            Some(start) => ListPage::index(want.total_results, start, count),
            None => ListPage::cursor(
                want.total_results,
                want.next_cursor.clone(),
                want.previous_cursor.clone(),
                count,
            ),
        }
        .unwrap();
        for doc in &want.resources {
            // Every resource the envelope announced, and no fewer.
            assert!(page.clone().body().is_err());
            page.push_value(doc).unwrap();
        }
        let each: Vec<String> = want
            .resources
            .iter()
            .map(|d| serde_json::to_string(d).unwrap())
            .collect();
        assert_eq!(page.resources().collect::<Vec<_>>(), each);
        assert_eq!(page.body().unwrap(), serde_json::to_string(&want).unwrap());
    }
}
