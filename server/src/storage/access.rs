//! The access log the Act on the Processing of Client Data in Healthcare and Social Welfare
//! (703/2023) asks for: who accessed which client's data, when, what, on what basis, with
//! what outcome. Entries are appended, never changed: each carries the hash of the one before
//! it, so an entry changed, removed or inserted afterwards breaks the chain that [`verify`]
//! walks; the tables refuse `UPDATE` and `DELETE` by trigger on both backends.
//!
//! An entry names a client by their identity provider's subject when the conversation is
//! identified; it holds no message content. It is personal data all the same: read only by
//! the roles the organisation allows (`access::report`).

use console_protocol::ConversationId;
use serde::{Deserialize, Serialize};

/// The hash the first entry of a chain follows.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One access, as the policy decided it (before it is stored: no seq, no hash yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// When, in Unix milliseconds.
    pub at_ms: i64,
    /// Who: a professional's id.
    pub actor: String,
    /// Their role at the time (`nurse`, `supervisor`, `dpo`, … as the organisation names it).
    pub role: String,
    /// The client whose data it was: their subject, when the conversation is identified.
    pub client: Option<String>,
    /// The conversation, when the access was to one.
    pub conversation: Option<ConversationId>,
    /// What: `view`, `write`, `download`, `export`, `report`.
    pub action: String,
    /// Where it was shown or done: `assignment`, `conversation`, `history`, `queue`, `inbox`,
    /// `archive`, `thread`, `attachment`, `access_report`, …
    pub purpose: String,
    /// Why it was allowed: `care` (assigned to them: the care relationship), `team` (a matter
    /// of their team), `reason` (a stated reason), `dpo` (the data-protection role).
    pub basis: String,
    /// The reason the professional stated, when the basis is `reason`.
    pub reason: Option<String>,
    /// `allowed` or `refused`.
    pub outcome: String,
    /// The node that decided.
    pub node: String,
}

/// A stored entry: its place in the chain and the hashes that tie it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// 1, 2, 3, … with no gaps.
    pub seq: i64,
    #[serde(flatten)]
    pub entry: AccessEntry,
    /// The hash of entry `seq - 1` ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// [`chain_hash`] of `prev_hash`, `seq` and the entry.
    pub hash: String,
}

/// What an access report asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// Entries about this client (their subject), or about conversations of theirs.
    pub client: Option<String>,
    /// Entries by this professional.
    pub actor: Option<String>,
    /// Entries about this conversation.
    pub conversation: Option<ConversationId>,
    /// From this time on (inclusive, Unix ms).
    pub from_ms: Option<i64>,
    /// Before this time (exclusive, Unix ms).
    pub to_ms: Option<i64>,
    /// Entries after this seq (paging).
    pub after_seq: i64,
    /// At most this many, oldest first.
    pub limit: u32,
}

/// The hash of an entry at `seq` following `prev_hash`: SHA-256 over the previous hash, a
/// newline and the entry's JSON (fields in their declared order), as lowercase hex.
pub fn chain_hash(prev_hash: &str, seq: i64, entry: &AccessEntry) -> String {
    // Serialising a struct of strings and integers cannot fail.
    let body = serde_json::to_string(&(seq, entry)).unwrap_or_default();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(prev_hash.as_bytes());
    ctx.update(b"\n");
    ctx.update(body.as_bytes());
    hex(ctx.finish().as_ref())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Chains `entries` after the head (`seq`, `hash`; `(0, GENESIS)` for an empty log).
pub fn chain(head: (i64, String), entries: Vec<AccessEntry>) -> Vec<AccessRecord> {
    let (mut seq, mut prev) = head;
    entries
        .into_iter()
        .map(|entry| {
            seq += 1;
            let hash = chain_hash(&prev, seq, &entry);
            AccessRecord {
                seq,
                entry,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
            }
        })
        .collect()
}

/// Where a chain stopped holding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq} follows {found}, not the entry before it ({expected})")]
    Gap { seq: i64, expected: i64, found: i64 },
    #[error("entry {seq} does not name the hash of the entry before it")]
    Link { seq: i64 },
    #[error("entry {seq} was changed after it was written (its hash does not match)")]
    Changed { seq: i64 },
}

