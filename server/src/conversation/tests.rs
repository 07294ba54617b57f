//! The conversation actor through its handle, with storage that fails on demand.
#![allow(clippy::unwrap_used)]

use super::{ConversationHandle, Hub, Origin, PostKind, Who};
use crate::auth::Auth;
use crate::config::Config;
use crate::conversation::HubDeps;
use crate::delivery::{self, Next, Outbound, OutboundRx, SessionLink};
use crate::metrics::Metrics;
use crate::storage::flaky::FlakyStorage;
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{ClientIdentity, ConversationRecord, ConversationState, Storage, WriteOp};
use console_protocol::{
    ConversationStatus, Envelope, Event, ServerFrame, SessionId, SystemEvent, SystemKind,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A hub on flaky storage in a temporary directory (removed on drop).
pub(crate) struct Setup {
    pub hub: Arc<Hub>,
    pub storage: Arc<FlakyStorage>,
    pub metrics: Arc<Metrics>,
    dir: PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Setup {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "luukku-actor-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let metrics = Arc::new(Metrics::new());
        let sqlite = SqliteStorage::open(&dir.join("luukku.db"), metrics.storage.clone()).unwrap();
        let storage = Arc::new(FlakyStorage::new(sqlite));
        let auth = Arc::new(Auth::new(
            &Config::demo(&dir),
            b"0123456789abcdef0123456789abcdef",
        ));
        let hub = Hub::new(HubDeps {
            storage: storage.clone(),
            metrics: metrics.clone(),
            auth,
            organisation: std::sync::Arc::new(crate::organisation::Organisation::demo()),
            retract_window: std::time::Duration::from_secs(120),
            inbox: Default::default(),
            notifications: Default::default(),
            sms: None,
            record: None,
        });
        Setup {
            hub,
            storage,
            metrics,
            dir,
        }
    }

    /// A new conversation waiting in station-a.
    pub async fn conversation(&self, id: &str) -> ConversationHandle {
        let record = ConversationRecord {
            id: id.into(),
            service: "health-chat".into(),
            topic: None,
            channel: "chat".into(),
            client: ClientIdentity::default(),
            questionnaire: None,
            resume_token_hash: String::new(),
            client_ref: None,
            created_at_ms: 0,
            lang: None,
            contact: None,
            state: ConversationState {
                status: ConversationStatus::Queued,
                team: "station-a".into(),
                assigned_to: None,
                queued_at_ms: 0,
                priority: 0,
                summary: None,
                reserved_for: None,
                due_at_ms: None,
            },
            last_seq: 0,
        };
        let first = Event::System(SystemEvent {
            conversation: id.into(),
            seq: 1,
            at: "2026-11-21T10:00:00Z".into(),
            event: SystemKind::Queued,
            detail: serde_json::Map::new(),
        });
        self.hub.create(record, first).await.unwrap()
    }
}

/// A session's end of a link.
pub(crate) fn link() -> (SessionLink, OutboundRx) {
    delivery::channel(SessionId(uuid::Uuid::new_v4().simple().to_string()))
}

/// The next frame delivered to a link (a replay batch is flattened).
pub(crate) async fn next_frame(
    rx: &mut OutboundRx,
    pending: &mut Vec<Envelope<ServerFrame>>,
) -> Envelope<ServerFrame> {
    loop {
        if !pending.is_empty() {
            return pending.remove(0);
        }
        let out = tokio::time::timeout(Duration::from_secs(5), rx.next())
            .await
            .expect("a frame within 5 s");
        let Next::Item(out) = out else {
            panic!("the session was cut off");
        };
        match out {
            Outbound::Frame(f) => pending.push(f.frame.clone()),
            Outbound::Batch(v) => pending.extend(v.iter().map(|f| f.frame.clone())),
        }
    }
}

fn is_message(op: &WriteOp) -> bool {
    matches!(
        op,
        WriteOp::Append {
            event: Event::Message(_),
            ..
        }
    )
}

#[tokio::test]
async fn a_message_whose_write_failed_is_stored_once_when_resent() {
    let t = Setup::new();
    let h = t.conversation("c1").await;
    let (link, mut rx) = link();
    let mut buf = Vec::new();
    h.attach_client(
        link.clone(),
        t.hub.deps.auth.resume_token(&"c1".into()),
        None,
        None,
    )
    .await
    .unwrap();
    let origin = |req: &str| Origin {
        who: Who::Client,
        link: link.clone(),
        req: Some(req.into()),
    };

    // The first write fails; the second, already in flight behind it, cannot commit either
    // (it would leave a gap) or commits after a resync. Both may be resent.
    t.storage.fail_next(1, is_message);
    h.post(
        origin("a"),
        PostKind::Message,
        "m1".into(),
        "first".into(),
        Vec::new(),
        false,
    )
    .await
    .unwrap();
    h.post(
        origin("b"),
        PostKind::Message,
        "m2".into(),
        "second".into(),
        Vec::new(),
        false,
    )
    .await
    .unwrap();
    let mut outcome = std::collections::HashMap::new();
    while outcome.len() < 2 {
        let f = next_frame(&mut rx, &mut buf).await;
        match (&f.frame, f.req.as_deref()) {
            (ServerFrame::Error(e), Some(r)) => {
                assert_eq!(e.code, console_protocol::ErrorCode::Internal);
                outcome.insert(r.to_owned(), false);
            }
            (ServerFrame::Ack(_), Some(r)) => {
                outcome.insert(r.to_owned(), true);
            }
            _ => {}
        }
    }
    assert_eq!(
        outcome.get("a"),
        Some(&false),
        "the failed write is reported"
    );

    h.post(
        origin("a2"),
        PostKind::Message,
        "m1".into(),
        "first".into(),
        Vec::new(),
        false,
    )
    .await
    .unwrap();
    if outcome.get("b") == Some(&false) {
        h.post(
            origin("b2"),
            PostKind::Message,
            "m2".into(),
            "second".into(),
            Vec::new(),
            false,
        )
        .await
        .unwrap();
    }
    let mut acked = 0;
    while acked < if outcome["b"] { 1 } else { 2 } {
        if let ServerFrame::Ack(a) = next_frame(&mut rx, &mut buf).await.frame {
            assert!(a.seq.is_some());
            acked += 1;
        }
    }
    let events = t.storage.events_after(&"c1".into(), 0, 100).await.unwrap();
    let seqs: Vec<u64> = events.iter().map(Event::seq).collect();
    assert_eq!(seqs, [1, 2, 3], "gap-free");
    let ids: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => m.client_msg_id.as_ref().map(|c| c.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.iter().filter(|i| *i == "m1").count(), 1);
    assert_eq!(ids.iter().filter(|i| *i == "m2").count(), 1);
}
