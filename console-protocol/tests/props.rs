//! Property tests of the inbound frame decoders: what the server does with every frame a
//! client or a professional sends, `Codec::decode::<Envelope<ClientFrame>>` /
//! `Codec::decode::<Envelope<ConsoleFrame>>` and `Codec::peek_req`, in both codecs.
//!
//! - arbitrary bytes, and generated frames (random fields of the protocol's vocabulary, every
//!   MessagePack type), never panic: each decoder answers `Ok` or `Err`;
//! - every inbound golden file (`tests/golden/{client,console}`), mutated byte by byte or as a
//!   document (fields deleted, duplicated, renamed, retyped, huge numbers, 1000 levels of
//!   nesting, 70 000-character strings), never panics; what still decodes survives a
//!   MessagePack round trip, and a JSON frame that decodes has the `req` that `peek_req` finds;
//! - valid frames (golden files with their strings, numbers and flags replaced, arbitrary
//!   questionnaire answers) decode the same from JSON and from MessagePack, and survive an
//!   encode → decode round trip in both codecs;
//! - nesting: serde_json refuses a document deeper than its recursion limit (128) and the
//!   MessagePack decoder one deeper than `MSGPACK_MAX_DEPTH` (32), 100 000 levels included.
//!
//! What these tests found, and what they now hold to:
//! - rmp-serde's own depth limit (1024) was too deep for a 2 MiB thread stack (a tokio
//!   worker's) in the debug profile: ~3.2 KiB of stack a level, so ~645 nested arrays (a
//!   ~700-byte frame) overflowed the stack and aborted the process. `Codec::decode` now caps
//!   MessagePack at 32 levels; `msgpack_nesting_fits_a_2_mib_stack` decodes on a 2 MiB stack.
//!   The properties still run on a 64 MiB stack ([`on_big_stack`]) for the deep mutations.
//! - MessagePack length prefixes are trusted for pre-allocation: each nested array or map that
//!   claims 2^32 - 1 elements makes serde reserve 1 MiB, so 1000 nested `dd ff ff ff ff`
//!   reserved ~1 GiB of address space; with 32 levels it is ~32 MiB.
//!   `msgpack_length_prefixes_do_not_reserve_memory` measures it (ignored: it needs the
//!   process to itself).
//! - JSON did not round-trip every f64 exactly; the workspace now turns on serde_json's
//!   `float_roundtrip` (`json_round_trips_every_float`).
//!
//! Case counts are tuned to keep this file at ~6 s in the debug profile on a 2-core machine;
//! `PROPTEST_CASES=<n>` runs every property with `n` cases instead.

use console_protocol::*;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::sync::OnceLock;

const CODECS: [Codec; 2] = [Codec::Json, Codec::MessagePack];

/// Stack of the thread the properties run on: room for the deepest mutations in the debug
/// profile (see the module documentation).
const BIG_STACK: usize = 64 << 20;

/// The stack of a tokio worker thread (and of a test thread), where the server decodes.
const TOKIO_STACK: usize = 2 << 20;

fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // A failure prints its shrunk input; nothing is written next to the sources.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Runs `f` on a thread with `stack` bytes of stack and re-raises its panic.
fn on_stack(stack: usize, f: impl FnOnce() + Send + 'static) {
    let thread = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(f)
        .expect("spawn a thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    on_stack(BIG_STACK, f);
}

// ---------------------------------------------------------------- documents

/// A MessagePack-shaped document: every JSON shape plus what only MessagePack has (binary,
/// extension types, f32, non-string map keys, duplicate keys). Written as JSON text or as
/// MessagePack bytes by hand, so anything can be expressed, valid or not.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Nil,
    Bool(bool),
    UInt(u64),
    /// Negative.
    Int(i64),
    F32(f32),
    F64(f64),
    /// An integer too big for 64 bits: digits in JSON, an f64 in MessagePack.
    BigInt(String),
    Str(String),
    Bin(Vec<u8>),
    Ext(i8, Vec<u8>),
    Array(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    fn str(s: &str) -> Node {
        Node::Str(s.to_owned())
    }

    fn from_value(value: &Value) -> Node {
        match value {
            Value::Null => Node::Nil,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Node::UInt(u),
                (None, Some(i), _) => Node::Int(i),
                (None, None, f) => Node::F64(f.expect("a JSON number is an f64")),
            },
            Value::String(s) => Node::Str(s.clone()),
            Value::Array(items) => Node::Array(items.iter().map(Node::from_value).collect()),
            Value::Object(map) => Node::Map(
                map.iter()
                    .map(|(k, v)| (Node::Str(k.clone()), Node::from_value(v)))
                    .collect(),
            ),
        }
    }

    fn is_container(&self) -> bool {
        matches!(self, Node::Array(_) | Node::Map(_))
    }

    fn json(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write_json(&mut out);
        out.into_bytes()
    }

    fn write_json(&self, out: &mut String) {
        fn float(out: &mut String, f: f64) {
            if f.is_finite() {
                out.push_str(&serde_json::to_string(&f).expect("a finite float"));
            } else if f.is_nan() {
                out.push_str("NaN");
            } else {
                out.push_str(if f > 0.0 { "1e999" } else { "-1e999" });
            }
        }
        fn string(out: &mut String, s: &str) {
            out.push_str(&serde_json::to_string(s).expect("a string"));
        }
        match self {
            Node::Nil => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::UInt(u) => out.push_str(&u.to_string()),
            Node::Int(i) => out.push_str(&i.to_string()),
            Node::F32(f) => float(out, f64::from(*f)),
            Node::F64(f) => float(out, *f),
            Node::BigInt(digits) => out.push_str(digits),
            Node::Str(s) => string(out, s),
            Node::Bin(bytes) | Node::Ext(_, bytes) => {
                let items: Vec<Node> = bytes.iter().map(|b| Node::UInt(u64::from(*b))).collect();
                Node::Array(items).write_json(out);
            }
            Node::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Node::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match key {
                        Node::Str(s) => string(out, s),
                        other => string(out, &String::from_utf8_lossy(&other.json())),
                    }
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }

    fn msgpack(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_msgpack(&mut out);
        out
    }

    fn write_msgpack(&self, out: &mut Vec<u8>) {
        /// A length in the smallest of the given forms (`fix` takes the length in its low bits).
        fn len(out: &mut Vec<u8>, n: usize, fix: Option<(u8, usize)>, forms: [Option<u8>; 3]) {
            match (fix, forms) {
                (Some((marker, max)), _) if n <= max => out.push(marker | n as u8),
                (_, [Some(m8), _, _]) if n <= 0xff => out.extend([m8, n as u8]),
                (_, [_, Some(m16), _]) if n <= 0xffff => {
                    out.push(m16);
                    out.extend((n as u16).to_be_bytes());
                }
                (_, [_, _, Some(m32)]) => {
                    out.push(m32);
                    out.extend((n as u32).to_be_bytes());
                }
                _ => unreachable!("every length has a form"),
            }
        }
        match self {
            Node::Nil => out.push(0xc0),
            Node::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
            Node::UInt(u) => match *u {
                0..=0x7f => out.push(*u as u8),
                0x80..=0xff => out.extend([0xcc, *u as u8]),
                0x100..=0xffff => {
                    out.push(0xcd);
                    out.extend((*u as u16).to_be_bytes());
                }
                0x1_0000..=0xffff_ffff => {
                    out.push(0xce);
                    out.extend((*u as u32).to_be_bytes());
                }
                _ => {
                    out.push(0xcf);
                    out.extend(u.to_be_bytes());
                }
            },
            Node::Int(i) => match *i {
                -32..=-1 => out.push(*i as u8),
                -0x80..=-33 => out.extend([0xd0, *i as u8]),
                -0x8000..=-0x81 => {
                    out.push(0xd1);
                    out.extend((*i as i16).to_be_bytes());
                }
                -0x8000_0000..=-0x8001 => {
                    out.push(0xd2);
                    out.extend((*i as i32).to_be_bytes());
                }
                _ => {
                    out.push(0xd3);
                    out.extend(i.to_be_bytes());
                }
            },
            Node::F32(f) => {
                out.push(0xca);
                out.extend(f.to_be_bytes());
            }
            Node::F64(f) => {
                out.push(0xcb);
                out.extend(f.to_be_bytes());
            }
            Node::BigInt(digits) => {
                Node::F64(digits.parse().unwrap_or(f64::INFINITY)).write_msgpack(out)
            }
            Node::Str(s) => {
                len(
                    out,
                    s.len(),
                    Some((0xa0, 31)),
                    [Some(0xd9), Some(0xda), Some(0xdb)],
                );
                out.extend(s.as_bytes());
            }
            Node::Bin(bytes) => {
                len(out, bytes.len(), None, [Some(0xc4), Some(0xc5), Some(0xc6)]);
                out.extend(bytes);
            }
            Node::Ext(kind, data) => {
                match data.len() {
                    1 => out.push(0xd4),
                    2 => out.push(0xd5),
                    4 => out.push(0xd6),
                    8 => out.push(0xd7),
                    16 => out.push(0xd8),
                    n => len(out, n, None, [Some(0xc7), Some(0xc8), Some(0xc9)]),
                }
                out.push(*kind as u8);
                out.extend(data);
            }
            Node::Array(items) => {
                len(
                    out,
                    items.len(),
                    Some((0x90, 15)),
                    [None, Some(0xdc), Some(0xdd)],
                );
                for item in items {
                    item.write_msgpack(out);
                }
            }
            Node::Map(entries) => {
                len(
                    out,
                    entries.len(),
                    Some((0x80, 15)),
                    [None, Some(0xde), Some(0xdf)],
                );
                for (key, value) in entries {
                    key.write_msgpack(out);
                    value.write_msgpack(out);
                }
            }
        }
    }
}

/// Calls `f` on the `n`th node (preorder, values only; with `containers`, counting arrays and
/// maps only). Returns whether there was one.
fn with_nth(
    node: &mut Node,
    n: &mut usize,
    containers: bool,
    f: &mut dyn FnMut(&mut Node),
) -> bool {
    if !containers || node.is_container() {
        if *n == 0 {
            f(node);
            return true;
        }
        *n -= 1;
    }
    match node {
        Node::Array(items) => items
            .iter_mut()
            .any(|item| with_nth(item, n, containers, f)),
        Node::Map(entries) => entries
            .iter_mut()
            .any(|(_, value)| with_nth(value, n, containers, f)),
        _ => false,
    }
}

fn count(node: &Node, containers: bool) -> usize {
    let own = usize::from(!containers || node.is_container());
    own + match node {
        Node::Array(items) => items.iter().map(|i| count(i, containers)).sum(),
        Node::Map(entries) => entries.iter().map(|(_, v)| count(v, containers)).sum(),
        _ => 0,
    }
}

/// Wraps `inner` in `depth` arrays (or single-entry maps).
fn nest(inner: Node, depth: usize, maps: bool) -> Node {
    (0..depth).fold(inner, |node, _| {
        if maps {
            Node::Map(vec![(Node::str("q"), node)])
        } else {
            Node::Array(vec![node])
        }
    })
}

// ---------------------------------------------------------------- golden files

#[derive(Debug, Clone, Copy, PartialEq)]
enum Endpoint {
    Client,
    Console,
}

#[derive(Debug)]
struct Golden {
    name: String,
    endpoint: Endpoint,
    value: Value,
    json: Vec<u8>,
    msgpack: Vec<u8>,
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("hex is ASCII");
            u8::from_str_radix(pair, 16).expect("hex digits")
        })
        .collect()
}

