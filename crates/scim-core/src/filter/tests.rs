//! The filter table: each row is a filter and what it must do against the
//! fixture below. `Match` rows also check that the filter passes `check`
//! and survives a print/parse round trip.

use super::*;
use crate::error::ScimType;
use crate::schema::{Registry, ResourceType};
use serde_json::{Value, json};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const TEST_EXT: &str = "urn:example:params:scim:schemas:extension:test:2.0:User";

enum Expect {
    /// Parses, passes `check` for User, and matches exactly these fixtures.
    Match(&'static [&'static str]),
    /// Parses and prints back as this canonical text.
    Prints(&'static str),
    /// A syntax error whose detail names this (0-based character) position.
    Syntax(usize),
    /// Parses, but `check` rejects it for User (and it matches nothing).
    Rejected,
}
use Expect::*;

fn registry() -> Registry {
    let mut reg = Registry::builtin();
    let ext = json!({
        "id": TEST_EXT,
        "name": "Test",
        "attributes": [
            {"name": "level", "type": "integer"},
            {"name": "score", "type": "decimal"},
            {"name": "hiredAt", "type": "dateTime"},
            {"name": "badge", "type": "binary", "caseExact": true},
            {"name": "tags", "type": "string", "multiValued": true},
            {"name": "code", "type": "string", "caseExact": true}
        ]
    });
    reg.add_extension("User", &ext, false).unwrap();
    reg
}

