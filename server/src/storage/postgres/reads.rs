//! Reads, on a small deadpool pool of connections beside the writer's: conversations, events
//! by seq, ratings and canned responses. A connection that PostgreSQL dropped is replaced by
//! the pool, and a read that met it first is tried once more on a fresh one.

use super::{col, describe, READ_POOL_SIZE};
use crate::storage::StorageError;
use crate::storage::{
    ClientIdentity, Contact, ConversationRecord, ConversationState, PersonalCanned,
};
use console_protocol::{ConversationId, ConversationStatus, Event, ProfessionalId};
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

/// How long a read waits for a pooled connection (all busy, or PostgreSQL slow to accept a
/// new one) before failing: a request handler should get an error, not hang.
const POOL_WAIT: Duration = Duration::from_secs(5);

/// How long a read may wait for its answer: past the server's own `statement_timeout` for
/// reads, so it only fires when PostgreSQL does not answer at all (a paused server).
const READ_TIMEOUT: Duration = Duration::from_secs(super::READ_STATEMENT_TIMEOUT.as_secs() + 5);

/// The stored columns of a conversation, in the order of [`conversation_from_row`].
const CONVERSATION_COLUMNS: &str = "id, service, topic, channel, client_subject, client_name, \
    client_identified, questionnaire, resume_token_hash, client_ref, created_at_ms, status, \
    team, assigned_to, queued_at_ms, priority, summary, reserved_for, lang, last_seq, due_at_ms, contact";

/// The read connections.
pub(super) struct Reads {
    pool: Pool,
}

impl Reads {
    /// A pool of at most [`READ_POOL_SIZE`] connections made from `config`; none is opened
    /// before the first read.
    pub(super) fn new(config: tokio_postgres::Config) -> Result<Reads, StorageError> {
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // `is_closed` only: a connection PostgreSQL closed is noticed by its task;
                // one that died silently fails one read, which is then retried (`rows`).
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(READ_POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(super::CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StorageError::Database(format!("read pool: {e}")))?;
        Ok(Reads { pool })
    }

    /// Runs `sql` (prepared once per connection) and returns its rows.
    pub(super) async fn rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StorageError> {
        match self.try_rows(sql, params).await {
            // Reads change nothing, so one on a connection that turned out dead (PostgreSQL
            // restarted since it was pooled) simply runs again on a new one.
            Err(Failure::Closed(_)) => self.try_rows(sql, params).await,
            other => other,
        }
        .map_err(Failure::into_error)
    }

    async fn try_rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Failure> {
        let client = self.pool.get().await.map_err(Failure::Pool)?;
        let read = async {
            let statement = client.prepare_cached(sql).await?;
            client.query(&statement, params).await
        };
        match tokio::time::timeout(READ_TIMEOUT, read).await {
            Ok(rows) => rows.map_err(Failure::from),
            Err(_) => Err(Failure::TimedOut),
        }
    }

    /// A pooled connection of its own, for a caller that runs a transaction (an append to
    /// the access log).
    pub(super) async fn client(&self) -> Result<deadpool_postgres::Object, StorageError> {
        self.pool
            .get()
            .await
            .map_err(|e| Failure::Pool(e).into_error())
    }

    /// Stops handing out connections; later reads fail with [`StorageError::Closed`].
    pub(super) fn close(&self) {
        self.pool.close();
    }

    /// Conversations matching `filter` (in which `$1` is the one parameter, if any).
    pub(super) async fn conversations(
        &self,
        filter: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<ConversationRecord>, StorageError> {
        self.conversations_by(filter, "queued_at_ms, id", params)
            .await
    }

    /// Conversations matching `filter` in `order` (which may end in a `LIMIT`).
    pub(super) async fn conversations_by(
        &self,
        filter: &str,
        order: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<ConversationRecord>, StorageError> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {filter} ORDER BY {order}"
        );
        self.rows(&sql, params)
            .await?
            .iter()
            .map(conversation_from_row)
            .collect()
    }

    /// At most `limit` events of `id` chosen and ordered by `range`, in which `$2` is `seq`.
    pub(super) async fn events(
        &self,
        id: &ConversationId,
        seq: u64,
        limit: u32,
        range: &str,
    ) -> Result<Vec<Event>, StorageError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let limit = i64::from(limit);
        let sql = format!("SELECT body FROM events WHERE conversation = $1 AND {range} LIMIT $3");
        self.rows(&sql, &[&id.as_str(), &seq, &limit])
            .await?
            .iter()
            .map(|row| {
                serde_json::from_str(col(row, 0)?)
                    .map_err(|e| StorageError::Corrupt(format!("event: {e}")))
            })
            .collect()
    }

    pub(super) async fn client_msg_ids(
        &self,
        id: &ConversationId,
    ) -> Result<Vec<(String, u64, String)>, StorageError> {
        self.rows(
            "SELECT client_msg_id, seq, at FROM events \
             WHERE conversation = $1 AND client_msg_id IS NOT NULL ORDER BY seq",
            &[&id.as_str()],
        )
        .await?
        .iter()
        .map(|row| Ok((col(row, 0)?, to_u64(col(row, 1)?, "seq")?, col(row, 2)?)))
        .collect()
    }

