//! The PostgreSQL schema and its migrations: every node runs [`migrate`] at start-up, and the
//! nodes of a cluster starting at once apply each migration exactly once.
//!
//! Why not a migration crate: refinery and its kin record applied versions but take no lock,
//! so two nodes starting together both see a version missing and both apply it (the second
//! fails half-way or, worse, repeats a data migration). Here the whole check-and-apply runs in
//! one transaction that first takes a transaction-scoped advisory lock: the first node
//! migrates while the others wait on the lock, then find nothing left to do. The lock is
//! released by COMMIT or ROLLBACK, or by PostgreSQL when the connection dies, so a node that
//! crashes mid-migration leaves neither a lock nor half a schema behind (DDL is
//! transactional in PostgreSQL).

use super::describe;
use crate::storage::StorageError;
use tokio_postgres::Client;

/// The advisory lock key that serialises migrations (any constant no other code uses; advisory
/// locks are per database, so clusters in other databases do not contend).
const MIGRATION_LOCK: i64 = 0x6c75_756b_6b75; // "luukku"

/// Schema migrations, applied in order; `schema_migrations` records each applied version
/// (its index + 1). Append new ones; never edit an applied one.
///
/// The columns match SQLite's. Identifiers and codes are `COLLATE "C"` so that every
/// `ORDER BY` sorts byte-wise as SQLite does, whatever the database's locale. `last_seq` and
/// `last_writer` are what an append's conditional `UPDATE` checks and moves forward (the
/// cluster's fence: see `ops`); bodies are kept as JSON text, not `jsonb`, so that any event
/// SQLite stores is stored here unchanged (`jsonb` refuses `\u0000`).
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE conversations (
    id                TEXT COLLATE "C" PRIMARY KEY,
    service           TEXT NOT NULL,
    topic             TEXT,
    channel           TEXT NOT NULL,
    client_subject    TEXT,
    client_name       TEXT,
    client_identified BOOLEAN NOT NULL,
    questionnaire     TEXT,
    resume_token_hash TEXT NOT NULL,
    client_ref        TEXT UNIQUE,
    created_at_ms     BIGINT NOT NULL,
    status            TEXT NOT NULL,
    team              TEXT NOT NULL,
    assigned_to       TEXT,
    queued_at_ms      BIGINT NOT NULL,
    priority          INTEGER NOT NULL,
    summary           TEXT,
    reserved_for      TEXT,
    lang              TEXT,
    last_seq          BIGINT NOT NULL DEFAULT 0,
    last_writer       BIGINT
);
CREATE INDEX conversations_open ON conversations (queued_at_ms, id) WHERE status <> 'complete';
CREATE TABLE events (
    conversation  TEXT COLLATE "C" NOT NULL REFERENCES conversations (id),
    seq           BIGINT NOT NULL CHECK (seq > 0),
    kind          TEXT NOT NULL CHECK (kind IN ('message', 'note', 'system')),
    client_msg_id TEXT,
    body          TEXT NOT NULL,
    at            TEXT NOT NULL,
    PRIMARY KEY (conversation, seq)
);
CREATE UNIQUE INDEX events_client_msg_id ON events (conversation, client_msg_id)
    WHERE client_msg_id IS NOT NULL;
