//! What both targets do with one input, for one codec: exactly what the server does with an
//! inbound WebSocket frame (`decode` as the endpoint's envelope, `peek_req` when that fails),
//! for both endpoints. A panic, an abort (stack overflow) or an out-of-memory is a finding.
//! Beyond "no crash", a frame that decodes must survive a MessagePack round trip, and in JSON
//! `peek_req` must find the `req` that `decode` found (not so in MessagePack: an integer key
//! names a struct field by position, see console-protocol/tests/props.rs).

use console_protocol::{ClientFrame, Codec, ConsoleFrame, Envelope};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;

pub fn decode_everything(codec: Codec, data: &[u8]) {
    let req = codec.peek_req(data);
    check::<ClientFrame>(codec, data, &req);
    check::<ConsoleFrame>(codec, data, &req);
}

fn check<F>(codec: Codec, data: &[u8], req: &Option<String>)
where
    F: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let Ok(frame) = codec.decode::<Envelope<F>>(data) else {
        return;
    };
    if codec == Codec::Json {
        assert_eq!(&frame.req, req, "peek_req disagrees with decode");
    }
    let packed = Codec::MessagePack
        .encode(&frame)
        .expect("a decoded frame encodes");
    let back: Envelope<F> = Codec::MessagePack
        .decode(&packed)
        .expect("a re-encoded frame decodes");
    assert_eq!(back, frame, "MessagePack round trip");
}
