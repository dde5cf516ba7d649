//! The seeded data set of the differential cases: 520 users with varied
//! (and often missing) attributes of every type, 50 groups with members
//! (some nested), and a few updates so versions and lastModified differ.
//! Deterministic: the same seed always gives the same documents.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::super::EXTENSION_URN;
use super::super::support::*;
use crate::{Kind, Load, Precondition, Store, Stored};
use chrono::{DateTime, FixedOffset, SecondsFormat};
use scim_core::members::Member;
use scim_core::schema::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub(crate) const USERS: usize = 520;
pub(crate) const GROUPS: usize = 50;
/// How many tasks create users at once: enough to overlap a backend's
/// round trips, few enough not to swamp a single-writer database.
const CREATORS: usize = 8;

/// SplitMix64: tiny, fast, and good enough to spread test data; the suite
/// must not depend on a random-number crate, and must be reproducible.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Each character upper- or lower-cased at random (Unicode mappings, so
    /// `ß` may become `SS`).
    pub fn scramble_case(&mut self, s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            if self.chance(50) {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
        }
        out
    }
}

const NAMES: &[&str] = &[
    "alice", "Bob", "çelik", "ÄNNE", "zoë", "Ωmega", "straße", "İlker", "ǅemal", "jürgen", "o'brien", "李雷", "ñandu",
    "ÉMILE", "dave", "eve", "Frank", "grace", "HEIDI", "ivan", "a_b", "50%off",
];
const FAMILY: &[&str] = &[
    "Anders",
    "brown",
    "Çay",
    "MÜLLER",
    "smith",
    "Σίσυφος",
    "de la Cruz",
    "O'Neil",
    "ng",
];
const TITLES: &[&str] = &[
    "Engineer",
    "engineer",
    "Manager",
    "Director",
    "VP of Sales",
    "Intern",
    "",
];
const DOMAINS: &[&str] = &["Example.com", "example.org", "work.example", "HOME.example"];
const EMAIL_TYPES: &[&str] = &["work", "home", "other", "Work"];
const DEPARTMENTS: &[&str] = &["R&D", "Sales", "sales", "Support", "Ops"];
const SITES: &[&str] = &[
    "Lab-North",
    "lab-north",
    "LAB-NORTH",
    "Lab-South",
    "HQ",
    "hq",
    "Remote-1",
];
const NICKS: &[&str] = &["Ace", "ace", "ACE", "çelik", "ÇELIK", "Zed", "zed ", "Omega"];
const TAGS: &[&str] = &["red", "Red", "blue", "BLUE", "green", "ÿellow", "x", "long-tag-value"];
const GROUP_NAMES: &[&str] = &[
    "Engineering",
    "sales",
    "All Staff",
    "Ωmega team",
    "ops",
    "Admins",
    "ADMINS",
    "Ünits",
];
const LEVELS: &[i64] = &[
    -5,
    0,
    1,
    2,
    3,
    10,
    42,
    1000,
    -1,
    9_007_199_254_740_993,
    9_007_199_254_740_992,
];
const SCORES: &[f64] = &[0.0, 0.5, 1.5, -2.25, 3.25159, 100.0, 1e-3, 2.5e10, -0.0625];
/// Offsets (seconds east of UTC) timestamps are written in.
const OFFSETS: &[i32] = &[0, 0, 7200, -19800, 20700, -43200, 50400, 3600];
const NANOS: &[u32] = &[0, 0, 500_000_000, 123_000_000, 999_000_000, 1_000_000, 123_456_789];
/// A few instants many users share, in different offsets.
const POPULAR: &[i64] = &[1_577_836_800, 1_623_760_200, 1_700_000_000];

/// A base64 encoding (standard alphabet, padded) of `bytes`: what `binary`
/// attributes hold. Written here so the suite needs no base64 crate.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An RFC 3339 timestamp of `secs` in a random offset and precision.
pub(crate) fn render_time(rng: &mut Rng, secs: i64, nanos: u32) -> String {
    let offset = *rng.pick(OFFSETS);
    let t = DateTime::from_timestamp(secs, nanos).expect("timestamp in range");
    let t = t.with_timezone(&FixedOffset::east_opt(offset).expect("offset in range"));
    let format = if nanos == 0 && rng.chance(50) {
        SecondsFormat::Secs
    } else {
        SecondsFormat::AutoSi
    };
    // `Z` or `+00:00` for UTC: both are RFC 3339.
    t.to_rfc3339_opts(format, rng.chance(50))
}

pub(crate) fn random_time(rng: &mut Rng) -> String {
    let secs = if rng.chance(20) {
        *rng.pick(POPULAR)
    } else {
        1_420_070_400 + rng.below(315_360_000) as i64
    };
    let nanos = *rng.pick(NANOS);
    render_time(rng, secs, nanos)
}

fn person(rng: &mut Rng) -> String {
    rng.pick(NAMES).to_string()
}

