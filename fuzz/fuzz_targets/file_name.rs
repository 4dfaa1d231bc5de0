//! File-name sanitising: whatever name a client sends, the kept display name has no path
//! separator, NUL, control or bidi-override character, is not empty, `.` or `..`, has no
//! surrounding whitespace, fits `MAX_NAME_BYTES`, and sanitising it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockbox_file_storage::upload::name::{MAX_NAME_BYTES, sanitize};

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fuzz_target!(|raw: &str| {
    let name = sanitize(raw);
    assert!(!name.is_empty(), "empty name for {raw:?}");
    assert!(name.len() <= MAX_NAME_BYTES, "{} bytes for {raw:?}", name.len());
    assert!(name != "." && name != "..", "{name:?} for {raw:?}");
    assert!(!name.contains(['/', '\\', '\0']), "{name:?} keeps a separator or NUL");
    assert!(
        !name.chars().any(|c| c.is_control() || is_bidi_control(c)),
        "{name:?} keeps a control character"
    );
    assert_eq!(name.trim(), name, "{name:?} has surrounding whitespace");
    assert_eq!(sanitize(&name), name, "sanitize is not idempotent for {raw:?}");
});
