//! What each side may see of a stored event: professionals see everything; clients see what an
//! allow-list lets through — never notes, a professional's id, internal summaries, transfer
//! notes or SMS delivery states.

use console_protocol::{
    Author, ClientInfo, ConversationId, Event, MessageEvent, ServerFrame, SmsInfo, SystemEvent,
    SystemKind,
};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The detail keys of each `system` event a client may see: an allow-list, so a key added for
/// professionals (an id, a note, a summary) never reaches clients by default. Exhaustive: a new
/// kind of event does not compile until it is decided here.
fn client_detail_keys(kind: SystemKind) -> Option<&'static [&'static str]> {
    Some(match kind {
        SystemKind::Queued => &["team", "reason"],
        SystemKind::Assigned => &["name", "team", "initiated"],
        SystemKind::Transferred => &["team"],
        SystemKind::Closed => &[],
        SystemKind::Reopened => &["name", "team"],
        SystemKind::Identified => &["name"],
        SystemKind::Left => &["waited_s"],
        SystemKind::Retracted => &["seq", "name"],
        // The delivery state of the organisation's SMS is the professionals' to watch.
        SystemKind::Sms => return None,
        // So is the transcript's delivery to the patient record.
        SystemKind::Record => return None,
    })
}

/// The client's view of an event, or `None` when clients must not see it at all. Built field
/// by field from what clients may see (never a copy with internal parts removed): the
/// professional's name but not their id, an SMS's number and length but not its state.
pub fn client_view(event: &Event) -> Option<ServerFrame> {
    match event {
        Event::Note(_) => None,
        Event::Message(m) => {
            let MessageEvent {
                conversation,
                seq,
                at,
                from,
                body,
                client_msg_id,
                attachments,
                sms,
            } = m;
            Some(ServerFrame::Message(MessageEvent {
                conversation: conversation.clone(),
                seq: *seq,
                at: at.clone(),
                from: Author {
                    role: from.role,
                    id: None,
                    name: from.name.clone(),
                },
                body: body.clone(),
                client_msg_id: client_msg_id.clone(),
                attachments: attachments.clone(),
                sms: sms.as_ref().map(|s| SmsInfo {
                    direction: s.direction.clone(),
                    number: s.number.clone(),
                    segments: s.segments,
                    encoding: s.encoding.clone(),
                    state: None,
                }),
            }))
        }
        Event::System(s) => {
            let keys = client_detail_keys(s.event)?;
            let detail = s
                .detail
                .iter()
                .filter(|(k, _)| keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Some(ServerFrame::System(SystemEvent {
                conversation: s.conversation.clone(),
                seq: s.seq,
                at: s.at.clone(),
                event: s.event,
                detail,
            }))
        }
    }
}

/// A short reference for a conversation's client, stable and the same for every professional
/// ("Anonymous 4821"): four digits of a SHA-256 of the conversation id, so every node and
/// every version of the server derives the same one.
pub fn client_alias(id: &ConversationId) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, id.as_str().as_bytes());
    let n = u32::from_be_bytes([d.as_ref()[0], d.as_ref()[1], d.as_ref()[2], d.as_ref()[3]]);
    format!("{:04}", n % 10_000)
}

/// The client of a conversation as professionals see it.
pub fn client_info(r: &crate::storage::ConversationRecord) -> ClientInfo {
    ClientInfo {
        name: r.client.name.clone(),
        identified: r.client.identified,
        lang: r.lang.clone(),
        alias: Some(client_alias(&r.id)),
        contact: r
            .contact
            .as_ref()
            .map(|c| console_protocol::forms::FormContact {
                email: c.email.clone(),
                phone: c.phone.clone(),
            }),
        identity_code: r
            .client
            .identified
            .then_some(r.client.subject.as_deref())
            .flatten()
            .and_then(|s| crate::identity::hetu::parse(s).ok())
            .map(|h| h.as_str().to_owned()),
    }
}

/// Unix milliseconds as an RFC 3339 UTC string.
pub fn rfc3339_of_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Current time as (RFC 3339 UTC string, unix milliseconds).
pub fn now() -> (String, i64) {
    let t = OffsetDateTime::now_utc();
    let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
    (t.format(&Rfc3339).unwrap_or_default(), ms)
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    now().1
}

#[cfg(test)]
mod tests {
    use super::*;
    use console_protocol::Role;

    #[test]
    fn clients_never_see_notes_ids_or_internal_detail() {
        let m = MessageEvent {
            conversation: "c".into(),
            seq: 1,
            at: now().0,
            from: Author {
                role: Role::Professional,
                id: Some("nurse-1".into()),
                name: Some("N".into()),
            },
            body: "b".into(),
            client_msg_id: None,
            attachments: Vec::new(),
            sms: None,
        };
        assert!(client_view(&Event::Note(m.clone())).is_none());
        match client_view(&Event::Message(m)) {
            Some(ServerFrame::Message(v)) => assert_eq!(v.from.id, None),
            other => panic!("unexpected {other:?}"),
        }
        let mut detail = serde_json::Map::new();
        detail.insert("professional".into(), "nurse-1".into());
        detail.insert("name".into(), "N".into());
        let s = SystemEvent {
            conversation: "c".into(),
            seq: 2,
            at: now().0,
            event: SystemKind::Assigned,
            detail,
        };
        match client_view(&Event::System(s)) {
            Some(ServerFrame::System(v)) => {
                assert!(!v.detail.contains_key("professional"));
                assert_eq!(v.detail.get("name"), Some(&"N".into()));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_detail_key_nobody_decided_on_does_not_reach_clients() {
        let mut detail = serde_json::Map::new();
        detail.insert("team".into(), "station-a".into());
        detail.insert("summary".into(), "Internal: called the GP".into());
        detail.insert("future_internal_key".into(), "secret".into());
        detail.insert("from_team".into(), "station-b".into());
        for kind in [
            SystemKind::Queued,
            SystemKind::Closed,
            SystemKind::Transferred,
        ] {
            let s = SystemEvent {
                conversation: "c".into(),
                seq: 3,
                at: now().0,
                event: kind,
                detail: detail.clone(),
            };
            let Some(ServerFrame::System(v)) = client_view(&Event::System(s)) else {
                panic!("{kind:?} is shown to clients");
            };
            assert!(
                v.detail
                    .keys()
                    .all(|k| k == "team" && kind != SystemKind::Closed),
                "{kind:?}: {:?}",
                v.detail
            );
        }
        let sms = SystemEvent {
            conversation: "c".into(),
            seq: 4,
            at: now().0,
            event: SystemKind::Sms,
            detail,
        };
        assert!(client_view(&Event::System(sms)).is_none());
    }

    #[test]
    fn a_clients_view_of_an_sms_has_no_delivery_state() {
        let m = MessageEvent {
            conversation: "c".into(),
            seq: 1,
            at: now().0,
            from: Author {
                role: Role::Professional,
                id: Some("nurse-1".into()),
                name: Some("N".into()),
            },
            body: "b".into(),
            client_msg_id: Some("u1".into()),
            attachments: Vec::new(),
            sms: Some(SmsInfo {
                direction: "out".into(),
                number: "+358 40 *** **67".into(),
                segments: 1,
                encoding: "gsm7".into(),
                state: Some("queued".into()),
            }),
        };
        let Some(ServerFrame::Message(v)) = client_view(&Event::Message(m)) else {
            panic!("a message is shown");
        };
        assert_eq!(v.from.id, None);
        assert_eq!(v.sms.as_ref().map(|s| s.state.clone()), Some(None));
        assert_eq!(v.client_msg_id, Some("u1".into()));
    }
}