fn user_body(rng: &mut Rng, i: usize) -> Value {
    let mut b = Map::new();
    b.insert("schemas".into(), json!([USER_URN, EXTENSION_URN, ENTERPRISE_USER_URN]));
    let first = person(rng);
    let sep = *rng.pick(&[".", "_", "-", "", "@"]);
    b.insert(
        "userName".into(),
        json!(format!("{}{sep}{i}", rng.scramble_case(&first))),
    );
    let family = rng.pick(FAMILY).to_string();
    if rng.chance(80) {
        let display = if rng.chance(6) {
            String::new()
        } else {
            rng.scramble_case(&format!("{first} {family}"))
        };
        b.insert("displayName".into(), json!(display));
    }
    if rng.chance(70) {
        let mut name = Map::new();
        if rng.chance(80) {
            name.insert("givenName".into(), json!(rng.scramble_case(&first)));
        }
        if rng.chance(80) {
            name.insert("familyName".into(), json!(family));
        }
        b.insert("name".into(), Value::Object(name));
    }
    if rng.chance(60) {
        b.insert("title".into(), json!(rng.pick(TITLES)));
    }
    if rng.chance(30) {
        b.insert("nickName".into(), {
            let nick = person(rng);
            json!(rng.scramble_case(&nick))
        });
    }
    if rng.chance(80) {
        // IdPs send booleans as strings too; validation turns them into booleans.
        let v = rng.chance(50);
        let value = if rng.chance(20) {
            json!(if v { "True" } else { "false" })
        } else {
            json!(v)
        };
        b.insert("active".into(), value);
    }
    if rng.chance(70) {
        let prefix = if rng.chance(50) { "EXT" } else { "ext" };
        b.insert("externalId".into(), json!(format!("{prefix}-{}", rng.below(100))));
    }
    let emails = rng.below(4);
    if emails > 0 {
        let primary = if rng.chance(50) { Some(rng.below(emails)) } else { None };
        let mut list = Vec::new();
        for e in 0..emails {
            let mut email = Map::new();
            let local = person(rng);
            let local = rng.scramble_case(&local);
            email.insert("value".into(), json!(format!("{local}.{i}.{e}@{}", rng.pick(DOMAINS))));
            if rng.chance(80) {
                email.insert("type".into(), json!(rng.pick(EMAIL_TYPES)));
            }
            match primary {
                Some(p) if p == e => {
                    email.insert("primary".into(), json!(true));
                }
                _ if rng.chance(20) => {
                    email.insert("primary".into(), json!(false));
                }
                _ => {}
            }
            list.push(Value::Object(email));
        }
        b.insert("emails".into(), Value::Array(list));
    }
    if rng.chance(40) {
        let phones: Vec<Value> = (0..1 + rng.below(2))
            .map(|_| json!({"value": format!("+1-555-01{:02}", rng.below(100)), "type": rng.pick(&["mobile", "work"])}))
            .collect();
        b.insert("phoneNumbers".into(), Value::Array(phones));
    }
    if rng.chance(50) {
        let mut ent = Map::new();
        if rng.chance(60) {
            ent.insert("employeeNumber".into(), json!(format!("{}", 1000 + rng.below(200))));
        }
        if rng.chance(70) {
            ent.insert("department".into(), json!(rng.pick(DEPARTMENTS)));
        }
        if rng.chance(40) {
            ent.insert("manager".into(), json!({"value": format!("mgr-{}", rng.below(10))}));
        }
        b.insert(ENTERPRISE_USER_URN.into(), Value::Object(ent));
    }
    if rng.chance(75) {
        b.insert(EXTENSION_URN.into(), extension(rng));
    }
    Value::Object(b)
}

fn extension(rng: &mut Rng) -> Value {
    let mut ext = Map::new();
    if rng.chance(75) {
        let level = if rng.chance(50) {
            *rng.pick(LEVELS)
        } else {
            rng.below(60) as i64 - 20
        };
        ext.insert("level".into(), json!(level));
    }
    if rng.chance(75) {
        let score = if rng.chance(50) {
            json!(rng.pick(SCORES))
        } else if rng.chance(20) {
            // An integer in a decimal attribute.
            json!(rng.below(10))
        } else {
            json!(rng.below(400) as f64 / 8.0 - 10.0)
        };
        ext.insert("score".into(), score);
    }
    if rng.chance(75) {
        ext.insert("hiredAt".into(), json!(random_time(rng)));
    }
    if rng.chance(75) {
        ext.insert("remote".into(), json!(rng.chance(50)));
    }
    if rng.chance(60) {
        let bytes: Vec<u8> = (0..1 + rng.below(5)).map(|_| *rng.pick(b"ABCabc\x00\xff?>")).collect();
        ext.insert("badge".into(), json!(base64(&bytes)));
    }
    if rng.chance(75) {
        ext.insert("site".into(), json!(rng.pick(SITES)));
    }
    if rng.chance(75) {
        ext.insert("nickCode".into(), json!(rng.pick(NICKS)));
    }
    if rng.chance(60) {
        let tags: Vec<&str> = (0..rng.below(5)).map(|_| *rng.pick(TAGS)).collect();
        ext.insert("tags".into(), json!(tags));
    }
    Value::Object(ext)
}

