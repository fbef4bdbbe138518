//! Files: upload, list, read, download (ranges, revalidation), delete; who may do what; the size
//! limit and the project quota under concurrency; keyed uploads; a project's deletion and the
//! sweep of the bytes nobody references. Runs on the blob store `TESSERA_TEST_FILE_STORE` names
//! (the filesystem by default, or S3).

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tessera_tests::files::UploadOptions;
use tessera_tests::http::{Session, TestServer};

mod direct;

const TESSERA: &str = env!("CARGO_BIN_EXE_tessera-under-test");

/// Every byte value, over and over: what a text-minded layer would mangle.
fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

async fn uploaded(server: &TestServer, who: &Session, project: &str, name: &str, data: &[u8]) -> Value {
    let answer = server.upload(who, project, name, data, UploadOptions::default()).await;
    answer.expect(201);
    answer.body.clone()
}

async fn team(server: &TestServer) -> (Session, Session, Session, String) {
    let ada = server.user("ada").await;
    let bob = server.user("bob").await;
    let vic = server.user("vic").await;
    let project = server.create_project(&ada, "Apollo").await;
    let id = project["id"].as_str().unwrap().to_owned();
    server.share(&ada, &id, &bob, "editor").await;
    server.share(&ada, &id, &vic, "viewer").await;
    (ada, bob, vic, id)
}

#[tokio::test]
async fn a_file_goes_up_is_listed_comes_back_byte_for_byte_and_goes() {
    let server = TestServer::start().await;
    let (ada, bob, vic, project) = team(&server).await;
    let data = bytes(300_000);

    let options = UploadOptions { content_type: Some("application/pdf"), ..UploadOptions::default() };
    let answer = server.upload(&bob, &project, "Bericht – März.pdf", &data, options).await;
    answer.expect(201);
    let file = answer.body.clone();
    let id = file["id"].as_str().unwrap();
    assert_eq!(answer.header("location"), Some(format!("/api/v1/files/{id}").as_str()));
    assert_eq!(answer.header("etag"), Some(format!("\"{}\"", hex(&data)).as_str()));
    assert_eq!(file["name"], "Bericht – März.pdf");
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["size"], 300_000);
    assert_eq!(file["sha256"], hex(&data));
    assert_eq!(file["project_id"], project.as_str());
    assert_eq!(file["uploader"]["username"], "bob");

    let read = server.get(&format!("/api/v1/files/{id}"), Some(&vic.access)).await;
    read.expect(200);
    assert_eq!(read.body, file);
    let bare =
        server.upload(&ada, &project, "empty", b"", UploadOptions { bare: true, ..UploadOptions::default() }).await;
    bare.expect(201);
    let second = bare.body.clone();
    assert_eq!(second["size"], 0);
    assert_eq!(second["content_type"], "application/octet-stream");
    let listed = server.walk(&format!("/api/v1/projects/{project}/files"), &vic.access, 1).await;
    assert_eq!(listed, [second.clone(), file.clone()], "newest first");

    let got = server.download(&format!("/api/v1/files/{id}/content"), &vic, &[]).await;
    assert_eq!(got.status, 200);
    assert!(got.bytes == data, "the bytes came back changed");
    assert_eq!(got.header("content-type"), Some("application/pdf"));
    assert_eq!(got.header("content-length"), Some("300000"));
    assert_eq!(got.header("etag"), Some(format!("\"{}\"", hex(&data)).as_str()));
    assert_eq!(got.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        got.header("content-disposition"),
        Some("attachment; filename*=UTF-8''Bericht%20%E2%80%93%20M%C3%A4rz.pdf")
    );
    let empty = server.download(&format!("/api/v1/files/{}/content", second["id"].as_str().unwrap()), &vic, &[]).await;
    assert_eq!((empty.status.as_u16(), empty.bytes.len()), (200, 0));

    server.send(Method::DELETE, &format!("/api/v1/files/{id}"), Some(&bob.access), None).await.expect(204);
    server.get(&format!("/api/v1/files/{id}"), Some(&ada.access)).await.expect_problem(404, "file_not_found");
    let gone = server.download(&format!("/api/v1/files/{id}/content"), &ada, &[]).await;
    assert_eq!(gone.status, 404);
    let listed = server.walk(&format!("/api/v1/projects/{project}/files"), &ada.access, 10).await;
    assert_eq!(listed, [second]);
}

