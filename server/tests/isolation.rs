//! A randomized isolation test under parallel load: hundreds of conversations, several per
//! professional, transfers and closes mixed in, deliberate cross-talk. Every frame every
//! connection receives is checked against what that connection may see; at the end nothing
//! acked may be lost and no stored event may be missing or duplicated.
//!
//! Every frame carrying a client's data that a professional's session received must have its
//! entry in the access log (703/2023), written no later than the frame arrived, and the log's
//! chain must verify end to end.
//!
//! Seeded: the seed is printed; `ISOLATION_SEED=<n>` replays a run, `ISOLATION_CONVERSATIONS`
//! changes its size.

mod support;

use luukku::organisation::Professional;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Conversations started over the run (override with `ISOLATION_CONVERSATIONS`).
const CONVERSATIONS: usize = 400;
/// Clients chatting at the same time (more than the professionals' places, so queues form).
const CONCURRENT_CLIENTS: usize = 100;
/// Professionals of station-a (auto routing), each with capacity 4.
const STATION_A_PROS: usize = 10;
/// Marker of every cross-talk attempt: it must never reach anyone.
const XTALK: &str = "XTALK";
/// Read receipt seq used only by cross-talk attempts.
const XTALK_SEQ: u64 = 999_999;
/// A conversation id that does not exist.
const FAKE: &str = "0000000000000000000000000000dead";
/// System-event detail keys only professionals may see.
const INTERNAL_KEYS: [&str; 5] = [
    "professional",
    "to_professional",
    "from_professional",
    "note",
    "summary",
];
/// Longest a chatting connection may go without a frame.
const STALL: Duration = Duration::from_secs(30);

/// Which part of the organisation a conversation or professional belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Side {
    /// station-a and station-b (health-chat).
    Stations,
    /// The social team (social-chat).
    Social,
}

/// Conversations known so far, for cross-talk targets.
#[derive(Default)]
struct Registry {
    by_side: HashMap<Side, Vec<String>>,
    closed: HashSet<String>,
}

struct World {
    client_url: String,
    console_url: String,
    registry: Mutex<Registry>,
    /// Cancelled once every client has finished.
    done: CancellationToken,
    /// Station-a and station-b professionals, for transfers.
    station_a: Vec<String>,
    station_b: Vec<String>,
    social: Vec<String>,
}

impl World {
    fn register(&self, side: Side, conv: &str) {
        self.registry
            .lock()
            .expect("registry")
            .by_side
            .entry(side)
            .or_default()
            .push(conv.to_owned());
    }

    fn closed(&self, conv: &str) {
        self.registry
            .lock()
            .expect("registry")
            .closed
            .insert(conv.to_owned());
    }

    /// A conversation of the other side (never assignable to `side`'s professionals), a
    /// closed one, or one that does not exist.
    fn foreign(&self, side: Side, rng: &mut StdRng, allow_closed: bool) -> String {
        let reg = self.registry.lock().expect("registry");
        let other = if side == Side::Stations {
            Side::Social
        } else {
            Side::Stations
        };
        let roll = rng.gen_range(0..10);
        if roll < 6 {
            if let Some(c) = reg.by_side.get(&other).and_then(|v| v.choose(rng)) {
                return c.clone();
            }
        } else if roll < 9 && allow_closed {
            let closed: Vec<&String> = reg.closed.iter().collect();
            if let Some(c) = closed.choose(rng) {
                return (*c).clone();
            }
        }
        FAKE.to_owned()
    }

    /// Any conversation but `own`, or one that does not exist.
    fn not_mine(&self, own: &str, rng: &mut StdRng) -> String {
        let reg = self.registry.lock().expect("registry");
        let all: Vec<&String> = reg
            .by_side
            .values()
            .flatten()
            .filter(|c| c.as_str() != own)
            .collect();
        match all.choose(rng) {
            Some(c) if rng.gen_bool(0.9) => (*c).clone(),
            _ => FAKE.to_owned(),
        }
    }
}

