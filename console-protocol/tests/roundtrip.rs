//! Every frame of protocol v1 survives encode → decode in both codecs, with and without `req`;
//! plus the decoding rules of PROTOCOL.md (unknown fields ignored, unknown types refused, `req`
//! recoverable from a refused frame) and subprotocol negotiation.

use console_protocol::*;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Debug;

const CODECS: [Codec; 2] = [Codec::Json, Codec::MessagePack];

/// Questionnaire answers of every JSON shape.
fn answers() -> Value {
    json!({"q1": "answer", "q2": 3, "q3": [true, "ä", -1, 1.5], "q4": {"nested": null}})
}

fn message(kind: &str, from: Value) -> Value {
    json!({"type": kind, "conversation": "c1", "seq": 7, "at": "2026-11-21T10:00:00Z",
           "from": from, "body": "text", "client_msg_id": "m-1"})
}

fn system(event: &str, detail: Value) -> Value {
    json!({"type": "system", "conversation": "c1", "seq": 8, "at": "2026-11-21T10:00:01Z",
           "event": event, "detail": detail})
}

/// Typed frames from JSON literals. Each literal spells out every field it sets, so a test
/// can check that none was dropped on the way in.
fn typed<F: DeserializeOwned>(literals: &[Value]) -> Vec<F> {
    literals
        .iter()
        .map(|v| serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}")))
        .collect()
}

/// The wire tag of a client frame; the exhaustive match makes a new variant a compile error
/// here until it gets samples.
fn client_tag(f: &ClientFrame) -> &'static str {
    match f {
        ClientFrame::Hello(_) => "hello",
        ClientFrame::Start(_) => "start",
        ClientFrame::Send(_) => "send",
        ClientFrame::Typing(_) => "typing",
        ClientFrame::Read(_) => "read",
        ClientFrame::Feedback(_) => "feedback",
        ClientFrame::Leave(_) => "leave",
        ClientFrame::Conversations(_) => "conversations",
        ClientFrame::Open(_) => "open",
        ClientFrame::SubmitForm(_) => "submit_form",
    }
}

/// Inbound frames of `/ws/client`, minimal and with every optional field.
fn client_literals() -> Vec<Value> {
    vec![
        json!({"type": "hello"}),
        json!({"type": "hello", "token": "jwt",
               "resume": [{"conversation": "c1", "resume_token": "r1", "after_seq": 6}]}),
        json!({"type": "start", "service": "health-chat"}),
        json!({"type": "start", "service": "health-chat", "topic": "medication", "team": "station-a",
               "questionnaire": answers(), "client_ref": "ref-1"}),
        json!({"type": "send", "conversation": "c1", "client_msg_id": "m-1", "body": "hei ☺"}),
        json!({"type": "typing", "conversation": "c1", "active": true}),
        json!({"type": "read", "conversation": "c1", "seq": 7}),
        json!({"type": "feedback", "conversation": "c1", "rating": 5}),
        json!({"type": "feedback", "conversation": "c1", "rating": 1, "comment": "kiitos"}),
        json!({"type": "start", "service": "health-chat", "lang": "sv"}),
        json!({"type": "leave", "conversation": "c1"}),
        json!({"type": "conversations"}),
        json!({"type": "conversations", "limit": 5}),
        json!({"type": "open", "conversation": "c1", "resume_token": "r1", "after_seq": 3}),
        json!({"type": "submit_form", "service": "contact-form"}),
        json!({"type": "submit_form", "service": "contact-form", "fields": answers(),
               "contact": {"email": "a@example.fi", "phone": "+358401234567"},
               "client_ref": "ref-2", "team": "social", "lang": "fi"}),
    ]
}

