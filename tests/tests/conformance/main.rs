//! Runs the storage conformance suite against the backend named by `TESSERA_TEST_BACKEND`,
//! each case on a fresh, migrated database.

use tessera_tests::backend::storage;
use tessera_tests::conformance;

macro_rules! conformance_cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let storage = storage().await;
                conformance::$module::$case(storage.backend.storage().as_ref()).await;
            }
        )*
    };
}

conformance_cases!(
    users::a_stored_user_is_found_by_id_email_and_username,
    users::a_taken_email_or_username_is_a_conflict_and_writes_nothing,
    users::update_is_a_compare_and_set_on_the_version,
    users::renaming_to_a_taken_username_is_a_conflict,
    users::the_user_list_pages_by_username_without_repeats,
    users::the_user_list_filters_by_prefix_literally,
    users::a_full_last_page_may_end_with_an_empty_one,
    units::a_dropped_unit_of_work_writes_nothing,
    units::a_failed_commit_writes_nothing_of_the_unit,
    units::a_unit_of_work_holds_at_most_one_hundred_writes,
    refresh_tokens::chains_and_tokens_are_stored_and_found,
    refresh_tokens::a_token_is_spent_exactly_once,
    refresh_tokens::revoking_a_chain_is_idempotent_and_keeps_the_first_time,
);
