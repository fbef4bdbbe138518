//! Optional request fields: poem's `MaybeUndefined` (left out, `null`, or a value) handed to the
//! application as its [`Field`]. Whether `null` is allowed is the application's call, made with
//! every other rule of the request so that one answer names every bad field.

use application::validation::Field;
use poem_openapi::types::MaybeUndefined;

/// `value` as the application's [`Field`], a given value converted by `convert`.
pub fn field<T, U>(value: MaybeUndefined<T>, convert: impl FnOnce(T) -> U) -> Field<U> {
    match value {
        MaybeUndefined::Undefined => Field::Absent,
        MaybeUndefined::Null => Field::Null,
        MaybeUndefined::Value(value) => Field::Value(convert(value)),
    }
}
