//! The `Allow` header of a 405 (RFC 9110 requires it): the methods the OpenAPI document declares
//! for the path that was asked for.

use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct AllowedMethods {
    /// Path templates split into segments (`None` for a `{parameter}`), with their methods.
    paths: Vec<(Vec<Option<String>>, String)>,
}

impl AllowedMethods {
    pub fn from_openapi(document: &str) -> Self {
        let Ok(doc) = serde_json::from_str::<Value>(document) else { return Self::default() };
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return Self::default() };
        let paths = paths
            .iter()
            .map(|(template, item)| {
                let segments =
                    template.split('/').map(|s| if s.starts_with('{') { None } else { Some(s.to_owned()) }).collect();
                let mut methods: Vec<String> =
                    item.as_object().map(|m| m.keys().map(|k| k.to_uppercase()).collect()).unwrap_or_default();
                methods.sort();
                (segments, methods.join(", "))
            })
            .collect();
        Self { paths }
    }

    /// `GET, PATCH` for `/api/v1/users/me`, or `None` for a path the document does not know.
    pub fn for_path(&self, path: &str) -> Option<&str> {
        let asked: Vec<&str> = path.split('/').collect();
        self.paths
            .iter()
            .find(|(segments, _)| {
                segments.len() == asked.len()
                    && segments.iter().zip(&asked).all(|(s, a)| s.as_deref().is_none_or(|s| s == *a))
            })
            .map(|(_, methods)| methods.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_with_their_parameters() {
        let allowed = AllowedMethods::from_openapi(
            r#"{"paths": {"/a/{id}": {"get": {}, "delete": {}}, "/a/{id}/b": {"put": {}}, "/a/me": {"patch": {}}}}"#,
        );
        assert_eq!(allowed.for_path("/a/42"), Some("DELETE, GET"));
        assert_eq!(allowed.for_path("/a/42/b"), Some("PUT"));
        assert_eq!(allowed.for_path("/a/me"), Some("PATCH"), "a literal segment wins over a parameter");
        assert_eq!(allowed.for_path("/c"), None);
    }
}
