//! The OpenAPI document: built from the code, then adjusted where poem-openapi's output would
//! trip generated clients and linters. The same adjusted text is served, embedded in Swagger UI,
//! and committed under `openapi/`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use poem_openapi::{LicenseObject, OpenApiService};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::api::auth::AuthApi;
use crate::api::files::{DirectUploadsApi, FilesApi};
use crate::api::members::MembersApi;
use crate::api::posts::PostsApi;
use crate::api::projects::ProjectsApi;
use crate::api::system::SystemApi;
use crate::api::users::UsersApi;

pub type Apis = (AuthApi, UsersApi, ProjectsApi, MembersApi, PostsApi, FilesApi, DirectUploadsApi, SystemApi);

pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (AuthApi, UsersApi, ProjectsApi, MembersApi, PostsApi, FilesApi, DirectUploadsApi, SystemApi),
        "Tessera",
        env!("CARGO_PKG_VERSION"),
    )
    .license(LicenseObject::new("MIT").url("https://opensource.org/licenses/MIT"))
    .description(
        "Team workspaces: people register, create projects, share them as viewers or editors, publish posts and share files. \
         Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`. \
         Every answer carries `X-Content-Type-Options: nosniff`, `Content-Security-Policy: frame-ancestors 'none'`, \
         `X-Frame-Options: DENY` and, unless it declares another, `Cache-Control: no-store`.",
    )
}

/// The document as served and committed.
pub fn openapi_json() -> String {
    let raw = api_service().spec();
    let mut doc: Value = match serde_json::from_str(&raw) {
        Ok(doc) => doc,
        Err(_) => return raw,
    };
    adjust(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or(raw)
}

pub fn openapi_yaml() -> String {
    serde_json::from_str::<Value>(&openapi_json())
        .ok()
        .and_then(|doc| serde_yaml::to_string(&doc).ok())
        .unwrap_or_default()
}

/// Swagger UI with the adjusted document embedded (poem-openapi embeds its raw one).
pub fn swagger_ui_html() -> String {
    let api = api_service();
    api.swagger_ui_html().replace(&api.spec(), &openapi_json())
}

/// The `Content-Security-Policy` Swagger UI works under, and nothing more: its inline scripts (the
/// bundle, and the start-up script holding the document) and its inline stylesheet, each allowed by
/// its digest; images from this origin or `data:` URLs (the stylesheet's icons); requests ("Try it
/// out") to this origin only; no plugins, no forms sent anywhere, no framing.
pub fn swagger_ui_csp(html: &str) -> String {
    let elements = inline_elements(html);
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src 'self' data:; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        digests(&texts(&elements, "script")),
        digests(&texts(&elements, "style")),
    )
}

/// CSP sources allowing these inline texts: `'sha256-…'` of each, as the browser computes it (of
/// the parsed text, whose line ends HTML has made `\n`).
fn digests(texts: &[&str]) -> String {
    let digest = |text: &str| STANDARD.encode(Sha256::digest(text.replace("\r\n", "\n").replace('\r', "\n")));
    texts.iter().map(|text| format!("'sha256-{}'", digest(text))).collect::<Vec<_>>().join(" ")
}

/// The text of each inline `<script>` and `<style>` element in `html`, in order, with its tag. An
/// element's text ends at the first closing tag of its kind, as it does for the browser; so a
/// `<script` or `<style` inside a script's text (the bundle has some in strings) starts nothing.
fn inline_elements(html: &str) -> Vec<(&'static str, &str)> {
    let mut elements = Vec::new();
    let mut rest = html;
    loop {
        let next = ["script", "style"]
            .into_iter()
            .filter_map(|tag| rest.find(&format!("<{tag}")).map(|at| (at, tag)))
            .min_by_key(|(at, _)| *at);
        let Some((at, tag)) = next else { break };
        let Some((_, text_and_after)) = rest[at..].split_once('>') else { break };
        let Some((text, after)) = text_and_after.split_once(&format!("</{tag}>")) else { break };
        elements.push((tag, text));
        rest = after;
    }
    elements
}