/// The wire tag of a console frame (exhaustive, see [`client_tag`]).
fn console_tag(f: &ConsoleFrame) -> &'static str {
    match f {
        ConsoleFrame::Hello(_) => "hello",
        ConsoleFrame::Status(_) => "status",
        ConsoleFrame::SubscribeQueue(_) => "subscribe_queue",
        ConsoleFrame::Accept(_) => "accept",
        ConsoleFrame::Send(_) => "send",
        ConsoleFrame::Typing(_) => "typing",
        ConsoleFrame::Read(_) => "read",
        ConsoleFrame::Note(_) => "note",
        ConsoleFrame::Transfer(_) => "transfer",
        ConsoleFrame::Close(_) => "close",
        ConsoleFrame::Reopen(_) => "reopen",
        ConsoleFrame::History(_) => "history",
        ConsoleFrame::Retract(_) => "retract",
        ConsoleFrame::Release(_) => "release",
        ConsoleFrame::Colleagues(_) => "colleagues",
        ConsoleFrame::Canned(_) => "canned",
        ConsoleFrame::CannedSave(_) => "canned_save",
        ConsoleFrame::CannedDelete(_) => "canned_delete",
        ConsoleFrame::Supervise(_) => "supervise",
        ConsoleFrame::SetRouting(_) => "set_routing",
        ConsoleFrame::Move(_) => "move",
        ConsoleFrame::SubscribeInbox(_) => "subscribe_inbox",
        ConsoleFrame::Take(_) => "take",
        ConsoleFrame::Archive(_) => "archive",
        ConsoleFrame::StartThread(_) => "start_thread",
    }
}

/// Inbound frames of `/ws/console`.
fn console_literals() -> Vec<Value> {
    vec![
        json!({"type": "hello"}),
        json!({"type": "hello", "token": "jwt", "resume": [{"conversation": "c1", "after_seq": 2}]}),
        json!({"type": "status"}),
        json!({"type": "status", "availability": "away", "capacity": 4}),
        json!({"type": "subscribe_queue", "teams": []}),
        json!({"type": "subscribe_queue", "teams": ["station-a", "station-b"]}),
        json!({"type": "accept"}),
        json!({"type": "accept", "team": "station-a"}),
        json!({"type": "accept", "conversation": "c1"}),
        json!({"type": "send", "conversation": "c1", "client_msg_id": "m-1", "body": "text"}),
        json!({"type": "typing", "conversation": "c1", "active": false}),
        json!({"type": "read", "conversation": "c1", "seq": 7}),
        json!({"type": "note", "conversation": "c1", "client_msg_id": "m-2", "body": "internal"}),
        json!({"type": "transfer", "conversation": "c1", "to_team": "station-b", "note": "a doctor"}),
        json!({"type": "transfer", "conversation": "c1", "to_professional": "nurse-3"}),
        json!({"type": "close", "conversation": "c1"}),
        json!({"type": "close", "conversation": "c1", "summary": "done"}),
        json!({"type": "reopen", "conversation": "c1"}),
        json!({"type": "history", "conversation": "c1"}),
        json!({"type": "history", "conversation": "c1", "before_seq": 50, "limit": 200}),
        json!({"type": "retract", "conversation": "c1", "seq": 7}),
        json!({"type": "release", "conversation": "c1"}),
        json!({"type": "colleagues"}),
        json!({"type": "canned"}),
        json!({"type": "canned_save", "code": "hello", "title": "", "lang": "fi", "body": "Hei"}),
        json!({"type": "canned_save", "id": "p-1", "code": "lab_ok-2", "title": "Lab OK",
               "lang": "sv", "body": "Hej {client_name}"}),
        json!({"type": "canned_delete", "id": "p-1"}),
        json!({"type": "supervise"}),
        json!({"type": "supervise", "teams": ["station-a"], "lang": "sv"}),
        json!({"type": "set_routing", "team": "station-a", "routing": "auto"}),
        json!({"type": "set_routing", "team": "station-a", "routing": "manual"}),
        json!({"type": "move", "conversation": "c1", "to_team": "station-b"}),
        json!({"type": "subscribe_inbox"}),
        json!({"type": "subscribe_inbox", "teams": ["station-a"]}),
        json!({"type": "take", "conversation": "c1"}),
        json!({"type": "archive"}),
        json!({"type": "archive", "query": "M-C1", "team": "station-a", "limit": 10}),
        json!({"type": "start_thread", "service": "nurse-message", "client": "sub-1",
               "client_msg_id": "m-9", "body": "Your plan"}),
        json!({"type": "start_thread", "service": "nurse-message", "client": "sub-1",
               "topic": "other", "client_msg_id": "m-9", "body": "Your plan", "close_after": true}),
    ]
}

