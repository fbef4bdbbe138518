//! Shared checks for user-written text.

use crate::errors::FieldViolation;

/// What trimming removes: Unicode white space except U+0085 (NEXT LINE), which is also a control
/// character and so is refused rather than trimmed. The API's schema patterns spell out the same
/// set, so a value the schema admits is a value the domain admits, and the other way round.
pub(crate) fn is_trimmed(c: char) -> bool {
    c.is_whitespace() && c != '\u{85}'
}

pub(crate) fn trim(raw: &str) -> &str {
    raw.trim_matches(is_trimmed)
}

/// Text a value can be parsed from: a `&str` is copied once it is valid, a `String` (a row read
/// back from storage) is kept without a copy.
pub trait Raw: AsRef<str> + Into<String> {}

impl<T: AsRef<str> + Into<String>> Raw for T {}

/// Characters in `value`, and whether any of them is a control character (Unicode's Cc: U+0000 to
/// U+001F, U+007F to U+009F) other than line breaks and tabs when `breaks` allows them.
///
/// In one pass over the bytes rather than the characters: every post body read back from storage
/// is checked on every read, and decoding each character cost a tenth of a list's CPU. In UTF-8 a
/// character is a byte that does not continue another (`10xxxxxx`); C0 controls and DEL are single
/// bytes; C1 controls are `0xC2` followed by `0x80..=0x9F`. Byte-wide counters per chunk (128 <
/// 256: no overflow) and no branches let the loop be vectorised: about seven times faster.
fn scan(value: &str, breaks: bool) -> (usize, bool) {
    let bytes = value.as_bytes();
    let (mut count, mut bad, mut lead) = (0usize, 0u8, 0u8);
    for chunk in bytes.chunks(128) {
        let mut starts = 0u8;
        for &b in chunk {
            starts += u8::from(b & 0xC0 != 0x80);
            let allowed = breaks & ((b == b'\n') | (b == b'\r') | (b == b'\t'));
            bad |= (u8::from(b < 0x20) & u8::from(!allowed)) | u8::from(b == 0x7f);
            lead |= u8::from(b == 0xC2);
        }
        count += usize::from(starts);
    }
    // C1 controls need a `0xC2` lead byte: rare, so looked for only when one is there.
    let bad =
        bad != 0 || (lead != 0 && bytes.windows(2).any(|pair| pair[0] == 0xC2 && (0x80..=0x9F).contains(&pair[1])));
    (count, bad)
}

/// A single-line text: trimmed, `min..=max` characters, no control characters.
pub(crate) fn line(field: &'static str, raw: impl Raw, min: usize, max: usize) -> Result<String, FieldViolation> {
    let value = trim(raw.as_ref());
    let (len, control) = scan(value, false);
    if !(min..=max).contains(&len) {
        return Err(FieldViolation::new(field, format!("must be {min} to {max} characters after trimming")));
    }
    if control {
        return Err(FieldViolation::new(field, "must not contain control characters"));
    }
    if value.len() == raw.as_ref().len() {
        Ok(raw.into())
    } else {
        Ok(value.to_owned())
    }
}

/// A multi-line text kept as written: at most `max` characters; line breaks and tabs are the only
/// control characters allowed.
pub(crate) fn block(field: &'static str, raw: impl Raw, max: usize) -> Result<String, FieldViolation> {
    let (len, control) = scan(raw.as_ref(), true);
    if len > max {
        return Err(FieldViolation::new(field, format!("must be at most {max} characters")));
    }
    if control {
        return Err(FieldViolation::new(field, "must not contain control characters other than line breaks and tabs"));
    }
    Ok(raw.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition `scan` must agree with: characters counted and checked one by one.
    fn by_characters(value: &str, breaks: bool) -> (usize, bool) {
        let allowed = |c: char| breaks && matches!(c, '\n' | '\r' | '\t');
        value.chars().fold((0, false), |(count, bad), c| (count + 1, bad || (c.is_control() && !allowed(c))))
    }

    #[test]
    fn the_byte_scan_agrees_with_counting_and_checking_characters() {
        let mut texts: Vec<String> = (0u32..0x3000).filter_map(char::from_u32).map(|c| format!("a{c}b")).collect();
        texts.extend(
            ["", "plain text", "line\nbreak\r\n\ttab", "日本語 — ✓ 🎉", "\u{85}", "é\u{9f}", "\u{a0}\u{7f}"]
                .map(String::from),
        );
        texts.push((0u32..0x800).filter_map(char::from_u32).filter(|c| !c.is_control()).collect());
        // Controls on either side of a chunk's end (128 bytes), C1's two bytes split by it.
        for at in [126, 127, 128] {
            for control in ["\u{85}", "\u{9f}", "\u{1}", "\u{7f}", "\n"] {
                texts.push(format!("{}{control}", "x".repeat(at)));
            }
        }
        for text in &texts {
            for breaks in [false, true] {
                assert_eq!(scan(text, breaks), by_characters(text, breaks), "{text:?} (breaks {breaks})");
            }
        }
    }

    #[test]
    fn trimming_removes_white_space_but_not_next_line() {
        assert_eq!(trim("\u{3000}\t a b \u{a0}\n"), "a b");
        assert_eq!(trim("\u{85}a"), "\u{85}a");
        assert!(line("f", "\u{85}a", 1, 10).is_err(), "kept, then refused as a control character");
        assert_eq!(trim("\u{feff}a"), "\u{feff}a", "ZERO WIDTH NO-BREAK SPACE is not white space");
    }
}
