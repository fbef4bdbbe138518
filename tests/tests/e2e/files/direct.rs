//! Direct uploads to S3 and redirected downloads. On S3 (`TESSERA_TEST_FILE_STORE=s3`): the bytes
//! go to a presigned PUT and become a file once they are the declared ones; downloads may be a 307
//! to a presigned GET. On the filesystem store both operations answer 501 and `--files-redirect`
//! is refused at startup: every test asserts the one or the other, none is skipped.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_tests::backend::isolated_config;
use tessera_tests::files::UploadOptions;
use tessera_tests::http::{Session, TestServer};

use super::{bytes, hex, team};

fn on_s3() -> bool {
    std::env::var("TESSERA_TEST_FILE_STORE").as_deref() == Ok("s3")
}

fn declaration(name: &str, content_type: &str, data: &[u8]) -> Value {
    json!({"name": name, "content_type": content_type, "size": data.len(), "sha256": hex(data)})
}

async fn begin(server: &TestServer, who: &Session, project: &str, declared: Value) -> tessera_tests::http::Answer {
    server.post(&format!("/api/v1/projects/{project}/uploads"), Some(&who.access), declared).await
}

async fn complete(server: &TestServer, who: &Session, upload_id: &str) -> tessera_tests::http::Answer {
    server.post(&format!("/api/v1/uploads/{upload_id}/complete"), Some(&who.access), json!({})).await
}

/// Sends `body` as the begun upload says: its URL, method and headers.
async fn put(upload: &Value, body: Vec<u8>) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(upload["method"].as_str().unwrap().as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, upload["url"].as_str().unwrap());
    for (name, value) in upload["headers"].as_object().unwrap() {
        request = request.header(name, value.as_str().unwrap());
    }
    request.body(body).send().await.expect("S3 answers")
}

/// The blob store the server writes to, seen from outside (to write other bytes than declared).
async fn servers_store(server: &TestServer) -> tessera_blob_s3::S3BlobStore {
    let c = server.config();
    let mut settings = tessera_blob_s3::S3Settings::new(c.s3_bucket.clone().unwrap());
    settings.prefix = c.s3_prefix.clone();
    settings.endpoint = c.s3_endpoint.clone();
    settings.force_path_style = c.s3_force_path_style;
    tessera_blob_s3::S3BlobStore::connect(&settings).await.unwrap()
}

/// The file id a presigned URL writes to: its key's last segment.
fn file_id(upload: &Value) -> domain::files::FileId {
    let url = reqwest::Url::parse(upload["url"].as_str().unwrap()).unwrap();
    let last = url.path_segments().unwrap().next_back().unwrap();
    domain::files::FileId(uuid::Uuid::parse_str(last).unwrap())
}