#[tokio::test]
async fn one_range_revalidation_and_ranges_that_miss() {
    let server = TestServer::start().await;
    let (ada, _, vic, project) = team(&server).await;
    let data = bytes(1000);
    let file = uploaded(&server, &ada, &project, "data.bin", &data).await;
    let path = format!("/api/v1/files/{}/content", file["id"].as_str().unwrap());
    let etag = format!("\"{}\"", hex(&data));

    let part = server.download(&path, &vic, &[("range", "bytes=10-19")]).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes, &data[10..20]);
    assert_eq!(part.header("content-range"), Some("bytes 10-19/1000"));
    assert_eq!(part.header("content-length"), Some("10"));
    let tail = server.download(&path, &vic, &[("range", "bytes=-5")]).await;
    assert_eq!((tail.status.as_u16(), tail.bytes.as_slice()), (206, &data[995..]));
    let open = server.download(&path, &vic, &[("range", "bytes=990-5000")]).await;
    assert_eq!((open.status.as_u16(), open.header("content-range")), (206, Some("bytes 990-999/1000")));
    let several = server.download(&path, &vic, &[("range", "bytes=0-1,5-6")]).await;
    assert_eq!((several.status.as_u16(), several.bytes.len()), (200, 1000), "several ranges: the whole file");

    let missed = server.download(&path, &vic, &[("range", "bytes=1000-")]).await;
    assert_eq!(missed.status, 416);
    assert_eq!(missed.header("content-range"), Some("bytes */1000"));

    let fresh = server.download(&path, &vic, &[("if-none-match", &etag)]).await;
    assert_eq!((fresh.status.as_u16(), fresh.bytes.len()), (304, 0));
    assert_eq!(fresh.header("etag"), Some(etag.as_str()));
    let stale = server.download(&path, &vic, &[("if-none-match", "\"0000\"")]).await;
    assert_eq!(stale.status, 200);
}