/// Every inbound golden frame, plus a `submit_form` (the one client frame without a golden
/// file), written like them.
fn goldens() -> &'static [Golden] {
    static GOLDENS: OnceLock<Vec<Golden>> = OnceLock::new();
    GOLDENS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut out = Vec::new();
        for (sub, endpoint) in [("client", Endpoint::Client), ("console", Endpoint::Console)] {
            let mut files: Vec<_> = fs::read_dir(dir.join(sub))
                .expect("golden dir")
                .map(|e| e.expect("dir entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for path in files {
                let json = fs::read(&path).expect("golden json");
                let hex_path = path.with_extension("msgpack.hex");
                let msgpack = hex(&fs::read_to_string(&hex_path).expect("golden hex"));
                out.push(Golden {
                    name: format!(
                        "{sub}/{}",
                        path.file_name().expect("a name").to_string_lossy()
                    ),
                    endpoint,
                    value: serde_json::from_slice(&json).expect("golden files are JSON"),
                    json,
                    msgpack,
                });
            }
        }
        let form = serde_json::json!({"req": "f1", "type": "submit_form", "service": "contact-form",
            "fields": {"name": "Anna", "age": 42, "agree": true, "topics": ["a", "b"]},
            "contact": {"email": "a@example.fi", "phone": "+358401234567"},
            "client_ref": "ref-2", "team": "social", "lang": "fi"});
        out.push(Golden {
            name: "client/submit_form (no golden file)".into(),
            endpoint: Endpoint::Client,
            json: serde_json::to_vec(&form).expect("json"),
            msgpack: rmp_serde::to_vec_named(&form).expect("msgpack"),
            value: form,
        });
        assert!(out.len() > 40, "the golden files were found");
        out
    })
}

/// Both decoders of the server, both codecs, and `peek_req`: none may panic. Returns the
/// MessagePack round trip failures of whatever decoded, and checks that a JSON frame that
/// decodes carries the `req` that `peek_req` recovers.
fn decode_everything(bytes: &[u8]) -> Result<(), TestCaseError> {
    for codec in CODECS {
        let client = codec.decode::<Envelope<ClientFrame>>(bytes);
        let console = codec.decode::<Envelope<ConsoleFrame>>(bytes);
        let req = codec.peek_req(bytes);
        if codec == Codec::Json {
            // (Not so in MessagePack: an integer key names a field by position, `req` for
            // `peek_req`, the frame's first field for `decode`; see
            // `msgpack_integer_keys_name_fields_by_position`.)
            for decoded_req in [
                client.as_ref().ok().map(|e| &e.req),
                console.as_ref().ok().map(|e| &e.req),
            ]
            .into_iter()
            .flatten()
            {
                prop_assert_eq!(decoded_req, &req, "peek_req disagrees with decode");
            }
        }
        if let Ok(frame) = client {
            msgpack_round_trip(&frame)?;
        }
        if let Ok(frame) = console {
            msgpack_round_trip(&frame)?;
        }
    }
    Ok(())
}

/// A decoded frame encodes to MessagePack and decodes back to itself.
fn msgpack_round_trip<F>(frame: &Envelope<F>) -> Result<(), TestCaseError>
where
    F: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = Codec::MessagePack
        .encode(frame)
        .expect("a decoded frame encodes");
    let back: Envelope<F> = match Codec::MessagePack.decode(&bytes) {
        Ok(back) => back,
        // JSON frames may nest 128 levels, MessagePack ones 32 (`MSGPACK_MAX_DEPTH`): a frame
        // between the two is refused by the depth limit, as documented, not lost silently.
        Err(e) if e.to_string().contains("depth limit") => return Ok(()),
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "{frame:?} re-encoded does not decode: {e}"
            )))
        }
    };
    prop_assert_eq!(&back, frame);
    Ok(())
}

// ---------------------------------------------------------------- strategies

const CLIENT_TAGS: [&str; 10] = [
    "hello",
    "start",
    "send",
    "typing",
    "read",
    "feedback",
    "leave",
    "conversations",
    "open",
    "submit_form",
];

const CONSOLE_TAGS: [&str; 25] = [
    "hello",
    "status",
    "subscribe_queue",
    "accept",
    "send",
    "typing",
    "read",
    "note",
    "transfer",
    "close",
    "reopen",
    "history",
    "retract",
    "release",
    "colleagues",
    "canned",
    "canned_save",
    "canned_delete",
    "supervise",
    "set_routing",
    "move",
    "subscribe_inbox",
    "take",
    "archive",
    "start_thread",
];

/// Field names of the inbound frames (and a few of their values).
const FIELDS: [&str; 46] = [
    "req",
    "type",
    "token",
    "resume",
    "conversation",
    "resume_token",
    "after_seq",
    "service",
    "topic",
    "team",
    "questionnaire",
    "client_ref",
    "lang",
    "contact",
    "email",
    "phone",
    "client_msg_id",
    "body",
    "attachments",
    "sms",
    "active",
    "role",
    "seq",
    "rating",
    "comment",
    "limit",
    "held",
    "fields",
    "availability",
    "capacity",
    "teams",
    "to_team",
    "to_professional",
    "note",
    "summary",
    "before_seq",
    "id",
    "code",
    "title",
    "query",
    "client",
    "close_after",
    "routing",
    "available",
    "manual",
    "name",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(&FIELDS[..]).prop_map(str::to_owned),
        prop::sample::select(&CLIENT_TAGS[..]).prop_map(str::to_owned),
        prop::sample::select(&CONSOLE_TAGS[..]).prop_map(str::to_owned),
        any::<String>(),
    ]
}

