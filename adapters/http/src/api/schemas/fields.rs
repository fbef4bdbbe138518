//! Optional request fields: absent means "not given", and `null` is refused where the schema does
//! not allow it (it would otherwise read as "absent" and hide a client bug).

use application::AppError;
use domain::FieldViolation;
use poem_openapi::types::MaybeUndefined;

/// Collects the fields of one request that were sent as `null` but may not be.
#[derive(Default)]
pub struct NotNull(Vec<FieldViolation>);

impl NotNull {
    pub fn take<T>(&mut self, field: &'static str, value: MaybeUndefined<T>) -> Option<T> {
        match value {
            MaybeUndefined::Value(v) => Some(v),
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => {
                self.0.push(FieldViolation::new(field, "must not be null; leave it out to keep the value"));
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}