/// The wire tag of a server frame (exhaustive, see [`client_tag`]).
fn server_tag(f: &ServerFrame) -> &'static str {
    match f {
        ServerFrame::Welcome(_) => "welcome",
        ServerFrame::Queued(_) => "queued",
        ServerFrame::Queue(_) => "queue",
        ServerFrame::Ack(_) => "ack",
        ServerFrame::Message(_) => "message",
        ServerFrame::Note(_) => "note",
        ServerFrame::System(_) => "system",
        ServerFrame::Typing(_) => "typing",
        ServerFrame::Read(_) => "read",
        ServerFrame::Closed(_) => "closed",
        ServerFrame::Error(_) => "error",
        ServerFrame::Status(_) => "status",
        ServerFrame::QueueSnapshot(_) => "queue_snapshot",
        ServerFrame::Assigned(_) => "assigned",
        ServerFrame::Released(_) => "released",
        ServerFrame::History(_) => "history",
        ServerFrame::Colleagues(_) => "colleagues",
        ServerFrame::Canned(_) => "canned",
        ServerFrame::TeamOverview(_) => "team_overview",
        ServerFrame::Routing(_) => "routing",
        ServerFrame::Moved(_) => "moved",
        ServerFrame::Inbox(_) => "inbox",
        ServerFrame::InboxAlert(_) => "inbox_alert",
        ServerFrame::Archive(_) => "archive",
        ServerFrame::Conversations(_) => "conversations",
        ServerFrame::FormReceived(_) => "form_received",
    }
}