CREATE TABLE feedback (
    conversation TEXT COLLATE "C" PRIMARY KEY REFERENCES conversations (id),
    rating       SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment      TEXT,
    at_ms        BIGINT NOT NULL
);
CREATE TABLE canned_responses (
    id            TEXT COLLATE "C" PRIMARY KEY,
    professional  TEXT COLLATE "C" NOT NULL,
    code          TEXT COLLATE "C" NOT NULL,
    title         TEXT NOT NULL,
    lang          TEXT COLLATE "C" NOT NULL,
    body          TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX canned_responses_code ON canned_responses (professional, code, lang);
"#,
    // The cluster's bookkeeping (server/src/cluster/): each node's heartbeat on the database's
    // clock, leases fenced by an epoch (the router's), and secrets every node shares (the key
    // that signs resume and demo tokens).
    r#"
CREATE TABLE nodes (
    id          TEXT COLLATE "C" PRIMARY KEY,
    incarnation TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL
);
CREATE TABLE leases (
    name       TEXT COLLATE "C" PRIMARY KEY,
    holder     TEXT,
    epoch      BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE cluster_secrets (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // The routing a supervisor set for a team; replaces the configured one while it exists.
    r#"
CREATE TABLE team_routing (
    team      TEXT COLLATE "C" PRIMARY KEY,
    routing   TEXT NOT NULL CHECK (routing IN ('auto', 'manual')),
    set_by    TEXT NOT NULL,
    set_at_ms BIGINT NOT NULL
);
"#,
    // The reply deadline of a conversation with a service that promises one.
    r#"
ALTER TABLE conversations ADD COLUMN due_at_ms BIGINT;
"#,
    // How to reach the sender of a contact form (JSON: email, phone); personal data.
    r#"
ALTER TABLE conversations ADD COLUMN contact TEXT;
"#,
    // Notifications to clients, written with the event they announce and sent by a worker.
    r#"
CREATE TABLE outbox (
    id              TEXT COLLATE "C" PRIMARY KEY,
    conversation    TEXT COLLATE "C" NOT NULL REFERENCES conversations (id),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    sent_at_ms      BIGINT,
    given_up        BOOLEAN NOT NULL DEFAULT false,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_ms) WHERE sent_at_ms IS NULL AND NOT given_up;
CREATE INDEX outbox_conversation ON outbox (conversation, channel);
"#,
    // Documents attached to messages (as in SQLite): every node serves them from here.
    r#"
CREATE TABLE attachments (
    id             TEXT COLLATE "C" PRIMARY KEY,
    conversation   TEXT COLLATE "C" NOT NULL REFERENCES conversations (id),
    client_msg_id  TEXT NOT NULL,
    name           TEXT NOT NULL,
    mime           TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    data           BYTEA NOT NULL,
    uploaded_at_ms BIGINT NOT NULL
);
CREATE INDEX attachments_conversation ON attachments (conversation);
"#,
    // SMS sent through the gateway with their delivery state (a message's written with its
    // event), and SMS patients sent in, kept until the worker handled them (as in SQLite).
    r#"
CREATE TABLE sms_messages (
    id              TEXT COLLATE "C" PRIMARY KEY,
    conversation    TEXT COLLATE "C" NOT NULL REFERENCES conversations (id),
    seq             BIGINT NOT NULL CHECK (seq >= 0),
    recipient       TEXT COLLATE "C" NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'failed')),
    reason          TEXT,
    provider_ref    TEXT COLLATE "C",
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    last_error      TEXT,
    created_at_ms   BIGINT NOT NULL,
    state_at_ms     BIGINT NOT NULL,
    announced       TEXT NOT NULL CHECK (announced IN ('queued', 'sent', 'delivered', 'failed'))
);
CREATE UNIQUE INDEX sms_messages_provider_ref ON sms_messages (provider_ref)
    WHERE provider_ref IS NOT NULL;
CREATE INDEX sms_messages_due ON sms_messages (next_attempt_ms)
    WHERE state = 'queued' AND provider_ref IS NULL;
CREATE INDEX sms_messages_unannounced ON sms_messages (created_at_ms, id)
    WHERE announced <> state AND seq > 0;
CREATE INDEX sms_messages_recipient ON sms_messages (recipient, created_at_ms) WHERE seq > 0;
CREATE TABLE sms_inbound (
    provider_ref   TEXT COLLATE "C" PRIMARY KEY,
    sender         TEXT COLLATE "C" NOT NULL,
    receiver       TEXT COLLATE "C" NOT NULL,
    body           TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    handled        BOOLEAN NOT NULL DEFAULT false,
    outcome        TEXT,
    handled_at_ms  BIGINT
);
CREATE INDEX sms_inbound_pending ON sms_inbound (received_at_ms, provider_ref) WHERE NOT handled;
"#,
    // The access log of 703/2023 (as in SQLite): appended under an advisory lock, chained by
    // hash; the triggers refuse UPDATE, DELETE and TRUNCATE.
    r#"
CREATE TABLE access_log (
    seq          BIGINT PRIMARY KEY CHECK (seq > 0),
    at_ms        BIGINT NOT NULL,
    actor        TEXT COLLATE "C" NOT NULL,
    role         TEXT NOT NULL,
    client       TEXT COLLATE "C",
    conversation TEXT COLLATE "C",
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
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
"#,
    // Retention (as in SQLite): when a conversation was closed, legal holds, and the access
    // log's own period — its oldest entries may be deleted only behind an anchor.
    r#"
ALTER TABLE conversations ADD COLUMN closed_at_ms BIGINT;
UPDATE conversations SET closed_at_ms = queued_at_ms WHERE status = 'complete';
CREATE INDEX conversations_closed ON conversations (service, closed_at_ms)
    WHERE closed_at_ms IS NOT NULL;
CREATE TABLE legal_holds (
    id             BIGSERIAL PRIMARY KEY,
    conversation   TEXT COLLATE "C" NOT NULL,
    set_by         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    set_at_ms      BIGINT NOT NULL,
    released_by    TEXT,
    released_at_ms BIGINT
);
CREATE UNIQUE INDEX legal_holds_in_force ON legal_holds (conversation)
    WHERE released_at_ms IS NULL;
CREATE INDEX legal_holds_conversation ON legal_holds (conversation, set_at_ms);
CREATE FUNCTION legal_holds_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'legal holds are kept: % refused', TG_OP;
END
$$;
CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds
    FOR EACH ROW EXECUTE FUNCTION legal_holds_kept();
CREATE TRIGGER legal_holds_no_truncate BEFORE TRUNCATE ON legal_holds
    FOR EACH STATEMENT EXECUTE FUNCTION legal_holds_kept();
CREATE TABLE access_log_anchor (
    seq       BIGINT PRIMARY KEY CHECK (seq > 0),
    hash      TEXT NOT NULL,
    before_ms BIGINT NOT NULL,
    at_ms     BIGINT NOT NULL
);
CREATE TRIGGER access_log_anchor_no_change BEFORE UPDATE OR DELETE ON access_log_anchor
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_anchor_no_truncate BEFORE TRUNCATE ON access_log_anchor
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'access_log' AND TG_OP = 'DELETE'
       AND OLD.seq <= (SELECT coalesce(max(seq), 0) FROM access_log_anchor) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the % is append-only: % refused', replace(TG_TABLE_NAME, '_', ' '), TG_OP;
END
$$;
"#,
    // Transcripts to the patient record (as in SQLite).
    r#"
CREATE TABLE record_deliveries (
    id              TEXT COLLATE "C" PRIMARY KEY,
    conversation    TEXT COLLATE "C" NOT NULL REFERENCES conversations (id),
    close_seq       BIGINT NOT NULL CHECK (close_seq > 0),
    state           TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    reason          TEXT,
    created_at_ms   BIGINT NOT NULL,
    state_at_ms     BIGINT NOT NULL,
    announced       TEXT NOT NULL CHECK (announced IN ('queued', 'delivered', 'failed'))
);
CREATE UNIQUE INDEX record_deliveries_close ON record_deliveries (conversation, close_seq);
CREATE INDEX record_deliveries_due ON record_deliveries (next_attempt_ms)
    WHERE state = 'queued';
CREATE INDEX record_deliveries_unannounced ON record_deliveries (created_at_ms, id)
    WHERE announced <> state;
"#,
];

/// Applies the migrations the database has not seen yet, all in one transaction under
/// [`MIGRATION_LOCK`]; refuses a database migrated by a newer server.
pub(super) async fn migrate(client: &mut Client) -> Result<(), StorageError> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| describe("begin migration", &e))?;
    let steps = async {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await?;
        let row = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await?;
        row.try_get::<_, i32>(0)
    };
    let applied = steps.await.map_err(|e| describe("migrate", &e))?;
    let applied = usize::try_from(applied)
        .map_err(|_| StorageError::Corrupt(format!("schema version {applied}")))?;
    if applied > MIGRATIONS.len() {
        return Err(StorageError::Database(format!(
            "schema version {applied} is newer than this server's {}",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        tx.batch_execute(sql)
            .await
            .map_err(|e| describe(&format!("migration {version}"), &e))?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(|e| describe("record migration", &e))?;
    }
    tx.commit()
        .await
        .map_err(|e| describe("commit migration", &e))
}