/// The data set as the store holds it after setup, read back from the store.
pub(crate) struct DataSet {
    pub f: Fixture,
    /// Users as read back, and their `to_resource()` renderings.
    pub users: Vec<(Stored, Value)>,
    /// Groups as read back with members, and their renderings.
    pub groups: Vec<(Stored, Value)>,
}

impl DataSet {
    pub async fn build(store: &Arc<dyn Store>, label: &str, seed: u64) -> DataSet {
        let f = Arc::new(Fixture::new(store, label).await);
        let mut rng = Rng::new(seed);
        let bodies: Vec<Value> = (0..USERS).map(|i| user_doc(user_body(&mut rng, i))).collect();
        let mut set = tokio::task::JoinSet::new();
        for task in 0..CREATORS {
            let f = f.clone();
            let mine: Vec<(usize, Value)> = bodies
                .iter()
                .enumerate()
                .skip(task)
                .step_by(CREATORS)
                .map(|(i, b)| (i, b.clone()))
                .collect();
            set.spawn(async move {
                let mut out = Vec::new();
                for (i, doc) in mine {
                    let what = format!("differential data: create user {i} {doc}");
                    out.push((i, ok(f.try_create(Kind::User, doc, Vec::new()).await, &what)));
                }
                out
            });
        }
        let mut created: Vec<(usize, Stored)> = join_all(set).await.into_iter().flatten().collect();
        created.sort_by_key(|(i, _)| *i);
        let user_ids: Vec<String> = created.iter().map(|(_, s)| s.id.clone()).collect();

        let mut group_ids: Vec<String> = Vec::new();
        for j in 0..GROUPS {
            let name = *rng.pick(GROUP_NAMES);
            let name = format!("{} {}", rng.scramble_case(name), j % 7);
            let mut body = json!({"schemas": [GROUP_URN], "displayName": name});
            if rng.chance(50) {
                body["externalId"] = json!(format!("G-{}", rng.below(20)));
            }
            let doc =
                scim_core::validate::validate(resource_type(Kind::Group), &body, scim_core::validate::Mode::Create)
                    .expect("group body is valid");
            let mut members: Vec<Member> = (0..rng.below(41))
                .map(|_| Member::new(rng.pick(&user_ids).clone()))
                .collect();
            // Earlier groups only, so nesting never makes a cycle.
            if j > 0 && rng.chance(30) {
                for _ in 0..1 + rng.below(3) {
                    members.push(Member::new(group_ids[rng.below(j)].clone()));
                }
            }
            members.sort();
            members.dedup();
            let g = ok(
                f.try_create(Kind::Group, doc, members).await,
                &format!("differential data: create group {j}"),
            );
            group_ids.push(g.id);
        }

        // Some updates, so versions and lastModified vary.
        tick().await;
        for (n, (i, stored)) in created.iter().enumerate().filter(|(n, _)| n % 7 == 3) {
            let mut doc = stored.doc.clone();
            doc["title"] = json!(format!("Updated {i}"));
            ok(
                f.put(Kind::User, &stored.id, Precondition::Any, doc.clone()).await,
                "differential data: update",
            );
            if n % 2 == 0 {
                doc["nickName"] = json!(format!("twice{n}"));
                ok(
                    f.put(Kind::User, &stored.id, Precondition::Any, doc).await,
                    "differential data: update again",
                );
            }
        }
        for id in group_ids.iter().step_by(9) {
            ok(
                f.add_members(id, &[&user_ids[0]], Precondition::Any).await,
                "differential data: add member",
            );
        }

        let (_, mut users) = f.query_all(Kind::User, None, None).await;
        assert_eq!(users.len(), USERS, "differential data: users read back");
        // Creation order, not id order: operand pools (and so the generated
        // filters) then depend on the seed, not on the random ids.
        let position: std::collections::HashMap<&String, usize> =
            user_ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        users.sort_by_key(|s| position.get(&s.id).copied().unwrap_or(usize::MAX));
        let mut groups = Vec::new();
        for id in &group_ids {
            let g = ok(
                f.store.get(&f.ctx, Kind::Group, id, Load::WITH_MEMBERS).await,
                "differential data: read group",
            );
            groups.push(g);
        }
        let render = |list: Vec<Stored>| {
            list.into_iter()
                .map(|s| {
                    let r = s.to_resource();
                    (s, r)
                })
                .collect()
        };
        let f =
            Arc::try_unwrap(f).unwrap_or_else(|_| panic!("differential data: a creator task still holds the fixture"));
        DataSet {
            f,
            users: render(users),
            groups: render(groups),
        }
    }

    pub fn resources(&self, kind: Kind) -> &[(Stored, Value)] {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }
}
