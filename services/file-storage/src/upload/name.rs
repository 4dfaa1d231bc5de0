//! Display names. A name only ever reaches a screen or a `Content-Disposition` header, never
//! the file system, but it is still cleaned so that it cannot spoof or break either.

/// Longest kept name, in bytes (what most file systems allow, so a download can be saved).
pub const MAX_NAME_BYTES: usize = 255;
/// The name of a file whose client sent none (or nothing usable).
pub const UNNAMED: &str = "unnamed";

/// Keeps the last path component, drops control and bidi-override characters, trims, and
/// cuts over-long names on a character boundary keeping the extension.
pub fn sanitize(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control() && !is_bidi_control(*c)).collect();
    // Checked after the cut: cutting `..<spaces>x` and trimming leaves `..`.
    let kept = truncate_keeping_extension(cleaned.trim());
    if kept.is_empty() || kept == "." || kept == ".." {
        return UNNAMED.to_owned();
    }
    kept
}

/// Characters that reorder displayed text (e.g. `exe.txt` shown for `txt.exe`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn truncate_keeping_extension(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_owned();
    }
    let ext = name.rfind('.').map(|i| &name[i..]).filter(|e| e.len() <= 16).unwrap_or("");
    let budget = MAX_NAME_BYTES - ext.len();
    let mut end = budget;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    // The cut may land after whitespace, which a second sanitize would trim: trim it now, so
    // cleaning a cleaned name changes nothing. (The name starts with non-whitespace.)
    format!("{}{ext}", name[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_controls_and_length_are_handled() {
        assert_eq!(sanitize("../../etc/passwd"), "passwd");
        assert_eq!(sanitize("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(sanitize("a\u{0}b\r\nc\u{1b}[31m.txt"), "abc[31m.txt");
        assert_eq!(sanitize("evil\u{202E}fdp.exe"), "evilfdp.exe");
        assert_eq!(sanitize(".."), UNNAMED);
        assert_eq!(sanitize("  /  "), UNNAMED);
        let long = format!("{}.pdf", "é".repeat(300));
        let cut = sanitize(&long);
        assert!(cut.len() <= MAX_NAME_BYTES && cut.ends_with(".pdf"), "{cut}");
    }
}
