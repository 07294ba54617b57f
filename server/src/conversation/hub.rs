//! The id → [`ConversationHandle`] index. Creates conversations, loads them from storage on
//! demand, and hands commands that raced with an actor's exit to its successor. The DashMap
//! guard is never held across an `.await`.

use super::actor::{Conversation, Registry};
use super::command::Cmd;
use super::{ConversationHandle, HubDeps};
use crate::storage::{ConversationRecord, StorageError, WriteOp};
use console_protocol::{ConversationId, Event};
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Index of live conversation actors.
pub struct Hub {
    map: DashMap<ConversationId, ConversationHandle>,
    generation: AtomicU64,
    pub deps: Arc<HubDeps>,
}

impl Hub {
    /// An empty hub.
    pub fn new(deps: HubDeps) -> Arc<Self> {
        Arc::new(Hub {
            map: DashMap::new(),
            generation: AtomicU64::new(1),
            deps: Arc::new(deps),
        })
    }

    /// The live actor of `id`, if any.
    pub fn get(&self, id: &ConversationId) -> Option<ConversationHandle> {
        self.map.get(id).map(|h| h.clone())
    }

    /// The actor of `id`, loading the conversation from storage when it is not in memory.
    pub async fn get_or_load(
        self: &Arc<Self>,
        id: &ConversationId,
    ) -> Result<Option<ConversationHandle>, StorageError> {
        if let Some(h) = self.get(id) {
            return Ok(Some(h));
        }
        let Some(record) = self.deps.storage.conversation(id).await? else {
            return Ok(None);
        };
        Ok(Some(self.install(record, true)))
    }

    /// Stores a new conversation with its first event (one atomic write) and starts its actor.
    pub async fn create(
        self: &Arc<Self>,
        mut record: ConversationRecord,
        first: Event,
    ) -> Result<ConversationHandle, StorageError> {
        let first_seq = first.seq();
        self.deps
            .storage
            .write(WriteOp::Create {
                record: Box::new(record.clone()),
                first,
            })
            .await?;
        record.last_seq = first_seq;
        Ok(self.install(record, false))
    }

    fn install(self: &Arc<Self>, record: ConversationRecord, restored: bool) -> ConversationHandle {
        match self.map.entry(record.id.clone()) {
            Entry::Occupied(e) => e.get().clone(),
            Entry::Vacant(v) => {
                let generation = self.generation.fetch_add(1, Ordering::Relaxed);
                let h = Conversation::spawn(
                    self.deps.clone(),
                    self.clone(),
                    record,
                    restored,
                    generation,
                );
                v.insert(h.clone());
                h
            }
        }
    }

    /// Forgets every actor (a cluster node's term as the primary ended): each stops once the
    /// sessions still holding its handle are gone.
    pub fn clear(&self) {
        self.map.clear();
    }

    /// Number of conversations in memory.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no conversation is in memory.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl Registry for Hub {
    /// Removes an exiting actor (only if it is still the registered one).
    fn forget(&self, id: &ConversationId, generation: u64) {
        self.map.remove_if(id, |_, h| h.generation == generation);
    }

    /// Hands a command that reached an exiting actor to a fresh one.
    fn redispatch(self: Arc<Self>, id: ConversationId, cmd: Cmd) {
        tokio::spawn(async move {
            if let Ok(Some(h)) = self.get_or_load(&id).await {
                let _ = h.tx.send(cmd).await;
            }
        });
    }
}
