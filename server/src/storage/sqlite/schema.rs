//! The SQLite schema: the migrations in order (`PRAGMA user_version` counts those applied),
//! their runner, and the column lists that the writer and the reads share.

use crate::storage::StorageError;
use rusqlite::Connection;

/// Schema migrations; `PRAGMA user_version` counts how many have been applied.
pub(super) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE conversations (
    id                TEXT PRIMARY KEY NOT NULL,
    service           TEXT NOT NULL,
    topic             TEXT,
    channel           TEXT NOT NULL,
    client_subject    TEXT,
    client_name       TEXT,
    client_identified INTEGER NOT NULL,
    questionnaire     TEXT,
    resume_token_hash TEXT NOT NULL,
    client_ref        TEXT UNIQUE,
    created_at_ms     INTEGER NOT NULL,
    status            TEXT NOT NULL,
    team              TEXT NOT NULL,
    assigned_to       TEXT,
    queued_at_ms      INTEGER NOT NULL,
    priority          INTEGER NOT NULL,
    summary           TEXT,
    last_seq          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_open ON conversations (queued_at_ms) WHERE status <> 'complete';
CREATE TABLE events (
    conversation  TEXT NOT NULL REFERENCES conversations (id),
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('message', 'note', 'system')),
    client_msg_id TEXT,
    body          TEXT NOT NULL,
    at            TEXT NOT NULL,
    PRIMARY KEY (conversation, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_client_msg_id ON events (conversation, client_msg_id)
    WHERE client_msg_id IS NOT NULL;
CREATE TABLE feedback (
    conversation TEXT PRIMARY KEY NOT NULL REFERENCES conversations (id),
    rating       INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment      TEXT,
    at_ms        INTEGER NOT NULL
) WITHOUT ROWID;
",
    r"
ALTER TABLE conversations ADD COLUMN reserved_for TEXT;
",
    // What an append writes, cut to what it must: events are stored in arrival order (a
    // rowid table), so every append of a commit lands on the last pages of the table, where
    // the old table, clustered by conversation, rewrote and split a page of each
    // conversation's range per message; the last seq of a conversation is read off the
    // (conversation, seq) index instead of being kept on its row; and resends are recognised
    // by the conversation's actor (`Storage::client_msg_ids`), not by a second index. What
    // stays random per message is one small index entry.
    r"
CREATE TABLE events_by_arrival (
    id            INTEGER PRIMARY KEY,
    conversation  TEXT NOT NULL REFERENCES conversations (id),
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('message', 'note', 'system')),
    client_msg_id TEXT,
    body          TEXT NOT NULL,
    at            TEXT NOT NULL
);
INSERT INTO events_by_arrival (conversation, seq, kind, client_msg_id, body, at)
    SELECT conversation, seq, kind, client_msg_id, body, at FROM events
    ORDER BY at, conversation, seq;
DROP TABLE events;
ALTER TABLE events_by_arrival RENAME TO events;
CREATE UNIQUE INDEX events_seq ON events (conversation, seq);
ALTER TABLE conversations DROP COLUMN last_seq;
",
    // The language the client chose (fi, sv, en): the closing message comes in it and the
    // professional sees it.
    r"
ALTER TABLE conversations ADD COLUMN lang TEXT;
",
    // Professionals' own canned responses (quick replies). The team ones live in the
    // organisation configuration. One code per professional and language.
    r"
CREATE TABLE canned_responses (
    id            TEXT PRIMARY KEY NOT NULL,
    professional  TEXT NOT NULL,
    code          TEXT NOT NULL,
    title         TEXT NOT NULL,
    lang          TEXT NOT NULL,
    body          TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX canned_responses_code ON canned_responses (professional, code, lang);
",
    // The routing a supervisor set for a team; replaces the configured one while it exists.
    r"
CREATE TABLE team_routing (
    team      TEXT PRIMARY KEY NOT NULL,
    routing   TEXT NOT NULL CHECK (routing IN ('auto', 'manual')),
    set_by    TEXT NOT NULL,
    set_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
",
    // The reply deadline of a conversation with a service that promises one.
    r"
ALTER TABLE conversations ADD COLUMN due_at_ms INTEGER;
",
    // How to reach the sender of a contact form (JSON: email, phone); personal data.
    r"
ALTER TABLE conversations ADD COLUMN contact TEXT;
",
    // Notifications to clients, written with the event they announce and sent by a worker.
    r"
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation    TEXT NOT NULL REFERENCES conversations (id),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    sent_at_ms      INTEGER,
    given_up        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
) WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox (next_attempt_ms) WHERE sent_at_ms IS NULL AND given_up = 0;
CREATE INDEX outbox_conversation ON outbox (conversation, channel);
",
    // Documents attached to messages: stored when uploaded, shown by the message that names
    // them (the one whose client_msg_id they were uploaded for).
    r"
CREATE TABLE attachments (
    id             TEXT PRIMARY KEY NOT NULL,
    conversation   TEXT NOT NULL REFERENCES conversations (id),
    client_msg_id  TEXT NOT NULL,
    name           TEXT NOT NULL,
    mime           TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    data           BLOB NOT NULL,
    uploaded_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX attachments_conversation ON attachments (conversation);
",
    // SMS sent through the gateway with their delivery state (a message's written with its
    // event), and SMS patients sent in, kept until the worker handled them.
    r"
CREATE TABLE sms_messages (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation    TEXT NOT NULL REFERENCES conversations (id),
    seq             INTEGER NOT NULL CHECK (seq >= 0),
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'failed')),
    reason          TEXT,
    provider_ref    TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    created_at_ms   INTEGER NOT NULL,
    state_at_ms     INTEGER NOT NULL,
    announced       TEXT NOT NULL CHECK (announced IN ('queued', 'sent', 'delivered', 'failed'))
) WITHOUT ROWID;
CREATE UNIQUE INDEX sms_messages_provider_ref ON sms_messages (provider_ref)
    WHERE provider_ref IS NOT NULL;
CREATE INDEX sms_messages_due ON sms_messages (next_attempt_ms)
    WHERE state = 'queued' AND provider_ref IS NULL;
CREATE INDEX sms_messages_unannounced ON sms_messages (created_at_ms, id)
    WHERE announced <> state AND seq > 0;
CREATE INDEX sms_messages_recipient ON sms_messages (recipient, created_at_ms) WHERE seq > 0;
CREATE TABLE sms_inbound (
    provider_ref   TEXT PRIMARY KEY NOT NULL,
    sender         TEXT NOT NULL,
    receiver       TEXT NOT NULL,
    body           TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    handled        INTEGER NOT NULL DEFAULT 0,
    outcome        TEXT,
    handled_at_ms  INTEGER
) WITHOUT ROWID;
CREATE INDEX sms_inbound_pending ON sms_inbound (received_at_ms, provider_ref) WHERE handled = 0;
",
    // The access log of 703/2023: appended, chained by hash, never changed (the triggers).
    r"
CREATE TABLE access_log (
    seq          INTEGER PRIMARY KEY CHECK (seq > 0),
    at_ms        INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    client       TEXT,
    conversation TEXT,
    action       TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    basis        TEXT NOT NULL,
    reason       TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('allowed', 'refused')),
    node         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX access_log_client ON access_log (client, seq) WHERE client IS NOT NULL;
CREATE INDEX access_log_conversation ON access_log (conversation, seq)
    WHERE conversation IS NOT NULL;
CREATE INDEX access_log_actor ON access_log (actor, seq);
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only: UPDATE refused'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only: DELETE refused'); END;
",
    // Retention: when a conversation was closed (its period runs from then; the ones closed
    // before this migration count from when they last entered a queue), legal holds that keep
    // a conversation past its period, and the access log's own period: its oldest entries may
    // be removed only behind an anchor (the last removed entry's hash, which the first kept
    // one chains onto), so deleting anything else is still refused.
    r"
