//! The PostgreSQL backend against a real PostgreSQL, one fresh database per test: the shared
//! `Storage` contract (`postgres_contract`), then what only this backend has: group commits
//! and a failing op inside one (`writes`), fences, several writers and migrations (`fences`),
//! and PostgreSQL going away under a live backend (`outages`).
#![allow(clippy::unwrap_used)]

mod access;
mod fences;
mod outages;
mod writes;

use super::test_db::TestDatabase;
use super::*;
use crate::storage::contract::fixtures::{append, create, create_with, message, record, seqs};
use crate::storage::contract::ContractBackend;
use crate::storage::SharedStorage;
use prometheus::{Histogram, HistogramOpts};
use std::sync::Arc;

mod postgres_contract {
    crate::storage::contract::storage_contract_suite!(super::TestDatabase::create());
}

#[async_trait]
impl ContractBackend for TestDatabase {
    async fn open(&self) -> SharedStorage {
        Arc::new(open(self).await)
    }
}

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

/// A writer's term that lets every write commit (no lease involved).
fn open_term() -> Arc<std::sync::Mutex<TermFence>> {
    Arc::new(std::sync::Mutex::new(TermFence::Open))
}