/// The conversation a message body was written for (`c=<id> ...`).
fn body_conversation(body: &str) -> Option<&str> {
    body.strip_prefix("c=")?.split(' ').next()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Checks every connection applies to every frame, whoever receives it.
fn check_common(who: &str, f: &Value) {
    let text = f.to_string();
    assert!(
        !text.contains(XTALK),
        "{who}: a cross-talk attempt got through: {f}"
    );
    match s(&f["type"]) {
        "message" | "note" => {
            assert_eq!(
                body_conversation(s(&f["body"])),
                Some(s(&f["conversation"])),
                "{who}: body delivered to the wrong conversation: {f}"
            );
        }
        "typing" => assert_eq!(
            f["active"], true,
            "{who}: cross-talk typing got through: {f}"
        ),
        "read" => assert_ne!(
            f["seq"].as_u64(),
            Some(XTALK_SEQ),
            "{who}: cross-talk read got through: {f}"
        ),
        "history" => {
            for e in f["events"].as_array().into_iter().flatten() {
                assert_eq!(
                    e["conversation"], f["conversation"],
                    "{who}: history of another conversation: {f}"
                );
                if e["type"] == "message" || e["type"] == "note" {
                    assert_eq!(
                        body_conversation(s(&e["body"])),
                        Some(s(&e["conversation"])),
                        "{who}: wrong body in history: {f}"
                    );
                }
            }
        }
        _ => {}
    }
}

/// What a client connection may see: its own conversation's client view, nothing else.
struct ClientView {
    who: String,
    conv: Option<String>,
    last_seq: u64,
    seqs: BTreeSet<u64>,
}

impl ClientView {
    fn check(&mut self, f: &Value) {
        let who = &self.who;
        check_common(who, f);
        let ty = s(&f["type"]);
        match ty {
            "welcome" => {}
            "error" => {
                if let Some(c) = f.get("conversation") {
                    assert_eq!(
                        Some(s(c)),
                        self.conv.as_deref(),
                        "{who}: error about another conversation: {f}"
                    );
                }
            }
            "queued" => {
                assert!(self.conv.is_none(), "{who}: a second queued: {f}");
                self.conv = Some(s(&f["conversation"]).to_owned());
            }
            "message" | "system" | "typing" | "read" | "queue" | "closed" | "ack" => {
                assert!(
                    self.conv.is_some() && self.conv.as_deref() == Some(s(&f["conversation"])),
                    "{who}: event of another conversation: {f}"
                );
            }
            other => panic!("{who}: a client must never receive {other}: {f}"),
        }
        if ty == "message" {
            assert!(
                f["from"].get("id").is_none(),
                "{who}: a client saw an author id: {f}"
            );
        }
        if ty == "system" {
            for k in INTERNAL_KEYS {
                assert!(
                    f["detail"].get(k).is_none(),
                    "{who}: a client saw internal detail {k}: {f}"
                );
            }
        }
        if ty == "message" || ty == "system" {
            let seq = f["seq"].as_u64().expect("seq");
            assert!(
                seq > self.last_seq,
                "{who}: seq {seq} after {} (duplicate or out of order): {f}",
                self.last_seq
            );
            self.last_seq = seq;
            self.seqs.insert(seq);
        }
    }
}

/// What a console may see: events of conversations assigned to it at that moment.
struct ConsoleView {
    who: String,
    assigned: HashSet<String>,
    last_seq: HashMap<String, u64>,
    subscribed: bool,
    history_asked: HashSet<String>,
    posted_to: HashSet<String>,
    /// Held since the welcome: an `assigned` committed while it connected may still follow.
    welcomed: HashSet<String>,
    /// Each conversation a frame showed client data of, with when the frame arrived (ms).
    shown: Vec<(String, i64)>,
}

impl ConsoleView {
    fn new(who: &str, subscribed: bool) -> Self {
        ConsoleView {
            who: who.to_owned(),
            assigned: HashSet::new(),
            last_seq: HashMap::new(),
            subscribed,
            history_asked: HashSet::new(),
            posted_to: HashSet::new(),
            welcomed: HashSet::new(),
            shown: Vec::new(),
        }
    }

    /// Notes the conversations whose client data `f` carries (the test's own reading of the
    /// protocol, not the server's): a welcome's and an assignment's client and answers, a
    /// conversation's events, its history, a queue entry's preview of the client's words.
    fn note_shown(&mut self, f: &Value) {
        let now = now_ms();
        let mut show = |c: &Value| self.shown.push((s(c).to_owned(), now));
        match s(&f["type"]) {
            "welcome" => f["conversations"]
                .as_array()
                .into_iter()
                .flatten()
                .for_each(|c| show(&c["conversation"])),
            "assigned" | "message" | "note" | "system" | "history" => show(&f["conversation"]),
            "queue_snapshot" => f["entries"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e.get("preview").is_some_and(|p| !p.is_null()))
                .for_each(|e| show(&e["conversation"])),
            _ => {}
        }
    }

    fn check(&mut self, f: &Value) {
        self.note_shown(f);
        let who = &self.who;
        check_common(who, f);
        let ty = s(&f["type"]);
        let c = s(&f["conversation"]).to_owned();
        match ty {
            "welcome" => {
                for c in f["conversations"].as_array().into_iter().flatten() {
                    let id = s(&c["conversation"]).to_owned();
                    self.assigned.insert(id.clone());
                    self.welcomed.insert(id);
                }
            }
            "status" | "error" => {}
            "queue_snapshot" => {
                assert!(self.subscribed, "{who}: snapshot without subscribing: {f}")
            }
            "assigned" => assert!(
                self.assigned.insert(c.clone()) || self.welcomed.remove(&c),
                "{who}: assigned twice: {f}"
            ),
            "released" => {
                assert!(
                    self.assigned.remove(&c),
                    "{who}: released what it did not hold: {f}"
                );
                self.welcomed.remove(&c);
            }
            "message" | "note" | "system" | "typing" | "read" => {
                assert!(
                    self.assigned.contains(&c),
                    "{who}: event of a conversation not assigned to it: {f}"
                );
            }
            "ack" => assert!(
                self.posted_to.contains(&c),
                "{who}: ack for a conversation it never wrote to: {f}"
            ),
            "history" => assert!(
                self.history_asked.contains(&c),
                "{who}: history it did not ask for: {f}"
            ),
            other => panic!("{who}: a console must never receive {other}: {f}"),
        }
        if matches!(ty, "message" | "note" | "system") {
            let seq = f["seq"].as_u64().expect("seq");
            let last = self.last_seq.entry(c).or_default();
            assert!(
                seq > *last,
                "{who}: seq {seq} after {last} (duplicate or out of order): {f}"
            );
            *last = seq;
        }
    }
}

/// The next frame, or `None` after `d` of silence; panics when the server closed the socket.
async fn next(conn: &mut Conn, who: &str, d: Duration) -> Option<Value> {
    let t = Instant::now();
    let f = conn.next_within(d).await;
    if f.is_none() && t.elapsed() < d / 2 {
        panic!("{who}: the server closed the connection");
    }
    f
}

fn msg_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What a client saw of its conversation.
struct ClientReport {
    conv: String,
    /// seq → body of the client's acked messages.
    acked: HashMap<u64, String>,
    /// seq → body of professionals' messages it received.
    heard: HashMap<u64, String>,
    seqs: BTreeSet<u64>,
    log: Vec<String>,
    transfers: usize,
    cross_talk: u32,
}

/// What a professional saw and wrote.
#[derive(Default)]
struct ConsoleReport {
    /// (conversation, seq) → body of client messages seen live or in history.
    heard: HashMap<(String, u64), String>,
    /// (conversation, seq, body) of its acked messages.
    acked: Vec<(String, u64, String)>,
    /// (conversation, seq) of its acked notes.
    notes: Vec<(String, u64)>,
    /// Most conversations held at once.
    max_held: usize,
    cross_talk: u32,
    /// Conversations shown to it, with when (see [`ConsoleView::note_shown`]).
    shown: Vec<(String, i64)>,
    /// Whose.
    me: String,
}

struct ClientTask {
    world: Arc<World>,
    rng: StdRng,
    conn: Conn,
    view: ClientView,
    token: Option<String>,
    xtalk: HashSet<String>,
    n: u32,
    cross_talk: u32,
}

impl ClientTask {
    async fn recv(&mut self) -> Value {
        let who = self.view.who.clone();
        let f = next(&mut self.conn, &who, STALL)
            .await
            .unwrap_or_else(|| panic!("{who}: stalled, conversation {:?}", self.view.conv));
        self.view.check(&f);
        if s(&f["type"]) == "error" && s(&f["req"]).starts_with("x-") {
            assert_eq!(
                f["code"], "forbidden",
                "{who}: cross-talk must be forbidden: {f}"
            );
            assert!(
                self.xtalk.remove(s(&f["req"])),
                "{who}: unexpected error {f}"
            );
        }
        f
    }

    /// Names a conversation this client is not in; the server must refuse it.
    async fn cross_talk(&mut self, own: &str) {
        let target = self.world.not_mine(own, &mut self.rng);
        self.n += 1;
        self.cross_talk += 1;
        let req = format!("x-{}", self.n);
        let frame = match self.rng.gen_range(0..4) {
            0 => {
                json!({"type": "send", "conversation": target, "client_msg_id": msg_id(), "body": format!("c={target} {XTALK}")})
            }
            1 => json!({"type": "typing", "conversation": target, "active": false}),
            2 => json!({"type": "read", "conversation": target, "seq": XTALK_SEQ}),
            _ => json!({"type": "feedback", "conversation": target, "rating": 1, "comment": XTALK}),
        };
        let mut frame = frame;
        frame["req"] = json!(req);
        self.xtalk.insert(req);
        self.conn.send(frame).await;
    }

    /// A second connection that tries to resume someone else's conversation with this
    /// client's own resume token; it must learn nothing and receive nothing.
    async fn spy(&mut self, own: &str, token: &str) -> (Conn, String) {
        let target = self.world.not_mine(own, &mut self.rng);
        let mut spy = Conn::connect(&self.world.client_url, self.rng.gen_bool(0.5)).await;
        spy.send(json!({"type": "hello", "req": "spy", "resume": [{"conversation": target, "resume_token": token, "after_seq": 0}]})).await;
        let w = spy.recv_type("welcome").await;
        assert_eq!(
            w["conversations"],
            json!([]),
            "spy attached to {target}: {w}"
        );
        let e = spy.recv_type("error").await;
        assert_eq!(e["code"], "forbidden", "{e}");
        assert_eq!(e["conversation"], target.as_str(), "{e}");
        spy.send(json!({"type": "send", "conversation": target, "client_msg_id": msg_id(), "body": format!("c={target} {XTALK}"), "req": "spy-send"})).await;
        let e = spy.recv_type("error").await;
        assert_eq!(
            (&e["code"], &e["req"]),
            (&json!("forbidden"), &json!("spy-send")),
            "{e}"
        );
        (spy, target)
    }

    /// One turn of the client: perhaps cross-talk, typing and a read receipt, then a message.
    async fn chat(&mut self, conv: &str, last_heard: u64, sending: &mut HashMap<String, String>) {
        tokio::time::sleep(Duration::from_millis(self.rng.gen_range(30..80))).await;
        if self.rng.gen_bool(0.1) {
            self.cross_talk(conv).await;
        }
        if self.rng.gen_bool(0.2) {
            self.conn
                .send(json!({"type": "typing", "conversation": conv, "active": true}))
                .await;
        }
        if last_heard > 0 && self.rng.gen_bool(0.2) {
            self.conn
                .send(json!({"type": "read", "conversation": conv, "seq": last_heard}))
                .await;
        }
        self.n += 1;
        let (id, body) = (msg_id(), format!("c={conv} from=client n={}", self.n));
        self.conn.send(json!({"type": "send", "conversation": conv, "client_msg_id": id, "body": body, "req": format!("s-{id}")})).await;
        sending.insert(id, body);
    }

    async fn run(mut self, social: bool) -> ClientReport {
        let hello = match &self.token {
            Some(t) => json!({"type": "hello", "token": t}),
            None => json!({"type": "hello"}),
        };
        self.conn.send(hello).await;
        let w = self.recv().await;
        assert_eq!(w["type"], "welcome", "{w}");
        let (service, team, side) = if social {
            ("social-chat", "social", Side::Social)
        } else {
            ("health-chat", "station-a", Side::Stations)
        };
        self.conn
            .send(json!({"type": "start", "service": service, "team": team, "client_ref": msg_id(), "questionnaire": {"duration": "1-3 days"}, "req": "start"}))
            .await;
        let q = loop {
            let f = self.recv().await;
            if f["type"] == "queued" {
                break f;
            }
        };
        let conv = s(&q["conversation"]).to_owned();
        self.world.register(side, &conv);
        let spy = if self.rng.gen_bool(0.2) {
            Some(self.spy(&conv, s(&q["resume_token"])).await)
        } else {
            None
        };

        let mut report = ClientReport {
            conv: conv.clone(),
            acked: HashMap::new(),
            heard: HashMap::new(),
            seqs: BTreeSet::new(),
            log: Vec::new(),
            transfers: 0,
            cross_talk: 0,
        };
        let (mut assigned, mut awaiting_reply, mut closed, mut feedback) =
            (false, false, false, None);
        let mut sending: HashMap<String, String> = HashMap::new();
        let mut last_heard = 0;
        loop {
            if closed && feedback.is_none() {
                self.conn.send(json!({"type": "feedback", "conversation": conv, "rating": self.rng.gen_range(1..=5), "req": "fb"})).await;
                feedback = Some(false);
            }
            if feedback == Some(true) && sending.is_empty() && self.xtalk.is_empty() {
                break;
            }
            if assigned && !awaiting_reply && !closed {
                self.chat(&conv, last_heard, &mut sending).await;
                awaiting_reply = true;
            }
            let f = self.recv().await;
            match (s(&f["type"]), s(&f["event"])) {
                ("ack", _) if f["req"] == "fb" => feedback = Some(true),
                ("ack", _) => {
                    let body = sending
                        .remove(s(&f["client_msg_id"]))
                        .unwrap_or_else(|| panic!("ack for nothing sent: {f}"));
                    report.acked.insert(f["seq"].as_u64().expect("seq"), body);
                }
                ("error", _) if s(&f["req"]).starts_with("x-") => {}
                ("error", _)
                    if s(&f["req"]).starts_with("s-") && f["code"] == "conversation_closed" =>
                {
                    sending.remove(&s(&f["req"])[2..]);
                }
                ("error", _) => panic!("{}: unexpected error {f}", self.view.who),
                ("system", "assigned") => assigned = true,
                ("system", "transferred" | "queued") => {
                    report.transfers += usize::from(f["event"] == "transferred");
                    (assigned, awaiting_reply) = (false, false);
                }
                ("message", _) if f["from"]["role"] == "professional" => {
                    let seq = f["seq"].as_u64().expect("seq");
                    report.heard.insert(seq, s(&f["body"]).to_owned());
                    last_heard = seq;
                    awaiting_reply = false;
                }
                ("closed", _) => closed = true,
                _ => {}
            }
        }
        self.world.closed(&conv);
        if let Some((mut spy, target)) = spy {
            let extra = spy.next_within(Duration::from_millis(5)).await;
            assert!(extra.is_none(), "spy on {target} received {extra:?}");
        }
        report.seqs = std::mem::take(&mut self.view.seqs);
        report.cross_talk = self.cross_talk;
        report.log = self
            .conn
            .seen
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {} {}",
                    f["type"], f["seq"], f["event"], f["from"]["role"], f["detail"]
                )
            })
            .collect();
        report
    }
}

