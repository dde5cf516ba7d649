//! Properties of the filter parser, printer and evaluator over generated
//! input: printing round-trips, and nothing panics on hostile text or JSON.

use proptest::prelude::*;
use scim_core::filter::{CompValue, CompareOp, Filter, FilterLimits, MAX_SUPPORTED_DEPTH, check, matches, parse};
use scim_core::path::AttrPath;
use scim_core::schema::Registry;
use scim_core::{ScimError, ScimType};
use serde_json::{Number, Value, json};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const TEST_EXT: &str = "urn:example:params:scim:schemas:extension:test:2.0:User";

/// Generous limits: printed text may be longer than what was parsed, and
/// generated ASTs are not bound by the default length.
const ROOMY: FilterLimits = FilterLimits {
    max_length: 1 << 20,
    max_depth: 64,
};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------ filters --

fn attr_name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        1 => Just("$ref".to_string()),
        // Keywords are legal attribute names; the parser must not trip on them.
        1 => prop::sample::select(vec!["not", "NOT", "and", "or", "pr", "eq", "true", "null"]).prop_map(String::from),
    ]
}

fn urn() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("urn:ietf:params:scim:schemas:core:2.0:User".to_string()),
        Just(ENT.to_string()),
        "[uU][rR][nN](:[a-zA-Z0-9.+-]{1,6}){1,4}",
    ]
}

fn top_path() -> impl Strategy<Value = AttrPath> {
    (
        prop::option::weighted(0.2, urn()),
        attr_name(),
        prop::option::weighted(0.3, attr_name()),
    )
        .prop_map(|(urn, name, sub)| AttrPath { urn, name, sub })
}

fn plain_path() -> impl Strategy<Value = AttrPath> {
    attr_name().prop_map(AttrPath::name)
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ])
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<u64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(CompValue::Number)),
        (any::<i32>(), 0i32..7).prop_filter_map("finite", |(m, k)| {
            Number::from_f64(f64::from(m) / 10f64.powi(k)).map(CompValue::Number)
        }),
        any::<String>().prop_map(CompValue::String),
        "[\"\\\\/ a-z\\x00-\\x1f\u{e9}\u{1F600}\u{2028}]{0,12}".prop_map(CompValue::String),
    ]
}

fn leaf(path: BoxedStrategy<AttrPath>) -> BoxedStrategy<Filter> {
    prop_oneof![
        1 => path.clone().prop_map(Filter::Present),
        3 => (path, compare_op(), comp_value()).prop_map(|(p, op, v)| Filter::Compare(p, op, v)),
    ]
    .boxed()
}

fn logic(leaf: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
    .boxed()
}

/// Valid ASTs: value paths hold plain sub-attribute names and never nest.
fn filter() -> impl Strategy<Value = Filter> {
    let value_path = (top_path(), logic(leaf(plain_path().boxed())))
        .prop_map(|(path, inner)| Filter::ValuePath(path, Box::new(inner)));
    logic(prop_oneof![3 => leaf(top_path().boxed()), 1 => value_path].boxed())
}

fn token_soup() -> impl Strategy<Value = String> {
    let tokens = vec![
        " ",
        " ",
        "\t",
        "(",
        ")",
        "[",
        "]",
        "not",
        "NOT ",
        "and",
        " or ",
        "pr",
        "eq",
        "gt",
        " co ",
        "userName",
        "emails",
        ".value",
        ".",
        "\"x\"",
        "\"",
        "\\",
        "\\u",
        "\\ud800",
        "\\\"",
        "1",
        "-",
        "1e5",
        "0.5",
        "true",
        "null",
        "urn:ietf:params:scim:schemas:core:2.0:User:",
        "urn:",
        ":",
        "é",
        "😀",
        "$ref",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..40).prop_map(|t| t.concat())
}

