//! The command dispatch: each command off the mailbox goes to its handler, and a refused one
//! is answered to its sender's session. Typing indicators, read receipts and queue places are
//! relayed as they come, never stored.

use super::*;

impl Conversation {
    /// Runs one command off the mailbox.
    pub(super) async fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::AttachClient {
                link,
                token,
                after_seq,
                identity,
                reply,
            } => {
                let r = self.attach_client(link, token, after_seq, identity).await;
                let _ = reply.send(r);
            }
            Cmd::AttachProfessional {
                link,
                professional,
                after_seq,
                reply,
            } => {
                let r = self
                    .attach_professional(link, professional, after_seq)
                    .await;
                let _ = reply.send(r);
            }
            Cmd::Detach { link } => {
                self.clients.retain(|l| l.id != link.id);
                self.pros.retain(|l| l.id != link.id);
            }
            Cmd::Post {
                origin,
                kind,
                client_msg_id,
                body,
                attachments,
                sms,
                received,
            } => {
                let post = super::posts::Post {
                    kind,
                    id: client_msg_id,
                    body,
                    attachments,
                    sms,
                };
                if let Err(e) = self.post(&origin, post, received).await {
                    self.error(&origin, e);
                }
            }
            Cmd::InboundSms {
                origin,
                provider_ref,
                number,
                body,
                received,
            } => {
                if let Err(e) = self
                    .inbound_sms(&origin, provider_ref, &number, body, received)
                    .await
                {
                    self.error(&origin, e);
                }
            }
            Cmd::RecordState {
                close_seq,
                state,
                reason,
                reply,
            } => self.record_state(close_seq, state, reason, reply).await,
            Cmd::Purge {
                closed_before_ms,
                reply,
            } => self.purge(closed_before_ms, reply).await,
            Cmd::SmsState {
                seq,
                state,
                reason,
                reply,
            } => self.sms_state(seq, state, reason, reply).await,
            Cmd::Typing { origin, active } => self.relay(&origin, |role| {
                ServerFrame::Typing(Typing {
                    conversation: self.record.id.clone(),
                    active,
                    role: Some(role),
                })
            }),
            Cmd::Read { origin, seq } => self.relay(&origin, |role| {
                ServerFrame::Read(ReadReceipt {
                    conversation: self.record.id.clone(),
                    seq,
                    role: Some(role),
                })
            }),
            Cmd::Assign {
                professional,
                links,
                req,
                reopen,
                reply,
            } => self.assign(professional, links, req, reopen, reply).await,
            Cmd::Transfer {
                origin,
                to_team,
                to_professional,
                note,
                reply,
            } => {
                self.transfer(origin, to_team, to_professional, note, reply)
                    .await
            }
            Cmd::Move {
                supervisor,
                to_team,
                reply,
            } => self.move_to(supervisor, to_team, reply).await,
            Cmd::Close {
                origin,
                summary,
                reply,
            } => self.close(origin, summary, reply).await,
            Cmd::Requeue {
                professional,
                reason,
                req,
                reply,
            } => self.requeue(professional, reason, req, reply).await,
            Cmd::Leave { origin, reply } => self.leave(origin, reply).await,
            Cmd::Retract { origin, seq } => {
                if let Err(e) = self.retract(&origin, seq).await {
                    self.error(&origin, e);
                }
            }

            Cmd::Feedback {
                origin,
                rating,
                comment,
            } => {
                if let Err(e) = self.feedback(&origin, rating, comment).await {
                    self.error(&origin, e);
                }
            }
            Cmd::History {
                origin,
                before_seq,
                limit,
                stated,
            } => {
                if let Err(e) = self.history(&origin, before_seq, limit, stated).await {
                    self.error(&origin, e);
                }
            }
            Cmd::QueuePosition { place } => self.tell_place(place),
            Cmd::Ticket { reply } => self.answer_ticket(reply),
        }
    }

    /// Refuses a command: counts it by code and answers the sender's session.
    fn error(&self, origin: &Origin, e: ConvError) {
        self.deps
            .metrics
            .frames_rejected
            .with_label_values(&[e.code().as_str()])
            .inc();
        origin.link.reply(
            origin.req.clone(),
            ServerFrame::Error(ErrorFrame {
                code: e.code(),
                message: e.to_string(),
                conversation: Some(self.record.id.clone()),
                fields: match &e {
                    ConvError::Refused {
                        field: Some(field),
                        message,
                        ..
                    } => Some(std::collections::BTreeMap::from([(
                        (*field).to_owned(),
                        message.clone(),
                    )])),
                    _ => None,
                },
            }),
        );
    }

    /// Passes a typing indicator or read receipt from one side to the other.
    fn relay(&self, origin: &Origin, make: impl Fn(Role) -> ServerFrame) {
        let Ok(role) = self.role_of(origin) else {
            return self.error(origin, ConvError::Forbidden);
        };
        let f = SharedFrame::plain(make(role));
        let targets = if role == Role::Client {
            &self.pros
        } else {
            &self.clients
        };
        for l in targets {
            l.frame(f.clone());
        }
    }

    /// Tells the client sessions their place in the queue, while the conversation waits.
    fn tell_place(&self, place: Place) {
        if self.record.state.status == ConversationStatus::Queued {
            let f = SharedFrame::plain(ServerFrame::Queue(QueuePosition {
                conversation: self.record.id.clone(),
                position: place.position,
                estimated_wait_s: place.estimated_wait_s,
                staffed: Some(place.staffed),
                waited_s: Some(place.waited_s),
            }));
            for l in &self.clients {
                l.frame(f.clone());
            }
        }
    }

    /// Answers what to queue the conversation with, if it is waiting.
    fn answer_ticket(&self, reply: Reply<QueueTicket>) {
        let waiting = self.record.state.status == ConversationStatus::Queued;
        let _ = reply.send(if waiting {
            Ok(self.ticket())
        } else {
            Err(ConvError::BadState("conversation is not waiting"))
        });
    }
}
