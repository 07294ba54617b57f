//! What each side may see of a stored event: professionals see everything; clients never see
//! notes, a professional's id, internal summaries, transfer notes or SMS delivery states.

use console_protocol::{ClientInfo, ConversationId, Event, ServerFrame};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Detail keys of `system` events that only professionals see.
const INTERNAL_DETAIL_KEYS: &[&str] = &[
    "professional",
    "to_professional",
    "from_professional",
    "note",
    "summary",
    "supervisor",
    "from_team",
];

/// The client's view of an event, or `None` when clients must not see it at all.
pub fn client_view(event: &Event) -> Option<ServerFrame> {
    match event {
        Event::Note(_) => None,
        // The delivery state of the organisation's SMS is the professionals' to watch.
        Event::System(s) if s.event == console_protocol::SystemKind::Sms => None,
        Event::Message(m) => {
            let mut m = m.clone();
            m.from.id = None;
            Some(ServerFrame::Message(m))
        }
        Event::System(s) => {
            let mut s = s.clone();
            s.detail
                .retain(|k, _| !INTERNAL_DETAIL_KEYS.contains(&k.as_str()));
            Some(ServerFrame::System(s))
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
    use console_protocol::{Author, MessageEvent, Role, SystemEvent, SystemKind};

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
}
