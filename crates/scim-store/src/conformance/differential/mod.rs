//! Differential tests: the store against scim-core's reference semantics on
//! a seeded data set. Thousands of generated filters (printed, re-parsed,
//! checked) must select exactly the resources `filter::matches` selects over
//! the resources read back from the store; hundreds of generated sorts must
//! give exactly the order of `SortSpec::compare`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

mod data;
mod generate;

use super::sorting::reference_order_of;
use super::support::*;
use crate::{Kind, Load, Query, Store, StoreError};
use data::{DataSet, Rng};
use generate::{Gen, Pools, sortable};
use scim_core::filter::{self, Filter, FilterLimits};
use scim_core::sort::{SortOrder, SortSpec};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

const SEED: u64 = 0x5C1A_2024;
const USER_FILTERS: usize = 2000;
const GROUP_FILTERS: usize = 400;
const SORTS: usize = 300;
/// Mismatches described in full before the case fails; the rest are counted.
const SHOWN: usize = 15;

/// Prints, re-parses and checks a generated filter as the server would, so
/// the store sees exactly what a client's text would give it. `None` when
/// `check` rejects it (a generated operator the type does not define).
fn prepare(kind: Kind, generated: &Filter) -> Option<(String, Filter)> {
    let text = generated.to_string();
    let parsed = filter::parse(&text, &FilterLimits::default())
        .unwrap_or_else(|e| panic!("scim-core could not re-parse its own output `{text}`: {e:?}"));
    assert_eq!(
        &parsed, generated,
        "scim-core's printer and parser disagree on `{text}`"
    );
    filter::check(&parsed, &[resource_type(kind)]).ok()?;
    Some((text, parsed))
}

/// The ids the store returns for `filter`, all pages, or `TooMany` when the
/// backend refuses the scan (allowed by `Capabilities::max_scan`).
async fn store_ids(
    f: &Fixture,
    kind: Kind,
    filter: &Filter,
    sort: Option<&SortSpec>,
) -> Result<Vec<String>, StoreError> {
    let max = u64::from(f.store.capabilities().max_results.max(1));
    let mut ids = Vec::new();
    loop {
        let q = Query {
            filter: Some(filter.clone()),
            sort: sort.cloned(),
            start_index: ids.len() as u64 + 1,
            count: max,
            after: None,
            load: Load::WITHOUT_MEMBERS,
        };
        let page = f.store.query(&f.ctx, kind, &q).await?;
        let n = page.items.len();
        ids.extend(page.items.into_iter().map(|s| s.id));
        assert!(
            ids.len() as u64 <= page.total,
            "filter `{filter}`: more items than total {}",
            page.total
        );
        if n == 0 || ids.len() as u64 == page.total {
            assert_eq!(
                ids.len() as u64,
                page.total,
                "filter `{filter}`: pages ended before total {}",
                page.total
            );
            return Ok(ids);
        }
    }
}

fn reference_ids(data: &DataSet, kind: Kind, filter: &Filter) -> Vec<String> {
    let rt = resource_type(kind);
    data.resources(kind)
        .iter()
        .filter(|(_, doc)| filter::matches(filter, rt, doc))
        .map(|(s, _)| s.id.clone())
        .collect()
}

/// A readable account of one disagreement: the filter, the ids only one
/// side has, and the first such resource as the evaluator saw it.
fn describe(data: &DataSet, kind: Kind, text: &str, want: &[String], got: &[String]) -> String {
    let want_set: BTreeSet<&String> = want.iter().collect();
    let got_set: BTreeSet<&String> = got.iter().collect();
    let missing: Vec<&&String> = want_set.difference(&got_set).collect();
    let extra: Vec<&&String> = got_set.difference(&want_set).collect();
    let mut s = format!(
        "{kind:?} filter `{text}`: reference matches {}, store returned {}\n    missing from the store: {}\n    extra in the store: {}",
        want.len(),
        got.len(),
        some(&missing),
        some(&extra),
    );
    let first = missing.first().or(extra.first());
    if let Some(id) = first
        && let Some((_, doc)) = data.resources(kind).iter().find(|(s, _)| &&&s.id == id)
    {
        let _ = write!(s, "\n    resource {id} as evaluated: {doc}");
    }
    s
}

/// At most a few ids, and how many more there are.
fn some(ids: &[&&String]) -> String {
    const MAX: usize = 6;
    let shown: Vec<&str> = ids.iter().take(MAX).map(|s| s.as_str()).collect();
    match ids.len().saturating_sub(MAX) {
        0 => format!("{shown:?}"),
        more => format!("{shown:?} and {more} more"),
    }
}

