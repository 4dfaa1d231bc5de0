//! WebSocket frame decoding: any text a peer sends either fails to parse or is a `Frame`
//! whose JSON parses back to the same frame; and a frame built from arbitrary field values
//! (any strings, ids, seqs, timestamps) survives `to_json` → `from_json`.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::{
    arbitrary::{Arbitrary, Result, Unstructured},
    fuzz_target,
};
use lockbox_events::Frame;
use uuid::Uuid;

fn round_trips(frame: &Frame) {
    let text = frame.to_json();
    assert!(!text.is_empty(), "a frame serialized to nothing: {frame:?}");
    let back = Frame::from_json(&text).unwrap_or_else(|e| panic!("{text:?} does not parse back: {e}"));
    assert_eq!(&back, frame, "the frame changed in a round trip through {text:?}");
}

/// A frame from arbitrary values, as a (possibly buggy) server could build one.
fn built(u: &mut Unstructured<'_>) -> Result<Frame> {
    // Wire timestamps are milliseconds within years 0000..=9999.
    let millis = |u: &mut Unstructured<'_>| -> Result<_> {
        let ms = u.int_in_range(-62_167_219_200_000i64..=253_402_300_799_999)?;
        Ok(DateTime::from_timestamp_millis(ms).unwrap_or_default())
    };
    Ok(match u.int_in_range(0..=2u8)? {
        0 => Frame::error(String::arbitrary(u)?, String::arbitrary(u)?),
        1 => {
            let ids = Vec::<[u8; 16]>::arbitrary(u)?
                .into_iter()
                .map(Uuid::from_bytes)
                .collect();
            Frame::read(ids, Option::<u64>::arbitrary(u)?, millis(u)?)
        }
        _ => Frame {
            v: u16::arbitrary(u)?,
            body: lockbox_events::FrameBody::Heartbeat { at: millis(u)? },
        },
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(frame) = Frame::from_json(text)
    {
        round_trips(&frame);
    }
    if let Ok(frame) = built(&mut Unstructured::new(data)) {
        round_trips(&frame);
    }
});
