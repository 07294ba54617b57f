//! Arbitrary bytes as a MessagePack binary frame of `/ws/client` and `/ws/console`.
#![no_main]

use console_protocol::Codec;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::decode_everything(Codec::MessagePack, data);
});
