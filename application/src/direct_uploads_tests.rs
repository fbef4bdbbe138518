use time::macros::datetime;

use super::*;

fn token(name: &str, content_type: &str) -> UploadToken {
    UploadToken {
        file: FileId(Uuid::now_v7()),
        project: ProjectId(Uuid::now_v7()),
        caller: UserId(Uuid::now_v7()),
        expires_at: datetime!(2026-12-01 10:15:00.123 UTC),
        size: 25 << 20,
        sha256: Sha256Digest([7; 32]),
        name: FileName::parse(name).unwrap(),
        content_type: MediaType::parse(content_type).unwrap(),
    }
}

#[test]
fn a_token_decodes_to_what_was_encoded() {
    for t in [token("a", "text/plain"), token(&"😀".repeat(255), &format!("application/x-{}", "y".repeat(241)))] {
        assert_eq!(UploadToken::decode(&t.encode()), Some(t));
    }
}

#[test]
fn the_longest_token_fits_a_cursor() {
    let longest = token(&"😀".repeat(255), &format!("application/x-{}", "y".repeat(241)));
    // The cursor codec refuses sealed strings over 2048 characters: base64 of version, token, MAC.
    let sealed_chars = (1 + longest.encode().len() + 32).div_ceil(3) * 4;
    assert!(sealed_chars <= 2048, "{sealed_chars}");
}

#[test]
fn a_cut_lengthened_or_other_version_token_does_not_decode() {
    let bytes = token("report.pdf", "application/pdf").encode();
    for cut in [0, 1, 40, bytes.len() - 1] {
        assert_eq!(UploadToken::decode(&bytes[..cut]), None, "cut at {cut}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(UploadToken::decode(&longer), None);
    let mut other = bytes;
    other[0] = 2;
    assert_eq!(UploadToken::decode(&other), None);
}