/// A professional's state for one assigned conversation.
struct Held {
    client_msgs: u32,
    leave_after: u32,
    leaving: bool,
}

struct ConsoleTask {
    world: Arc<World>,
    rng: StdRng,
    conn: Conn,
    view: ConsoleView,
    me: String,
    side: Side,
    /// Professionals in a manual team take conversations with `accept`.
    accepts: Option<&'static str>,
    held: HashMap<String, Held>,
    /// Conversations this professional sent `close` for.
    closed: HashSet<String>,
    /// client_msg_id → (conversation, body, is_note) awaiting an ack.
    posting: HashMap<String, (String, String, bool)>,
    xtalk: HashSet<String>,
    accepting: bool,
    queue_waiting: bool,
    capacity: usize,
    n: u32,
    report: ConsoleReport,
}

impl ConsoleTask {
    async fn post(&mut self, conv: &str, note: bool) {
        self.n += 1;
        let (id, body) = (msg_id(), format!("c={conv} from={} n={}", self.me, self.n));
        let ty = if note { "note" } else { "send" };
        self.conn
            .send(json!({"type": ty, "conversation": conv, "client_msg_id": id, "body": body}))
            .await;
        self.view.posted_to.insert(conv.to_owned());
        self.posting.insert(id, (conv.to_owned(), body, note));
    }

