//! The PostgreSQL backend against a real PostgreSQL, one fresh database per test: the
//! `Storage` behaviour SQLite has (`writes`, `records`), fences and several writers
//! (`fences`), and PostgreSQL going away under a live backend (`outages`). Shared helpers here.
#![allow(clippy::unwrap_used)]

mod fences;
mod outages;
mod records;
mod writes;

use super::test_db::TestDatabase;
use super::*;
use crate::storage::{ClientIdentity, ConversationState};
use console_protocol::{Author, ConversationStatus, MessageEvent, Role, SystemEvent, SystemKind};
use prometheus::{Histogram, HistogramOpts};
use std::sync::Arc;

fn writer_metrics() -> StorageMetrics {
    StorageMetrics {
        commit_seconds: histogram(),
        batch_writes: histogram(),
        checkpoint_seconds: histogram(),
    }
}

fn histogram() -> Histogram {
    Histogram::with_opts(HistogramOpts::new("test_seconds", "test")).unwrap()
}

async fn open(db: &TestDatabase) -> PostgresStorage {
    PostgresStorage::connect(db.url(), writer_metrics())
        .await
        .unwrap()
}

fn queued() -> ConversationState {
    ConversationState {
        status: ConversationStatus::Queued,
        team: "station-a".into(),
        assigned_to: None,
        queued_at_ms: 1_000,
        priority: 0,
        summary: None,
        reserved_for: None,
    }
}

fn record(id: &str, client_ref: Option<&str>) -> ConversationRecord {
    let mut questionnaire = console_protocol::Answers::new();
    questionnaire.insert("q1".into(), serde_json::json!("answer"));
    ConversationRecord {
        id: id.into(),
        service: "health-chat".into(),
        topic: Some("medication".into()),
        channel: "web".into(),
        client: ClientIdentity {
            subject: Some("subject-1".into()),
            name: Some("Client One".into()),
            identified: true,
        },
        questionnaire: Some(questionnaire),
        resume_token_hash: "ab".repeat(32),
        client_ref: client_ref.map(Into::into),
        created_at_ms: 999,
        lang: Some("sv".into()),
        state: queued(),
        last_seq: 0,
    }
}

fn message(conversation: &str, seq: u64, client_msg_id: &str) -> Event {
    Event::Message(MessageEvent {
        conversation: conversation.into(),
        seq,
        at: format!("2026-11-21T10:00:{:02}Z", seq % 60),
        from: Author {
            role: Role::Client,
            id: None,
            name: Some("Client One".into()),
        },
        body: format!("message {seq}"),
        client_msg_id: Some(client_msg_id.into()),
    })
}

fn system(conversation: &str, seq: u64, event: SystemKind) -> Event {
    Event::System(SystemEvent {
        conversation: conversation.into(),
        seq,
        at: "2026-11-21T10:00:00Z".into(),
        event,
        detail: serde_json::Map::new(),
    })
}

fn append(event: Event) -> WriteOp {
    WriteOp::Append { event, state: None }
}

/// A new conversation whose first event is the message `m1`.
fn create(id: &str, client_ref: Option<&str>) -> WriteOp {
    create_with(record(id, client_ref), message(id, 1, "m1"))
}

fn create_with(record: ConversationRecord, first: Event) -> WriteOp {
    WriteOp::Create {
        record: Box::new(record),
        first,
    }
}

async fn seqs(storage: &dyn Storage, id: &str) -> Vec<u64> {
    let events = storage.events_after(&id.into(), 0, 10_000).await.unwrap();
    events.iter().map(Event::seq).collect()
}

/// "ok", "duplicate", "conflict" or "error" for each result.
fn outcomes(results: &[Result<(), StorageError>]) -> Vec<&'static str> {
    results
        .iter()
        .map(|r| match r {
            Ok(()) => "ok",
            Err(StorageError::Duplicate(_)) => "duplicate",
            Err(StorageError::Conflict(_)) => "conflict",
            Err(_) => "error",
        })
        .collect()
}
