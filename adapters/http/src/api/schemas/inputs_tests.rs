//! The schema's patterns admit exactly what the domain admits (checked on tricky samples), so a
//! generated client's validation and the server's never disagree.

use domain::files::FileName;
use domain::posts::{PostBody, PostTitle};
use domain::projects::{Description, ProjectName};
use domain::users::{AvatarUrl, Email, PersonName, Username};
use fancy_regex::Regex;

use super::*;

const TRICKY: &[&str] = &[
    "",
    " ",
    "a",
    "ab",
    "abc",
    " a ",
    "\ta\n",
    "\u{a0}a\u{3000}",
    "\u{85}a",
    "a\u{85}",
    "a\u{7}b",
    "a\nb",
    "\u{feff}a",
    "a\u{feff}",
    "\u{2028}x",
    "x\u{2029}",
    "é",
    "日本",
    "a b",
    "a@b",
    "a@b@c",
    "@b",
    "a@",
    " a@b ",
    "a @b",
    "\u{85}a@b",
    "a@b\u{85}",
    "İ@x",
    "A_b9",
    "a-b",
    "https://x",
    "HTTPS://x/y?z#w",
    "http://:80",
    "http://u@h",
    "https://h/p@q",
    "ftp://x",
    "https://",
    "https://h h",
    "https://h/\u{7f}",
    "\u{1f}",
    "line\r\nbreak",
    "tab\tin",
    "\u{9f}",
    "\u{a0}",
];

fn assert_same(name: &str, pattern: &str, domain: impl Fn(&str) -> bool, samples: &[String]) {
    let regex = Regex::new(pattern).unwrap();
    for sample in samples {
        assert_eq!(regex.is_match(sample).unwrap(), domain(sample), "{name} disagrees on {sample:?}");
    }
}

fn samples(extra: &[String]) -> Vec<String> {
    TRICKY.iter().map(|s| (*s).to_owned()).chain(extra.iter().cloned()).collect()
}

fn lengths(fill: char, around: &str, counts: &[usize]) -> Vec<String> {
    counts.iter().map(|n| format!("{around}{}{around}", fill.to_string().repeat(*n))).collect()
}

#[test]
fn lines_follow_the_domain_exactly() {
    let names = samples(&[lengths('x', "", &[99, 100, 101]), lengths('x', " ", &[100, 101])].concat());
    assert_same("name", NAME_PATTERN, |s| PersonName::parse("f", s).is_ok(), &names);
    assert_same("project name", PROJECT_NAME_PATTERN, |s| ProjectName::parse(s).is_ok(), &names);
    let titles = samples(&[lengths('t', "", &[200, 201]), lengths('t', "\u{3000}", &[200, 201])].concat());
    assert_same("title", TITLE_PATTERN, |s| PostTitle::parse(s).is_ok(), &titles);
    let slashes = ["a/b", "\\", "a\\b", "/", " /a", "a\\ "].map(String::from);
    let files = samples(&[lengths('f', "", &[255, 256]), lengths('f', " ", &[255, 256]), slashes.to_vec()].concat());
    assert_same("file name", FILE_NAME_PATTERN, |s| FileName::parse(s).is_ok(), &files);
}

#[test]
fn blocks_follow_the_domain_exactly() {
    let texts = samples(&[]);
    assert_same("description", BLOCK_PATTERN, |s| Description::parse(s).is_ok(), &texts);
    assert_same("body", BLOCK_PATTERN, |s| PostBody::parse(s).is_ok(), &texts);
}

#[test]
fn emails_usernames_and_urls_follow_the_domain_exactly() {
    let long = |n: usize| format!("{}@example.com", "a".repeat(n - 12));
    let emails = samples(&[long(254), long(255), format!("  {}  ", long(254)), format!(" {} ", long(255))]);
    assert_same("email", EMAIL_PATTERN, |s| Email::parse(s).is_ok(), &emails);
    let usernames = samples(&["a".repeat(32), "a".repeat(33), "\u{212a}elvin".into()]);
    assert_same("username", USERNAME_PATTERN, |s| Username::parse(s).is_ok(), &usernames);
    let urls = samples(&[format!("https://h/{}", "p".repeat(2038)), format!("https://h/{}", "p".repeat(2039))]);
    let within = |s: &str| s.chars().count() <= 2048;
    assert_same(
        "avatar",
        AVATAR_URL_PATTERN,
        |s| AvatarUrl::parse(s).is_ok(),
        &urls.iter().filter(|s| within(s)).cloned().collect::<Vec<_>>(),
    );
    assert!(AvatarUrl::parse(&urls[urls.len() - 1]).is_err(), "the schema's maxLength is the domain's");
}