    async fn cross_talk(&mut self) {
        self.n += 1;
        let req = format!("x-{}", self.n);
        self.report.cross_talk += 1;
        let kind = self.rng.gen_range(0..7);
        let target = self.world.foreign(self.side, &mut self.rng, kind != 6);
        let peer = self
            .peers()
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or_default();
        let frame = match kind {
            0 => {
                json!({"type": "send", "conversation": target, "client_msg_id": msg_id(), "body": format!("c={target} {XTALK}")})
            }
            1 => {
                json!({"type": "note", "conversation": target, "client_msg_id": msg_id(), "body": format!("c={target} {XTALK}")})
            }
            2 => json!({"type": "typing", "conversation": target, "active": false}),
            3 => json!({"type": "read", "conversation": target, "seq": XTALK_SEQ}),
            4 => json!({"type": "close", "conversation": target, "summary": XTALK}),
            5 => {
                json!({"type": "transfer", "conversation": target, "to_professional": peer, "note": XTALK})
            }
            _ => json!({"type": "history", "conversation": target}),
        };
        let mut frame = frame;
        frame["req"] = json!(req);
        self.xtalk.insert(req);
        self.conn.send(frame).await;
    }

    fn peers(&self) -> Vec<String> {
        let w = &self.world;
        let pool: Vec<&String> = match self.side {
            Side::Stations => w.station_a.iter().chain(&w.station_b).collect(),
            Side::Social => w.social.iter().collect(),
        };
        pool.into_iter()
            .filter(|p| **p != self.me)
            .cloned()
            .collect()
    }