/// Numbers JSON or the frames' integer types cannot hold, and their edges.
fn edge_number() -> impl Strategy<Value = Node> {
    prop_oneof![
        Just(Node::UInt(u64::MAX)),
        Just(Node::UInt(u64::from(u32::MAX) + 1)),
        Just(Node::UInt(256)),
        Just(Node::Int(-1)),
        Just(Node::Int(i64::MIN)),
        Just(Node::F64(f64::MAX)),
        Just(Node::F64(f64::NAN)),
        Just(Node::F64(f64::INFINITY)),
        Just(Node::F64(-0.0)),
        Just(Node::F64(1.5)),
        Just(Node::BigInt("18446744073709551616".into())),
        Just(Node::BigInt("-9223372036854775809".into())),
        Just(Node::BigInt(format!("1{}", "0".repeat(400)))),
        Just(Node::BigInt("1e400".into())),
        Just(Node::BigInt("1e-400".into())),
    ]
}

fn scalar() -> impl Strategy<Value = Node> {
    prop_oneof![
        Just(Node::Nil),
        any::<bool>().prop_map(Node::Bool),
        (0u64..300).prop_map(Node::UInt),
        any::<u64>().prop_map(Node::UInt),
        (i64::MIN..0).prop_map(Node::Int),
        any::<f32>().prop_map(Node::F32),
        any::<f64>().prop_map(Node::F64),
        edge_number(),
        word().prop_map(Node::Str),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(Node::Bin),
        (any::<i8>(), prop::collection::vec(any::<u8>(), 0..20)).prop_map(|(k, d)| Node::Ext(k, d)),
    ]
}

fn key() -> impl Strategy<Value = Node> {
    prop_oneof![8 => word().prop_map(Node::Str), 1 => scalar()]
}

fn node() -> impl Strategy<Value = Node> {
    scalar().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Node::Array),
            prop::collection::vec((key(), inner), 0..8).prop_map(Node::Map),
        ]
    })
}

/// A frame-like map: a `type` of either endpoint, then fields of the vocabulary.
fn frame_node() -> impl Strategy<Value = Node> {
    let tag = prop_oneof![
        prop::sample::select(&CLIENT_TAGS[..]),
        prop::sample::select(&CONSOLE_TAGS[..]),
    ];
    (
        tag,
        prop::collection::vec((word(), node()), 0..8),
        any::<Index>(),
    )
        .prop_map(|(tag, fields, at)| {
            let mut entries: Vec<(Node, Node)> =
                fields.into_iter().map(|(k, v)| (Node::Str(k), v)).collect();
            let at = at.index(entries.len() + 1);
            entries.insert(at, (Node::str("type"), Node::str(tag)));
            Node::Map(entries)
        })
}

/// One edit of the raw bytes.
#[derive(Debug, Clone)]
enum ByteEdit {
    Flip(Index, u8),
    Set(Index, u8),
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Remove(Index, usize),
    /// Bytes of another golden frame (same codec) pasted in.
    Splice(Index, Index, Index, usize),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| ByteEdit::Flip(at, bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| ByteEdit::Set(at, b)),
        any::<Index>().prop_map(ByteEdit::Truncate),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, b)| ByteEdit::Insert(at, b)),
        (any::<Index>(), 1usize..16).prop_map(|(at, n)| ByteEdit::Remove(at, n)),
        (any::<Index>(), any::<Index>(), any::<Index>(), 1usize..64)
            .prop_map(|(at, g, from, n)| ByteEdit::Splice(at, g, from, n)),
    ]
}

fn apply_byte_edit(bytes: &mut Vec<u8>, edit: &ByteEdit, msgpack: bool) {
    let len = bytes.len();
    let at = |i: &Index| if len == 0 { 0 } else { i.index(len) };
    match edit {
        ByteEdit::Flip(i, bit) if len > 0 => bytes[at(i)] ^= 1 << bit,
        ByteEdit::Set(i, b) if len > 0 => bytes[at(i)] = *b,
        ByteEdit::Truncate(i) => bytes.truncate(at(i)),
        ByteEdit::Insert(i, new) => {
            let at = at(i);
            bytes.splice(at..at, new.iter().copied());
        }
        ByteEdit::Remove(i, n) if len > 0 => {
            let at = at(i);
            bytes.drain(at..(at + n).min(len));
        }
        ByteEdit::Splice(i, g, from, n) => {
            let golden = g.get(goldens());
            let source = if msgpack {
                &golden.msgpack
            } else {
                &golden.json
            };
            let start = from.index(source.len());
            let end = (start + n).min(source.len());
            let at = at(i);
            bytes.splice(at..at, source[start..end].iter().copied());
        }
        _ => {}
    }
}

/// One edit of the document.
#[derive(Debug, Clone)]
enum DocEdit {
    /// Remove an entry of a map or array (by position).
    Delete(Index, Index),
    /// Repeat an entry of a map or array, with its own value or another one.
    Duplicate(Index, Index, Option<Node>),
    /// Give a map entry another key.
    Rename(Index, Index, Node),
    /// Add an entry to a map or array.
    Add(Index, Node, Node),
    /// Replace any value (retype it).
    Replace(Index, Node),
    /// Wrap a value in `depth` arrays or single-key maps.
    Nest(Index, usize, bool),
    /// Replace a value with a long string.
    Long(Index, usize, char),
}

