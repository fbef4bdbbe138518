//! `tessera migrate` on DynamoDB: the table, its indexes and the TTL setting, created if absent.
//! Several instances may run this at once: "already exists" from a concurrent creator is success,
//! and each waits until the table is ACTIVE.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use domain::StorageError;

use crate::errors::sdk_error;
use crate::keys::{
    BY_CREATOR, BY_ORDER, BY_STATUS, CREATOR, CREATOR_ORDER, EXPIRES, JSON_SIZE, ORDER, PK, SK, STATUS_ORDER,
};
use crate::table::Table;

const ACTIVE_WAIT: Duration = Duration::from_secs(120);

fn built<T>(result: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StorageError> {
    result.map_err(|e| StorageError::backend_from("a table definition", e))
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StorageError> {
    built(KeySchemaElement::builder().attribute_name(name).key_type(kind).build())
}

/// What the indexes carry besides the keys: enough to read the rest in one BatchGetItem, never
/// a post's title or body. An item and its entries in the local indexes must fit 400 KB together,
/// so projecting everything would cut the largest post the API accepts to a third. A post's
/// status and size let a page decide which posts it shows before it reads any.
const PROJECTED: [&str; 9] =
    ["id", "project_id", "user_id", "owner_id", "creator_id", "role", "added_at", "status", JSON_SIZE];

fn projected() -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::Include)
        .set_non_key_attributes(Some(PROJECTED.iter().map(|a| (*a).to_owned()).collect()))
        .build()
}

/// Set-up calls run once at start and may be slow (a table being created): they get a generous
/// timeout of their own instead of the request path's.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) async fn ensure_table(table: &Table) -> Result<(), StorageError> {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(SETUP_TIMEOUT)
        .operation_attempt_timeout(SETUP_TIMEOUT / 3)
        .build();
    let config = table.client.config().to_builder().timeout_config(timeouts).build();
    let table = &Table { client: aws_sdk_dynamodb::Client::from_conf(config), ..table.clone() };
    if table_status(table).await?.is_none() {
        create_table(table).await?;
    }
    wait_until_active(table).await?;
    ensure_ttl(table).await
}

async fn table_status(table: &Table) -> Result<Option<TableStatus>, StorageError> {
    match table.client.describe_table().table_name(&*table.name).send().await {
        Ok(output) => Ok(output.table.and_then(|t| t.table_status)),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(None),
        Err(err) => Err(sdk_error("DescribeTable", err)),
    }
}

async fn create_table(table: &Table) -> Result<(), StorageError> {
    let mut request = table
        .client
        .create_table()
        .table_name(&*table.name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?);
    for attribute in [PK, SK, ORDER, STATUS_ORDER, CREATOR, CREATOR_ORDER] {
        request = request.attribute_definitions(built(
            AttributeDefinition::builder().attribute_name(attribute).attribute_type(ScalarAttributeType::S).build(),
        )?);
    }
    for (index, sort) in [(BY_ORDER, ORDER), (BY_STATUS, STATUS_ORDER)] {
        request = request.local_secondary_indexes(built(
            LocalSecondaryIndex::builder()
                .index_name(index)
                .key_schema(key(PK, KeyType::Hash)?)
                .key_schema(key(sort, KeyType::Range)?)
                .projection(projected())
                .build(),
        )?);
    }
    request = request.global_secondary_indexes(built(
        GlobalSecondaryIndex::builder()
            .index_name(BY_CREATOR)
            .key_schema(key(CREATOR, KeyType::Hash)?)
            .key_schema(key(CREATOR_ORDER, KeyType::Range)?)
            .projection(projected())
            .build(),
    )?);
    match request.send().await {
        Ok(_) => {
            tracing::info!(table = %table.name, "created the DynamoDB table");
            Ok(())
        }
        // Another instance is creating it: wait for it like for our own.
        Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => Ok(()),
        Err(err) => Err(sdk_error("CreateTable", err)),
    }
}

async fn wait_until_active(table: &Table) -> Result<(), StorageError> {
    let started = tokio::time::Instant::now();
    loop {
        match table_status(table).await? {
            Some(TableStatus::Active) => return Ok(()),
            status if started.elapsed() > ACTIVE_WAIT => {
                return Err(StorageError::unavailable(format!("table {} is {status:?}, not ACTIVE", table.name)))
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

async fn ensure_ttl(table: &Table) -> Result<(), StorageError> {
    let enabled = |status: Option<&TimeToLiveStatus>| {
        matches!(status, Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling))
    };
    let describe = || async {
        table
            .client
            .describe_time_to_live()
            .table_name(&*table.name)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTimeToLive", e))
            .map(|o| o.time_to_live_description.and_then(|d| d.time_to_live_status))
    };
    if enabled(describe().await?.as_ref()) {
        return Ok(());
    }
    let spec = built(TimeToLiveSpecification::builder().enabled(true).attribute_name(EXPIRES).build())?;
    match table.client.update_time_to_live().table_name(&*table.name).time_to_live_specification(spec).send().await {
        Ok(_) => Ok(()),
        // A concurrent instance enabled it between our look and our change.
        Err(_) if enabled(describe().await?.as_ref()) => Ok(()),
        Err(err) => Err(sdk_error("UpdateTimeToLive", err)),
    }
}
