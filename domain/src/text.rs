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

/// Characters in `value`, and whether any of them is a control character `allowed` does not admit
/// (one pass: bodies read back from storage are checked on every read).
fn scan(value: &str, allowed: impl Fn(char) -> bool) -> (usize, bool) {
    value.chars().fold((0, false), |(count, bad), c| (count + 1, bad || (c.is_control() && !allowed(c))))
}

/// A single-line text: trimmed, `min..=max` characters, no control characters.
pub(crate) fn line(field: &'static str, raw: impl Raw, min: usize, max: usize) -> Result<String, FieldViolation> {
    let value = trim(raw.as_ref());
    let (len, control) = scan(value, |_| false);
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
    let (len, control) = scan(raw.as_ref(), |c| matches!(c, '\n' | '\r' | '\t'));
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

    #[test]
    fn trimming_removes_white_space_but_not_next_line() {
        assert_eq!(trim("\u{3000}\t a b \u{a0}\n"), "a b");
        assert_eq!(trim("\u{85}a"), "\u{85}a");
        assert!(line("f", "\u{85}a", 1, 10).is_err(), "kept, then refused as a control character");
        assert_eq!(trim("\u{feff}a"), "\u{feff}a", "ZERO WIDTH NO-BREAK SPACE is not white space");
    }
}