/// The texts of the `tag` elements among `elements`.
fn texts<'a>(elements: &[(&str, &'a str)], tag: &str) -> Vec<&'a str> {
    elements.iter().filter(|(t, _)| *t == tag).map(|(_, text)| *text).collect()
}

fn adjust(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|p| p.values_mut()) {
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            // Public operations say so explicitly; linters read a missing `security` as an omission.
            operation.entry("security").or_insert_with(|| Value::Array(Vec::new()));
            // Every answer carries the request id (the edge layer sets it), so every response says so.
            if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
                for response in responses.values_mut().filter_map(Value::as_object_mut) {
                    let headers = response.entry("headers").or_insert_with(|| Value::Object(Map::new()));
                    if let Some(headers) = headers.as_object_mut() {
                        headers.insert("X-Request-Id".into(), request_id_header());
                    }
                }
            }
        }
    }
    plain_json_media_types(doc);
    // Relative: the API lives where this document is served; clients are given their base URL.
    if let Some(root) = doc.as_object_mut() {
        root.insert(
            "servers".into(),
            serde_json::json!([{"url": "/", "description": "The Tessera instance serving this document"}]),
        );
    }
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            // Request bodies refuse unknown fields (deny_unknown_fields); the schema must say so.
            if name.ends_with("Request") {
                if let Some(schema) = schema.as_object_mut() {
                    schema.insert("additionalProperties".into(), Value::Bool(false));
                }
            }
        }
    }
}

fn request_id_header() -> Value {
    serde_json::json!({
        "description": "The request's id: echoed from the request's `X-Request-Id`, else generated; equals `request_id` in problem bodies",
        "required": true,
        "schema": {"type": "string"}
    })
}

/// `application/json; charset=utf-8` keys become `application/json`: several generators match
/// the media type literally and skip bodies they do not recognise.
fn plain_json_media_types(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(content) = map.get_mut("content").and_then(Value::as_object_mut) {
                let renamed: Map<String, Value> = std::mem::take(content)
                    .into_iter()
                    .map(|(k, v)| {
                        (if k.starts_with("application/json") { "application/json".to_owned() } else { k }, v)
                    })
                    .collect();
                *content = renamed;
            }
            map.values_mut().for_each(plain_json_media_types);
        }
        Value::Array(items) => items.iter_mut().for_each(plain_json_media_types),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swagger_ui_runs_its_own_inline_scripts_and_styles_by_digest_and_nothing_else() {
        let html = swagger_ui_html();
        let elements = inline_elements(&html);
        let (scripts, styles) = (texts(&elements, "script"), texts(&elements, "style"));
        assert_eq!(scripts.len(), 2, "the bundle and the start-up script");
        assert!(scripts[0].len() > 1_000_000 && scripts[1].contains("SwaggerUIBundle("));
        assert_eq!(styles.len(), 1);

        let policy = swagger_ui_csp(&html);

        let directive = |name: &str| policy.split("; ").find(|d| d.starts_with(name)).unwrap_or_default().to_owned();
        for (name, texts) in [("script-src ", scripts), ("style-src ", styles)] {
            let directive = directive(name);
            for text in &texts {
                let digest = STANDARD.encode(Sha256::digest(text.as_bytes()));
                assert!(directive.contains(&format!("'sha256-{digest}'")), "{directive}");
            }
            assert_eq!(directive.matches("'sha256-").count(), texts.len(), "{directive}");
            assert!(!directive.contains("unsafe"), "{directive}");
        }
        assert!(policy.starts_with("default-src 'none';") && policy.ends_with("frame-ancestors 'none'"), "{policy}");
    }

    #[test]
    fn an_element_ends_at_its_closing_tag_whatever_it_contains() {
        let html = r#"<script a="1">var s = "<script><style>";</script><style>p{}</style><script>go()</script>"#;

        let elements = inline_elements(html);

        assert_eq!(texts(&elements, "script"), vec![r#"var s = "<script><style>";"#, "go()"]);
        assert_eq!(texts(&elements, "style"), vec!["p{}"]);
        assert_eq!(digests(&["a\r\nb"]), digests(&["a\nb"]), "as the browser parsed it");
    }
}
