//! Access tokens: everything but a valid, unexpired HS256 token of this server is 401.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use tessera_tests::http::TestServer;

fn forge(header: serde_json::Value, claims: serde_json::Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

#[tokio::test]
async fn tampered_unsigned_foreign_and_expired_tokens_are_unauthenticated() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let parts: Vec<&str> = ada.access.split('.').collect();
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let mut admin_claims = claims.clone();
    admin_claims["sub"] = json!(uuid::Uuid::nil().to_string());
    let swapped_payload = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(admin_claims.to_string()), parts[2]);
    let alg_none = forge(json!({"alg": "none", "typ": "JWT"}), claims.clone(), "");
    let hs512 = forge(json!({"alg": "HS512", "typ": "JWT"}), claims.clone(), parts[2]);
    let mut flipped = ada.access.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });

    let other_server =
        TestServer::start_with(|c| c.jwt_secret = Some("another-secret-another-secret-another-secret".into())).await;
    let foreign = other_server.user("ada").await.access;

    let expiring = TestServer::start_with(|c| c.access_token_ttl = 1).await;
    let expired = expiring.user("ada").await.access;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    for (what, token) in [
        ("payload swapped", swapped_payload.as_str()),
        ("alg none", &alg_none),
        ("other algorithm", &hs512),
        ("signature altered", &flipped),
        ("another server's key", &foreign),
        ("garbage", "not-a-jwt"),
    ] {
        let answer = server.get("/api/v1/users/me", Some(token)).await;
        assert_eq!(answer.status, 401, "{what}: {}", answer.text);
        assert_eq!(answer.body["code"], "unauthenticated", "{what}");
    }
    expiring.get("/api/v1/users/me", Some(&expired)).await.expect_problem(401, "unauthenticated");
    server.get("/api/v1/users/me", None).await.expect_problem(401, "unauthenticated");
    let basic = server
        .answer(server.client.get(format!("{}/api/v1/users/me", server.base)).basic_auth("ada", Some("pw")))
        .await;
    basic.expect_problem(401, "unauthenticated");
}
