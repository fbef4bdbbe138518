//! String inputs whose schema states API.md's rules for generated clients, while the parsing into
//! domain values (and the 422 naming each field) stays with the service. Unlike `String`, they
//! accept only JSON strings: a number where a name belongs is a malformed request, not a name.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
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

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.clone()))
            }
        }
    };
}

input_string!(
    /// Trimmed and lower-cased; one `@` with text on both sides.
    EmailInput { min: Some(3), max: Some(254), pattern: Some("^\\s*[^\\s@]+@[^\\s@]+\\s*$") }
);
input_string!(
    /// Letters, digits and underscores; stored lower-cased.
    UsernameInput { min: Some(3), max: Some(32), pattern: Some("^[A-Za-z0-9_]{3,32}$") }
);
input_string!(
    /// 8 to 128 characters, no other rule.
    NewPasswordInput { min: Some(8), max: Some(128), pattern: None::<&str> }
);
input_string!(
    /// 1 to 100 characters after trimming.
    NameInput { min: Some(1), max: Some(100), pattern: Some("\\S") }
);
input_string!(
    /// An absolute http(s) URL.
    AvatarUrlInput { min: Some(8), max: Some(2048), pattern: Some("^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#@:][^\\s/?#@]*([/?#]\\S*)?$") }
);
input_string!(
    /// Any string: a secret or a name checked against storage, never parsed.
    SecretInput { min: None, max: None, pattern: None::<&str> }
);
input_string!(
    /// 1 to 100 characters after trimming.
    ProjectNameInput { min: Some(1), max: Some(100), pattern: Some("\\S") }
);
input_string!(
    /// At most 2000 characters.
    DescriptionInput { min: None, max: Some(2000), pattern: None::<&str> }
);
input_string!(
    /// 1 to 200 characters after trimming.
    PostTitleInput { min: Some(1), max: Some(200), pattern: Some("\\S") }
);
input_string!(
    /// At most 100 000 characters.
    PostBodyInput { min: None, max: Some(100_000), pattern: None::<&str> }
);