    /// Closes or transfers a conversation it is done with.
    async fn leave(&mut self, conv: &str, must_close: bool) {
        if let Some(h) = self.held.get_mut(conv) {
            h.leaving = true;
        }
        self.view.posted_to.insert(conv.to_owned());
        let roll = if must_close {
            0
        } else {
            self.rng.gen_range(0..100)
        };
        let frame = if roll < 55 {
            self.closed.insert(conv.to_owned());
            json!({"type": "close", "conversation": conv, "summary": format!("handled by {}", self.me)})
        } else if roll < 80 {
            let teams: &[&str] = if self.side == Side::Social {
                &["social"]
            } else {
                &["station-a", "station-b"]
            };
            json!({"type": "transfer", "conversation": conv, "to_team": teams.choose(&mut self.rng), "note": "please continue"})
        } else {
            json!({"type": "transfer", "conversation": conv, "to_professional": self.peers().choose(&mut self.rng), "note": "for you"})
        };
        let mut frame = frame;
        frame["req"] = json!(format!("leave-{conv}"));
        self.conn.send(frame).await;
    }

    async fn on_client_message(&mut self, conv: &str, seq: u64) {
        let Some(h) = self.held.get_mut(conv).filter(|h| !h.leaving) else {
            return;
        };
        h.client_msgs += 1;
        let (leave, must_close) = (h.client_msgs >= h.leave_after || seq > 60, seq > 60);
        if self.rng.gen_bool(0.3) {
            self.conn
                .send(json!({"type": "typing", "conversation": conv, "active": true}))
                .await;
        }
        if self.rng.gen_bool(0.3) {
            self.conn
                .send(json!({"type": "read", "conversation": conv, "seq": seq}))
                .await;
        }
        if self.rng.gen_bool(0.3) {
            self.post(conv, true).await;
        }
        self.post(conv, false).await;
        if self.rng.gen_bool(0.1) {
            self.cross_talk().await;
        }
        if leave {
            self.leave(conv, must_close).await;
        }
    }

    async fn maybe_accept(&mut self) {
        let Some(team) = self.accepts else { return };
        if self.queue_waiting && !self.accepting && self.view.assigned.len() < self.capacity {
            self.accepting = true;
            self.conn
                .send(json!({"type": "accept", "team": team, "req": "accept"}))
                .await;
        }
    }