ALTER TABLE conversations ADD COLUMN closed_at_ms INTEGER;
UPDATE conversations SET closed_at_ms = queued_at_ms WHERE status = 'complete';
CREATE INDEX conversations_closed ON conversations (service, closed_at_ms)
    WHERE closed_at_ms IS NOT NULL;
CREATE TABLE legal_holds (
    conversation   TEXT NOT NULL,
    set_by         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    set_at_ms      INTEGER NOT NULL,
    released_by    TEXT,
    released_at_ms INTEGER
);
CREATE UNIQUE INDEX legal_holds_in_force ON legal_holds (conversation)
    WHERE released_at_ms IS NULL;
CREATE INDEX legal_holds_conversation ON legal_holds (conversation, set_at_ms);
CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds
BEGIN SELECT RAISE(ABORT, 'legal holds are kept: DELETE refused'); END;
CREATE TABLE access_log_anchor (
    seq       INTEGER PRIMARY KEY CHECK (seq > 0),
    hash      TEXT NOT NULL,
    before_ms INTEGER NOT NULL,
    at_ms     INTEGER NOT NULL
);
CREATE TRIGGER access_log_anchor_no_update BEFORE UPDATE ON access_log_anchor
BEGIN SELECT RAISE(ABORT, 'the access log anchor is append-only: UPDATE refused'); END;
CREATE TRIGGER access_log_anchor_no_delete BEFORE DELETE ON access_log_anchor
BEGIN SELECT RAISE(ABORT, 'the access log anchor is append-only: DELETE refused'); END;
DROP TRIGGER access_log_no_delete;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
WHEN OLD.seq > (SELECT ifnull(max(seq), 0) FROM access_log_anchor)
BEGIN SELECT RAISE(ABORT, 'the access log is append-only: DELETE refused'); END;
",
    // Transcripts of closed identified conversations to the patient record, written with the
    // `closed` event and sent by the record worker.
    r"
