//! After a write: in seq order, the committed event is fanned out and its effect run (acks,
//! assignments, releases, the closing message); a failed write answers whoever waits and
//! resyncs the actor from storage before its next command.

use super::*;

impl Conversation {
    /// A write finished: on success deliver its event and run its effect, in seq order.
    pub(super) fn committed(&mut self, p: Pending, result: Result<(), StorageError>) {
        if let Some(Effect::Purged { reply }) = p.effect {
            let purged = match result {
                Ok(()) => true,
                // Not due after all (a hold placed, reopened meanwhile): nothing changed.
                Err(StorageError::NotFound(_)) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "purge not stored; tried again on the next run");
                    let _ = reply.send(Err(ConvError::Storage));
                    return;
                }
            };
            self.purged = purged;
            let _ = reply.send(Ok(purged));
            return;
        }
        // One rating per conversation: a repeated one (a retry whose ack was lost, a double
        // click) is acknowledged and the first rating stands. Not a server failure.
        let repeated_feedback = matches!(
            (&result, &p.effect),
            (
                Err(StorageError::Duplicate(_)),
                Some(Effect::FeedbackAck { .. })
            )
        );
        if result.is_err() && !repeated_feedback {
            tracing::error!("storage write failed; the sender gets an error and may retry");
            self.fail(p);
            return;
        }
        if let Some(event) = &p.event {
            self.tell_inbox(event);
            self.committed_seq = event.seq();
            self.recent.push_back(event.clone());
            if self.recent.len() > RECENT_EVENTS {
                self.recent.pop_front();
            }
        }
        // Effects that change who listens run around the fan-out so each side sees exactly
        // the events of its membership.
        match p.effect {
            Some(Effect::Assigned { links, req, reply }) => {
                self.join_professional(links, req, true);
                self.fan_out(p.event.as_deref(), p.started);
                let _ = reply.send(Ok(()));
            }
            Some(Effect::Released {
                reason,
                reply,
                ticket,
                req,
            }) => {
                self.fan_out(p.event.as_deref(), p.started);
                self.release_professionals(reason, req);
                let _ = reply.send(Ok(ticket));
            }
            Some(Effect::Closed { reply, link, req }) => {
                self.fan_out(p.event.as_deref(), p.started);
                let closed = SharedFrame::plain(ServerFrame::Closed(Closed {
                    conversation: self.record.id.clone(),
                    message: self
                        .deps
                        .organisation
                        .closing_message(self.record.lang.as_deref()),
                }));
                for l in &self.clients {
                    l.frame(closed.clone());
                }
                let seq = p.event.as_deref().map(Event::seq);
                link.reply(
                    req,
                    ServerFrame::Ack(Ack {
                        conversation: self.record.id.clone(),
                        client_msg_id: None,
                        seq,
                        at: None,
                    }),
                );
                self.release_professionals("closed", None);
                let _ = reply.send(Ok(()));
            }
            Some(Effect::Ack {
                link,
                req,
                client_msg_id,
            }) => {
                let (seq, at) = match p.event.as_deref() {
                    Some(Event::Message(m) | Event::Note(m)) => (m.seq, m.at.clone()),
                    _ => (0, String::new()),
                };
                let ack = || {
                    ServerFrame::Ack(Ack {
                        conversation: self.record.id.clone(),
                        client_msg_id: Some(client_msg_id.clone()),
                        seq: Some(seq),
                        at: Some(at.clone()),
                    })
                };
                link.reply(req, ack());
                for (l, r) in self.waiting_acks.remove(&client_msg_id).unwrap_or_default() {
                    l.reply(r, ack());
                }
                self.msg_ids.insert(client_msg_id, Some((seq, at.clone())));
                self.fan_out(p.event.as_deref(), p.started);
            }
            Some(Effect::FeedbackAck { link, req, rating }) => {
                if !repeated_feedback {
                    self.deps
                        .metrics
                        .feedback
                        .with_label_values(&[self.record.service.as_str(), &rating.to_string()])
                        .inc();
                    self.deps
                        .metrics
                        .feedback_rating
                        .with_label_values(&[self.record.service.as_str()])
                        .observe(f64::from(rating));
                }
                link.reply(
                    req,
                    ServerFrame::Ack(Ack {
                        conversation: self.record.id.clone(),
                        client_msg_id: None,
                        seq: None,
                        at: None,
                    }),
                );
            }
            Some(Effect::EventAck {
                link,
                req,
                reply,
                answer,
            }) => {
                self.fan_out(p.event.as_deref(), p.started);
                link.reply(
                    req,
                    ServerFrame::Ack(Ack {
                        conversation: self.record.id.clone(),
                        client_msg_id: None,
                        seq: p.event.as_deref().map(Event::seq),
                        at: None,
                    }),
                );
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(answer));
                }
            }
            Some(Effect::Done { reply }) => {
                self.fan_out(p.event.as_deref(), p.started);
                let _ = reply.send(Ok(()));
            }
            // Answered before anything else above.
            Some(Effect::Purged { .. }) => {}
            None => self.fan_out(p.event.as_deref(), p.started),
        }
    }

    /// A failed write: tell whoever waits (they may retry: `internal`), and when it was an
    /// event, resync from storage before the next command. Nobody saw the event, so the
    /// subscribers stay.
    pub(super) fn fail(&mut self, p: Pending) {
        let conv = self.record.id.clone();
        let err = || {
            ServerFrame::Error(ErrorFrame {
                code: console_protocol::ErrorCode::Internal,
                message: "storage failed, retry".into(),
                conversation: Some(conv.clone()),
                fields: None,
            })
        };
        match p.effect {
            Some(Effect::Ack {
                link,
                req,
                client_msg_id,
            }) => {
                self.msg_ids.remove(&client_msg_id);
                for (l, r) in self.waiting_acks.remove(&client_msg_id).unwrap_or_default() {
                    l.reply(r, err());
                }
                link.reply(req, err());
            }
            Some(Effect::FeedbackAck { link, req, .. }) => {
                link.reply(req, err());
            }
            Some(Effect::EventAck {
                link, req, reply, ..
            }) => match reply {
                // The session answers with the error it gets back.
                Some(reply) => drop(reply.send(Err(ConvError::Storage))),
                None => {
                    link.reply(req, err());
                }
            },
            // The session answers these with the error it gets back.
            Some(Effect::Closed { reply, .. }) | Some(Effect::Assigned { reply, .. }) => {
                let _ = reply.send(Err(ConvError::Storage));
            }
            Some(Effect::Released { reply, .. }) => {
                let _ = reply.send(Err(ConvError::Storage));
            }
            Some(Effect::Done { reply }) => {
                let _ = reply.send(Err(ConvError::Storage));
            }
            Some(Effect::Purged { reply }) => {
                let _ = reply.send(Err(ConvError::Storage));
            }
            None => {}
        }
        if p.event.is_some() {
            self.resync = true;
        }
    }

    /// Waits for the writes in flight, then replaces the in-memory state (which may hold
    /// changes that were never stored) with what storage holds.
    pub(super) async fn reload(&mut self) {
        while let Some((p, result)) = self.pending.next().await {
            self.committed(p, result);
        }
        let record = match self.deps.storage.conversation(&self.record.id).await {
            Ok(Some(r)) => r,
            _ => return tracing::warn!("storage unavailable; resync retried on the next command"),
        };
        if self.record.state.status == ConversationStatus::InProgress {
            self.active_gauge().dec();
        }
        self.next_seq = record.last_seq + 1;
        self.committed_seq = record.last_seq;
        self.record = record;
        if self.record.state.status == ConversationStatus::InProgress {
            self.active_gauge().inc();
        }
        let committed = self.committed_seq;
        self.recent.retain(|e| e.seq() <= committed);
        self.msg_ids.retain(|_, v| v.is_some());
        self.restored = true;
        self.resync = false;
        tracing::info!(
            last_seq = committed,
            "resynced from storage after a failed write"
        );
    }

    pub(super) fn fan_out(&self, event: Option<&Event>, started: Instant) {
        let Some(event) = event else { return };
        let pro = SharedFrame::plain(ServerFrame::from(event.clone()));
        for l in &self.pros {
            l.frame(pro.clone());
        }
        if let Some(cv) = client_view(event) {
            let cf = SharedFrame::plain(cv);
            for l in &self.clients {
                l.frame(cf.clone());
            }
        }
        self.deps
            .metrics
            .delivery_latency
            .observe(started.elapsed().as_secs_f64());
    }
}
