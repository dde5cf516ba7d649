//! Filters on each non-string attribute type of the test extension (and the
//! core `active`): every operator the type allows, with the exact result.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::EXTENSION_URN;
use super::people::People;
use crate::Store;
use std::sync::Arc;

pub async fn filter_integer_operators(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-int").await;
    p.users("level eq 1", &["alice", "eve"]).await;
    p.users("level ne 1", &["bob", "celik", "dora", "frank"]).await;
    p.users("level gt 1", &["bob", "frank"]).await;
    p.users("level ge 10", &["bob", "frank"]).await;
    p.users("level lt 1", &["celik"]).await;
    p.users("level le 1", &["alice", "celik", "eve"]).await;
    p.users("level eq -5", &["celik"]).await;
    p.users("level eq 1.0", &["alice", "eve"]).await;
    p.users("level gt 1.5", &["bob", "frank"]).await;
    // Integers compare exactly, beyond 2^53 too.
    p.users("level eq 9007199254740993", &["frank"]).await;
    p.users("level eq 9007199254740992", &[]).await;
    p.users("level gt 9007199254740992", &["frank"]).await;
    p.users("level lt 9007199254740993", &["alice", "bob", "celik", "eve"])
        .await;
    p.users("level pr", &["alice", "bob", "celik", "eve", "frank"]).await;
    p.users(&format!("{EXTENSION_URN}:level eq 10"), &["bob"]).await;
}

pub async fn filter_decimal_operators(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-dec").await;
    p.users("score eq 1.5", &["alice", "eve"]).await;
    p.users("score ne 1.5", &["bob", "celik", "dora", "frank"]).await;
    p.users("score gt 1.5", &["celik"]).await;
    p.users("score ge 1.5", &["alice", "celik", "eve"]).await;
    p.users("score lt 0", &["bob"]).await;
    p.users("score le -2.25", &["bob"]).await;
    p.users("score gt -3", &["alice", "bob", "celik", "eve"]).await;
    // 100.0 stored, 100 asked: numbers compare by value.
    p.users("score eq 100", &["celik"]).await;
    p.users("score eq 1.5e0", &["alice", "eve"]).await;
    p.users("score pr", &["alice", "bob", "celik", "eve"]).await;
}

pub async fn filter_datetime_operators(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-time").await;
    // alice 00:00Z and bob 02:00+02:00 are the same instant.
    p.users("hiredAt eq \"2020-01-01T00:00:00Z\"", &["alice", "bob"]).await;
    p.users("hiredAt eq \"2020-01-01T01:00:00+01:00\"", &["alice", "bob"])
        .await;
    p.users("hiredAt eq \"2020-01-01T00:00:00.000Z\"", &["alice", "bob"])
        .await;
    p.users(
        "hiredAt ne \"2020-01-01T00:00:00Z\"",
        &["celik", "dora", "eve", "frank"],
    )
    .await;
    p.users("hiredAt gt \"2020-01-01T00:00:00Z\"", &["celik"]).await;
    p.users("hiredAt ge \"2019-12-31T19:00:00-05:00\"", &["alice", "bob", "celik"])
        .await;
    p.users("hiredAt lt \"2020-01-01T00:00:00Z\"", &["eve"]).await;
    p.users("hiredAt le \"2019-12-31T23:59:59.999Z\"", &["eve"]).await;
    // Sub-second precision counts.
    p.users("hiredAt lt \"2019-12-31T23:59:59.9989Z\"", &[]).await;
    p.users("hiredAt gt \"2021-06-15T18:00:00Z\"", &["celik"]).await;
    p.users("hiredAt gt \"2021-06-15T18:00:00.5Z\"", &[]).await;
    p.users("hiredAt ge \"2021-06-15T18:00:00.5Z\"", &["celik"]).await;
    // Substring operators compare the text as stored (the operand must still
    // be a dateTime), so bob's +02:00 spelling only matches itself.
    p.users("hiredAt sw \"2020-01-01T00:00:00Z\"", &["alice"]).await;
    p.users("hiredAt co \"2020-01-01T02:00:00+02:00\"", &["bob"]).await;
    p.users("hiredAt ew \"2019-12-31T23:59:59.999z\"", &["eve"]).await;
    p.users("hiredAt pr", &["alice", "bob", "celik", "eve"]).await;
}

pub async fn filter_boolean_operators(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-bool").await;
    p.users("active eq true", &["alice", "celik"]).await;
    p.users("active eq false", &["bob", "eve"]).await;
    p.users("active ne false", &["alice", "celik", "dora", "frank"]).await;
    // IdPs send booleans as strings, in any case.
    p.users("active eq \"TRUE\"", &["alice", "celik"]).await;
    p.users("active eq \"False\"", &["bob", "eve"]).await;
    p.users("active pr", &["alice", "bob", "celik", "eve"]).await;
    p.users("remote eq true", &["alice", "celik"]).await;
    p.users(&format!("{EXTENSION_URN}:remote eq false"), &["bob", "eve"])
        .await;
    p.users("not (remote eq true)", &["bob", "dora", "eve", "frank"]).await;
    p.users("emails[primary eq false]", &[]).await;
}

pub async fn filter_binary_operators(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-binary").await;
    p.users("badge eq \"QUJD\"", &["alice", "eve"]).await;
    // binary is not caseExact in the test schema, so it compares like text.
    p.users("badge eq \"qujd\"", &["alice", "eve"]).await;
    p.users("badge ne \"QUJD\"", &["bob", "celik", "dora", "frank"]).await;
    p.users("badge sw \"YW\"", &["bob"]).await;
    p.users("badge co \"UJ\"", &["alice", "eve"]).await;
    p.users("badge ew \"jj\"", &["bob"]).await;
    p.users("badge pr", &["alice", "bob", "eve"]).await;
}

pub async fn filter_multi_valued_strings(store: Arc<dyn Store>) {
    let p = People::new(&store, "filter-multi").await;
    p.users("tags eq \"red\"", &["alice", "bob"]).await;
    p.users("tags eq \"BLUE\"", &["alice", "eve"]).await;
    p.users("tags ne \"red\"", &["celik", "dora", "eve", "frank"]).await;
    p.users("tags co \"e\"", &["alice", "bob", "eve"]).await;
    p.users("tags sw \"g\"", &["eve"]).await;
    p.users("tags ew \"UE\"", &["alice", "eve"]).await;
    p.users("tags gt \"q\"", &["alice", "bob"]).await;
    p.users("tags lt \"c\"", &["alice", "eve"]).await;
    p.users("tags pr", &["alice", "bob", "eve"]).await;
    p.users("tags eq \"red\" and tags eq \"blue\"", &["alice"]).await;
    p.users("emails.value ew \".example\"", &["alice", "bob", "celik", "eve"])
        .await;
}