CREATE TABLE record_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation    TEXT NOT NULL REFERENCES conversations (id),
    close_seq       INTEGER NOT NULL CHECK (close_seq > 0),
    state           TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    reason          TEXT,
    created_at_ms   INTEGER NOT NULL,
    state_at_ms     INTEGER NOT NULL,
    announced       TEXT NOT NULL CHECK (announced IN ('queued', 'delivered', 'failed'))
) WITHOUT ROWID;
CREATE UNIQUE INDEX record_deliveries_close ON record_deliveries (conversation, close_seq);
CREATE INDEX record_deliveries_due ON record_deliveries (next_attempt_ms)
    WHERE state = 'queued';
CREATE INDEX record_deliveries_unannounced ON record_deliveries (created_at_ms, id)
    WHERE announced <> state;
",
];

/// The stored columns of a conversation, in the order `reads::conversation_from_row` decodes.
pub(super) const CONVERSATION_COLUMNS: &str =
    "id, service, topic, channel, client_subject, client_name, \
    client_identified, questionnaire, resume_token_hash, client_ref, created_at_ms, status, \
    team, assigned_to, queued_at_ms, priority, summary, reserved_for, lang, due_at_ms, contact";
/// The highest stored seq of the conversation `c` (a literal, so that queries can `concat!` it).
macro_rules! last_seq_of_c {
    () => {
        "(SELECT ifnull(max(seq), 0) FROM events WHERE conversation = c.id)"
    };
}
pub(super) use last_seq_of_c;

/// Applies the migrations the file has not seen yet, all in one transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let applied = usize::try_from(version)
        .map_err(|_| StorageError::Corrupt(format!("schema version {version}")))?;
    if applied > MIGRATIONS.len() {
        return Err(StorageError::Database(format!(
            "schema version {applied} is newer than this server's {}",
            MIGRATIONS.len()
        )));
    }
    let tx = conn.transaction()?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
    }
    tx.commit()?;
    Ok(())
}
