//! The tags that group operations in the OpenAPI document and Swagger UI, one per feature. Their
//! own module: every feature names its tag, and the document is assembled from every feature.

use poem_openapi::Tags;

#[derive(Tags)]
pub enum ApiTags {
    /// Registration, login, token refresh and logout
    #[oai(rename = "auth")]
    Auth,
    /// Users: your own record, public profiles, the admin list
    #[oai(rename = "users")]
    Users,
    /// Projects: create, list, change, delete
    #[oai(rename = "projects")]
    Projects,
    /// Sharing a project with people as viewers or editors
    #[oai(rename = "members")]
    Members,
    /// Posts in projects, and a creator's posts across projects
    #[oai(rename = "posts")]
    Posts,
    /// Files shared in projects: upload, list, download, delete
    #[oai(rename = "files")]
    Files,
    /// Health and metrics
    #[oai(rename = "system")]
    System,
}
