//! The committed OpenAPI document is what the code generates, and it declares what API.md says.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a failed test

use serde_json::Value;

fn committed(name: &str) -> String {
    let path = format!("{}/../openapi/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_committed_documents_match_the_code() {
    // Building the routes is when poem-openapi notices duplicate operation ids.
    bootstrap::check_routes();
    let hint = "run scripts/openapi.sh and commit the result";
    assert_eq!(
        committed("openapi.json"),
        format!("{}\n", bootstrap::openapi_document(false)),
        "openapi.json drifted: {hint}"
    );
    assert_eq!(
        committed("openapi.yaml"),
        format!("{}\n", bootstrap::openapi_document(true)),
        "openapi.yaml drifted: {hint}"
    );
}

#[test]
fn every_operation_has_an_id_a_tag_and_declares_its_errors() {
    let doc: Value = serde_json::from_str(&bootstrap::openapi_document(false)).unwrap();
    let mut ids = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{name} has no operationId"));
            ids.push(id.to_owned());
            assert!(op["tags"].as_array().is_some_and(|t| t.len() == 1), "{name} needs one tag");
            let responses = op["responses"].as_object().unwrap();
            let declares = |status: &str| responses.contains_key(status);
            for status in ["500", "503"] {
                assert!(declares(status), "{name} does not declare {status}");
            }
            let authenticated = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if authenticated {
                assert!(declares("401"), "{name} needs a bearer token but does not declare 401");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415"] {
                    assert!(declares(status), "{name} takes a body but does not declare {status}");
                }
            }
            let has_params = op["parameters"].as_array().is_some_and(|p| p.iter().any(|p| p["in"] != "header"));
            if has_params {
                assert!(declares("400"), "{name} takes a path id or query but does not declare 400");
            }
            for (status, response) in responses {
                assert!(
                    response["headers"]["X-Request-Id"].is_object(),
                    "{name} {status} does not declare X-Request-Id"
                );
                if status == "401" {
                    assert!(response["headers"]["WWW-Authenticate"].is_object(), "{name} 401 without WWW-Authenticate");
                }
                if status == "429" || status == "503" {
                    assert!(response["headers"]["Retry-After"].is_object(), "{name} {status} without Retry-After");
                }
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{name} {status} is not a problem document"
                    );
                }
            }
        }
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "duplicate operation ids: {ids:?}");
}

#[test]
fn the_configuration_reference_matches_the_cli() {
    let path = format!("{}/../docs/configuration.md", env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(committed, bootstrap::config::configuration_reference(), "run scripts/docs.sh and commit the result");
}