// ---------------------------------------------------------- documents --

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "userName",
        "USERNAME",
        "emails",
        "value",
        "Value",
        "type",
        "primary",
        "display",
        "name",
        "givenName",
        "active",
        "meta",
        "created",
        "lastModified",
        "x509Certificates",
        ENT,
        TEST_EXT,
        "department",
        "manager",
        "level",
        "score",
        "tags",
        "hiredAt",
        "badge",
        "code",
        "title",
        "nickName",
        "externalId",
        "id",
        "members",
    ])
    .prop_map(String::from)
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![
            "",
            "alice",
            "A",
            "work",
            "true",
            "FALSE",
            "x@example.com",
            "2024-01-01T00:00:00Z",
            "2024-01-01T02:00:00+02:00",
            "not a date",
            "QUJD",
            "3",
        ])
        .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    let value = json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    });
    prop_oneof![
        4 => prop::collection::vec((key(), value.clone()), 0..10).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        1 => value,
    ]
}

fn registry() -> Result<Registry, ScimError> {
    let mut reg = Registry::builtin();
    let ext = json!({
        "id": TEST_EXT,
        "attributes": [
            {"name": "level", "type": "integer"},
            {"name": "score", "type": "decimal"},
            {"name": "hiredAt", "type": "dateTime"},
            {"name": "badge", "type": "binary", "caseExact": true},
            {"name": "tags", "type": "string", "multiValued": true},
            {"name": "code", "type": "string", "caseExact": true}
        ]
    });
    reg.add_extension("User", &ext, false)?;
    Ok(reg)
}

