//! Runs the storage conformance suite against the backend named by `TESSERA_TEST_BACKEND`,
//! each case on a fresh, migrated database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a failed test

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
    login_attempts::attempts_are_counted_per_key_within_one_window,
    login_attempts::a_window_starts_anew_once_it_ends,
    login_attempts::clearing_forgets_a_keys_count_only,
    login_attempts::concurrent_attempts_each_get_their_own_count,
    login_attempts::a_new_chain_clears_its_accounts_count_when_it_commits,
    login_attempts::sweeping_removes_ended_windows_and_never_an_open_one,
    projects::a_project_is_seen_by_its_members_only_with_exact_counts,
    projects::counts_follow_committed_writes_only,
    projects::project_updates_and_deletes_are_compare_and_set,
    projects::deleting_a_project_removes_its_members_and_posts,
    projects::deleting_a_project_with_hundreds_of_posts_leaves_nothing,
    projects::a_members_projects_are_listed_newest_first_in_pages,
    projects::memberships_are_unique_and_changes_need_a_member,
    projects::a_member_of_a_deleted_project_cannot_be_added,
    projects::members_are_listed_in_the_order_they_were_added,
    posts::pages_of_the_largest_posts_are_complete,
    posts::a_post_is_stored_with_its_creator_and_slugs_are_unique_per_project,
    posts::slugs_like_finds_the_base_and_its_numbered_forms_only,
    posts::post_updates_and_deletes_are_compare_and_set,
    posts::a_projects_posts_are_listed_by_newest_activity_with_a_status_filter,
    posts::a_creators_posts_are_those_the_viewer_may_see,
);