/// Every frame the server sends, every error code and system event included.
fn server_literals() -> Vec<Value> {
    let client = json!({"name": "Maija", "identified": true});
    let summary = json!({"conversation": "c1", "status": "in_progress", "last_seq": 9});
    let context = json!({"conversation": "c2", "status": "complete", "last_seq": 3,
        "service": "health-chat", "topic": "medication", "team": "station-a", "client": client,
        "questionnaire": answers()});
    let nurse = json!({"role": "professional", "id": "nurse-1", "name": "Nurse One"});
    let mut literals = vec![
        json!({"type": "team_overview", "team": "station-a", "name": "A", "routing": "manual",
               "waiting": 0, "oldest_wait_s": 0, "estimated_wait_s": 0, "unstaffed": false,
               "available": 0, "active": 0, "capacity": 0, "queue": [], "professionals": []}),
        json!({"type": "team_overview", "team": "station-a", "name": "A", "routing": "auto",
               "waiting": 1, "oldest_wait_s": 9, "estimated_wait_s": 120, "unstaffed": true,
               "available": 0, "active": 2, "capacity": 0,
               "queue": [{"conversation": "c1", "service": "health-chat", "topic": "medication",
                          "channel": "chat", "waiting_s": 9, "identified": true}],
               "professionals": [{"id": "nurse-1", "name": "Nurse One", "presence": "away",
                                  "active": 2, "capacity": 4}]}),
        json!({"type": "queued", "conversation": "c1", "resume_token": "r1", "team": "station-a",
               "position": 1, "estimated_wait_s": 0, "due_at": "2026-04-09T16:00:00+03:00"}),
        json!({"type": "assigned", "conversation": "c1", "service": "nurse-message",
               "client": {"identified": true}, "last_seq": 1, "due_at": "2026-04-09T16:00:00+03:00"}),
        json!({"type": "welcome", "conversations": [{"conversation": "c1", "status": "queued",
               "last_seq": 1, "due_at": "2026-04-09T16:00:00+03:00"}]}),
        json!({"type": "routing", "team": "station-a", "routing": "manual"}),
        json!({"type": "form_received", "conversation": "c1", "reference": "F-C1",
               "resume_token": "r1"}),
        json!({"type": "form_received", "conversation": "c1", "reference": "F-C1",
               "due_at": "2026-04-09T16:00:00+03:00", "resume_token": "r1"}),
        json!({"type": "error", "code": "bad_frame", "message": "the form is not filled in right",
               "fields": {"name": "required", "contact": "give one"}}),
        json!({"type": "moved", "conversation": "c1", "team": "station-b"}),
        json!({"type": "inbox", "team": "station-a", "entries": []}),
        json!({"type": "inbox", "team": "station-a", "entries": [{"conversation": "c1",
               "service": "nurse-message", "channel": "message", "status": "queued",
               "identified": true, "overdue": false, "due_soon": true,
               "due_at": "2026-04-09T16:00:00+03:00", "contact_at": "2026-04-02T07:00:00Z",
               "updated_at": "2026-04-02T07:00:00Z"}]}),
        json!({"type": "inbox_alert", "conversation": "c1", "team": "station-a",
               "service": "nurse-message"}),
        json!({"type": "archive", "entries": []}),
        json!({"type": "conversations", "conversations": []}),
        json!({"type": "welcome", "capacity": 2, "conversations": [],
               "professional": {"id": "lead-1", "name": "Shift Lead", "teams": ["station-a"],
                                "roles": ["supervisor"]}}),
        json!({"type": "welcome", "conversations": []}),
        json!({"type": "welcome", "session": "s1", "identity": {"kind": "anonymous"},
               "conversations": [summary]}),
        json!({"type": "welcome", "session": "s2", "identity": {"kind": "identified", "name": "Maija"},
               "conversations": []}),
        json!({"type": "welcome", "capacity": 4, "conversations": [context, summary],
               "professional": {"id": "nurse-1", "name": "Nurse One", "teams": ["station-a"]}}),
        json!({"type": "queued", "conversation": "c1", "resume_token": "r1", "team": "station-a",
               "position": 3, "estimated_wait_s": 120}),
        json!({"type": "queue", "conversation": "c1", "position": 1, "estimated_wait_s": 30}),
        json!({"type": "ack", "conversation": "c1"}),
        json!({"type": "ack", "conversation": "c1", "client_msg_id": "m-1", "seq": u64::MAX,
               "at": "2026-11-21T10:00:00Z"}),
        message("message", nurse.clone()),
        message(
            "message",
            json!({"role": "professional", "name": "Nurse One"}),
        ),
        json!({"type": "message", "conversation": "c1", "seq": 1, "at": "2026-11-21T10:00:00Z",
               "from": {"role": "system"}, "body": "Welcome"}),
        message("note", nurse.clone()),
        json!({"type": "typing", "conversation": "c1", "active": true, "role": "client"}),
        json!({"type": "read", "conversation": "c1", "seq": 7, "role": "professional"}),
        json!({"type": "closed", "conversation": "c1", "message": "Call 116 117."}),
        json!({"type": "status", "availability": "available", "capacity": 4, "active": 0}),
        json!({"type": "queue_snapshot", "team": "station-a", "entries": []}),
        json!({"type": "queue_snapshot", "team": "station-a", "entries": [
            {"conversation": "c1", "service": "health-chat", "topic": "medication", "waiting_s": 42,
             "identified": false},
            {"conversation": "c2", "service": "health-chat", "waiting_s": 0, "identified": true,
             "priority": -3}]}),
        json!({"type": "assigned", "conversation": "c1", "service": "health-chat",
               "client": {"identified": false}, "last_seq": 0}),
        json!({"type": "assigned", "conversation": "c1", "service": "health-chat", "topic": "medication",
               "team": "station-a", "client": client, "questionnaire": answers(), "last_seq": 3,
               "status": "complete"}),
        json!({"type": "released", "conversation": "c1"}),
        json!({"type": "queue", "conversation": "c1", "position": 2, "estimated_wait_s": 240,
               "staffed": false, "waited_s": 200}),
        json!({"type": "assigned", "conversation": "c1", "service": "health-chat",
               "client": {"identified": false, "lang": "sv", "alias": "4821"}, "last_seq": 0,
               "contact_at": "2026-11-21T09:58:00Z"}),
        json!({"type": "queue_snapshot", "team": "station-a", "entries": [
            {"conversation": "c1", "service": "health-chat", "waiting_s": 42, "identified": false,
             "contact_s": 400, "lang": "fi", "alias": "0042", "preview": "Kuumetta"}]}),
        json!({"type": "welcome", "capacity": 4, "conversations": [], "retract_window_s": 120,
               "professional": {"id": "nurse-1", "name": "Nurse One", "teams": ["station-a"]}}),
        json!({"type": "colleagues", "teams": [{"id": "station-a", "name": "Station A"}],
               "professionals": [{"id": "nurse-2", "name": "Nurse Two", "teams": ["station-a"],
               "presence": "offline", "active": 0, "capacity": 4}]}),
        json!({"type": "released", "conversation": "c1", "reason": "transferred"}),
        json!({"type": "history", "conversation": "c1", "events": []}),
        json!({"type": "canned", "responses": []}),
        json!({"type": "canned", "responses": [
            {"id": "t:station-a:hello:fi", "scope": "team", "team": "station-a", "code": "hello",
             "title": "Tervehdys", "lang": "fi", "body": "Hei {client_name}"},
            {"id": "p-1", "scope": "personal", "code": "x", "title": "", "lang": "en", "body": "b"}]}),
        json!({"type": "history", "conversation": "c1", "events": [
            message("message", json!({"role": "client"})),
            message("note", nurse),
            system("closed", json!({"name": "Nurse One"}))]}),
    ];
    for code in [
        "bad_frame",
        "unauthorized",
        "forbidden",
        "not_found",
        "conversation_closed",
        "capacity_full",
        "service_closed",
        "rate_limited",
        "too_large",
        "internal",
    ] {
        literals.push(json!({"type": "error", "code": code, "message": "no"}));
    }
    literals
        .push(json!({"type": "error", "code": "forbidden", "message": "no", "conversation": "c1"}));
    for event in [
        "queued",
        "assigned",
        "transferred",
        "closed",
        "reopened",
        "left",
        "retracted",
    ] {
        literals.push(system(event, json!({})));
    }
    literals.push(system(
        "queued",
        json!({"reason": "professional_disconnected", "position": 1}),
    ));
    literals
}

