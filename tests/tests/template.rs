//! deploy/aws/template.yaml creates the DynamoDB table itself (local indexes can only be made
//! with the table), so it must say exactly what `tessera migrate` creates: the same keys,
//! attributes, indexes with their projections, capacity mode and TTL. The table `migrate` made
//! on DynamoDB Local is read back and compared with the template's. Needs the run's DynamoDB
//! Local (scripts/test.sh); without it, says so and returns, like the DynamoDB fault suite.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a failed test

use aws_sdk_dynamodb::types::{KeySchemaElement, Projection};
use bootstrap::backend::Backend;
use serde_json::{json, Value};
use tessera_tests::backend::{isolated_config_on, TestBackend};

const TEMPLATE: &str = include_str!("../../deploy/aws/template.yaml");

fn keys(schema: &[KeySchemaElement]) -> Value {
    schema.iter().map(|k| json!([k.attribute_name(), k.key_type().as_str()])).collect()
}

fn projection(projection: Option<&Projection>) -> Value {
    let projection = projection.expect("an index has a projection");
    let mut attributes: Vec<&str> = projection.non_key_attributes().iter().map(String::as_str).collect();
    attributes.sort_unstable();
    json!({"type": projection.projection_type().map(|t| t.as_str()), "attributes": attributes})
}

fn sorted(mut items: Vec<Value>) -> Value {
    items.sort_by_key(|v| v.to_string());
    Value::Array(items)
}

/// The definition of the table `migrate` created, as DynamoDB describes it.
async fn as_migrate_creates_it() -> Value {
    let config = isolated_config_on(TestBackend::Dynamodb).await;
    let backend = Backend::open(&config.config).await.unwrap();
    backend.migrate().await.unwrap();
    backend.close().await;
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&shared);
    let name = &config.config.dynamodb_table;
    let described = client.describe_table().table_name(name).send().await.unwrap();
    let table = described.table().unwrap();
    let ttl = client.describe_time_to_live().table_name(name).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    let indexes = |list: Vec<(&str, &[KeySchemaElement], Option<&Projection>)>| {
        sorted(
            list.into_iter()
                .map(|(name, key, p)| json!({"name": name, "key": keys(key), "projection": projection(p)}))
                .collect(),
        )
    };
    json!({
        "billing": table.billing_mode_summary().and_then(|b| b.billing_mode()).map(|m| m.as_str()),
        "attributes": sorted(table.attribute_definitions().iter()
            .map(|a| json!([a.attribute_name(), a.attribute_type().as_str()])).collect()),
        "key": keys(table.key_schema()),
        "local": indexes(table.local_secondary_indexes().iter()
            .map(|i| (i.index_name().unwrap(), i.key_schema(), i.projection())).collect()),
        "global": indexes(table.global_secondary_indexes().iter()
            .map(|i| (i.index_name().unwrap(), i.key_schema(), i.projection())).collect()),
        "ttl": {
            "attribute": ttl.attribute_name(),
            "enabled": ttl.time_to_live_status().map(|s| s.as_str()) == Some("ENABLED"),
        },
    })
}

/// The template's table, in the same form.
fn as_the_template_says() -> (Value, Value) {
    let template: serde_yaml::Value = serde_yaml::from_str(TEMPLATE).unwrap();
    let table = &template["Resources"]["Table"];
    assert_eq!(table["Type"].as_str(), Some("AWS::DynamoDB::Table"));
    // Intrinsic functions (`!Ref`) become one-entry maps; the fields compared hold none.
    let properties: Value = serde_json::to_value(&table["Properties"]).unwrap();
    let keys = |schema: &Value| -> Value {
        schema.as_array().unwrap().iter().map(|k| json!([k["AttributeName"], k["KeyType"]])).collect()
    };
    let indexes = |list: &Value| -> Value {
        sorted(
            list.as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    let mut attributes: Vec<&str> = i["Projection"]["NonKeyAttributes"]
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    attributes.sort_unstable();
                    json!({
                        "name": i["IndexName"],
                        "key": keys(&i["KeySchema"]),
                        "projection": {"type": i["Projection"]["ProjectionType"], "attributes": attributes},
                    })
                })
                .collect(),
        )
    };
    let p = &properties;
    let definition = json!({
        "billing": p["BillingMode"],
        "attributes": sorted(p["AttributeDefinitions"].as_array().unwrap().iter()
            .map(|a| json!([a["AttributeName"], a["AttributeType"]])).collect()),
        "key": keys(&p["KeySchema"]),
        "local": indexes(&p["LocalSecondaryIndexes"]),
        "global": indexes(&p["GlobalSecondaryIndexes"]),
        "ttl": {
            "attribute": p["TimeToLiveSpecification"]["AttributeName"],
            "enabled": p["TimeToLiveSpecification"]["Enabled"],
        },
    });
    (definition, properties)
}

#[tokio::test]
async fn the_templates_table_is_the_one_migrate_creates() {
    if !TestBackend::Dynamodb.suite_is_configured() {
        return;
    }
    let (template, properties) = as_the_template_says();

    let migrated = as_migrate_creates_it().await;

    assert_eq!(
        template,
        migrated,
        "deploy/aws/template.yaml's table differs from what `tessera migrate` creates:\ntemplate: {}\nmigrate:  {}",
        serde_json::to_string_pretty(&template).unwrap(),
        serde_json::to_string_pretty(&migrated).unwrap()
    );
    // What migrate leaves to the operator (docs/deploy.md), the template turns on.
    assert_eq!(properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
    assert_eq!(properties["DeletionProtectionEnabled"], true);
}
