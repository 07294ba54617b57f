//! The contract every [`Storage`](super::Storage) backend keeps, as one test suite that runs
//! against each backend so that none can drift (the model: quickwit's
//! `metastore_test_suite!`). The tests reach a backend only through `Storage` methods; what
//! only one backend has (migrations, files, pools) stays in that backend's own tests.
//!
//! # Running the suite for a backend
//!
//! Implement [`ContractBackend`] for a test fixture that owns one empty database (a temp
//! dir, a database of its own name) and opens storage over it, then invoke the macro in a
//! module of its own; `$fresh` is an async expression, evaluated afresh in every test, that
//! yields a new fixture:
//!
//! ```ignore
//! // storage/sqlite/tests.rs
//! mod sqlite_contract {
//!     crate::storage::contract::storage_contract_suite!(async { super::TempDb::new() });
//! }
//!
//! // storage/postgres/tests.rs
//! struct TestDatabase { url: String } // a database created for this test alone
//! #[async_trait::async_trait]
//! impl crate::storage::contract::ContractBackend for TestDatabase {
//!     async fn open(&self) -> SharedStorage {
//!         Arc::new(PostgresStorage::connect(&self.url).await.unwrap())
//!     }
//! }
//! mod postgres_contract {
//!     crate::storage::contract::storage_contract_suite!(super::TestDatabase::create());
//! }
//! ```
//!
//! Each test becomes `<module>::<test name>` (`storage::sqlite::tests::sqlite_contract::…`),
//! so `cargo test -p luukku --lib contract` runs the suite for every backend. The builders
//! in `fixtures` (records, events, canned responses) serve a backend's own tests as well.
#![allow(clippy::unwrap_used)]

pub(crate) mod access;
pub(crate) mod attachments;
pub(crate) mod commits;
pub(crate) mod conversations;
pub(crate) mod events;
pub(crate) mod feedback_and_canned;
pub(crate) mod fixtures;
pub(crate) mod outbox;
pub(crate) mod record;
pub(crate) mod retention;
pub(crate) mod sms;

use super::SharedStorage;
use async_trait::async_trait;

/// A backend under test: one empty database of a test's own, kept while the value lives.
#[async_trait]
pub(crate) trait ContractBackend: Send + Sync {
    /// Opens storage over this database. The suite may close it and open it again, and then
    /// expects to find everything that was committed.
    async fn open(&self) -> SharedStorage;
}

/// Expands to one `#[tokio::test]` per contract test, each against the fixture that `$fresh`
/// (an async expression yielding a [`ContractBackend`]) makes for it. See the module header.
macro_rules! storage_contract_suite {
    ($fresh:expr) => {
        $crate::storage::contract::storage_contract_suite!(@current_thread $fresh;
            conversations::create_stores_the_record_and_its_first_event,
            conversations::a_create_whose_first_event_fails_stores_nothing,
            conversations::conversation_by_client_ref_finds_a_retried_start,
            conversations::a_state_changing_append_replaces_the_state,
            conversations::open_conversations_excludes_complete,
            conversations::identify_stores_the_identity_and_its_event_together_or_not_at_all,
            conversations::the_archive_finds_complete_matters_of_the_teams,
            conversations::a_clients_conversations_are_found_by_subject,
            events::events_come_back_in_order_within_limits,
            events::seqs_stay_gap_free,
            events::client_msg_ids_lists_the_messages_of_one_conversation_by_seq,
            feedback_and_canned::feedback_is_stored_once,
            feedback_and_canned::canned_responses_belong_to_their_professional,
            feedback_and_canned::team_routing_is_kept_and_the_latest_wins,
            outbox::notifications_are_stored_with_their_event,
            sms::an_sms_is_stored_only_with_its_message,
            sms::a_queued_sms_is_stored_once,
            sms::the_worker_moves_an_sms_along,
            sms::delivery_reports_only_move_forward,
            sms::each_change_is_announced_once,
            sms::an_inbound_sms_is_stored_once_and_pending_until_handled,
            sms::the_cases_of_a_number_are_found,
            attachments::documents_are_stored_whole_and_removed_on_request,
            attachments::the_sweep_removes_only_old_documents_no_message_names,
            commits::submitted_writes_commit_in_submission_order,
            commits::a_failing_write_fails_alone,
            commits::close_commits_every_submitted_write,
            access::entries_are_chained_and_found_by_client_actor_and_time,
            retention::a_conversation_past_its_period_is_purged_whole_unless_held,
            retention::a_reopened_conversation_is_not_due_until_closed_again,
            retention::legal_holds_are_placed_once_and_kept_as_history,
            retention::the_access_log_is_pruned_behind_an_anchor_and_still_verifies,
            retention::handled_inbound_sms_are_removed_past_the_cut_off,
            record::a_delivery_is_stored_with_its_close_and_moves_to_a_final_state,
        );
        $crate::storage::contract::storage_contract_suite!(@multi_thread $fresh;
            commits::concurrent_writes_from_fifty_tasks_all_commit,
            access::concurrent_appends_make_one_chain,
        );
    };
    (@current_thread $fresh:expr; $($module:ident :: $test:ident),* $(,)?) => {$(
        #[::tokio::test]
        async fn $test() {
            let backend = $fresh.await;
            $crate::storage::contract::$module::$test(&backend).await;
        }
    )*};
    // Tests of writes from many tasks at once run them on several threads.
    (@multi_thread $fresh:expr; $($module:ident :: $test:ident),* $(,)?) => {$(
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $test() {
            let backend = $fresh.await;
            $crate::storage::contract::$module::$test(&backend).await;
        }
    )*};
}
pub(crate) use storage_contract_suite;
