//! The SQL of the access log (table `access_log`, as in SQLite). Any node appends, in a
//! transaction of its own under a cluster-wide advisory lock, so two nodes never chain onto
//! the same entry (the primary key on `seq` would refuse the second anyway). Triggers refuse
//! every `UPDATE`, `DELETE` and `TRUNCATE` of the table.

use super::reads::Reads;
use super::{col, describe};
use crate::storage::access::{chain, AccessEntry, AccessQuery, AccessRecord, GENESIS};
use crate::storage::StorageError;
use console_protocol::ConversationId;
use tokio_postgres::Row;

/// The advisory lock that orders appends to the access log ("LUUKKU_A" in ASCII).
pub(super) const APPEND_LOCK: i64 = 0x4c55_554b_4b55_5f41;

/// The columns of an entry, in the order [`record_from_row`] decodes.
const COLUMNS: &str = "seq, at_ms, actor, role, client, conversation, action, purpose, basis, \
    reason, outcome, node, prev_hash, hash";

const INSERT: &str = "INSERT INTO access_log (seq, at_ms, actor, role, client, conversation, \
    action, purpose, basis, reason, outcome, node, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

/// Appends `entries` after the last stored entry, durably, in one transaction.
pub(super) async fn append(reads: &Reads, entries: Vec<AccessEntry>) -> Result<(), StorageError> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut client = reads.client().await?;
    let fail = |e: tokio_postgres::Error| describe("access log", &e);
    let tx = client.transaction().await.map_err(fail)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
        .await
        .map_err(fail)?;
    let head = match tx
        .query_opt(
            "SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(fail)?
    {
        Some(row) => (col::<i64>(&row, 0)?, col::<String>(&row, 1)?),
        None => (0, GENESIS.to_owned()),
    };
    let insert = tx.prepare_cached(INSERT).await.map_err(fail)?;
    for r in chain(head, entries) {
        let e = &r.entry;
        let conversation = e.conversation.as_ref().map(|c| c.as_str());
        tx.execute(
            &insert,
            &[
                &r.seq,
                &e.at_ms,
                &e.actor,
                &e.role,
                &e.client,
                &conversation,
                &e.action,
                &e.purpose,
                &e.basis,
                &e.reason,
                &e.outcome,
                &e.node,
                &r.prev_hash,
                &r.hash,
            ],
        )
        .await
        .map_err(fail)?;
    }
    tx.commit().await.map_err(fail)
}

/// The entries matching `q`, oldest first (a client's: named in the entry, or about a
/// conversation identified as theirs).
pub(super) async fn query(
    reads: &Reads,
    q: &AccessQuery,
) -> Result<Vec<AccessRecord>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM access_log WHERE seq > $1 \
         AND ($2::text IS NULL OR client = $2 OR conversation IN \
              (SELECT id FROM conversations WHERE client_subject = $2)) \
         AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR conversation = $4) \
         AND ($5::bigint IS NULL OR at_ms >= $5) AND ($6::bigint IS NULL OR at_ms < $6) \
         ORDER BY seq LIMIT $7"
    );
    let conversation = q.conversation.as_ref().map(|c| c.as_str());
    let limit = i64::from(q.limit);
    reads
        .rows(
            &sql,
            &[
                &q.after_seq,
                &q.client,
                &q.actor,
                &conversation,
                &q.from_ms,
                &q.to_ms,
                &limit,
            ],
        )
        .await?
        .iter()
        .map(record_from_row)
        .collect()
}

fn record_from_row(row: &Row) -> Result<AccessRecord, StorageError> {
    Ok(AccessRecord {
        seq: col(row, 0)?,
        entry: AccessEntry {
            at_ms: col(row, 1)?,
            actor: col(row, 2)?,
            role: col(row, 3)?,
            client: col(row, 4)?,
            conversation: col::<Option<String>>(row, 5)?.map(ConversationId),
            action: col(row, 6)?,
            purpose: col(row, 7)?,
            basis: col(row, 8)?,
            reason: col(row, 9)?,
            outcome: col(row, 10)?,
            node: col(row, 11)?,
        },
        prev_hash: col(row, 12)?,
        hash: col(row, 13)?,
    })
}