/// Eight users, keyed by the label `Match` rows list (in this order; the
/// map keeps insertion order). Heidi's keys are in non-canonical case on
/// purpose.
fn fixture() -> Vec<(String, Value)> {
    let users = json!({
        "alice": {
            "id": "a1", "externalId": "EXT-1", "userName": "alice",
            "name": {"givenName": "Alice", "familyName": "Smith", "formatted": "Alice Smith"},
            "displayName": "Alice Smith", "nickName": "Al", "title": "Senior Engineer",
            "userType": "Employee", "active": true, "profileUrl": "https://example.com/Alice",
            "emails": [{"value": "alice@example.com", "type": "work", "primary": true},
                       {"value": "alice@home.org", "type": "home"}],
            "phoneNumbers": [{"value": "+1-555-0100", "type": "work"}],
            "x509Certificates": [{"value": "TUlJQ0FB"}],
            "meta": {"resourceType": "User", "version": "W/\"1\"",
                     "created": "2024-01-01T08:00:00Z", "lastModified": "2024-03-01T12:00:00Z"},
            ENT: {"employeeNumber": "701984", "department": "Engineering", "costCenter": "4130",
                  "manager": {"value": "b2", "displayName": "Bob"}},
            TEST_EXT: {"level": 3, "score": 4.5, "hiredAt": "2020-06-01T09:00:00+02:00", "badge": "QUJD",
                       "tags": ["admin", "dev"], "code": "AbC"}
        },
        "bob": {
            "id": "b2", "externalId": "ext-1", "userName": "Bob",
            "name": {"givenName": "Bob", "familyName": "Jones"}, "displayName": "Bob Jones",
            "title": "Manager", "userType": "Contractor", "active": false,
            "emails": [{"value": "BOB@Example.COM", "type": "Work", "primary": true}],
            "meta": {"resourceType": "user", "created": "2024-01-01T10:00:00+02:00",
                     "lastModified": "2024-06-15T00:00:00Z"},
            ENT: {"employeeNumber": "42", "department": "Sales", "costCenter": "5000"},
            TEST_EXT: {"level": 10, "score": 10, "hiredAt": "2019-01-01T00:00:00Z", "badge": "qujd",
                       "tags": ["sales"], "code": "abc"}
        },
        "carol": {
            "id": "c3", "userName": "carol", "name": {"givenName": "Carol", "familyName": ""},
            "displayName": "Carol", "nickName": "", "title": null, "active": "True", "emails": [],
            "meta": {"created": "2023-12-31T23:59:59Z", "lastModified": "2024-01-15T00:00:00-05:00"},
            ENT: {"department": "engineering", "manager": {"value": "a1"}},
            TEST_EXT: {"level": 0, "score": 0.0, "tags": []}
        },
        "dave": {
            "id": "d4", "externalId": "EXT-4", "userName": "dave", "name": {"givenName": "Dave"},
            "displayName": "Dave", "active": "false",
            "emails": [{"value": "dave@example.org", "type": "other", "primary": false}],
            "meta": {"created": "2024-02-01T00:00:00Z", "lastModified": "not a date"},
            ENT: {"employeeNumber": "0042"},
            TEST_EXT: {"level": -5, "score": -0.5, "hiredAt": "2021-03-01T00:00:00Z"}
        },
        "emile": {
            "id": "e5", "userName": "Émile", "name": {"givenName": "Émile", "familyName": "Zola"},
            "displayName": "Émile Zola", "title": "Directeur", "active": true,
            "emails": [{"value": "emile@example.fr", "type": "work"},
                       {"value": "e@perso.fr", "type": "home", "primary": true}],
            "meta": {"created": "2024-05-01T00:00:00+02:00", "lastModified": "2024-05-01T00:00:00+02:00"},
            ENT: {"department": "Engineering", "costCenter": "4130"},
            TEST_EXT: {"level": 7, "score": 7.25}
        },
        "frank": {
            "id": "f6", "userName": "frank", "displayName": "Frank \"Tank\" O'Neil\\Jr",
            "title": "Lead\nOps", "nickName": "Franky/Fr", "active": true,
            "emails": [{"value": "frank@example.com", "type": "work"},
                       {"value": "frank@example.org", "type": "work", "primary": true}],
            "x509Certificates": [{"value": "QUJDRA=="}],
            "meta": {"created": "2024-01-01T08:00:00.500Z", "lastModified": "2024-07-01T00:00:00Z"},
            TEST_EXT: {"level": 9_007_199_254_740_993_i64, "score": 1e3, "code": "ABC"}
        },
        "grace": {
            "id": "g7", "externalId": "EXT-7", "userName": "grace",
            "name": {"givenName": "Grace", "familyName": "Hopper", "honorificPrefix": "Rear Admiral"},
            "displayName": "😀 Grace", "title": "Engineer", "active": true,
            "emails": [{"value": "grace@navy.mil", "type": "work", "primary": true}],
            "roles": [{"value": "admin"}],
            "meta": {"created": "2022-01-01T00:00:00Z", "lastModified": "2024-03-01T12:00:00Z"},
            ENT: {"department": "Engineering", "manager": {"value": "a1", "displayName": "Alice"}},
            TEST_EXT: {"level": 9_007_199_254_740_992_i64, "score": 2.5}
        },
        "heidi": {
            "username": "heidi", "ACTIVE": true,
            "Emails": [{"Value": "heidi@example.com", "TYPE": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Department": "HR"}
        }
    });
    match users {
        Value::Object(map) => map.into_iter().collect(),
        _ => unreachable!(),
    }
}

const ALL: &[&str] = &["alice", "bob", "carol", "dave", "emile", "frank", "grace", "heidi"];
const NONE: &[&str] = &[];

#[rustfmt::skip]
const CASES: &[(&str, Expect)] = &[
    // string, caseExact false
    (r#"userName eq "alice""#, Match(&["alice"])),
    (r#"userName eq "ALICE""#, Match(&["alice"])),
    (r#"userName eq "bob""#, Match(&["bob"])),
    (r#"userName ne "bob""#, Match(&["alice", "carol", "dave", "emile", "frank", "grace", "heidi"])),
    (r#"userName co "a""#, Match(&["alice", "carol", "dave", "frank", "grace"])),
    (r#"userName sw "A""#, Match(&["alice"])),
    (r#"userName ew "E""#, Match(&["alice", "dave", "emile", "grace"])),
    (r#"userName gt "dave""#, Match(&["emile", "frank", "grace", "heidi"])),
    (r#"userName ge "dave""#, Match(&["dave", "emile", "frank", "grace", "heidi"])),
    (r#"userName lt "carol""#, Match(&["alice", "bob"])),
    (r#"userName le "carol""#, Match(&["alice", "bob", "carol"])),
    (r#"userName eq "émile""#, Match(&["emile"])),
    (r#"userName eq "ÉMILE""#, Match(&["emile"])),
    (r#"USERNAME EQ "Alice""#, Match(&["alice"])),
    (r#"username Eq "heidi""#, Match(&["heidi"])),
    (r#"userName pr"#, Match(ALL)),
    (r#"userName PR"#, Match(ALL)),
    (r#"userName eq null"#, Match(NONE)),
    // string, caseExact true
    (r#"externalId eq "EXT-1""#, Match(&["alice"])),
    (r#"externalId eq "ext-1""#, Match(&["bob"])),
    (r#"externalId co "EXT""#, Match(&["alice", "dave", "grace"])),
    (r#"externalId sw "ext""#, Match(&["bob"])),
    (r#"externalId ew "-1""#, Match(&["alice", "bob"])),
    (r#"externalId gt "EXT-1""#, Match(&["bob", "dave", "grace"])),
    (r#"externalId lt "EXT-4""#, Match(&["alice"])),
    (r#"externalId ne "EXT-1""#, Match(&["bob", "carol", "dave", "emile", "frank", "grace", "heidi"])),
    (r#"externalId pr"#, Match(&["alice", "bob", "dave", "grace"])),
    (r#"id eq "a1""#, Match(&["alice"])),
    (r#"id eq "A1""#, Match(NONE)),
    (r#"id le "b2""#, Match(&["alice", "bob"])),
    (r#"code eq "abc""#, Match(&["bob"])),
    (r#"code co "b""#, Match(&["alice", "bob"])),
    (r#"meta.resourceType eq "User""#, Match(&["alice"])),
    (r#"meta.version eq "W/\"1\"""#, Match(&["alice"])),
    // boolean
    (r#"active eq true"#, Match(&["alice", "carol", "emile", "frank", "grace", "heidi"])),
    (r#"active eq false"#, Match(&["bob", "dave"])),
    (r#"active ne true"#, Match(&["bob", "dave"])),
    (r#"active eq "TRUE""#, Match(&["alice", "carol", "emile", "frank", "grace", "heidi"])),
    (r#"active eq "false""#, Match(&["bob", "dave"])),
    (r#"active eq False"#, Match(&["bob", "dave"])),
    (r#"active pr"#, Match(ALL)),
    (r#"active eq null"#, Match(NONE)),
    (r#"emails.primary eq true"#, Match(&["alice", "bob", "emile", "frank", "grace"])),
    (r#"emails.primary eq false"#, Match(&["dave"])),
    (r#"active gt true"#, Rejected),
    (r#"active co "t""#, Rejected),
    (r#"active eq 1"#, Rejected),
    (r#"active eq "yes""#, Rejected),
    (r#"emails.primary eq "yes""#, Rejected),
    // integer
    (r#"level eq 3"#, Match(&["alice"])),
    (r#"level gt 3"#, Match(&["bob", "emile", "frank", "grace"])),
    (r#"level ge 3"#, Match(&["alice", "bob", "emile", "frank", "grace"])),
    (r#"level lt 0"#, Match(&["dave"])),
    (r#"level le 0"#, Match(&["carol", "dave"])),
    (r#"level ne 3"#, Match(&["bob", "carol", "dave", "emile", "frank", "grace", "heidi"])),
    (r#"level eq -5"#, Match(&["dave"])),
    (r#"level eq 9007199254740993"#, Match(&["frank"])),
    (r#"level gt 9007199254740992"#, Match(&["frank"])),
    (r#"level eq 3.0"#, Match(&["alice"])),
    (r#"level eq 3e0"#, Match(&["alice"])),
    (r#"level gt -5.5"#, Match(&["alice", "bob", "carol", "dave", "emile", "frank", "grace"])),
    (r#"level lt 1e1"#, Match(&["alice", "carol", "dave", "emile"])),
    (r#"level pr"#, Match(&["alice", "bob", "carol", "dave", "emile", "frank", "grace"])),
    (r#"level eq "3""#, Rejected),
    (r#"level co 3"#, Rejected),
    (r#"level sw 3"#, Rejected),
    (r#"level eq true"#, Rejected),
    // decimal
    (r#"score gt 4.5"#, Match(&["bob", "emile", "frank"])),
    (r#"score eq 10"#, Match(&["bob"])),
    (r#"score eq 10.0"#, Match(&["bob"])),
    (r#"score le 0"#, Match(&["carol", "dave"])),
    (r#"score lt -0.25"#, Match(&["dave"])),
    (r#"score ge 2.5E0"#, Match(&["alice", "bob", "emile", "frank", "grace"])),
    (r#"score eq 1000"#, Match(&["frank"])),
    (r#"score eq 4.50"#, Match(&["alice"])),
    (r#"score eq 45e-1"#, Match(&["alice"])),
    (r#"score ew "5""#, Rejected),
    (r#"score sw 1"#, Rejected),
    // dateTime
    (r#"meta.created eq "2024-01-01T08:00:00Z""#, Match(&["alice", "bob"])),
    (r#"meta.created eq "2024-01-01T10:00:00+02:00""#, Match(&["alice", "bob"])),
    (r#"meta.created gt "2024-01-01T08:00:00Z""#, Match(&["dave", "emile", "frank"])),
    (r#"meta.created ge "2024-01-01T08:00:00Z""#, Match(&["alice", "bob", "dave", "emile", "frank"])),
    (r#"meta.created lt "2024-01-01T00:00:00Z""#, Match(&["carol", "grace"])),
    (r#"meta.created le "2024-01-01T08:00:00.5Z""#, Match(&["alice", "bob", "carol", "frank", "grace"])),
    (r#"meta.created ne "2024-01-01T08:00:00Z""#, Match(&["carol", "dave", "emile", "frank", "grace", "heidi"])),
    // dave's lastModified is not a date, so it compares as text ("n" > "2").
    (r#"meta.lastModified gt "2024-03-01T12:00:00Z""#, Match(&["bob", "dave", "emile", "frank"])),
    (r#"meta.lastModified lt "2024-02-01T00:00:00Z""#, Match(&["carol"])),
    (r#"meta.lastModified eq "2024-03-01T14:00:00+02:00""#, Match(&["alice", "grace"])),
    (r#"meta.lastModified ew "2024-03-01T12:00:00Z""#, Match(&["alice", "grace"])),
    (r#"hiredAt gt "2020-01-01T00:00:00Z""#, Match(&["alice", "dave"])),
    (r#"urn:example:params:scim:schemas:extension:test:2.0:User:hiredAt lt "2020-06-01T07:00:00.001Z""#, Match(&["alice", "bob"])),
    (r#"meta.created eq "2024-01-01""#, Rejected),
    (r#"meta.lastModified sw "2024-03""#, Rejected),
    (r#"meta.created gt 5"#, Rejected),
    (r#"meta.created eq true"#, Rejected),
    // binary and reference
    (r#"badge eq "QUJD""#, Match(&["alice"])),
    (r#"badge co "uj""#, Match(&["bob"])),
    (r#"badge ne "QUJD""#, Match(&["bob", "carol", "dave", "emile", "frank", "grace", "heidi"])),
    (r#"x509Certificates.value eq "tuljq0fb""#, Match(&["alice"])),
    (r#"x509Certificates pr"#, Match(&["alice", "frank"])),
    (r#"x509Certificates eq "QUJDRA==""#, Match(&["frank"])),
    (r#"badge gt "A""#, Rejected),
    (r#"x509Certificates.value lt "B""#, Rejected),
    (r#"profileUrl eq "https://EXAMPLE.com/alice""#, Match(&["alice"])),
    (r#"profileUrl sw "https://""#, Match(&["alice"])),
    // complex attributes named without a sub-attribute compare `value`
    (r#"emails co "example.com""#, Match(&["alice", "bob", "frank", "heidi"])),
    (r#"emails eq "bob@example.com""#, Match(&["bob"])),
    (r#"emails ne "alice@example.com""#, Match(&["bob", "carol", "dave", "emile", "frank", "grace", "heidi"])),
    (r#"emails pr"#, Match(&["alice", "bob", "dave", "emile", "frank", "grace", "heidi"])),
    (r#"not (emails pr)"#, Match(&["carol"])),
    (r#"emails eq null"#, Match(&["carol"])),
    (r#"emails ne null"#, Match(&["alice", "bob", "dave", "emile", "frank", "grace", "heidi"])),
    (r#"roles eq "ADMIN""#, Match(&["grace"])),
    (r#"manager eq "a1""#, Match(&["carol", "grace"])),
    (r#"manager pr"#, Match(&["alice", "carol", "grace"])),
    (r#"groups pr"#, Match(NONE)),
    (r#"name eq "x""#, Rejected),
    (r#"name gt "x""#, Rejected),
    (r#"name eq null"#, Rejected),
    // sub-attributes, any element of a multi-valued attribute
    (r#"emails.value ew ".org""#, Match(&["alice", "dave", "frank"])),
    (r#"emails.value sw "E""#, Match(&["emile"])),
    (r#"emails.type eq "work""#, Match(&["alice", "bob", "emile", "frank", "grace", "heidi"])),
    (r#"emails.type eq "home" and emails.value eq "alice@example.com""#, Match(&["alice"])),
    (r#"name.givenName eq "alice""#, Match(&["alice"])),
    (r#"name.familyName eq """#, Match(&["carol"])),
    (r#"name.givenName co "a""#, Match(&["alice", "carol", "dave", "grace"])),
    (r#"NAME.GIVENNAME sw "É""#, Match(&["emile"])),
    (r#"manager.displayName pr"#, Match(&["alice", "grace"])),
    (r#"tags eq "DEV""#, Match(&["alice"])),
    (r#"tags sw "s""#, Match(&["bob"])),
    (r#"tags ne "admin""#, Match(&["bob", "carol", "dave", "emile", "frank", "grace", "heidi"])),
    // value paths: one element must satisfy the whole inner filter
    (r#"emails[type eq "work"]"#, Match(&["alice", "bob", "emile", "frank", "grace", "heidi"])),
    (r#"emails[type eq "work" and value co "example"]"#, Match(&["alice", "bob", "emile", "frank", "heidi"])),
    (r#"emails[type eq "home" or primary eq false]"#, Match(&["alice", "dave", "emile"])),
    (r#"emails[type eq "work" and primary eq true]"#, Match(&["alice", "bob", "frank", "grace"])),
    (r#"emails[type eq "work" and value eq "alice@home.org"]"#, Match(NONE)),
    (r#"emails[not (type eq "work")]"#, Match(&["alice", "dave", "emile"])),
    (r#"emails[type ne "work"]"#, Match(&["alice", "dave", "emile"])),
    (r#"emails[(type eq "home" or type eq "other") and value ew ".org"]"#, Match(&["alice", "dave"])),
    (r#"EMAILS[TYPE EQ "WORK" AND PRIMARY EQ TRUE]"#, Match(&["alice", "bob", "frank", "grace"])),
    (r#"emails[ type eq "home" ]"#, Match(&["alice", "emile"])),
    (r#"emails[type eq "work"] and not (emails[type eq "home"])"#, Match(&["bob", "frank", "grace", "heidi"])),
    (r#"phoneNumbers[type eq "work" and value sw "+1"]"#, Match(&["alice"])),
    (r#"manager[value eq "a1" and displayName eq "Alice"]"#, Match(&["grace"])),
    (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "b2"]"#, Match(&["alice"])),
    // Entra: attr[filter].sub op value
    (r#"emails[type eq "work"].value ew ".org""#, Match(&["frank"])),
    (r#"emails[type eq "work"].value pr"#, Match(&["alice", "bob", "emile", "frank", "grace", "heidi"])),
    (r#"emails[primary eq true].value eq "e@perso.fr""#, Match(&["emile"])),
    (r#"emails[type eq "work"].value eq "alice@home.org""#, Match(NONE)),
    (r#"emails[foo eq "x"]"#, Rejected),
    (r#"emails[type eq "work"].foo eq "x""#, Rejected),
    (r#"userName[value eq "x"]"#, Rejected),
    (r#"name.givenName[value eq "x"]"#, Rejected),
    // enterprise extension, URN-qualified or not
    (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "engineering""#, Match(&["alice", "carol", "emile", "grace"])),
    (r#"department eq "HR""#, Match(&["heidi"])),
    (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "a1""#, Match(&["carol", "grace"])),
    (r#"URN:IETF:params:scim:schemas:extension:enterprise:2.0:user:MANAGER.VALUE eq "b2""#, Match(&["alice"])),
    (r#"employeeNumber eq "42""#, Match(&["bob"])),
    (r#"employeeNumber gt "5""#, Match(&["alice"])),
    (r#"costCenter eq "4130" and department eq "Engineering""#, Match(&["alice", "emile"])),
    (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b""#, Match(&["bob"])),
    (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#, Match(NONE)),
    (r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "zola""#, Match(&["emile"])),
    (r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x""#, Rejected),
    (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr"#, Rejected),
    // precedence, not, parentheses
    (r#"userName eq "alice" or userName eq "bob" and active eq true"#, Match(&["alice"])),
    (r#"(userName eq "alice" or userName eq "bob") and active eq false"#, Match(&["bob"])),
    (r#"userName eq "bob" and active eq false or userName eq "carol""#, Match(&["bob", "carol"])),
    (r#"active eq true and not (title pr)"#, Match(&["carol", "heidi"])),
    (r#"not (active eq true) or userName eq "alice""#, Match(&["alice", "bob", "dave"])),
    (r#"not(userName eq "alice")"#, Match(&["bob", "carol", "dave", "emile", "frank", "grace", "heidi"])),
    (r#"NOT (userName SW "a" OR userName sw "b")"#, Match(&["carol", "dave", "emile", "frank", "grace", "heidi"])),
    (r#"not (not (userName eq "alice"))"#, Match(&["alice"])),
    (r#"((userName eq "alice"))"#, Match(&["alice"])),
    (r#"userName eq "alice" and (title co "engineer" or title eq "Manager")"#, Match(&["alice"])),
    (r#"title co "engineer" and (active eq false or level gt 5)"#, Match(&["grace"])),
    (r#"userName pr and userName eq "x" or level eq 0"#, Match(&["carol"])),
    // presence and null
    (r#"nickName pr"#, Match(&["alice", "frank"])),
    (r#"nickName eq null"#, Match(&["bob", "carol", "dave", "emile", "grace", "heidi"])),
    (r#"title pr"#, Match(&["alice", "bob", "emile", "frank", "grace"])),
    (r#"title eq null"#, Match(&["carol", "dave", "heidi"])),
    (r#"title ne null"#, Match(&["alice", "bob", "emile", "frank", "grace"])),
    (r#"name.familyName pr"#, Match(&["alice", "bob", "emile", "grace"])),
    (r#"name pr"#, Match(&["alice", "bob", "carol", "dave", "emile", "grace"])),
    (r#"tags pr"#, Match(&["alice", "bob"])),
    (r#"userName gt null"#, Rejected),
    (r#"userName co null"#, Rejected),
    // JSON escapes and Unicode
    (r#"displayName eq "Frank \"Tank\" O'Neil\\Jr""#, Match(&["frank"])),
    (r#"displayName eq "frank \u0022tank\u0022 o'neil\u005Cjr""#, Match(&["frank"])),
    (r#"displayName co "\"""#, Match(&["frank"])),
    (r#"title eq "Lead\nOps""#, Match(&["frank"])),
    (r#"nickName eq "Franky\/Fr""#, Match(&["frank"])),
    (r#"displayName eq "\ud83d\ude00 Grace""#, Match(&["grace"])),
    (r#"displayName sw "😀""#, Match(&["grace"])),
    (r#"title co "\t""#, Match(NONE)),
    // whitespace
    ("  userName   eq\t\"alice\"  ", Match(&["alice"])),
    ("userName eq \"alice\"\n", Match(&["alice"])),
    (r#"( userName eq "alice" )"#, Match(&["alice"])),
    (r#"userName eq "alice"or userName eq "bob""#, Match(&["alice", "bob"])),
    // unknown attributes and ill-typed values
    (r#"foo eq "x""#, Rejected),
    (r#"name.foo pr"#, Rejected),
    (r#"members pr"#, Rejected),
    (r#"userName eq 5"#, Rejected),
    (r#"userName eq true"#, Rejected),
    // canonical text
    (r#"userName Eq "alice""#, Prints(r#"userName eq "alice""#)),
    (r#"a pr or b pr and c pr"#, Prints(r#"a pr or b pr and c pr"#)),
    (r#"(a pr or b pr) and c pr"#, Prints(r#"(a pr or b pr) and c pr"#)),
    (r#"a pr and (b pr or c pr)"#, Prints(r#"a pr and (b pr or c pr)"#)),
    (r#"a pr and (b pr and c pr)"#, Prints(r#"a pr and (b pr and c pr)"#)),
    (r#"a pr or (b pr or c pr)"#, Prints(r#"a pr or (b pr or c pr)"#)),
    (r#"(a pr and b pr) or c pr"#, Prints(r#"a pr and b pr or c pr"#)),
    (r#"(a pr and b pr) and c pr"#, Prints(r#"a pr and b pr and c pr"#)),
    (r#"a pr or b pr or c pr and d pr"#, Prints(r#"a pr or b pr or c pr and d pr"#)),
    (r#"((a pr))"#, Prints(r#"a pr"#)),
    (r#"NOT(a pr)"#, Prints(r#"not (a pr)"#)),
    (r#"not (not (a pr))"#, Prints(r#"not (not (a pr))"#)),
    (r#"not (a pr) and b[c pr or d pr]"#, Prints(r#"not (a pr) and b[c pr or d pr]"#)),
    (r#"a[not (b eq 1)]"#, Prints(r#"a[not (b eq 1)]"#)),
    (r#"a[(b pr)]"#, Prints(r#"a[b pr]"#)),
    (r#"emails[type eq "work"].value eq "a@b""#, Prints(r#"emails[type eq "work" and value eq "a@b"]"#)),
    (r#"emails[type eq "work" or type eq "home"].value pr"#, Prints(r#"emails[(type eq "work" or type eq "home") and value pr]"#)),
    (r#"emails[type eq "work"].VALUE co "x""#, Prints(r#"emails[type eq "work" and VALUE co "x"]"#)),
    (r#"x eq "a\u00e9\/""#, Prints(r#"x eq "aé/""#)),
    (r#"x eq "\ud83d\ude00""#, Prints(r#"x eq "😀""#)),
    (r#"x eq "tab\there""#, Prints(r#"x eq "tab\there""#)),
    (r#"x eq "\u0001\b\f""#, Prints(r#"x eq "\u0001\b\f""#)),
    (r#"x eq 1.50"#, Prints(r#"x eq 1.5"#)),
    (r#"x eq -0.5e1"#, Prints(r#"x eq -5.0"#)),
    (r#"x eq 1E3"#, Prints(r#"x eq 1000.0"#)),
    (r#"x eq -7"#, Prints(r#"x eq -7"#)),
    (r#"x eq 18446744073709551615"#, Prints(r#"x eq 18446744073709551615"#)),
    (r#"x eq TRUE or x ne Null"#, Prints(r#"x eq true or x ne null"#)),
    (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#, Prints(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#)),
    (r#"URN:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#, Prints(r#"URN:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#)),
    (r#"not pr and not eq 1"#, Prints(r#"not pr and not eq 1"#)),
    (r#"and pr and or pr or pr pr"#, Prints(r#"and pr and or pr or pr pr"#)),
    (r#"a eq "x"and(b pr)"#, Prints(r#"a eq "x" and b pr"#)),
    (r#"members.$ref eq "x""#, Prints(r#"members.$ref eq "x""#)),
    // syntax errors, with the position the detail must name
    (r#""#, Syntax(0)),
    (r#"   "#, Syntax(3)),
    (r#"userName"#, Syntax(8)),
    (r#"userName eq"#, Syntax(11)),
    (r#"userName gt"#, Syntax(11)),
    (r#"a eq"#, Syntax(4)),
    (r#"userName eq "alice"#, Syntax(12)),
    (r#"userName eq "é"#, Syntax(12)),
    (r#"userName foo "x""#, Syntax(9)),
    (r#"userName eq "a" extra"#, Syntax(16)),
    (r#"userName eq "a" userName eq "b""#, Syntax(16)),
    (r#"(userName eq "a""#, Syntax(16)),
    (r#"userName eq "a")"#, Syntax(15)),
    (r#"userName eq "a" or (userName eq "b"))"#, Syntax(36)),
    (r#"userName eq "a" and"#, Syntax(19)),
    (r#"userName eq "a" AND"#, Syntax(19)),
    (r#"userName eq "a" and ("#, Syntax(21)),
    (r#"userName eq "a" or or userName pr"#, Syntax(22)),
    (r#"userName pr pr"#, Syntax(12)),
    (r#"userName eq alice"#, Syntax(12)),
    (r#"userName eq 'alice'"#, Syntax(12)),
    (r#"userName eq truex"#, Syntax(12)),
    (r#"userName eq ["a"]"#, Syntax(12)),
    (r#"userName eq (1)"#, Syntax(12)),
    (r#"userName eq "a\x""#, Syntax(12)),
    (r#"userName eq "\ud800""#, Syntax(12)),
    (r#"userName eq "a\u12""#, Syntax(12)),
    ("userName eq \"tab\tx\"", Syntax(12)),
    (r#"userName eq 01"#, Syntax(12)),
    (r#"userName eq 1."#, Syntax(12)),
    (r#"userName eq +1"#, Syntax(12)),
    (r#"userName eq -"#, Syntax(12)),
    (r#"userName eq 1e999"#, Syntax(12)),
    (r#"userName eq 5and x pr"#, Syntax(12)),
    (r#"emails[type eq "work""#, Syntax(21)),
    (r#"emails[type eq "work"]]"#, Syntax(22)),
    (r#"emails[type eq "work"]x"#, Syntax(22)),
    (r#"emails[]"#, Syntax(7)),
    (r#"emails[type eq "work"]."#, Syntax(23)),
    (r#"emails[type eq "work"]. value eq "x""#, Syntax(24)),
    (r#"emails[type eq "work"].value"#, Syntax(28)),
    (r#"emails[type eq "work"].value eq"#, Syntax(31)),
    (r#"emails[value[type eq "x"]]"#, Syntax(12)),
    (r#"emails[urn:a:b:value eq "x"]"#, Syntax(7)),
    (r#"emails[value.x eq "a"]"#, Syntax(7)),
    (r#"userName [type eq "x"]"#, Syntax(9)),
    (r#"not userName eq "x""#, Syntax(4)),
    (r#"userName eq "a" and not"#, Syntax(23)),
    (r#"not (userName eq "x""#, Syntax(20)),
    (r#"not ()"#, Syntax(5)),
    (r#"()"#, Syntax(1)),
    (r#"and userName pr"#, Syntax(4)),
    (r#"1userName eq "a""#, Syntax(0)),
    (r#""alice" eq userName"#, Syntax(0)),
    (r#"é eq "x""#, Syntax(0)),
    (r#"user name eq "a""#, Syntax(5)),
    (r#"urn:ietf:params:scim:schemas:core:2.0:User: eq "x""#, Syntax(0)),
    (r#"displayName eq "é" foo"#, Syntax(19)),
];

#[test]
fn filter_table() {
    let reg = registry();
    let user = reg.user();
    let docs = fixture();
    let limits = FilterLimits::default();
    let mut failures = Vec::new();
    for (text, expect) in CASES {
        if let Err(why) = run_case(text, expect, user, &docs, &limits) {
            failures.push(format!("{text:?}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn run_case(
    text: &str,
    expect: &Expect,
    user: &ResourceType,
    docs: &[(String, Value)],
    limits: &FilterLimits,
) -> Result<(), String> {
    let parsed = parse(text, limits);
    if let Syntax(pos) = expect {
        return match parsed {
            Ok(f) => Err(format!("parsed as {f:?}")),
            Err(e) if e.scim_type != Some(ScimType::InvalidFilter) || e.status != 400 => Err(format!("{e:?}")),
            Err(e) if !e.detail.contains(&format!("position {pos}")) => Err(format!("detail: {}", e.detail)),
            Err(_) => Ok(()),
        };
    }
    let filter = parsed.map_err(|e| format!("parse error: {}", e.detail))?;
    let printed = filter.to_string();
    match parse(&printed, limits) {
        Ok(again) if again == filter => {}
        other => return Err(format!("printed as {printed:?}, which parses as {other:?}")),
    }
    let matching: Vec<&str> = docs
        .iter()
        .filter(|(_, doc)| matches(&filter, user, doc))
        .map(|(l, _)| l.as_str())
        .collect();
    match expect {
        Prints(canonical) if printed != *canonical => Err(format!("printed as {printed:?}")),
        Prints(_) => Ok(()),
        Match(expected) => {
            check(&filter, &[user]).map_err(|e| format!("check: {}", e.detail))?;
            if matching != *expected {
                Err(format!("matched {matching:?}"))
            } else {
                Ok(())
            }
        }
        Rejected => match check(&filter, &[user]) {
            Ok(()) => Err("check accepted it".into()),
            Err(e) if e.scim_type != Some(ScimType::InvalidFilter) => Err(format!("{e:?}")),
            Err(_) if !matching.is_empty() => Err(format!("matched {matching:?}")),
            Err(_) => Ok(()),
        },
        Syntax(_) => Ok(()),
    }
}

#[test]
fn table_is_big_enough() {
    let errors = CASES.iter().filter(|(_, e)| matches!(e, Syntax(_) | Rejected)).count();
    assert!(CASES.len() >= 160, "{} cases", CASES.len());
    assert!(errors >= 40, "{errors} error cases");
}

fn p(text: &str) -> Filter {
    parse(text, &FilterLimits::default()).unwrap()
}

fn present(name: &str) -> Filter {
    Filter::Present(AttrPath::name(name))
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

fn compare(name: &str, op: CompareOp, value: CompValue) -> Filter {
    Filter::Compare(AttrPath::name(name), op, value)
}

fn string(s: &str) -> CompValue {
    CompValue::String(s.into())
}

#[test]
fn and_binds_tighter_and_both_associate_left() {
    let (a, b, c) = (|| present("a"), || present("b"), || present("c"));
    let cases = [
        ("a pr or b pr and c pr", or(a(), and(b(), c()))),
        ("a pr and b pr or c pr", or(and(a(), b()), c())),
        ("a pr and b pr and c pr", and(and(a(), b()), c())),
        ("a pr or b pr or c pr", or(or(a(), b()), c())),
        ("not (a pr) and b pr", and(Filter::Not(Box::new(a())), b())),
    ];
    for (text, ast) in cases {
        assert_eq!(p(text), ast, "{text}");
    }
}

#[test]
fn entra_form_becomes_a_value_path() {
    let inner = and(
        compare("type", CompareOp::Eq, string("work")),
        compare("value", CompareOp::Eq, string("a@b")),
    );
    let expected = Filter::ValuePath(AttrPath::name("emails"), Box::new(inner));
    assert_eq!(p(r#"emails[type eq "work"].value eq "a@b""#), expected);
    assert_eq!(p(r#"emails[type eq "work" and value eq "a@b"]"#), expected);
}

#[test]
fn urn_paths_and_values_have_the_expected_shape() {
    let f = p(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#);
    let expected = AttrPath {
        urn: Some(ENT.into()),
        name: "manager".into(),
        sub: Some("value".into()),
    };
    assert_eq!(f, Filter::Compare(expected, CompareOp::Eq, string("x")));
    assert_eq!(p("a eq 5"), compare("a", CompareOp::Eq, CompValue::Number(5.into())));
    assert_eq!(
        p("a gt -5"),
        compare("a", CompareOp::Gt, CompValue::Number((-5).into()))
    );
    assert_eq!(p("a ne NULL"), compare("a", CompareOp::Ne, CompValue::Null));
    assert_eq!(p("a le false"), compare("a", CompareOp::Le, CompValue::Bool(false)));
}

#[test]
fn check_accepts_attributes_of_any_searched_type() {
    let reg = registry();
    let both = [reg.user(), reg.group()];
    for ok in [
        r#"members[value eq "x"]"#,
        r#"members pr or emails pr"#,
        r#"displayName eq "x""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName sw "A""#,
        r#"members.type eq "User" and meta.lastModified gt "2024-01-01T00:00:00Z""#,
        r#"emails[display co "x" and primary eq "True"]"#,
    ] {
        assert_eq!(check(&p(ok), &both), Ok(()), "{ok}");
    }
    let e = check(&p(r#"members[value eq "x"]"#), &[reg.user()]).unwrap_err();
    assert_eq!(e.detail, "unknown attribute 'members'");
    let e = check(&p("foo pr or userName pr"), &both).unwrap_err();
    assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidFilter)));
    assert_eq!(e.detail, "unknown attribute 'foo'");
    let e = check(&p(r#"emails[bar eq "x"]"#), &both).unwrap_err();
    assert!(e.detail.contains("unknown attribute 'emails.bar'"), "{}", e.detail);
    assert!(check(&p("level pr"), &[reg.group()]).is_err());
}

#[test]
fn check_explains_type_errors() {
    let reg = registry();
    let user = [reg.user()];
    let cases = [
        ("active gt true", "'gt' is not defined for boolean"),
        (r#"x509Certificates.value ge "x""#, "'ge' is not defined for binary"),
        ("level ew 1", "'ew' is not defined for integer"),
        (r#"score co "1""#, "'co' is not defined for decimal"),
        ("active eq 5", "boolean attribute needs true or false"),
        (r#"level eq "5""#, "integer attribute needs a number"),
        (r#"meta.created lt "yesterday""#, "RFC 3339"),
        ("userName lt null", "null can only be used with eq or ne"),
        (r#"name co "x""#, "without a 'value' sub-attribute"),
        (r#"emails[primary lt true]"#, "'lt' is not defined for boolean"),
        (r#"userName[value pr]"#, "not a complex attribute"),
    ];
    for (text, why) in cases {
        let e = check(&p(text), &user).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{text}");
        assert!(e.detail.contains(why), "{text}: {}", e.detail);
    }
    // pr applies to every attribute, complex or not.
    assert!(check(&p("name pr and addresses pr and meta pr"), &user).is_ok());
}

#[test]
fn check_rejects_hand_built_asts_the_parser_never_produces() {
    let reg = registry();
    let nested = Filter::ValuePath(
        AttrPath::name("emails"),
        Box::new(Filter::ValuePath(AttrPath::name("value"), Box::new(present("x")))),
    );
    assert!(check(&nested, &[reg.user()]).is_err());
    let qualified = Filter::ValuePath(
        AttrPath::name("emails"),
        Box::new(Filter::Present(AttrPath::sub("value", "x"))),
    );
    assert!(check(&qualified, &[reg.user()]).is_err());
    let docs = fixture();
    assert!(
        docs.iter()
            .all(|(_, d)| !matches(&nested, reg.user(), d) && !matches(&qualified, reg.user(), d))
    );
}

#[test]
fn ill_typed_comparisons_match_nothing() {
    let reg = registry();
    let docs = fixture();
    for text in [
        "active eq 5",
        "active ne 5",
        "level co 1",
        r#"level ne "3""#,
        r#"name eq "x""#,
        r#"name ne "x""#,
        "userName gt null",
        r#"foo ne "x""#,
        r#"members ne "x""#,
        r#"userName[value ne "x"]"#,
    ] {
        let f = p(text);
        assert!(docs.iter().all(|(_, d)| !matches(&f, reg.user(), d)), "{text}");
    }
    // Under `not`, "no match" turns into "match": the rule is per comparison.
    let f = p("not (foo pr)");
    assert!(docs.iter().all(|(_, d)| matches(&f, reg.user(), d)));
}

#[test]
fn groups_match_by_their_own_schema() {
    let reg = registry();
    let group = json!({
        "id": "g1", "displayName": "Admins",
        "members": [{"value": "a1", "type": "User"}, {"value": "b2", "type": "User"}],
        "meta": {"created": "2024-01-01T00:00:00Z"}
    });
    for (text, expected) in [
        (r#"displayName eq "admins""#, true),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName sw "Ad""#,
            true,
        ),
        (r#"members[value eq "b2"]"#, true),
        (r#"members eq "a1" and members.value eq "b2""#, true),
        (r#"members[value eq "a1" and value eq "b2"]"#, false),
        (r#"userName pr"#, false),
        (r#"emails ne "x""#, false),
        (r#"meta.created lt "2024-01-01T00:00:01Z""#, true),
    ] {
        assert_eq!(matches(&p(text), reg.group(), &group), expected, "{text}");
    }
    let docs = fixture();
    let members = p("members pr");
    assert!(docs.iter().all(|(_, d)| !matches(&members, reg.user(), d)));
}

#[test]
fn odd_documents_do_not_match_and_do_not_panic() {
    let reg = registry();
    let filters: Vec<Filter> = CASES
        .iter()
        .filter_map(|(text, _)| parse(text, &FilterLimits::default()).ok())
        .collect();
    let docs = [
        json!(null),
        json!([]),
        json!("alice"),
        json!({"userName": 5, "emails": "x", "name": [], "active": [true, "yes"], "meta": {"created": 1}}),
        json!({"emails": [null, 1, "a", [], {"value": {"nested": true}}], "x509Certificates": {"value": []}}),
        json!({ENT: [], TEST_EXT: {"level": "3", "score": true, "tags": [[["deep"]]], "hiredAt": 5}}),
    ];
    for doc in &docs {
        for f in &filters {
            let _ = matches(f, reg.user(), doc);
        }
    }
    assert!(!matches(&p("userName pr"), reg.user(), &json!(null)));
    assert!(matches(&p("userName eq null"), reg.user(), &json!(null)));
}