/// Checks `records` (consecutive, oldest first) against the entry before them (`head`:
/// `(0, GENESIS)` from the start of the log); returns the last `(seq, hash)` verified, from
/// which the next page goes on.
pub fn verify(head: (i64, String), records: &[AccessRecord]) -> Result<(i64, String), ChainBreak> {
    let (mut seq, mut hash) = head;
    for r in records {
        if r.seq != seq + 1 {
            return Err(ChainBreak::Gap {
                seq: r.seq,
                expected: seq + 1,
                found: seq,
            });
        }
        if r.prev_hash != hash {
            return Err(ChainBreak::Link { seq: r.seq });
        }
        if chain_hash(&r.prev_hash, r.seq, &r.entry) != r.hash {
            return Err(ChainBreak::Changed { seq: r.seq });
        }
        seq = r.seq;
        hash = r.hash.clone();
    }
    Ok((seq, hash))
}

/// What walking the stored chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Where the stored log begins: `(0, GENESIS)`, or the anchor of the last prune.
    pub start: (i64, String),
    /// The last entry verified.
    pub head: (i64, String),
    /// Entries verified.
    pub entries: u64,
    /// Where the chain broke, if it did (`head` is the last entry before the break).
    pub broken: Option<ChainBreak>,
}

/// Walks the whole stored chain from its start (the prune anchor, if any), `page` entries per
/// read.
pub async fn verify_stored(
    storage: &dyn super::Storage,
    page: u32,
) -> Result<Verification, super::StorageError> {
    let start = storage
        .access_anchor()
        .await?
        .map_or((0, GENESIS.to_owned()), |a| (a.seq, a.hash));
    let mut v = Verification {
        head: start.clone(),
        start,
        entries: 0,
        broken: None,
    };
    loop {
        let query = AccessQuery {
            after_seq: v.head.0,
            limit: page,
            ..AccessQuery::default()
        };
        let records = storage.access_log(&query).await?;
        if records.is_empty() {
            return Ok(v);
        }
        match verify(v.head.clone(), &records) {
            Ok(next) => {
                v.entries += records.len() as u64;
                v.head = next;
            }
            Err(broken) => {
                // The entries of the page before the break did verify.
                let good = match &broken {
                    ChainBreak::Gap { seq, .. }
                    | ChainBreak::Link { seq }
                    | ChainBreak::Changed { seq } => *seq,
                };
                for r in records.iter().take_while(|r| r.seq < good) {
                    v.entries += 1;
                    v.head = (r.seq, r.hash.clone());
                }
                v.broken = Some(broken);
                return Ok(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(actor: &str) -> AccessEntry {
        AccessEntry {
            at_ms: 1_700_000_000_000,
            actor: actor.into(),
            role: "nurse".into(),
            client: Some("subject-1".into()),
            conversation: Some(ConversationId("c-1".into())),
            action: "view".into(),
            purpose: "assignment".into(),
            basis: "care".into(),
            reason: None,
            outcome: "allowed".into(),
            node: "n1".into(),
        }
    }

    #[test]
    fn a_chain_verifies_and_any_change_breaks_it_where_it_was_made() {
        let records = chain(
            (0, GENESIS.into()),
            vec![entry("a"), entry("b"), entry("c")],
        );
        assert_eq!(records[0].prev_hash, GENESIS);
        assert_eq!(records[1].prev_hash, records[0].hash);
        assert_eq!(
            verify((0, GENESIS.into()), &records),
            Ok((3, records[2].hash.clone()))
        );

        let mut changed = records.clone();
        changed[1].entry.actor = "mallory".into();
        assert_eq!(
            verify((0, GENESIS.into()), &changed),
            Err(ChainBreak::Changed { seq: 2 })
        );

        let mut removed = records.clone();
        removed.remove(1);
        assert!(matches!(
            verify((0, GENESIS.into()), &removed),
            Err(ChainBreak::Gap { seq: 3, .. })
        ));

        // Rehashing a changed entry does not help: the next entry names the old hash.
        let mut rehashed = records.clone();
        rehashed[1].entry.outcome = "refused".into();
        rehashed[1].hash = chain_hash(&rehashed[1].prev_hash, 2, &rehashed[1].entry);
        assert_eq!(
            verify((0, GENESIS.into()), &rehashed),
            Err(ChainBreak::Link { seq: 3 })
        );
    }

    #[test]
    fn a_chain_continues_from_its_head_in_pages() {
        let first = chain((0, GENESIS.into()), vec![entry("a"), entry("b")]);
        let head = (first[1].seq, first[1].hash.clone());
        let second = chain(head.clone(), vec![entry("c")]);
        assert_eq!(second[0].seq, 3);
        let checked = verify((0, GENESIS.into()), &first).expect("first page");
        assert_eq!(checked, head);
        assert!(verify(checked, &second).is_ok());
    }
}
