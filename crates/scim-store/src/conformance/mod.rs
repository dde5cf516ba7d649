//! The shared conformance suite: the store contract in executable form.
//!
//! A backend crate runs every case with one line in `tests/conformance.rs`:
//!
//! ```text
//! async fn new_store(registry: Arc<Registry>) -> Option<Arc<dyn Store>> {
//!     Some(Arc::new(MyStore::new(registry)))
//! }
//! scim_store::conformance_tests!(new_store);
//! ```
//!
//! The factory returns `None` when the backend cannot run here (say, no
//! database server); it prints why, and every generated test then prints
//! `skipped:` and passes. Each case creates its own tenants with unique
//! names, so cases never see each other's data even when the factory hands
//! every case the same database.
//!
//! Failure messages name the step, the expected and the actual value; the
//! differential cases print the filter or sort text and the differing ids.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

// For `forward_store!` expansions in backend crates.
#[doc(hidden)]
pub use async_trait::async_trait;
#[doc(hidden)]
pub use chrono;

mod audit;
mod concurrency;
mod crud;
mod differential;
mod filters;
mod filters_typed;
mod forward;
mod isolation;
mod membership;
mod membership_graph;
mod paging;
mod people;
mod sorting;
mod support;
mod tenants;
mod uniqueness;
mod versions;

pub use audit::*;
pub use concurrency::*;
pub use crud::*;
pub use differential::*;
pub use filters::*;
pub use filters_typed::*;
pub use isolation::*;
pub use membership::*;
pub use membership_graph::*;
pub use paging::*;
pub use sorting::*;
pub use support::{EXTENSION_URN, registry, run};
pub use tenants::*;
pub use uniqueness::*;
pub use versions::*;

/// The name of every case, in the order the macro generates them.
pub const CASES: &[&str] = crate::__conformance_cases!(names);

/// Generates one `#[test]` per conformance case for a backend.
///
/// `$factory` is a path to `async fn(Arc<Registry>) -> Option<Arc<dyn Store>>`.
/// Each test runs on its own multi-thread tokio runtime with two workers
/// (what `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`
/// builds; built here so backend crates need no tokio dev-dependency), calls
/// the factory with [`registry`], and runs `scim_store::conformance::<case>`.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::__conformance_cases!(tests $factory);
    };
}

/// The one list of cases, expanded either into tests or into `CASES`, so
/// the two can never disagree.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($($mode:tt)*) => {
        $crate::__conformance_expand! { ($($mode)*)
            // CRUD
            crud_create_then_get
            crud_ids_are_unique_uuids
            crud_create_sets_version_and_timestamps
            crud_to_resource_has_meta
            crud_update_replaces_document
            crud_update_advances_modified_keeps_created
            crud_read_back_equals_returned
            crud_get_text_is_get_as_text
            crud_delete_then_get_is_not_found
            crud_delete_twice_is_not_found
            crud_update_missing_is_not_found
            crud_wrong_kind_is_not_found
            crud_group_with_members
            crud_members_loaded_only_on_request
            // readiness
            ready_ping_answers
            // uniqueness
            unique_user_name_conflict
            unique_user_name_ignores_ascii_case
            unique_user_name_ignores_unicode_case
            unique_user_name_per_tenant
            unique_conflicting_update_changes_nothing
            unique_update_own_user_name_case
            unique_user_name_reusable_after_delete
            unique_group_display_names_may_repeat
            // versions
            version_every_mutation_bumps
            version_membership_only_update_bumps
            version_stale_update_changes_nothing
            version_stale_member_update_changes_nothing
            version_current_if_match_succeeds
            version_stale_delete_keeps_resource
            version_current_if_match_delete
            // tenant isolation
            isolation_get
            isolation_query
            isolation_update
            isolation_delete
            isolation_members
            isolation_groups_of
            isolation_audit
            isolation_foreign_member_rejected
            // filters
            filter_string_operators
            filter_case_exact_strings
            filter_unicode_case_folding
            filter_integer_operators
            filter_decimal_operators
            filter_datetime_operators
            filter_boolean_operators
            filter_binary_operators
            filter_multi_valued_strings
            filter_presence_and_null
            filter_ne_includes_missing
            filter_logical_operators
            filter_value_paths
            filter_complex_without_sub_attribute
            filter_extension_attributes
            filter_idp_shapes
            filter_meta_attributes
            filter_group_members
            // sort and paging
            sort_every_type_both_orders
            sort_ties_broken_by_id
            sort_missing_values_last
            sort_with_filter
            paging_default_id_order
            paging_start_index_below_one
            paging_beyond_the_end
            paging_count_zero_gives_total
            paging_pages_concatenate
            paging_cursor_after
            paging_query_text_matches_query
            // membership
            members_add_is_idempotent
            members_remove_absent_is_noop
            members_add_and_remove_together
            members_replace_all
            members_large_group
            members_paging_in_id_order
            members_unknown_group_is_not_found
            members_deleting_user_removes_memberships
            members_deleting_group_removes_memberships
            members_must_exist_in_tenant
            members_kind_filled_in
            members_groups_of_direct_and_nested
            members_groups_of_each_answers_per_member
            members_groups_of_each_over_pages_and_spread_members
            members_cycle_rejected
            members_self_membership_rejected
            // audit
            audit_one_event_per_mutation
            audit_none_for_failed_mutations
            audit_password_never_recorded
            audit_member_changes_recorded
            audit_query_filters
            audit_seq_increases
            // tenants and tokens
            tenant_create_list_get
            tenant_duplicate_name_conflict
            tenant_unknown_is_not_found
            tenant_delete_removes_everything
            token_create_get_list
            token_create_errors
            token_revoke_is_idempotent
            token_touch_sets_last_used
            // concurrency
            concurrent_creates_one_user_name
            concurrent_updates_same_if_match
            concurrent_member_adds
            // differential
            differential_filters
            differential_sorts
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_expand {
    ((tests $factory:path) $($case:ident)*) => {
        $(
            #[test]
            fn $case() {
                $crate::conformance::run(stringify!($case), $factory, $crate::conformance::$case);
            }
        )*
    };
    ((names) $($case:ident)*) => {
        &[$(stringify!($case)),*]
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn there_are_at_least_seventy_cases_and_no_duplicates() {
        let cases = super::CASES;
        assert!(cases.len() >= 70, "only {} conformance cases", cases.len());
        let unique: std::collections::BTreeSet<_> = cases.iter().collect();
        assert_eq!(unique.len(), cases.len(), "a case is listed twice");
        println!("{} conformance cases", cases.len());
    }

    #[test]
    fn the_test_registry_has_every_extension_type() {
        let registry = super::registry();
        let ext = registry
            .user()
            .extension(super::EXTENSION_URN)
            .expect("extension registered");
        let types: Vec<_> = ext.attributes.iter().map(|a| a.kind.as_str()).collect();
        for t in ["integer", "decimal", "dateTime", "boolean", "binary", "string"] {
            assert!(types.contains(&t), "missing {t}");
        }
    }
}
