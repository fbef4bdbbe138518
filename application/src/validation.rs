//! Validation in one place. A command's fields are parsed into domain values together, and every
//! broken rule — a `null` where a value or nothing belongs included — comes back in one
//! [`AppError::Validation`], in the order of the request's fields, so a client learns everything
//! wrong with a request from one answer.

use domain::FieldViolation;

use crate::errors::AppError;

/// What a `null` for a field that cannot be cleared is told.
const NOT_NULL: &str = "must not be null; leave it out to keep the value";

/// One optional field of a request, as the client sent it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Field<T> {
    /// Left out: the field keeps its value (or takes its default).
    #[default]
    Absent,
    /// Sent as `null`.
    Null,
    Value(T),
}

/// A parsed change to a field that may also be cleared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Field<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Value(value) => Field::Value(f(value)),
        }
    }

    /// A field that may be left out but not sent as `null`: `None` when left out, else the value
    /// `parse` makes of it.
    pub fn non_null<U>(
        self,
        name: &'static str,
        parse: impl FnOnce(T) -> Result<U, FieldViolation>,
    ) -> Result<Option<U>, FieldViolation> {
        match self {
            Field::Absent => Ok(None),
            Field::Null => Err(FieldViolation::new(name, NOT_NULL)),
            Field::Value(value) => parse(value).map(Some),
        }
    }

    /// A field that `null` clears.
    pub fn nullable<U>(self, parse: impl FnOnce(T) -> Result<U, FieldViolation>) -> Result<Patch<U>, FieldViolation> {
        match self {
            Field::Absent => Ok(Patch::Keep),
            Field::Null => Ok(Patch::Clear),
            Field::Value(value) => parse(value).map(Patch::Set),
        }
    }
}

/// The parse results of several fields, as a tuple `(Result<A, FieldViolation>, …)`: see [`validate`].
pub trait Checks {
    type Values;

    fn into_values(self) -> Result<Self::Values, Vec<FieldViolation>>;
}

/// Every field's value, or one [`AppError::Validation`] naming each field that broke a rule, in
/// the order given — the order of the request's fields.
pub fn validate<C: Checks>(checks: C) -> Result<C::Values, AppError> {
    checks.into_values().map_err(AppError::Validation)
}

macro_rules! checks_for_tuples {
    ($(($($value:ident: $T:ident),+))+) => {$(
        impl<$($T),+> Checks for ($(Result<$T, FieldViolation>,)+) {
            type Values = ($($T,)+);

            fn into_values(self) -> Result<Self::Values, Vec<FieldViolation>> {
                let ($($value,)+) = self;
                match ($($value,)+) {
                    ($(Ok($value),)+) => Ok(($($value,)+)),
                    ($($value,)+) => Err([$($value.err()),+].into_iter().flatten().collect()),
                }
            }
        }
    )+};
}

checks_for_tuples! {
    (a: A, b: B)
    (a: A, b: B, c: C)
    (a: A, b: B, c: C, d: D)
    (a: A, b: B, c: C, d: D, e: E)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positive(name: &'static str) -> impl FnOnce(i64) -> Result<i64, FieldViolation> {
        move |n| if n > 0 { Ok(n) } else { Err(FieldViolation::new(name, "must be positive")) }
    }

    #[test]
    fn every_field_is_parsed_and_nulls_are_refused_only_where_they_cannot_clear() {
        let checked = validate((
            Field::Value(1).non_null("a", positive("a")),
            Field::Absent.non_null("b", positive("b")),
            Field::Null.nullable(positive("c")),
        ));

        assert_eq!(checked, Ok((Some(1), None, Patch::Clear)));
    }

    #[test]
    fn a_null_is_reported_with_every_other_broken_rule_in_field_order() {
        let checked = validate((
            Field::Value(0).non_null("a", positive("a")),
            Field::<i64>::Null.non_null("b", positive("b")),
            Field::Value(2).nullable(positive("c")),
            Field::Value(-1).nullable(positive("d")),
        ));

        assert_eq!(
            checked,
            Err(AppError::Validation(vec![
                FieldViolation::new("a", "must be positive"),
                FieldViolation::new("b", "must not be null; leave it out to keep the value"),
                FieldViolation::new("d", "must be positive"),
            ]))
        );
    }
}
