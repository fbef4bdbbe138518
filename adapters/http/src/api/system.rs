//! Service endpoints: liveness, readiness (the storage answers) and Prometheus metrics.

use std::sync::Arc;
use std::time::Duration;

use application::health::HealthService;
use application::AppError;
use poem::web::Data;
use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::api::json::Serialized;
use crate::api::problems::{error_set, ApiError, ProblemResponse};
use crate::api::tags::ApiTags;
use crate::server::lifecycle::Lifecycle;

/// Renders the Prometheus text exposition of every metric the process records.
#[derive(Clone)]
pub struct MetricsRender(pub Arc<dyn Fn() -> String + Send + Sync>);

/// A readiness probe that takes longer than this counts as a failure.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub struct SystemApi;

error_set!(LiveErrors: 500, 503);
error_set!(ReadyErrors: 500, 503);

/// Health of the process or its storage.
#[derive(Debug, Object, serde::Serialize)]
pub struct Health {
    /// Always `ok` on a 200 answer.
    pub status: String,
}

#[derive(ApiResponse)]
pub enum HealthResponse {
    #[oai(status = 200)]
    Ok(Serialized<Health>),
}

fn ok() -> HealthResponse {
    HealthResponse::Ok(Serialized(Health { status: "ok".to_owned() }))
}

#[derive(ApiResponse)]
pub enum MetricsResponse {
    /// Prometheus text format.
    #[oai(status = 200)]
    Ok(PlainText<String>),
}

#[OpenApi(tag = "ApiTags::System")]
impl SystemApi {
    /// Liveness: 200 while the process serves
    #[oai(path = "/health/live", method = "get", operation_id = "health_live")]
    async fn live(&self) -> Result<HealthResponse, ApiError<LiveErrors>> {
        Ok(ok())
    }

    /// Readiness: 200 when the storage answers, else 503 (also while the instance drains to stop)
    #[oai(path = "/health/ready", method = "get", operation_id = "health_ready")]
    async fn ready(
        &self,
        health: Data<&HealthService>,
        lifecycle: Data<&Lifecycle>,
    ) -> Result<HealthResponse, ApiError<ReadyErrors>> {
        if lifecycle.is_draining() {
            return Err(ProblemResponse::shutting_down().into());
        }
        match tokio::time::timeout(READY_TIMEOUT, health.ready()).await {
            Ok(Ok(())) => Ok(ok()),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(AppError::Unavailable.into()),
        }
    }

    /// Prometheus metrics: requests and storage calls, counts and latency
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self, render: Data<&MetricsRender>) -> Result<MetricsResponse, ApiError<LiveErrors>> {
        Ok(MetricsResponse::Ok(PlainText((render.0 .0)())))
    }
}