fn doc_edit() -> impl Strategy<Value = DocEdit> {
    let depth = prop_oneof![Just(1000usize), 1usize..1000];
    prop_oneof![
        3 => (any::<Index>(), any::<Index>()).prop_map(|(n, e)| DocEdit::Delete(n, e)),
        2 => (any::<Index>(), any::<Index>(), prop::option::of(node()))
            .prop_map(|(n, e, v)| DocEdit::Duplicate(n, e, v)),
        2 => (any::<Index>(), any::<Index>(), key()).prop_map(|(n, e, k)| DocEdit::Rename(n, e, k)),
        2 => (any::<Index>(), key(), node()).prop_map(|(n, k, v)| DocEdit::Add(n, k, v)),
        4 => (any::<Index>(), node()).prop_map(|(n, v)| DocEdit::Replace(n, v)),
        1 => (any::<Index>(), depth, any::<bool>()).prop_map(|(n, d, m)| DocEdit::Nest(n, d, m)),
        1 => (any::<Index>(), 0usize..70_000, any::<char>())
            .prop_map(|(n, len, c)| DocEdit::Long(n, len, c)),
    ]
}

fn apply_doc_edit(doc: &mut Node, edit: &DocEdit) {
    let containers = count(doc, true);
    let values = count(doc, false);
    let mut on_container = |n: &Index, f: &mut dyn FnMut(&mut Node)| {
        if containers > 0 {
            with_nth(doc, &mut n.index(containers), true, f);
        }
    };
    match edit.clone() {
        DocEdit::Delete(n, e) => on_container(&n, &mut |node| match node {
            Node::Array(items) if !items.is_empty() => {
                items.remove(e.index(items.len()));
            }
            Node::Map(entries) if !entries.is_empty() => {
                entries.remove(e.index(entries.len()));
            }
            _ => {}
        }),
        DocEdit::Duplicate(n, e, value) => on_container(&n, &mut |node| match node {
            Node::Array(items) if !items.is_empty() => {
                let item = value.clone().unwrap_or_else(|| e.get(items).clone());
                items.push(item);
            }
            Node::Map(entries) if !entries.is_empty() => {
                let (k, v) = e.get(entries).clone();
                entries.push((k, value.clone().unwrap_or(v)));
            }
            _ => {}
        }),
        DocEdit::Rename(n, e, key) => on_container(&n, &mut |node| {
            if let Node::Map(entries) = node {
                if !entries.is_empty() {
                    let at = e.index(entries.len());
                    entries[at].0 = key.clone();
                }
            }
        }),
        DocEdit::Add(n, key, value) => on_container(&n, &mut |node| match node {
            Node::Array(items) => items.push(value.clone()),
            Node::Map(entries) => entries.push((key.clone(), value.clone())),
            _ => {}
        }),
        DocEdit::Replace(n, value) => {
            with_nth(doc, &mut n.index(values), false, &mut |node| {
                *node = value.clone()
            });
        }
        DocEdit::Nest(n, depth, maps) => {
            with_nth(doc, &mut n.index(values), false, &mut |node| {
                let inner = std::mem::replace(node, Node::Nil);
                *node = nest(inner, depth, maps);
            });
        }
        DocEdit::Long(n, len, c) => {
            with_nth(doc, &mut n.index(values), false, &mut |node| {
                *node = Node::Str(std::iter::repeat_n(c, len).collect());
            });
        }
    }
}

// ---------------------------------------------------------------- never panic

#[test]
fn arbitrary_bytes_never_panic() {
    on_big_stack(|| {
        proptest!(config(3000), |(bytes in prop::collection::vec(any::<u8>(), 0..4096))| {
            decode_everything(&bytes)?;
        });
    });
}

#[test]
fn arbitrary_text_never_panics() {
    // Valid UTF-8 of JSON's alphabet, so the JSON parser gets past the first byte.
    on_big_stack(|| {
        proptest!(config(1500), |(text in r#"[\[\]{}",:0-9a-z\\. \-+eE_tfnul]{0,400}"#)| {
            decode_everything(text.as_bytes())?;
        });
    });
}

#[test]
fn generated_frames_never_panic() {
    on_big_stack(|| {
        proptest!(config(1500), |(doc in frame_node())| {
            decode_everything(&doc.json())?;
            decode_everything(&doc.msgpack())?;
        });
    });
}

#[test]
fn golden_frames_with_bytes_edited_never_panic() {
    on_big_stack(|| {
        let edits = prop::collection::vec(byte_edit(), 1..8);
        proptest!(config(3000), |(g in any::<Index>(), msgpack in any::<bool>(), edits in edits)| {
            let golden = g.get(goldens());
            let mut bytes = if msgpack { golden.msgpack.clone() } else { golden.json.clone() };
            for edit in &edits {
                apply_byte_edit(&mut bytes, edit, msgpack);
            }
            decode_everything(&bytes)?;
        });
    });
}

#[test]
fn golden_frames_with_fields_edited_never_panic() {
    on_big_stack(|| {
        let edits = prop::collection::vec(doc_edit(), 1..5);
        proptest!(config(1500), |(g in any::<Index>(), edits in edits)| {
            let golden = g.get(goldens());
            let mut doc = Node::from_value(&golden.value);
            for edit in &edits {
                apply_doc_edit(&mut doc, edit);
            }
            decode_everything(&doc.json())?;
            decode_everything(&doc.msgpack())?;
        });
    });
}

#[test]
fn the_golden_frames_decode_in_both_codecs() {
    // The mutation properties start from valid frames: each golden file decodes as its
    // endpoint's frame from its JSON and from its MessagePack, to the same value.
    for golden in goldens() {
        match golden.endpoint {
            Endpoint::Client => same_in_both::<ClientFrame>(golden),
            Endpoint::Console => same_in_both::<ConsoleFrame>(golden),
        }
    }
}

