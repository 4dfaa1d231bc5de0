//! Inputs the fuzz targets in `fuzz/` found, each kept as a test of the invariant it broke.

use lockbox_file_storage::upload::name::{MAX_NAME_BYTES, sanitize};

/// fuzz target file_name: an over-long name whose cut at `MAX_NAME_BYTES` landed just after a
/// whitespace character kept it at the end, so the name was not trimmed and sanitizing the
/// result again changed it.
#[test]
fn a_name_cut_after_whitespace_is_trimmed_and_stays_clean() {
    // The fuzzer's input, as its `&str` (the valid UTF-8 prefix of the crash file).
    let raw = ".'\u{2}[?\u{0}ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé#\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}éééééééééééééééééééééé\u{1f}\u{cd34d}\u{1f}\u{1f}\u{1f}\u{1f}\u{cd34d}\u{1f}\u{cd34d}\u{1f}\u{1f}\u{1f}\u{0}\u{0} \u{cd34d}\u{1f}";
    let name = sanitize(raw);
    assert!(name.len() <= MAX_NAME_BYTES, "{}", name.len());
    assert_eq!(name.trim(), name, "no surrounding whitespace: {name:?}");
    assert_eq!(sanitize(&name), name, "idempotent");

    // The same with an extension kept after the cut.
    let raw = format!("{}{}.pdf", "a".repeat(MAX_NAME_BYTES - 5), " ".repeat(40));
    let name = sanitize(&raw);
    assert_eq!(name, format!("{}.pdf", "a".repeat(MAX_NAME_BYTES - 5)));
    assert_eq!(sanitize(&name), name);
}

/// fuzz target file_name, after the fix above: an over-long name `..<250 spaces>d` was cut to
/// `..` plus spaces, and trimming that left `..` — a name the sanitizer must never return.
#[test]
fn a_cut_that_leaves_dot_dot_becomes_unnamed() {
    let raw = format!(
        "e\u{2}\r\r-\r\r{}/\0{}..{}d  ",
        " ".repeat(136),
        " ".repeat(78),
        " ".repeat(281)
    );
    assert_eq!(sanitize(&raw), lockbox_file_storage::upload::name::UNNAMED);
    for dots in [".", ".."] {
        assert_eq!(sanitize(&format!("{dots}{}x", " ".repeat(300))), "unnamed", "{dots}");
    }
}
