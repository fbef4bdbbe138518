//! String inputs whose schema states API.md's rules for generated clients, while the parsing into
//! domain values (and the 422 naming each field) stays with the service. Unlike `String`, they
//! accept only JSON strings: a number where a name belongs is a malformed request, not a name.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type};
use serde_json::Value;

macro_rules! input_string {
    ($(#[$doc:meta])* $name:ident { min: $min:expr, max: $max:expr, pattern: $pattern:expr $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(pub String);

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = String;
            type RawElementValueType = String;

            fn name() -> Cow<'static, str> {
                "string".into()
            }

            fn schema_ref() -> MetaSchemaRef {
                let mut schema = MetaSchema::new("string");
                schema.min_length = $min;
                schema.max_length = $max;
                schema.pattern = $pattern.map(|p: &str| p.to_owned());
                MetaSchemaRef::Inline(Box::new(schema))
            }

            fn as_raw_value(&self) -> Option<&String> {
                Some(&self.0)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
                Box::new(std::iter::once(&self.0))
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value {
                    Some(Value::String(s)) => Ok(Self(s)),
                    Some(other) => Err(ParseError::expected_type(other)),
                    None => Err(ParseError::expected_input()),
                }
            }
        }

        /// As a query parameter: any text, parsed by the service like the JSON field.
        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                Ok(Self(value.to_owned()))
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.clone()))
            }
        }
    };
}

// The character classes of the patterns, as ECMA-262 / JSON Schema regex text. `ws!` is what the
// domain trims (Unicode white space but U+0085), `ctl!` the control characters it refuses.
macro_rules! ws {
    () => {
        "\\t\\n\\x0b\\x0c\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
    };
}
macro_rules! ctl {
    () => {
        "\\x00-\\x1f\\x7f-\\x9f"
    };
}
/// A trimmed single line of `1..=max` characters without control characters: exactly the
/// domain's rule, so schema-valid and domain-valid coincide.
macro_rules! line_pattern {
    ($inner_max:literal) => {
        concat!(
            "^[",
            ws!(),
            "]*[^",
            ws!(),
            ctl!(),
            "](?:[^",
            ctl!(),
            "]{0,",
            $inner_max,
            "}[^",
            ws!(),
            ctl!(),
            "])?[",
            ws!(),
            "]*$"
        )
    };
}
/// A file's name: a trimmed line of 1 to 255 characters without control characters, `/` or `\`.
macro_rules! file_name_pattern {
    () => {
        concat!(
            "^[",
            ws!(),
            "]*[^",
            ws!(),
            ctl!(),
            "/\\\\](?:[^",
            ctl!(),
            "/\\\\]{0,253}[^",
            ws!(),
            ctl!(),
            "/\\\\])?[",
            ws!(),
            "]*$"
        )
    };
}
/// Multi-line text: line breaks and tabs are the only control characters.
macro_rules! block_pattern {
    () => {
        "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
    };
}

pub const EMAIL_PATTERN: &str = concat!(
    "^[",
    ws!(),
    "]*(?=[^",
    ws!(),
    "]{1,254}[",
    ws!(),
    "]*$)[^@",
    ws!(),
    ctl!(),
    "]+@[^@",
    ws!(),
    ctl!(),
    "]+[",
    ws!(),
    "]*$"
);
pub const USERNAME_PATTERN: &str = "^[A-Za-z0-9_]{3,32}$";
pub const NAME_PATTERN: &str = line_pattern!(98);
pub const PROJECT_NAME_PATTERN: &str = line_pattern!(98);
pub const TITLE_PATTERN: &str = line_pattern!(198);
pub const BLOCK_PATTERN: &str = block_pattern!();
pub const FILE_NAME_PATTERN: &str = file_name_pattern!();
pub const AVATAR_URL_PATTERN: &str = concat!(
    "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@:",
    ws!(),
    ctl!(),
    "][^/?#@",
    ws!(),
    ctl!(),
    "]*(?:[/?#][^",
    ws!(),
    ctl!(),
    "]*)?$"
);

input_string!(
    /// An email address; trimmed and lower-cased when stored.
    EmailInput { min: None, max: None, pattern: Some(EMAIL_PATTERN) }
);
input_string!(
    /// Letters, digits and underscores; stored lower-cased.
    UsernameInput { min: Some(3), max: Some(32), pattern: Some(USERNAME_PATTERN) }
);
input_string!(
    /// 8 to 128 characters, no other rule.
    NewPasswordInput { min: Some(8), max: Some(128), pattern: None::<&str> }
);
input_string!(
    /// 1 to 100 characters after trimming, no control characters.
    NameInput { min: Some(1), max: None, pattern: Some(NAME_PATTERN) }
);
input_string!(
    /// An absolute http(s) URL of at most 2048 characters.
    AvatarUrlInput { min: None, max: Some(2048), pattern: Some(AVATAR_URL_PATTERN) }
);
input_string!(
    /// Any string: a secret or a name checked against storage, never parsed.
    SecretInput { min: None, max: None, pattern: None::<&str> }
);
input_string!(
    /// 1 to 100 characters after trimming, no control characters.
    ProjectNameInput { min: Some(1), max: None, pattern: Some(PROJECT_NAME_PATTERN) }
);
input_string!(
    /// At most 2000 characters; line breaks and tabs are the only control characters.
    DescriptionInput { min: None, max: Some(2000), pattern: Some(BLOCK_PATTERN) }
);
input_string!(
    /// 1 to 200 characters after trimming, no control characters.
    PostTitleInput { min: Some(1), max: None, pattern: Some(TITLE_PATTERN) }
);
input_string!(
    /// 1 to 255 characters after trimming, no control characters, `/` or `\`.
    FileNameInput { min: Some(1), max: None, pattern: Some(FILE_NAME_PATTERN) }
);
input_string!(
    /// A media type such as `text/plain` (parameters allowed): at most 255 visible ASCII
    /// characters or spaces.
    MediaTypeInput { min: Some(1), max: Some(255), pattern: None::<&str> }
);
input_string!(
    /// A SHA-256 digest: 64 hexadecimal digits.
    Sha256Input { min: Some(64), max: Some(64), pattern: Some("^[0-9a-fA-F]{64}$") }
);
input_string!(
    /// At most 100 000 characters; line breaks and tabs are the only control characters.
    PostBodyInput { min: None, max: Some(100_000), pattern: Some(BLOCK_PATTERN) }
);

#[cfg(test)]
#[path = "inputs_tests.rs"]
mod tests;