fn same_in_both<F>(golden: &Golden)
where
    F: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json: Envelope<F> = Codec::Json
        .decode(&golden.json)
        .unwrap_or_else(|e| panic!("{}: {e}", golden.name));
    let msgpack: Envelope<F> = Codec::MessagePack
        .decode(&golden.msgpack)
        .unwrap_or_else(|e| panic!("{}: {e}", golden.name));
    assert_eq!(json, msgpack, "{}", golden.name);
    for codec in CODECS {
        let bytes = if codec == Codec::Json {
            &golden.json
        } else {
            &golden.msgpack
        };
        assert_eq!(codec.peek_req(bytes), json.req, "{}", golden.name);
    }
}

// ---------------------------------------------------------------- round trip

/// Replacement values for the leaves of a golden frame, used in turn.
#[derive(Debug, Clone)]
struct Leaves {
    strings: Vec<Option<String>>,
    numbers: Vec<Option<u64>>,
    flags: Vec<Option<bool>>,
    req: Option<Option<String>>,
    answers: Vec<(String, Node)>,
}

/// A questionnaire answer: any JSON value, floats with at most 15 significant digits
/// (serde_json parses those exactly; see `json_round_trips_every_float`).
fn answer() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        Just(Node::Nil),
        any::<bool>().prop_map(Node::Bool),
        any::<u64>().prop_map(Node::UInt),
        (i64::MIN..0).prop_map(Node::Int),
        (-999_999_999_999i64..1_000_000_000_000, 0i32..8)
            .prop_map(|(m, e)| Node::F64(m as f64 / 10f64.powi(e))),
        any::<String>().prop_map(Node::Str),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Node::Array),
            prop::collection::vec((any::<String>().prop_map(Node::Str), inner), 0..6)
                .prop_map(Node::Map),
        ]
    })
}

fn leaves() -> impl Strategy<Value = Leaves> {
    (
        prop::collection::vec(prop::option::of(any::<String>()), 1..8),
        prop::collection::vec(prop::option::of(any::<u64>()), 1..8),
        prop::collection::vec(prop::option::of(any::<bool>()), 1..4),
        prop::option::of(prop::option::of(any::<String>())),
        prop::collection::vec((any::<String>(), answer()), 0..6),
    )
        .prop_map(|(strings, numbers, flags, req, answers)| Leaves {
            strings,
            numbers,
            flags,
            req,
            answers,
        })
}

/// Fields whose strings are names (enum variants), kept as they are.
const NAMED: [&str; 4] = ["type", "availability", "routing", "role"];

/// The golden frame with its leaves replaced by valid values of their kind.
fn perturb(value: &Value, leaves: &Leaves) -> Node {
    fn walk(node: &mut Node, field: &str, leaves: &Leaves, turn: &mut usize) {
        *turn += 1;
        let t = *turn;
        match node {
            Node::Str(s) if !NAMED.contains(&field) => {
                if let Some(new) = &leaves.strings[t % leaves.strings.len()] {
                    s.clone_from(new);
                }
            }
            Node::UInt(u) => {
                if let Some(new) = leaves.numbers[t % leaves.numbers.len()] {
                    *u = match field {
                        "rating" => new % 256,
                        "limit" | "capacity" | "active" => new % (1 << 32),
                        _ => new,
                    };
                }
            }
            Node::Bool(b) => {
                if let Some(new) = leaves.flags[t % leaves.flags.len()] {
                    *b = new;
                }
            }
            Node::Array(items) => {
                for item in items {
                    walk(item, field, leaves, turn);
                }
            }
            Node::Map(entries) => {
                for (key, value) in entries {
                    let Node::Str(key) = key else { continue };
                    walk(value, key, leaves, turn);
                }
            }
            _ => {}
        }
    }
    let mut doc = Node::from_value(value);
    walk(&mut doc, "", leaves, &mut 0);
    let Node::Map(entries) = &mut doc else {
        unreachable!("a frame is a map")
    };
    if let Some(req) = &leaves.req {
        entries.retain(|(k, _)| k != &Node::str("req"));
        let req = req.as_ref().map_or(Node::Nil, |r| Node::str(r));
        entries.push((Node::str("req"), req));
    }
    let answers_field = match &value["type"] {
        Value::String(t) if t == "start" => Some("questionnaire"),
        Value::String(t) if t == "submit_form" => Some("fields"),
        _ => None,
    };
    if let (Some(field), false) = (answers_field, leaves.answers.is_empty()) {
        let answers = Node::Map(
            leaves
                .answers
                .iter()
                .map(|(k, v)| (Node::str(k), v.clone()))
                .collect(),
        );
        entries.retain(|(k, _)| k != &Node::str(field));
        entries.push((Node::str(field), answers));
    }
    doc
}

/// The same frame from JSON and from MessagePack; re-encoded in either codec, it decodes to
/// itself.
fn round_trips<F>(doc: &Node) -> Result<(), TestCaseError>
where
    F: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = doc.json();
    let first: Envelope<F> = Codec::Json.decode(&json).map_err(|e| {
        TestCaseError::fail(format!(
            "{} does not decode: {e}",
            String::from_utf8_lossy(&json)
        ))
    })?;
    let from_msgpack: Envelope<F> = Codec::MessagePack
        .decode(&doc.msgpack())
        .map_err(|e| TestCaseError::fail(format!("{doc:?} as msgpack does not decode: {e}")))?;
    prop_assert_eq!(
        &from_msgpack,
        &first,
        "JSON and MessagePack decode differently"
    );
    for codec in CODECS {
        let bytes = codec.encode(&first).expect("a decoded frame encodes");
        let back: Envelope<F> = codec
            .decode(&bytes)
            .map_err(|e| TestCaseError::fail(format!("{codec:?}: {e}")))?;
        prop_assert_eq!(&back, &first, "{:?} round trip", codec);
        prop_assert_eq!(codec.peek_req(&bytes), first.req.clone());
    }
    Ok(())
}