#[tokio::test]
async fn members_read_editors_upload_and_the_uploader_or_the_owner_deletes() {
    let server = TestServer::start().await;
    let (ada, bob, vic, project) = team(&server).await;
    let eve = server.user("eve").await;
    let bobs = uploaded(&server, &bob, &project, "bob.txt", b"bob").await;
    let adas = uploaded(&server, &ada, &project, "ada.txt", b"ada").await;
    let files = format!("/api/v1/projects/{project}/files");

    server.upload(&vic, &project, "v.txt", b"v", UploadOptions::default()).await.expect_problem(403, "forbidden");
    server
        .upload(&eve, &project, "e.txt", b"e", UploadOptions::default())
        .await
        .expect_problem(404, "project_not_found");
    server.get(&files, Some(&eve.access)).await.expect_problem(404, "project_not_found");
    for id in [bobs["id"].as_str().unwrap(), adas["id"].as_str().unwrap()] {
        server.get(&format!("/api/v1/files/{id}"), Some(&eve.access)).await.expect_problem(404, "file_not_found");
        assert_eq!(server.download(&format!("/api/v1/files/{id}/content"), &eve, &[]).await.status, 404);
        server
            .send(Method::DELETE, &format!("/api/v1/files/{id}"), Some(&eve.access), None)
            .await
            .expect_problem(404, "file_not_found");
    }
    let delete = |who: &Session, file: &Value| {
        let path = format!("/api/v1/files/{}", file["id"].as_str().unwrap());
        let token = who.access.clone();
        let server = &server;
        async move { server.send(Method::DELETE, &path, Some(&token), None).await }
    };
    delete(&vic, &bobs).await.expect_problem(403, "forbidden");
    delete(&bob, &adas).await.expect_problem(403, "forbidden");
    delete(&ada, &bobs).await.expect(204);
    delete(&ada, &adas).await.expect(204);
    assert_eq!(server.walk(&files, &vic.access, 10).await, Vec::<Value>::new());
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing() {
    let server = TestServer::start_with(|c| c.file_max_bytes = 1000).await;
    let (ada, _, _, project) = team(&server).await;
    let files = format!("/api/v1/projects/{project}/files");

    for chunked in [false, true] {
        let options = UploadOptions { chunked, ..UploadOptions::default() };
        server.upload(&ada, &project, "big", &bytes(1001), options).await.expect_problem(413, "payload_too_large");
        server.upload(&ada, &project, "big", &bytes(50_000), options).await.expect_problem(413, "payload_too_large");
    }
    let at_limit = uploaded(&server, &ada, &project, "exactly", &bytes(1000)).await;
    assert_eq!(at_limit["size"], 1000);
    let bad = server.upload(&ada, &project, "a/b", b"x", UploadOptions::default()).await;
    bad.expect_problem(422, "validation_failed");
    assert_eq!(bad.body["errors"][0]["field"], "name");
    let not_a_type = UploadOptions { content_type: Some("nonsense"), ..UploadOptions::default() };
    server.upload(&ada, &project, "x", b"x", not_a_type).await.expect_problem(415, "unsupported_media_type");
    let unnamed =
        server.answer(server.client.post(format!("{}{files}", server.base)).bearer_auth(&ada.access).body("x")).await;
    unnamed.expect_problem(400, "malformed_request");
    let ghost = uuid::Uuid::now_v7();
    server
        .upload(&ada, &ghost.to_string(), "x", b"x", UploadOptions::default())
        .await
        .expect_problem(404, "project_not_found");
    assert_eq!(server.walk(&files, &ada.access, 10).await, [at_limit]);
}

#[tokio::test]
async fn the_project_quota_holds_under_concurrent_uploads() {
    let server = TestServer::start_with(|c| c.project_storage_quota = 5_000).await;
    let (ada, bob, _, project) = team(&server).await;
    let uploads = (0..12).map(|i| {
        let (server, who, project) = (&server, if i % 2 == 0 { &ada } else { &bob }, &project);
        async move {
            loop {
                let answer =
                    server.upload(who, project, &format!("f{i}"), &bytes(1000), UploadOptions::default()).await;
                // A write that lost a race to a concurrent one (DynamoDB) says so: retry it.
                if answer.status != 503 {
                    return answer.status.as_u16();
                }
            }
        }
    });
    let mut statuses = futures::future::join_all(uploads).await;
    statuses.sort();
    assert_eq!(statuses, [201, 201, 201, 201, 201, 409, 409, 409, 409, 409, 409, 409]);
    let listed = server.walk(&format!("/api/v1/projects/{project}/files"), &ada.access, 100).await;
    assert_eq!(listed.len(), 5);
    let over = server.upload(&ada, &project, "over", b"x", UploadOptions::default()).await;
    over.expect_problem(409, "quota_exceeded");
    let first = listed[0]["id"].as_str().unwrap();
    server.send(Method::DELETE, &format!("/api/v1/files/{first}"), Some(&ada.access), None).await.expect(204);
    uploaded(&server, &ada, &project, "fits again", &bytes(1000)).await;
}

#[tokio::test]
async fn a_keyed_upload_is_replayed_and_another_body_under_its_key_refused() {
    let server = TestServer::start_with(|c| c.orphan_blob_grace = 1).await;
    let (ada, _, _, project) = team(&server).await;
    let keyed = |key| UploadOptions { key: Some(key), content_type: Some("text/plain"), ..UploadOptions::default() };

    let first = server.upload(&ada, &project, "notes.txt", b"hello", keyed("k-1")).await;
    first.expect(201);
    let again = server.upload(&ada, &project, "notes.txt", b"hello", keyed("k-1")).await;
    again.expect(201);
    assert_eq!(again.text, first.text);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    server
        .upload(&ada, &project, "notes.txt", b"HELLO", keyed("k-1"))
        .await
        .expect_problem(422, "idempotency_key_reused");
    server
        .upload(&ada, &project, "other.txt", b"hello", keyed("k-1"))
        .await
        .expect_problem(422, "idempotency_key_reused");
    let listed = server.walk(&format!("/api/v1/projects/{project}/files"), &ada.access, 10).await;
    assert_eq!(listed, std::slice::from_ref(&first.body), "one file for the key");

    // The bytes of the replay and the refusals went again: a sweep with no grace finds nothing.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let run = server.run_command(TESSERA, &["sweep"]).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(
        String::from_utf8_lossy(&run.stdout).contains(" 0 orphan blobs"),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
}

#[tokio::test]
async fn deleting_a_project_takes_its_files_and_the_sweep_their_bytes() {
    let server = TestServer::start_with(|c| c.orphan_blob_grace = 1).await;
    let (ada, bob, _, project) = team(&server).await;
    let kept_project = server.create_project(&ada, "Kept").await;
    let kept = uploaded(&server, &ada, kept_project["id"].as_str().unwrap(), "kept", b"kept").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            uploaded(&server, &bob, &project, &format!("f{i}"), &bytes(100 + i)).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    server.send(Method::DELETE, &format!("/api/v1/projects/{project}"), Some(&ada.access), None).await.expect(204);
    for id in &ids {
        server.get(&format!("/api/v1/files/{id}"), Some(&ada.access)).await.expect_problem(404, "file_not_found");
    }

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let run = server.run_command(TESSERA, &["sweep"]).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(
        String::from_utf8_lossy(&run.stdout).contains(" 3 orphan blobs"),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let path = format!("/api/v1/files/{}/content", kept["id"].as_str().unwrap());
    let still = server.download(&path, &ada, &[]).await;
    assert_eq!((still.status.as_u16(), still.bytes.as_slice()), (200, b"kept".as_slice()));
}