fn client_samples() -> Vec<ClientFrame> {
    typed(&client_literals())
}

fn console_samples() -> Vec<ConsoleFrame> {
    typed(&console_literals())
}

fn server_samples() -> Vec<ServerFrame> {
    typed(&server_literals())
}

/// Round-trips every sample, bare and with a `req`, through both codecs.
fn assert_round_trips<F>(samples: Vec<F>)
where
    F: Serialize + DeserializeOwned + PartialEq + Debug + Clone,
{
    for frame in samples {
        for req in [None, Some("req-1".to_owned()), Some(String::new())] {
            let envelope = Envelope::reply(req, frame.clone());
            for codec in CODECS {
                let bytes = codec.encode(&envelope).expect("encodes");
                let back: Envelope<F> = codec
                    .decode(&bytes)
                    .unwrap_or_else(|e| panic!("{codec:?} cannot decode {envelope:?}: {e}"));
                assert_eq!(back, envelope, "{codec:?}");
                assert_eq!(codec.peek_req(&bytes), envelope.req, "{codec:?} peek_req");
            }
        }
    }
}

fn tags<F>(samples: &[F], tag: fn(&F) -> &'static str) -> BTreeSet<&'static str> {
    samples.iter().map(tag).collect()
}

#[test]
fn samples_cover_every_variant() {
    assert_eq!(tags(&client_samples(), client_tag).len(), 10);
    assert_eq!(tags(&console_samples(), console_tag).len(), 25);
    assert_eq!(tags(&server_samples(), server_tag).len(), 26);
}

#[test]
fn tags_on_the_wire_are_the_documented_names() {
    fn check<F: Serialize>(samples: Vec<F>, tag: fn(&F) -> &'static str) {
        for frame in samples {
            let json = serde_json::to_value(Envelope::new(&frame)).expect("encodes");
            assert_eq!(json["type"], tag(&frame), "{json}");
        }
    }
    check(client_samples(), client_tag);
    check(console_samples(), console_tag);
    check(server_samples(), server_tag);
}

#[test]
fn client_frames_round_trip() {
    assert_round_trips(client_samples());
}

#[test]
fn console_frames_round_trip() {
    assert_round_trips(console_samples());
}

#[test]
fn server_frames_round_trip() {
    assert_round_trips(server_samples());
}

#[test]
fn history_events_round_trip() {
    let events: Vec<Event> = typed(&[
        message("message", json!({"role": "client"})),
        message("note", json!({"role": "professional", "id": "nurse-1"})),
        system("reopened", json!({})),
    ]);
    for codec in CODECS {
        let bytes = codec.encode(&events).expect("encodes");
        assert_eq!(codec.decode::<Vec<Event>>(&bytes).expect("decodes"), events);
    }
}

#[test]
fn samples_lose_no_field() {
    fn check<F: Serialize + DeserializeOwned>(literals: Vec<Value>) {
        for literal in literals {
            let frame: F = serde_json::from_value(literal.clone()).expect("decodes");
            assert_eq!(serde_json::to_value(&frame).expect("encodes"), literal);
        }
    }
    check::<ClientFrame>(client_literals());
    check::<ConsoleFrame>(console_literals());
    check::<ServerFrame>(server_literals());
}

#[test]
fn unknown_fields_are_ignored() {
    let json = br#"{"type":"send","req":"r9","conversation":"c1","client_msg_id":"m-1",
        "body":"hi","future_field":{"nested":[1,2]},"x":null}"#;
    let frame: Envelope<ClientFrame> = Codec::Json.decode(json).expect("decodes");
    let expected = ClientFrame::Send(SendMessage {
        conversation: "c1".into(),
        client_msg_id: "m-1".into(),
        body: "hi".into(),
        attachments: Vec::new(),
        sms: false,
    });
    assert_eq!(frame, Envelope::reply(Some("r9".into()), expected.clone()));

    // The same frame with the extra fields, as MessagePack.
    let value: Value = serde_json::from_slice(json).expect("valid json");
    let packed = rmp_serde::to_vec_named(&value).expect("encodes");
    let frame: Envelope<ClientFrame> = Codec::MessagePack.decode(&packed).expect("decodes");
    assert_eq!(frame.frame, expected);

    // Nested objects ignore unknown fields too.
    let json = br#"{"type":"hello","resume":[{"conversation":"c1","after_seq":2,"extra":1}]}"#;
    let frame: Envelope<ConsoleFrame> = Codec::Json.decode(json).expect("decodes");
    let ConsoleFrame::Hello(hello) = frame.frame else {
        panic!("not a hello")
    };
    assert_eq!(hello.resume[0].after_seq, 2);
}

