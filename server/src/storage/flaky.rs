//! A test double: SQLite storage whose chosen writes fail, to test what actors do when a
//! commit fails.

use super::sqlite::SqliteStorage;
use super::{ConversationRecord, PersonalCanned, Receipt, Storage, StorageError, WriteOp};
use async_trait::async_trait;
use console_protocol::{ConversationId, Event, ProfessionalId};
use std::sync::Mutex;

type Matcher = Box<dyn Fn(&WriteOp) -> bool + Send>;

/// Real storage, except that the next writes matching a predicate fail.
pub struct FlakyStorage {
    inner: SqliteStorage,
    /// (writes still to fail, which ones).
    failing: Mutex<Option<(usize, Matcher)>>,
}

impl FlakyStorage {
    /// Wraps an opened database.
    pub fn new(inner: SqliteStorage) -> Self {
        FlakyStorage {
            inner,
            failing: Mutex::new(None),
        }
    }

    /// Makes the next `n` writes for which `matches` holds fail.
    pub fn fail_next(&self, n: usize, matches: impl Fn(&WriteOp) -> bool + Send + 'static) {
        *self.failing.lock().unwrap_or_else(|e| e.into_inner()) = Some((n, Box::new(matches)));
    }

    fn should_fail(&self, op: &WriteOp) -> bool {
        let mut failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        match failing.as_mut() {
            Some((n, matches)) if *n > 0 && matches(op) => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}

#[async_trait]
impl Storage for FlakyStorage {
    async fn write(&self, op: WriteOp) -> Result<(), StorageError> {
        self.submit(op)
            .await?
            .await
            .map_err(|_| StorageError::Closed)?
    }
    async fn submit(&self, op: WriteOp) -> Result<Receipt, StorageError> {
        if self.should_fail(&op) {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let _ = tx.send(Err(StorageError::Database("injected failure".into())));
            return Ok(rx);
        }
        self.inner.submit(op).await
    }
    async fn conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Option<ConversationRecord>, StorageError> {
        self.inner.conversation(id).await
    }
    async fn conversation_by_client_ref(
        &self,
        client_ref: &str,
    ) -> Result<Option<ConversationRecord>, StorageError> {
        self.inner.conversation_by_client_ref(client_ref).await
    }
    async fn open_conversations(&self) -> Result<Vec<ConversationRecord>, StorageError> {
        self.inner.open_conversations().await
    }
    async fn archive(
        &self,
        teams: &[console_protocol::TeamId],
        query: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ConversationRecord>, StorageError> {
        self.inner.archive(teams, query, limit).await
    }
    async fn outbox_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<crate::storage::OutboxItem>, StorageError> {
        self.inner.outbox_due(now_ms, limit).await
    }
    async fn sms_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<crate::storage::SmsRecord>, StorageError> {
        self.inner.sms_due(now_ms, limit).await
    }
    async fn sms_unannounced(
        &self,
        limit: u32,
    ) -> Result<Vec<crate::storage::SmsRecord>, StorageError> {
        self.inner.sms_unannounced(limit).await
    }
    async fn sms(&self, id: &str) -> Result<Option<crate::storage::SmsRecord>, StorageError> {
        self.inner.sms(id).await
    }
    async fn sms_by_provider_ref(
        &self,
        provider_ref: &str,
    ) -> Result<Option<crate::storage::SmsRecord>, StorageError> {
        self.inner.sms_by_provider_ref(provider_ref).await
    }
    async fn sms_report(
        &self,
        id: &str,
        provider_ref: Option<&str>,
        state: crate::storage::SmsState,
        reason: Option<&str>,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        self.inner
            .sms_report(id, provider_ref, state, reason, at_ms)
            .await
    }
    async fn put_inbound_sms(&self, sms: crate::storage::InboundSms) -> Result<bool, StorageError> {
        self.inner.put_inbound_sms(sms).await
    }
    async fn inbound_sms_pending(
        &self,
        limit: u32,
    ) -> Result<Vec<crate::storage::InboundSms>, StorageError> {
        self.inner.inbound_sms_pending(limit).await
    }
    async fn sms_cases(
        &self,
        number: &str,
    ) -> Result<Vec<(ConversationId, console_protocol::ConversationStatus)>, StorageError> {
        self.inner.sms_cases(number).await
    }
    async fn client_conversations(
        &self,
        subject: &str,
        limit: u32,
    ) -> Result<Vec<ConversationRecord>, StorageError> {
        self.inner.client_conversations(subject, limit).await
    }
    async fn events_after(
        &self,
        id: &ConversationId,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError> {
        self.inner.events_after(id, after_seq, limit).await
    }
    async fn events_before(
        &self,
        id: &ConversationId,
        before_seq: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError> {
        self.inner.events_before(id, before_seq, limit).await
    }
    async fn client_msg_ids(
        &self,
        id: &ConversationId,
    ) -> Result<Vec<(String, u64, String)>, StorageError> {
        self.inner.client_msg_ids(id).await
    }
    async fn feedback(
        &self,
        id: &ConversationId,
    ) -> Result<Option<(u8, Option<String>)>, StorageError> {
        self.inner.feedback(id).await
    }
    async fn canned_responses(
        &self,
        professional: &ProfessionalId,
    ) -> Result<Vec<PersonalCanned>, StorageError> {
        self.inner.canned_responses(professional).await
    }
    async fn retention_due(
        &self,
        service: &console_protocol::ServiceId,
        closed_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<ConversationId>, StorageError> {
        self.inner
            .retention_due(service, closed_before_ms, limit)
            .await
    }
    async fn retention_counts(
        &self,
        service: &console_protocol::ServiceId,
        closed_before_ms: i64,
    ) -> Result<crate::storage::retention::RetentionCounts, StorageError> {
        self.inner.retention_counts(service, closed_before_ms).await
    }
    async fn set_legal_hold(
        &self,
        hold: crate::storage::retention::LegalHold,
    ) -> Result<(), StorageError> {
        self.inner.set_legal_hold(hold).await
    }
    async fn release_legal_hold(
        &self,
        conversation: &ConversationId,
        by: &console_protocol::ProfessionalId,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        self.inner.release_legal_hold(conversation, by, at_ms).await
    }
    async fn legal_holds(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<crate::storage::retention::LegalHold>, StorageError> {
        self.inner.legal_holds(conversation).await
    }
    async fn prune_access(&self, before_ms: i64, at_ms: i64) -> Result<u64, StorageError> {
        self.inner.prune_access(before_ms, at_ms).await
    }
    async fn access_anchor(
        &self,
    ) -> Result<Option<crate::storage::retention::AccessAnchor>, StorageError> {
        self.inner.access_anchor().await
    }
    async fn purge_inbound_sms(&self, before_ms: i64) -> Result<u64, StorageError> {
        self.inner.purge_inbound_sms(before_ms).await
    }
    async fn record_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<crate::storage::record::RecordDeliveryRow>, StorageError> {
        self.inner.record_due(now_ms, limit).await
    }
    async fn record_unannounced(
        &self,
        limit: u32,
    ) -> Result<Vec<crate::storage::record::RecordDeliveryRow>, StorageError> {
        self.inner.record_unannounced(limit).await
    }
    async fn record_deliveries(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<crate::storage::record::RecordDeliveryRow>, StorageError> {
        self.inner.record_deliveries(conversation).await
    }
    async fn team_routing(&self) -> Result<Vec<(console_protocol::TeamId, String)>, StorageError> {
        self.inner.team_routing().await
    }
    async fn append_access(
        &self,
        entries: Vec<crate::storage::access::AccessEntry>,
    ) -> Result<(), StorageError> {
        self.inner.append_access(entries).await
    }
    async fn access_log(
        &self,
        query: &crate::storage::access::AccessQuery,
    ) -> Result<Vec<crate::storage::access::AccessRecord>, StorageError> {
        self.inner.access_log(query).await
    }
    async fn put_attachment(&self, a: crate::storage::Attachment) -> Result<(), StorageError> {
        self.inner.put_attachment(a).await
    }
    async fn attachment(
        &self,
        id: &str,
    ) -> Result<Option<crate::storage::Attachment>, StorageError> {
        self.inner.attachment(id).await
    }
    async fn delete_attachment(&self, id: &str) -> Result<(), StorageError> {
        self.inner.delete_attachment(id).await
    }
    async fn sweep_attachments(&self, before_ms: i64) -> Result<(), StorageError> {
        self.inner.sweep_attachments(before_ms).await
    }
    async fn ping(&self) -> Result<(), StorageError> {
        self.inner.ping().await
    }
    async fn close(&self) {
        self.inner.close().await
    }
}