    async fn handle(&mut self, f: Value) {
        let c = s(&f["conversation"]).to_owned();
        match s(&f["type"]) {
            "assigned" => {
                if f["req"] == "accept" {
                    self.accepting = false;
                }
                let leave_after = self.rng.gen_range(1..=4);
                self.held.insert(
                    c.clone(),
                    Held {
                        client_msgs: 0,
                        leave_after,
                        leaving: false,
                    },
                );
                self.report.max_held = self.report.max_held.max(self.held.len());
                self.view.history_asked.insert(c.clone());
                self.conn
                    .send(json!({"type": "history", "conversation": c, "limit": 200}))
                    .await;
            }
            "released" => {
                self.held.remove(&c);
                self.maybe_accept().await;
            }
            "message" if f["from"]["role"] == "client" => {
                let seq = f["seq"].as_u64().expect("seq");
                self.report
                    .heard
                    .insert((c.clone(), seq), s(&f["body"]).to_owned());
                self.on_client_message(&c, seq).await;
            }
            "history" => {
                for e in f["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|e| e["type"] == "message" && e["from"]["role"] == "client")
                {
                    self.report.heard.insert(
                        (c.clone(), e["seq"].as_u64().expect("seq")),
                        s(&e["body"]).to_owned(),
                    );
                }
            }
            "ack" => {
                if let Some((conv, body, note)) = f
                    .get("client_msg_id")
                    .and_then(|id| self.posting.remove(s(id)))
                {
                    assert_eq!(conv, c, "{}: ack for the wrong conversation: {f}", self.me);
                    let seq = f["seq"].as_u64().expect("seq");
                    if note {
                        self.report.notes.push((c, seq));
                    } else {
                        self.report.acked.push((c, seq, body));
                    }
                }
            }
            "queue_snapshot" => {
                self.queue_waiting = f["entries"].as_array().is_some_and(|e| !e.is_empty());
                self.maybe_accept().await;
            }
            "error" => {
                let req = s(&f["req"]).to_owned();
                if req.starts_with("x-") {
                    // A conversation this professional closed itself may be named as closed:
                    // that tells them nothing they do not know.
                    let own_closed = f["code"] == "conversation_closed"
                        && self.closed.contains(s(&f["conversation"]));
                    assert!(
                        f["code"] == "forbidden" || own_closed,
                        "{}: cross-talk must be forbidden: {f}",
                        self.me
                    );
                    assert!(self.xtalk.remove(&req), "{}: unexpected error {f}", self.me);
                } else if req == "accept"
                    && (f["code"] == "not_found" || f["code"] == "capacity_full")
                {
                    self.accepting = false;
                } else {
                    panic!("{}: unexpected error {f}", self.me);
                }
            }
            _ => {}
        }
    }

    fn settled(&self) -> bool {
        self.held.is_empty() && self.posting.is_empty() && self.xtalk.is_empty() && !self.accepting
    }

    async fn run(mut self) -> ConsoleReport {
        let mut idle_since = Instant::now();
        loop {
            match next(&mut self.conn, &self.me.clone(), Duration::from_millis(200)).await {
                Some(f) => {
                    self.view.check(&f);
                    self.handle(f).await;
                    idle_since = Instant::now();
                }
                None => {
                    // A snapshot race may have refused an accept: try again while idle.
                    self.maybe_accept().await;
                    if self.world.done.is_cancelled() && self.settled() {
                        break;
                    }
                    assert!(
                        idle_since.elapsed() < STALL,
                        "{}: stalled holding {:?}",
                        self.me,
                        self.held.keys().collect::<Vec<_>>()
                    );
                }
            }
        }
        assert!(
            self.view.assigned.is_empty(),
            "{}: still holds {:?}",
            self.me,
            self.view.assigned
        );
        self.report.shown = std::mem::take(&mut self.view.shown);
        self.report.me = self.me.clone();
        self.report
    }
}

/// Second console sessions of a professional that come and go during the run: each may see
/// exactly what its professional may see, from the conversations in its welcome on.
async fn shadow_sessions(
    world: Arc<World>,
    me: String,
    token: String,
    mut rng: StdRng,
) -> (usize, String, Vec<(String, i64)>) {
    let (mut round, mut frames) = (0, 0);
    let mut shown = Vec::new();
    while !world.done.is_cancelled() {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..800))).await;
        round += 1;
        let who = format!("{me} (second session {round})");
        let mut conn = Conn::connect(&world.console_url, rng.gen_bool(0.5)).await;
        conn.send(json!({"type": "hello", "token": token})).await;
        let mut view = ConsoleView::new(&who, false);
        let until = Instant::now() + Duration::from_millis(rng.gen_range(300..1500));
        while Instant::now() < until {
            if let Some(f) = next(&mut conn, &who, Duration::from_millis(100)).await {
                view.check(&f);
                frames += 1;
            }
        }
        shown.append(&mut view.shown);
    }
    (frames, me, shown)
}