#[test]
fn unknown_type_fails_to_decode() {
    let json = br#"{"type":"launch_rockets","conversation":"c1"}"#;
    assert!(Codec::Json.decode::<Envelope<ClientFrame>>(json).is_err());
    assert!(Codec::Json.decode::<Envelope<ConsoleFrame>>(json).is_err());
    assert!(Codec::Json.decode::<Envelope<ServerFrame>>(json).is_err());
    let packed = rmp_serde::to_vec_named(&json!({"type": "launch_rockets"})).expect("encodes");
    assert!(Codec::MessagePack
        .decode::<Envelope<ClientFrame>>(&packed)
        .is_err());
}

#[test]
fn console_only_frames_are_unknown_on_the_client_endpoint() {
    let json = br#"{"type":"accept","team":"station-a"}"#;
    assert!(Codec::Json.decode::<Envelope<ClientFrame>>(json).is_err());
    assert!(Codec::Json.decode::<Envelope<ConsoleFrame>>(json).is_ok());
}

#[test]
fn malformed_or_incomplete_frames_fail_to_decode() {
    let bad: [&[u8]; 7] = [
        b"",
        b"{",
        b"not json",
        br#"{"type":"send","conversation":"c1""#,
        br#"{"conversation":"c1","client_msg_id":"m","body":"no type"}"#,
        br#"{"type":"send","conversation":"c1","body":"missing client_msg_id"}"#,
        br#"{"type":"feedback","conversation":"c1","rating":"five"}"#,
    ];
    for bytes in bad {
        assert!(
            Codec::Json.decode::<Envelope<ClientFrame>>(bytes).is_err(),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    assert!(Codec::MessagePack
        .decode::<Envelope<ClientFrame>>(b"\xc1")
        .is_err());
    assert!(Codec::MessagePack
        .decode::<Envelope<ClientFrame>>(b"")
        .is_err());
}

#[test]
fn peek_req_recovers_req_from_a_refused_frame() {
    let json = br#"{"type":"launch_rockets","req":"abc","conversation":"c1"}"#;
    assert!(Codec::Json.decode::<Envelope<ClientFrame>>(json).is_err());
    assert_eq!(Codec::Json.peek_req(json), Some("abc".into()));

    let missing_field = br#"{"type":"send","req":"def"}"#;
    assert!(Codec::Json
        .decode::<Envelope<ClientFrame>>(missing_field)
        .is_err());
    assert_eq!(Codec::Json.peek_req(missing_field), Some("def".into()));

    let value = json!({"type": "launch_rockets", "req": "ghi", "n": 1});
    let packed = rmp_serde::to_vec_named(&value).expect("encodes");
    assert_eq!(Codec::MessagePack.peek_req(&packed), Some("ghi".into()));

    assert_eq!(Codec::Json.peek_req(br#"{"type":"launch_rockets"}"#), None);
    assert_eq!(Codec::Json.peek_req(b"{ broken"), None);
}

#[test]
fn negotiate_prefers_msgpack_when_offered() {
    let msgpack = (Codec::MessagePack, Some(SUBPROTOCOL_MSGPACK));
    let json = (Codec::Json, Some(SUBPROTOCOL_JSON));
    assert_eq!(Codec::negotiate(Some("luukku.v1.msgpack")), msgpack);
    assert_eq!(
        Codec::negotiate(Some("luukku.v1.json, luukku.v1.msgpack")),
        msgpack
    );
    assert_eq!(
        Codec::negotiate(Some("chat,luukku.v1.msgpack ,luukku.v1.json")),
        msgpack
    );
    assert_eq!(Codec::negotiate(Some("luukku.v1.json")), json);
    assert_eq!(Codec::negotiate(Some("other, luukku.v1.json")), json);
    assert_eq!(Codec::negotiate(None), (Codec::Json, None));
    assert_eq!(Codec::negotiate(Some("")), (Codec::Json, None));
    assert_eq!(
        Codec::negotiate(Some("luukku.v2.msgpack, chat")),
        (Codec::Json, None)
    );
    assert!(Codec::MessagePack.is_binary());
    assert!(!Codec::Json.is_binary());
}

#[test]
fn msgpack_frames_are_maps_with_named_fields() {
    for frame in server_samples() {
        let envelope = Envelope::reply(Some("q".into()), frame);
        let bytes = Codec::MessagePack.encode(&envelope).expect("encodes");
        let is_map_marker = matches!(bytes[0], 0x80..=0x8f | 0xde | 0xdf);
        assert!(
            is_map_marker,
            "first byte {:#04x} of {envelope:?}",
            bytes[0]
        );
        let generic: Value = rmp_serde::from_slice(&bytes).expect("generic decode");
        let json = serde_json::to_value(&envelope).expect("encodes");
        assert_eq!(generic["type"], json["type"]);
        // Same field names and values as the JSON encoding, nested structs included.
        assert_eq!(generic, json);
    }
}

#[test]
fn error_code_all_lists_every_code_once_by_its_wire_name() {
    // Exhaustive: a new code is a compile error here until it is in `ALL`.
    let position = |c: ErrorCode| match c {
        ErrorCode::BadFrame => 0,
        ErrorCode::Unauthorized => 1,
        ErrorCode::Forbidden => 2,
        ErrorCode::NotFound => 3,
        ErrorCode::ConversationClosed => 4,
        ErrorCode::CapacityFull => 5,
        ErrorCode::ServiceClosed => 6,
        ErrorCode::RateLimited => 7,
        ErrorCode::TooLarge => 8,
        ErrorCode::Internal => 9,
    };
    for (i, code) in ErrorCode::ALL.into_iter().enumerate() {
        assert_eq!(position(code), i);
        assert_eq!(serde_json::to_value(code).expect("encodes"), code.as_str());
    }
}