#[tokio::test]
async fn a_direct_upload_becomes_a_file_once_its_bytes_are_sent() {
    let server = TestServer::start().await;
    let (ada, bob, vic, project) = team(&server).await;
    let data = bytes(200_000);

    let begun = begin(&server, &bob, &project, declaration("Bericht – März.pdf", "application/pdf", &data)).await;

    // Without a token both operations are 401, whatever the store.
    let anonymous = server.post(&format!("/api/v1/projects/{project}/uploads"), None, json!({})).await;
    anonymous.expect_problem(401, "unauthenticated");
    server.post("/api/v1/uploads/x/complete", None, json!({})).await.expect_problem(401, "unauthenticated");
    if !on_s3() {
        begun.expect_problem(501, "not_supported");
        return;
    }
    begun.expect(201);
    let upload = begun.body.clone();
    assert_eq!(upload["method"], "PUT");
    let expires = time::OffsetDateTime::parse(
        upload["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(left > time::Duration::minutes(14) && left <= time::Duration::minutes(15), "{left}");
    begin(&server, &vic, &project, declaration("v", "text/plain", b"v")).await.expect_problem(403, "forbidden");
    let sent = put(&upload, data.clone()).await;
    assert!(sent.status().is_success(), "{}: {}", sent.status(), sent.text().await.unwrap_or_default());

    let upload_id = upload["upload_id"].as_str().unwrap();
    let done = complete(&server, &bob, upload_id).await;

    done.expect(201);
    let file = done.body.clone();
    let id = file["id"].as_str().unwrap();
    assert_eq!(done.header("location"), Some(format!("/api/v1/files/{id}").as_str()));
    assert_eq!(done.header("etag"), Some(format!("\"{}\"", hex(&data)).as_str()));
    assert_eq!(
        (&file["name"], &file["content_type"], &file["size"], &file["sha256"], &file["uploader"]["username"]),
        (&json!("Bericht – März.pdf"), &json!("application/pdf"), &json!(200_000), &json!(hex(&data)), &json!("bob"))
    );
    let got = server.download(&format!("/api/v1/files/{id}/content"), &vic, &[]).await;
    assert_eq!((got.status.as_u16(), got.header("content-type")), (200, Some("application/pdf")));
    assert!(got.bytes == data, "the bytes came back changed");
    assert_eq!(
        server.walk(&format!("/api/v1/projects/{project}/files"), &ada.access, 10).await,
        std::slice::from_ref(&file)
    );

    // Completed twice: the file is there already, and keeps its bytes.
    complete(&server, &bob, upload_id).await.expect_problem(409, "conflict");
    let again = server.download(&format!("/api/v1/files/{id}/content"), &vic, &[]).await;
    assert!(again.status == 200 && again.bytes == data, "the second completion took the bytes");
    // The URL still works for 15 minutes, but S3 refuses any bytes but the declared ones (whether
    // it kept them is not asserted: s3s-fs 0.14.1 writes the object before checking the checksum).
    let mut other = data.clone();
    other[0] ^= 1;
    assert!(put(&upload, other).await.status().is_client_error());
}

#[tokio::test]
async fn bytes_that_are_not_the_declared_ones_make_no_file() {
    let server = TestServer::start().await;
    let (ada, _, _, project) = team(&server).await;
    let data = bytes(10_000);
    let files = format!("/api/v1/projects/{project}/files");

    let begun = begin(&server, &ada, &project, declaration("a.bin", "application/octet-stream", &data)).await;

    if !on_s3() {
        begun.expect_problem(501, "not_supported");
        return;
    }
    let upload = begun.expect(201).body.clone();
    let upload_id = upload["upload_id"].as_str().unwrap();
    let mut other = data.clone();
    other[9_999] ^= 1;
    assert!(put(&upload, other.clone()).await.status().is_client_error(), "S3 checks the signed SHA-256");
    complete(&server, &ada, upload_id).await.expect_problem(422, "upload_mismatch");
    // Other bytes written past the URL (by anyone with the bucket's keys) are found and deleted.
    let store = servers_store(&server).await;
    let id = file_id(&upload);
    let chunk = futures::stream::iter([Ok(bytes::Bytes::from(other))]);
    application::ports::BlobStore::put(&store, id, Box::pin(chunk), 1 << 20).await.unwrap();
    complete(&server, &ada, upload_id).await.expect_problem(422, "upload_mismatch");
    assert!(application::ports::BlobStore::get(&store, id, None).await.unwrap().is_none(), "the bytes were deleted");
    assert_eq!(server.walk(&files, &ada.access, 10).await, Vec::<Value>::new());

    // The declaration itself: every bad field at once, and the size limit.
    let bad = begin(
        &server,
        &ada,
        &project,
        json!({"name": "a/b", "content_type": "nonsense", "size": 1, "sha256": "0".repeat(64)}),
    )
    .await;
    bad.expect_problem(422, "validation_failed");
    assert_eq!(bad.body["errors"].as_array().map(Vec::len), Some(2), "{}", bad.text);
    let big = json!({"name": "big", "content_type": "text/plain", "size": 25 * 1024 * 1024 + 1, "sha256": hex(b"")});
    begin(&server, &ada, &project, big).await.expect_problem(413, "payload_too_large");
}

#[tokio::test]
async fn an_upload_id_that_is_forged_altered_or_someone_elses_is_not_found() {
    let server = TestServer::start().await;
    let (ada, bob, _, project) = team(&server).await;

    let begun = begin(&server, &bob, &project, declaration("x", "text/plain", b"x")).await;

    if !on_s3() {
        begun.expect_problem(501, "not_supported");
        complete(&server, &bob, "anything").await.expect_problem(501, "not_supported");
        return;
    }
    let upload = begun.expect(201).body.clone();
    assert!(put(&upload, b"x".to_vec()).await.status().is_success());
    let upload_id = upload["upload_id"].as_str().unwrap();
    let mut altered = upload_id.to_owned().into_bytes();
    let at = altered.len() / 2;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    for forged in ["anything".to_owned(), String::from_utf8(altered).unwrap()] {
        complete(&server, &bob, &forged).await.expect_problem(404, "upload_not_found");
    }
    complete(&server, &ada, upload_id).await.expect_problem(404, "upload_not_found");
    complete(&server, &bob, upload_id).await.expect(201);
}

#[tokio::test]
async fn a_redirected_download_is_a_presigned_url_of_the_bytes() {
    if !on_s3() {
        let mut config = isolated_config().await;
        config.config.files_redirect = true;
        match bootstrap::spawn(&config.config).await {
            Err(bootstrap::BootError::Config(message)) => assert!(message.contains("--files-redirect"), "{message}"),
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(_) => panic!("--files-redirect was accepted on the filesystem store"),
        }
        return;
    }
    let server = TestServer::start_with(|c| c.files_redirect = true).await;
    let (ada, _, vic, project) = team(&server).await;
    let data = bytes(3_000);
    let options = UploadOptions { content_type: Some("text/csv"), ..UploadOptions::default() };
    let answer = server.upload(&ada, &project, "Zahlen März.csv", &data, options).await;
    let path = format!("/api/v1/files/{}/content", answer.expect(201).body["id"].as_str().unwrap());
    let etag = format!("\"{}\"", hex(&data));
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let redirected = plain.get(format!("{}{path}", server.base)).bearer_auth(&vic.access).send().await.unwrap();

    assert_eq!(redirected.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = redirected.headers()["location"].to_str().unwrap().to_owned();
    let got = plain.get(&location).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "text/csv");
    assert_eq!(got.headers()["content-disposition"], "attachment; filename*=UTF-8''Zahlen%20M%C3%A4rz.csv");
    assert!(got.bytes().await.unwrap() == data, "the bytes came back changed");
    let part = plain.get(&location).header("range", "bytes=100-199").send().await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &data[100..200]);
    let fresh = server.download(&path, &vic, &[("if-none-match", &etag)]).await;
    assert_eq!(fresh.status, 304, "a current copy is answered before any redirect");
    let eve = server.user("eve").await;
    let hidden = plain.get(format!("{}{path}", server.base)).bearer_auth(&eve.access).send().await.unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "no URL for someone who may not see the file");
}
