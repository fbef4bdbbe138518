//! Shared checks for user-written text.

use crate::errors::FieldViolation;

/// A single-line text: trimmed, `min..=max` characters, no control characters.
pub(crate) fn line(field: &'static str, raw: &str, min: usize, max: usize) -> Result<String, FieldViolation> {
    let value = raw.trim();
    let len = value.chars().count();
    if !(min..=max).contains(&len) {
        return Err(FieldViolation::new(field, format!("must be {min} to {max} characters after trimming")));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldViolation::new(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// A multi-line text kept as written: at most `max` characters; line breaks and tabs are the only
/// control characters allowed.
pub(crate) fn block(field: &'static str, raw: &str, max: usize) -> Result<String, FieldViolation> {
    if raw.chars().count() > max {
        return Err(FieldViolation::new(field, format!("must be at most {max} characters")));
    }
    if raw.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldViolation::new(field, "must not contain control characters other than line breaks and tabs"));
    }
    Ok(raw.to_owned())
}
