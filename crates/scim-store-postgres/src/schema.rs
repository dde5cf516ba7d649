//! diesel's view of the tables the typed query builder is used on (tenants
//! and tokens: fixed statements, checked at compile time). Resources,
//! memberships and audit events are read and written with `sql::Sql`
//! statements: JSONB paths, recursive CTEs and the audit counter are beyond
//! the builder. Table names are unqualified; every connection's
//! `search_path` is the store's schema.

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Text,
        created -> Timestamptz,
        audit_seq -> BigInt,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        tenant -> Uuid,
        hash -> Text,
        description -> Nullable<Text>,
        user_id -> Nullable<Text>,
        created -> Timestamptz,
        last_used -> Nullable<Timestamptz>,
        revoked -> Nullable<Timestamptz>,
        ordinal -> BigInt,
    }
}