#[test]
fn valid_frames_round_trip_in_both_codecs() {
    on_big_stack(|| {
        proptest!(config(1500), |(g in any::<Index>(), leaves in leaves())| {
            let golden = g.get(goldens());
            let doc = perturb(&golden.value, &leaves);
            match golden.endpoint {
                Endpoint::Client => round_trips::<ClientFrame>(&doc)?,
                Endpoint::Console => round_trips::<ConsoleFrame>(&doc)?,
            }
        });
    });
}

#[test]
fn json_round_trips_every_float() {
    // 1.0715660391465826e-75 is what serde_json writes for that f64 (ryu's shortest form),
    // but its default parser reads the text back as 1.0715660391465825e-75. So a
    // questionnaire answer with such a number changes on each JSON hop. With
    // `serde_json = { features = ["float_roundtrip"] }` this passes.
    let text = r#"{"type":"start","service":"s","questionnaire":{"q":1.0715660391465826e-75}}"#;
    let first: Envelope<ClientFrame> = Codec::Json.decode(text.as_bytes()).expect("decodes");
    let again = Codec::Json.encode(&first).expect("encodes");
    let back: Envelope<ClientFrame> = Codec::Json.decode(&again).expect("decodes");
    assert_eq!(back, first);
}

// ---------------------------------------------------------------- nesting