    pub(super) async fn feedback(
        &self,
        id: &ConversationId,
    ) -> Result<Option<(u8, Option<String>)>, StorageError> {
        let rows = self
            .rows(
                "SELECT rating, comment FROM feedback WHERE conversation = $1",
                &[&id.as_str()],
            )
            .await?;
        rows.first()
            .map(|row| {
                let rating: i16 = col(row, 0)?;
                let rating = u8::try_from(rating)
                    .map_err(|_| StorageError::Corrupt(format!("rating {rating}")))?;
                Ok((rating, col(row, 1)?))
            })
            .transpose()
    }

    pub(super) async fn team_routing(
        &self,
    ) -> Result<Vec<(console_protocol::TeamId, String)>, StorageError> {
        let rows = self
            .rows("SELECT team, routing FROM team_routing ORDER BY team", &[])
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    console_protocol::TeamId::from(col::<String>(row, 0)?),
                    col(row, 1)?,
                ))
            })
            .collect()
    }

    pub(super) async fn canned_responses(
        &self,
        professional: &ProfessionalId,
    ) -> Result<Vec<PersonalCanned>, StorageError> {
        let rows = self
            .rows(
                "SELECT id, code, title, lang, body, updated_at_ms FROM canned_responses \
                 WHERE professional = $1 ORDER BY code, lang, id",
                &[&professional.as_str()],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(PersonalCanned {
                    id: col(row, 0)?,
                    professional: professional.clone(),
                    code: col(row, 1)?,
                    title: col(row, 2)?,
                    lang: col(row, 3)?,
                    body: col(row, 4)?,
                    updated_at_ms: col(row, 5)?,
                })
            })
            .collect()
    }

    /// `last_seq` and `last_writer` of a conversation.
    pub(super) async fn last_append(
        &self,
        id: &ConversationId,
    ) -> Result<Option<(u64, Option<i64>)>, StorageError> {
        let rows = self
            .rows(
                "SELECT last_seq, last_writer FROM conversations WHERE id = $1",
                &[&id.as_str()],
            )
            .await?;
        rows.first()
            .map(|row| Ok((to_u64(col(row, 0)?, "last_seq")?, col(row, 1)?)))
            .transpose()
    }
}

/// Why a read failed: `Closed` when the connection had died, worth one more try.
enum Failure {
    Closed(tokio_postgres::Error),
    Query(tokio_postgres::Error),
    Pool(PoolError),
    TimedOut,
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        if e.is_closed() {
            Failure::Closed(e)
        } else {
            Failure::Query(e)
        }
    }
}

impl Failure {
    fn into_error(self) -> StorageError {
        match self {
            Failure::Closed(e) | Failure::Query(e) => describe("read", &e),
            Failure::Pool(PoolError::Closed) => StorageError::Closed,
            Failure::Pool(PoolError::Backend(e)) => describe("connect", &e),
            Failure::Pool(e) => StorageError::Database(format!("read pool: {e}")),
            Failure::TimedOut => {
                StorageError::Database(format!("postgresql did not answer within {READ_TIMEOUT:?}"))
            }
        }
    }
}

fn conversation_from_row(row: &Row) -> Result<ConversationRecord, StorageError> {
    let questionnaire = row
        .get::<_, Option<&str>>(7)
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| StorageError::Corrupt(format!("questionnaire: {e}")))?;
    let status: &str = col(row, 11)?;
    let status = ConversationStatus::parse(status)
        .ok_or_else(|| StorageError::Corrupt(format!("status {status:?}")))?;
    Ok(ConversationRecord {
        id: col::<String>(row, 0)?.into(),
        service: col::<String>(row, 1)?.into(),
        topic: col::<Option<String>>(row, 2)?.map(Into::into),
        channel: col(row, 3)?,
        client: ClientIdentity {
            subject: col(row, 4)?,
            name: col(row, 5)?,
            identified: col(row, 6)?,
        },
        questionnaire,
        resume_token_hash: col(row, 8)?,
        client_ref: col(row, 9)?,
        created_at_ms: col(row, 10)?,
        state: ConversationState {
            status,
            team: col::<String>(row, 12)?.into(),
            assigned_to: col::<Option<String>>(row, 13)?.map(Into::into),
            queued_at_ms: col(row, 14)?,
            priority: col(row, 15)?,
            summary: col(row, 16)?,
            reserved_for: col::<Option<String>>(row, 17)?.map(Into::into),
            due_at_ms: col(row, 20)?,
        },
        lang: col(row, 18)?,
        contact: Contact::from_column(col::<Option<&str>>(row, 21)?)?,
        last_seq: to_u64(col(row, 19)?, "last_seq")?,
    })
}

fn to_u64(value: i64, column: &str) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| StorageError::Corrupt(format!("{column} {value}")))
}