pub async fn differential_filters(store: Arc<dyn Store>) {
    let started = Instant::now();
    let data = DataSet::build(&store, "differential-filters", SEED).await;
    let setup = started.elapsed();
    let pools = Pools::new(&data);
    let mut generator = Gen {
        rng: Rng::new(SEED ^ 0xF1),
        pools: &pools,
    };
    let (mut run, mut rejected, mut too_many, mut matched_some) = (0, 0, 0, 0);
    let mut failures: Vec<String> = Vec::new();
    let mut failed = 0;
    let plan = [(Kind::User, USER_FILTERS), (Kind::Group, GROUP_FILTERS)];
    for (kind, n) in plan {
        let mut done = 0;
        while done < n {
            let generated = generator.filter(kind, 3);
            let Some((text, parsed)) = prepare(kind, &generated) else {
                rejected += 1;
                continue;
            };
            done += 1;
            let want = sorted(reference_ids(&data, kind, &parsed));
            let got = match store_ids(&data.f, kind, &parsed, None).await {
                Ok(ids) => sorted(ids),
                Err(StoreError::TooMany(_)) => {
                    too_many += 1;
                    continue;
                }
                Err(e) => panic!("{kind:?} filter `{text}`: the store failed: {e:?}"),
            };
            run += 1;
            if !want.is_empty() && want.len() < data.resources(kind).len() {
                matched_some += 1;
            }
            if got != want {
                failed += 1;
                if failures.len() < SHOWN {
                    failures.push(describe(&data, kind, &text, &want, &got));
                }
            }
        }
    }
    println!(
        "differential filters: {run} run ({matched_some} selective), {rejected} generated ones rejected by check, {too_many} TooMany; setup {setup:.2?}, total {:.2?}",
        started.elapsed()
    );
    assert!(
        failed == 0,
        "{failed} of {run} generated filters disagree with scim_core::filter::matches (first {}):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    assert!(
        run >= 2000,
        "only {run} filters could be run ({too_many} TooMany): the comparison is too thin"
    );
    // A generator that only makes filters matching all or nothing tests little.
    assert!(
        matched_some * 3 >= run,
        "only {matched_some} of {run} filters were selective: the generator needs tuning"
    );
}

pub async fn differential_sorts(store: Arc<dyn Store>) {
    if !store.capabilities().sort {
        println!("skipped: the backend does not support sorting (Capabilities::sort is false)");
        return;
    }
    let started = Instant::now();
    let data = DataSet::build(&store, "differential-sorts", SEED ^ 0x50).await;
    let pools = Pools::new(&data);
    let mut generator = Gen {
        rng: Rng::new(SEED ^ 0x5027),
        pools: &pools,
    };
    let mut failures: Vec<String> = Vec::new();
    let mut failed = 0;
    for i in 0..SORTS {
        let kind = if i % 5 == 4 { Kind::Group } else { Kind::User };
        let by = *generator.rng.pick(sortable(kind));
        let order = if generator.rng.chance(50) {
            SortOrder::Ascending
        } else {
            SortOrder::Descending
        };
        let sort = SortSpec::new(by, order, &[resource_type(kind)])
            .unwrap_or_else(|e| panic!("generator bug: sortBy {by}: {e:?}"));
        // Half of them filtered, so sorting meets filtering too.
        let filtered = if generator.rng.chance(50) {
            prepare(kind, &generator.filter(kind, 2))
        } else {
            None
        };
        let matching = data.resources(kind).iter().map(|(_, doc)| doc).filter(|doc| {
            filtered
                .as_ref()
                .is_none_or(|(_, f)| filter::matches(f, resource_type(kind), doc))
        });
        let want = reference_order_of(kind, &sort, matching);
        let filter_text = filtered
            .as_ref()
            .map_or_else(|| "none".to_string(), |(t, _)| format!("`{t}`"));
        let what = format!("{kind:?} sortBy={by} sortOrder={order:?} filter={filter_text}");
        let got = match &filtered {
            Some((_, f)) => match store_ids(&data.f, kind, f, Some(&sort)).await {
                Ok(ids) => ids,
                Err(StoreError::TooMany(_)) => continue,
                Err(e) => panic!("{what}: the store failed: {e:?}"),
            },
            None => data
                .f
                .query_all(kind, None, Some(sort.clone()))
                .await
                .1
                .into_iter()
                .map(|s| s.id)
                .collect(),
        };
        if got != want {
            failed += 1;
            if failures.len() < SHOWN {
                let at = got
                    .iter()
                    .zip(&want)
                    .position(|(g, w)| g != w)
                    .unwrap_or(got.len().min(want.len()));
                let lo = at.saturating_sub(2);
                failures.push(format!(
                    "{what}: first difference at position {at} of {}\n    store:     {:?}\n    reference: {:?}",
                    want.len(),
                    &got[lo..(at + 3).min(got.len())],
                    &want[lo..(at + 3).min(want.len())]
                ));
            }
        }
        // One random page of it must be the matching slice.
        if !want.is_empty() && filtered.is_none() {
            let start = 1 + generator.rng.below(want.len());
            let count = 1 + generator.rng.below(40);
            let q = Query {
                sort: Some(sort.clone()),
                start_index: start as u64,
                ..Query::all(count as u64)
            };
            let page = ok(data.f.store.query(&data.f.ctx, kind, &q).await, &format!("{what} page"));
            let got: Vec<String> = page.items.into_iter().map(|s| s.id).collect();
            let end = (start - 1 + count).min(want.len());
            assert_eq!(
                got,
                want[start - 1..end].to_vec(),
                "{what}: page startIndex={start} count={count}"
            );
        }
    }
    println!("differential sorts: {SORTS} sorts in {:.2?}", started.elapsed());
    assert!(
        failed == 0,
        "{failed} of {SORTS} generated sorts disagree with SortSpec::compare (first {}):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