/// `{"type":"start","service":"s","questionnaire":{"q": <depth arrays around null>}}`: the
/// one inbound frame that takes arbitrary JSON (the answers). Written directly (a 100 000
/// levels deep [`Node`] would overflow the stack itself).
fn deep_start_json(depth: usize) -> Vec<u8> {
    format!(
        r#"{{"type":"start","service":"s","questionnaire":{{"q":{}null{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
    .into_bytes()
}

/// [`deep_start_json`] in MessagePack.
fn deep_start_msgpack(depth: usize) -> Vec<u8> {
    let mut frame = Node::Map(vec![
        (Node::str("type"), Node::str("start")),
        (Node::str("service"), Node::str("s")),
        (
            Node::str("questionnaire"),
            Node::Map(vec![(Node::str("q"), Node::Nil)]),
        ),
    ])
    .msgpack();
    let nil = frame.pop();
    assert_eq!(nil, Some(0xc0));
    frame.extend(std::iter::repeat_n(0x91, depth)); // fixarray of one element
    frame.push(0xc0);
    frame
}

/// `{"req":"r","x": <depth arrays around 0>}` in MessagePack.
fn deep_unknown_field_msgpack(depth: usize) -> Vec<u8> {
    let mut frame = vec![0x82, 0xa3, b'r', b'e', b'q', 0xa1, b'r', 0xa1, b'x'];
    frame.extend(std::iter::repeat_n(0x91, depth));
    frame.push(0x00);
    frame
}

fn is_json_recursion_limit<T>(result: &Result<T, CodecError>) -> bool {
    matches!(
        result,
        Err(CodecError::Json(e)) if e.to_string().starts_with("recursion limit exceeded")
    )
}

fn is_msgpack_depth_limit<T>(result: &Result<T, CodecError>) -> bool {
    matches!(
        result,
        Err(CodecError::MsgpackDecode(
            rmp_serde::decode::Error::DepthLimitExceeded
        ))
    )
}

#[test]
fn json_nesting_stops_at_serde_json_recursion_limit() {
    // serde_json allows 127 nested arrays and maps: the frame's own map and the
    // questionnaire's leave 125 for an answer.
    let ok = deep_start_json(125);
    assert!(Codec::Json.decode::<Envelope<ClientFrame>>(&ok).is_ok());
    let refused = deep_start_json(126);
    assert!(is_json_recursion_limit(
        &Codec::Json.decode::<Envelope<ClientFrame>>(&refused)
    ));

    // 100 000 levels, balanced or not, in a field or the whole frame: refused on this test
    // thread's ordinary stack, in both endpoints.
    let depth = 100_000;
    let field = deep_start_json(depth);
    let open = format!(r#"{{"req":"r","x":{}"#, "[".repeat(depth)).into_bytes();
    for bytes in [&field, &open] {
        assert!(is_json_recursion_limit(
            &Codec::Json.decode::<Envelope<ClientFrame>>(bytes)
        ));
        assert!(is_json_recursion_limit(
            &Codec::Json.decode::<Envelope<ConsoleFrame>>(bytes)
        ));
    }
    // `peek_req` skips unknown fields without recursion (and without a depth limit), so it
    // still finds the `req` of a frame refused for its depth, for the error to echo.
    let skipped = format!(
        r#"{{"req":"r","x":{}0{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert_eq!(Codec::Json.peek_req(skipped.as_bytes()), Some("r".into()));
    assert_eq!(Codec::Json.peek_req(&open), None, "unterminated");
    let bare = "[".repeat(depth).into_bytes();
    assert!(Codec::Json.decode::<Envelope<ClientFrame>>(&bare).is_err());
    assert_eq!(Codec::Json.peek_req(&bare), None);
}

#[test]
fn msgpack_nesting_stops_at_the_codecs_depth_limit() {
    // `Codec::decode` allows `MSGPACK_MAX_DEPTH` (32) nested arrays and maps: the envelope,
    // the questionnaire and the answer's own levels (the answer gets 29).
    let limit = console_protocol::MSGPACK_MAX_DEPTH;
    on_big_stack(move || {
        let ok = deep_start_msgpack(limit - 3);
        assert!(Codec::MessagePack
            .decode::<Envelope<ClientFrame>>(&ok)
            .is_ok());
        let refused = deep_start_msgpack(limit - 2);
        assert!(is_msgpack_depth_limit(
            &Codec::MessagePack.decode::<Envelope<ClientFrame>>(&refused)
        ));
        let deep = deep_start_msgpack(100_000);
        assert!(is_msgpack_depth_limit(
            &Codec::MessagePack.decode::<Envelope<ClientFrame>>(&deep)
        ));
        assert!(is_msgpack_depth_limit(
            &Codec::MessagePack.decode::<Envelope<ConsoleFrame>>(&deep)
        ));
        // Unlike serde_json, skipping an unknown field counts depth too: no `req` then.
        let skipped = deep_unknown_field_msgpack(100_000);
        assert_eq!(Codec::MessagePack.peek_req(&skipped), None);
        let shallow = deep_unknown_field_msgpack(20);
        assert_eq!(Codec::MessagePack.peek_req(&shallow), Some("r".into()));
    });
}

#[test]
fn msgpack_nesting_fits_a_2_mib_stack() {
    // The server decodes on tokio worker threads, 2 MiB of stack. rmp-serde's depth limit
    // (1024) bounds recursion, but in the debug profile each level of
    // `Envelope<ClientFrame>` → flatten buffer (serde `Content`) → questionnaire
    // (`serde_json::Value`) takes ~3.2 KiB of stack (`peek_req`: ~2.7 KiB), so
    //   81 a1 71 + 91 × 645 + c0 (a start frame's answer 645 arrays deep, ~700 bytes)
    // overflows the stack and aborts the process ("has overflowed its stack") instead of
    // returning an error; peek_req overflows at ~784 levels. The release profile needs
    // ~390 KiB for the deepest frame the limit lets through, and passes. To see it:
    //   cargo test -p console-protocol --test props -- --ignored msgpack_nesting_fits
    // Fixed by `Codec::decode`'s depth limit (`MSGPACK_MAX_DEPTH`): a frame nested deeper is
    // refused with the depth error, on a tokio worker's stack, in debug builds too.
    on_stack(TOKIO_STACK, || {
        let start = deep_start_msgpack(20);
        assert!(Codec::MessagePack
            .decode::<Envelope<ClientFrame>>(&start)
            .is_ok());
        for depth in [40, 645, 1021] {
            let start = deep_start_msgpack(depth);
            assert!(is_msgpack_depth_limit(
                &Codec::MessagePack.decode::<Envelope<ClientFrame>>(&start)
            ));
        }
        let deep = deep_start_msgpack(100_000);
        assert!(is_msgpack_depth_limit(
            &Codec::MessagePack.decode::<Envelope<ClientFrame>>(&deep)
        ));
        assert!(is_msgpack_depth_limit(
            &Codec::MessagePack.decode::<Envelope<ConsoleFrame>>(&deep)
        ));
        assert_eq!(Codec::MessagePack.peek_req(&deep), None);
    });
}

// ---------------------------------------------------------------- memory

fn vm_peak_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmPeak:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
#[ignore = "measures the whole process's peak address space: run alone (other tests' 64 MiB \
            stacks raise it); passes with the depth limit (32 levels, ~32 MiB)"]
fn msgpack_length_prefixes_do_not_reserve_memory() {
    // A start frame whose answer is 1000 nested arrays, each claiming 2^32 - 1 elements
    // (`dd ff ff ff ff`), and nothing after: 5 KiB. The envelope's `#[serde(flatten)]`
    // buffers fields as serde `Content`, whose `visit_seq` pre-allocates
    // `min(claimed, 1 MiB / size_of::<Content>())` elements per level before reading any:
    // 1 MiB × 1000 levels ≈ 1 GiB of address space (VmPeak), mostly untouched (resident
    // memory grows by a few MiB), freed when the frame is refused (unexpected end of input).
    // Maps (`df ff ff ff ff`) do the same. JSON has no length prefixes.
    //   cargo test -p console-protocol --test props -- --ignored --exact \
    //       msgpack_length_prefixes_do_not_reserve_memory
    on_big_stack(|| {
        let Some(before) = vm_peak_kib() else {
            return; // not Linux
        };
        let mut frame = deep_start_msgpack(0);
        frame.pop(); // the answer's nil
        for _ in 0..1000 {
            frame.extend([0xdd, 0xff, 0xff, 0xff, 0xff]);
        }
        assert!(frame.len() < 5200);
        let result = Codec::MessagePack.decode::<Envelope<ClientFrame>>(&frame);
        assert!(result.is_err());
        let grown = vm_peak_kib().expect("still Linux") - before;
        assert!(
            grown < 64 * 1024,
            "a {}-byte frame grew the peak address space by {} MiB",
            frame.len(),
            grown / 1024
        );
    });
}

// ---------------------------------------------------------------- MessagePack specifics

#[test]
fn msgpack_integer_keys_name_fields_by_position() {
    // rmp-serde reads an integer map key as the index of a struct field. `peek_req`'s
    // struct has one field, `req`; the frame's flattened fields are matched by the frame
    // type's own order. So `{0: "r", "type": "hello"}` is a client hello with token "r"
    // while `peek_req` reports req "r": the two disagree (the server echoes `peek_req`'s
    // req in its `welcome`). JSON keys are always strings, so JSON frames agree (checked in
    // every property above).
    let frame = Node::Map(vec![
        (Node::UInt(0), Node::str("r")),
        (Node::str("type"), Node::str("hello")),
    ])
    .msgpack();
    let decoded: Envelope<ClientFrame> = Codec::MessagePack.decode(&frame).expect("decodes");
    assert_eq!(decoded.req, None);
    assert_eq!(
        decoded.frame,
        ClientFrame::Hello(ClientHello {
            token: Some("r".into()),
            resume: vec![],
        })
    );
    assert_eq!(Codec::MessagePack.peek_req(&frame), Some("r".into()));
}
