//! The JSON response payload: serialised straight from the response type with serde.
//!
//! poem-openapi's `Json` builds a `serde_json::Value` tree of every response first (one
//! allocation per string, number and object) and serialises that; on list pages it was the
//! largest cost after the database. Response types derive both `Object` (the schema) and
//! `Serialize` (the bytes); debug builds — every test — serialise each response both ways and
//! answer 500 when they differ, so the two cannot drift apart unnoticed.

use poem::{IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use serde::Serialize;

use crate::api::json_bytes::to_bytes;
use crate::api::problems::ProblemResponse;

const CONTENT_TYPE: &str = "application/json; charset=utf-8";

#[derive(Debug)]
pub struct Serialized<T>(pub T);

impl<T: Type> Payload for Serialized<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + ToJSON> IntoResponse for Serialized<T> {
    fn into_response(self) -> Response {
        match to_bytes(&self.0) {
            Ok(bytes) => Response::builder().content_type(CONTENT_TYPE).body(bytes),
            // The server's fault: logged, and a 500 problem.
            Err(reason) => {
                tracing::error!(%reason, "response serialisation failed");
                ProblemResponse::internal().into_response()
            }
        }
    }
}