/// Filters touching every type and operator, including ill-typed ones.
const FILTERS: &[&str] = &[
    r#"userName eq "alice""#,
    r#"USERNAME co "A" or userName gt "m""#,
    r#"emails co "@""#,
    r#"emails ne "x@example.com""#,
    r#"emails[type eq "work" and primary eq true]"#,
    r#"emails[not (type eq "work") or value sw "x"]"#,
    r#"emails[type eq "work"].value ew ".com""#,
    r#"emails.value pr and emails.primary eq "TRUE""#,
    r#"name.givenName sw "A""#,
    r#"name pr"#,
    r#"active eq true"#,
    r#"active eq "false""#,
    r#"active ne false"#,
    r#"meta.created gt "2024-01-01T00:00:00Z""#,
    r#"meta.lastModified le "2024-01-01T00:00:00+02:00""#,
    r#"meta.created ew "Z""#,
    r#"level gt 3"#,
    r#"level eq 3.5 or level lt -9007199254740993"#,
    r#"score le -1e3"#,
    r#"tags eq "work""#,
    r#"x509Certificates eq "QUJD""#,
    r#"x509Certificates pr"#,
    r#"manager eq "alice" or manager.value pr"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "A""#,
    r#"not (title pr)"#,
    r#"nickName eq null"#,
    r#"nickName ne null"#,
    r#"members[value eq "alice"]"#,
    r#"members pr"#,
    r#"hiredAt lt "2024-01-01T00:00:00Z""#,
    r#"badge eq "QUJD""#,
    r#"code ge "m""#,
    r#"id eq "3" and externalId sw "E""#,
    r#"active eq 5"#,
    r#"level co 1"#,
    r#"name eq "x""#,
    r#"userName[value eq "x"]"#,
    r#"unknown eq "x""#,
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn printed_filters_parse_back_to_the_same_ast(f in filter()) {
        let text = f.to_string();
        prop_assert_eq!(parse(&text, &ROOMY), Ok(f), "text: {}", text);
    }

    #[test]
    fn arbitrary_text_is_parsed_or_rejected(text in any::<String>()) {
        assert_parsed_or_rejected(&text)?;
    }

    #[test]
    fn filter_like_text_is_parsed_or_rejected(text in token_soup()) {
        assert_parsed_or_rejected(&text)?;
    }

    #[test]
    fn mutated_filters_are_parsed_or_rejected(
        f in filter(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..4,
        insert in prop::sample::select(vec!["", "(", ")", "[", "]", "\"", "\\", " ", ".", "not ", " and", "é"]),
    ) {
        let mut chars: Vec<char> = f.to_string().chars().collect();
        let i = at.index(chars.len() + 1);
        chars.splice(i..(i + cut).min(chars.len()), insert.chars());
        assert_parsed_or_rejected(&chars.into_iter().collect::<String>())?;
    }

    #[test]
    fn matching_arbitrary_documents_never_panics(doc in document()) {
        let reg = registry().unwrap();
        for text in FILTERS {
            let f = parse(text, &FilterLimits::default()).unwrap();
            let negated = Filter::Not(Box::new(f.clone()));
            for rt in reg.resource_types() {
                prop_assert_eq!(matches(&negated, rt, &doc), !matches(&f, rt, &doc), "{}", text);
            }
        }
    }
}

/// `parse` returns `Ok` or `invalidFilter`; anything it accepts prints as
/// text that parses back to the same AST.
fn assert_parsed_or_rejected(text: &str) -> Result<(), TestCaseError> {
    match parse(text, &FilterLimits::default()) {
        Ok(f) => {
            let printed = f.to_string();
            prop_assert_eq!(parse(&printed, &ROOMY), Ok(f), "{:?} printed as {:?}", text, printed);
        }
        Err(e) => prop_assert_eq!(e.scim_type, Some(ScimType::InvalidFilter)),
    }
    Ok(())
}

#[test]
fn filter_list_is_valid_syntax() {
    for text in FILTERS {
        assert!(parse(text, &FilterLimits::default()).is_ok(), "{text}");
    }
}

// ------------------------------------------- limits and stack safety --

fn nested(open: &str, close: &str, depth: usize) -> String {
    format!("{}a pr{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn nesting_is_limited() {
    let limits = FilterLimits::default();
    assert_eq!(limits.max_depth, 64);
    assert!(parse(&nested("(", ")", 64), &limits).is_ok());
    assert!(parse(&nested("not (", ")", 64), &limits).is_ok());
    for text in [
        nested("(", ")", 65),
        nested("not (", ")", 65),
        nested("(not (", "))", 33),
    ] {
        let e = parse(&text, &limits).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
        assert!(e.detail.contains("nested more than 64"), "{}", e.detail);
    }
    let flat = FilterLimits { max_depth: 0, ..limits };
    assert!(parse("a pr and b pr", &flat).is_ok());
    assert!(parse("emails[type pr]", &flat).is_err());
    assert!(parse("(a pr)", &flat).is_err());
    let one = FilterLimits { max_depth: 1, ..limits };
    assert!(parse("emails[not (type pr)]", &one).is_err());
    assert!(parse("emails[type pr] and not (a pr)", &one).is_ok());
}

#[test]
fn absurd_limits_are_capped_so_the_stack_survives() {
    let unlimited = FilterLimits {
        max_length: usize::MAX,
        max_depth: usize::MAX,
    };
    assert!(parse(&nested("(", ")", MAX_SUPPORTED_DEPTH), &unlimited).is_ok());
    assert!(parse(&nested("(", ")", MAX_SUPPORTED_DEPTH + 1), &unlimited).is_err());
    assert!(parse(&"(".repeat(200_000), &unlimited).is_err());
    assert!(parse(&"not (".repeat(100_000), &unlimited).is_err());
    assert!(parse(&"a[".repeat(100_000), &unlimited).is_err());
}

#[test]
fn length_is_limited() {
    let limits = FilterLimits::default();
    assert_eq!(limits.max_length, 4096);
    let padded = |len: usize| format!(r#"a eq "{}""#, "x".repeat(len - 7));
    assert!(parse(&padded(4096), &limits).is_ok());
    let e = parse(&padded(4097), &limits).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    assert!(e.detail.contains("4096"), "{}", e.detail);
}

#[test]
fn long_or_chains_parse_print_check_and_evaluate() {
    let reg = Registry::builtin();
    let text = vec![r#"userName eq "nobody""#; 5000].join(" or ") + r#" or userName eq "alice""#;
    let f = parse(&text, &ROOMY).unwrap();
    assert_eq!(f.to_string(), text);
    assert!(check(&f, &[reg.user()]).is_ok());
    assert!(matches(&f, reg.user(), &json!({"userName": "Alice"})));
    assert!(!matches(&f, reg.user(), &json!({"userName": "bob"})));
}