fn seed() -> u64 {
    let seed = std::env::var("ISOLATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("isolation seed: {seed} (replay with ISOLATION_SEED={seed})");
    seed
}

fn professional(id: &str, team: &str) -> Professional {
    Professional {
        id: id.into(),
        name: format!("Professional {id}"),
        teams: vec![team.into()],
        capacity: 4,
        roles: Vec::new(),
    }
}

async fn console_task(
    server: &TestServer,
    world: &Arc<World>,
    me: &str,
    side: Side,
    accepts: Option<&'static str>,
    mut rng: StdRng,
) -> ConsoleTask {
    let mut conn = Conn::connect(&world.console_url, rng.gen_bool(0.3)).await;
    conn.send(json!({"type": "hello", "token": server.token(me)}))
        .await;
    let mut view = ConsoleView::new(me, accepts.is_some());
    let w = conn.recv_type("welcome").await;
    view.check(&w);
    conn.send(json!({"type": "status", "availability": "available", "capacity": 4, "req": "st"}))
        .await;
    if let Some(team) = accepts {
        conn.send(json!({"type": "subscribe_queue", "teams": [team]}))
            .await;
    }
    ConsoleTask {
        world: world.clone(),
        rng,
        conn,
        view,
        me: me.to_owned(),
        side,
        accepts,
        held: HashMap::new(),
        closed: HashSet::new(),
        posting: HashMap::new(),
        xtalk: HashSet::new(),
        accepting: false,
        queue_waiting: false,
        capacity: 4,
        n: 0,
        report: ConsoleReport::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_never_leak_under_parallel_load() {
    let seed = seed();
    let total: usize = std::env::var("ISOLATION_CONVERSATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CONVERSATIONS);
    let station_a: Vec<String> = (1..=STATION_A_PROS).map(|i| format!("pa-{i:02}")).collect();
    let station_b: Vec<String> = vec!["pb-1".into(), "pb-2".into()];
    let social: Vec<String> = vec!["social-1".into(), "social-2".into()];
    let (a, b) = (station_a.clone(), station_b.clone());
    let server = TestServer::start_with(move |cfg| {
        cfg.organisation
            .professionals
            .extend(a.iter().map(|p| professional(p, "station-a")));
        cfg.organisation
            .professionals
            .extend(b.iter().map(|p| professional(p, "station-b")));
    })
    .await;
    let world = Arc::new(World {
        client_url: server.ws_url("client"),
        console_url: server.ws_url("console"),
        registry: Mutex::new(Registry::default()),
        done: CancellationToken::new(),
        station_a: station_a.clone(),
        station_b: station_b.clone(),
        social: social.clone(),
    });
    let started = Instant::now();
    let mut master = StdRng::seed_from_u64(seed);

    let mut consoles = JoinSet::new();
    let roster = station_a
        .iter()
        .map(|p| (p, Side::Stations, None))
        .chain(
            station_b
                .iter()
                .map(|p| (p, Side::Stations, Some("station-b"))),
        )
        .chain(social.iter().map(|p| (p, Side::Social, None)));
    for (me, side, accepts) in roster {
        let task = console_task(
            &server,
            &world,
            me,
            side,
            accepts,
            StdRng::seed_from_u64(master.gen()),
        )
        .await;
        consoles.spawn(task.run());
    }
    let mut shadows = JoinSet::new();
    for me in station_a.iter().chain(&station_b).chain(&social) {
        let (world, token, rng) = (
            world.clone(),
            server.token(me),
            StdRng::seed_from_u64(master.gen()),
        );
        shadows.spawn(shadow_sessions(world, me.clone(), token, rng));
    }

    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_CLIENTS));
    let mut clients = JoinSet::new();
    for i in 0..total {
        let mut rng = StdRng::seed_from_u64(master.gen());
        let token = rng
            .gen_bool(0.3)
            .then(|| server.client_token(&format!("sub-{i}"), &format!("Client {i}")));
        let social = rng.gen_bool(0.15);
        let (world, permits) = (world.clone(), permits.clone());
        clients.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore");
            let conn = Conn::connect(&world.client_url, rng.gen_bool(0.25)).await;
            let who = format!("client-{i}");
            let view = ClientView {
                who,
                conv: None,
                last_seq: 0,
                seqs: BTreeSet::new(),
            };
            ClientTask {
                world,
                rng,
                conn,
                view,
                token,
                xtalk: HashSet::new(),
                n: 0,
                cross_talk: 0,
            }
            .run(social)
            .await
        });
    }

    let deadline = Duration::from_secs(150);
    let mut reports = Vec::new();
    while let Some(r) = tokio::time::timeout(deadline, clients.join_next())
        .await
        .expect("clients finish in time")
    {
        reports.push(r.unwrap_or_else(|e| panic!("a client failed (seed {seed}): {e}")));
    }
    world.done.cancel();
    let mut console_reports = Vec::new();
    while let Some(r) = tokio::time::timeout(deadline, consoles.join_next())
        .await
        .expect("consoles settle in time")
    {
        console_reports.push(r.unwrap_or_else(|e| panic!("a console failed (seed {seed}): {e}")));
    }
    let mut shadow_frames = 0;
    let mut shown: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    while let Some(r) = tokio::time::timeout(deadline, shadows.join_next())
        .await
        .expect("shadow sessions end in time")
    {
        let (frames, me, seen) =
            r.unwrap_or_else(|e| panic!("a second console session failed (seed {seed}): {e}"));
        shadow_frames += frames;
        shown.entry(me).or_default().extend(seen);
    }
    for report in &console_reports {
        shown
            .entry(report.me.clone())
            .or_default()
            .extend(report.shown.clone());
    }
    check_nothing_lost(&reports, &console_reports);
    let logged = check_access_logged(&server, &shown).await;
    let transfers: usize = reports.iter().map(|r| r.transfers).sum();
    let messages: usize = reports.iter().map(|r| r.acked.len() + r.heard.len()).sum();
    let cross_talk: u32 = console_reports.iter().map(|r| r.cross_talk).sum::<u32>()
        + reports.iter().map(|r| r.cross_talk).sum::<u32>();
    let max_held = console_reports
        .iter()
        .map(|r| r.max_held)
        .max()
        .unwrap_or(0);
    eprintln!("isolation: {} conversations, {messages} messages, {transfers} transfers, {cross_talk} cross-talk attempts, up to {max_held} chats per professional, {shadow_frames} frames to second sessions, {logged} access-log entries, in {:?}", reports.len(), started.elapsed());
    assert!(
        transfers > 0 && cross_talk > 0 && max_held > 1,
        "the run did not exercise transfers, cross-talk and parallel chats"
    );
}

/// Every acked message reached the other side; clients saw every stored event except notes.
fn check_nothing_lost(clients: &[ClientReport], consoles: &[ConsoleReport]) {
    let mut heard_by_pros: HashMap<(String, u64), String> = HashMap::new();
    let mut notes: HashMap<String, Vec<u64>> = HashMap::new();
    for r in consoles {
        heard_by_pros.extend(r.heard.iter().map(|(k, v)| (k.clone(), v.clone())));
        for (c, seq) in &r.notes {
            notes.entry(c.clone()).or_default().push(*seq);
        }
    }
    let by_conv: HashMap<&str, &ClientReport> =
        clients.iter().map(|r| (r.conv.as_str(), r)).collect();
    assert_eq!(
        by_conv.len(),
        clients.len(),
        "two clients got the same conversation"
    );
    for r in clients {
        for (seq, body) in &r.acked {
            let heard = heard_by_pros.get(&(r.conv.clone(), *seq));
            if heard != Some(body) {
                let pros: Vec<_> = heard_by_pros.keys().filter(|(c, _)| c == &r.conv).collect();
                panic!("client message {seq} of {} never reached a professional; client saw {:?}, acked {:?}, pros heard {pros:?}\n{}", r.conv, r.seqs, r.acked, r.log.join("\n"));
            }
        }
        let mut all: BTreeSet<u64> = r.seqs.clone();
        for n in notes.get(&r.conv).into_iter().flatten() {
            assert!(
                all.insert(*n),
                "{}: note seq {n} was also sent to the client",
                r.conv
            );
        }
        let last = all.last().copied().unwrap_or(0);
        assert_eq!(
            all.len() as u64,
            last,
            "{}: events missing: saw {all:?}",
            r.conv
        );
    }
    for r in consoles {
        for (c, seq, body) in &r.acked {
            let client = by_conv
                .get(c.as_str())
                .unwrap_or_else(|| panic!("message to unknown conversation {c}"));
            assert_eq!(
                client.heard.get(seq),
                Some(body),
                "professional message {seq} of {c} never reached the client"
            );
        }
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms")
}

/// Every conversation shown to a professional has an entry of theirs about it, allowed,
/// written no later than the first frame that showed it arrived; the whole log's chain
/// verifies. Returns how many entries the log holds.
async fn check_access_logged(
    server: &TestServer,
    shown: &HashMap<String, Vec<(String, i64)>>,
) -> usize {
    use luukku::storage::access::{verify, AccessQuery, AccessRecord, GENESIS};
    let storage = &server.ctx().storage;
    let mut all: Vec<AccessRecord> = Vec::new();
    loop {
        let page = AccessQuery {
            after_seq: all.last().map_or(0, |r| r.seq),
            limit: 1000,
            ..AccessQuery::default()
        };
        let records = storage.access_log(&page).await.expect("access log");
        if records.is_empty() {
            break;
        }
        all.extend(records);
    }
    verify((0, GENESIS.into()), &all).expect("the access log's chain verifies");
    // (professional, conversation) → the first allowed entry's time.
    let mut first: HashMap<(&str, &str), i64> = HashMap::new();
    for r in &all {
        let (Some(c), "allowed") = (&r.entry.conversation, r.entry.outcome.as_str()) else {
            continue;
        };
        first
            .entry((r.entry.actor.as_str(), c.as_str()))
            .or_insert(r.entry.at_ms);
    }
    let mut frames = 0;
    for (me, seen) in shown {
        for (conversation, at) in seen {
            frames += 1;
            let logged = first.get(&(me.as_str(), conversation.as_str()));
            assert!(
                logged.is_some_and(|t| t <= at),
                "{me} was shown {conversation} at {at} ms; the access log has {logged:?}"
            );
        }
    }
    assert!(frames > 0, "no professional was shown anything");
    all.len()
}
