//! `app` (`common/app.schema.json`) and `web_context`
//! (`common/web_context.schema.json`).

use crate::macros::string_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

string_enum! {
    /// `app.category`.
    pub enum AppCategory {
        DevTools => "dev_tools",
        Chat => "chat",
        Productivity => "productivity",
        Creative => "creative",
        Browser => "browser",
        Cli => "cli",
        Server => "server",
        Other => "other",
    }
}

string_enum! {
    /// `app.tier`: confidence in the app identification (schema default
    /// `unknown`).
    pub enum AppTier {
        Unknown => "unknown",
        Identified => "identified",
        Profiled => "profiled",
    }
}

string_enum! {
    /// `app.type`: how the app runs.
    pub enum AppType {
        Native => "native",
        Web => "web",
        Extension => "extension",
        Cli => "cli",
        Server => "server",
    }
}

string_enum! {
    /// `web_context.web_app_type`.
    pub enum WebAppType {
        Direct => "direct",
        Embedded => "embedded",
    }
}

/// Envelope `app`: the application that initiated the activity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct App {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<AppCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<AppTier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_ai_app: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_ai_host: Option<bool>,
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AppType>,
    /// Free-form subscription tier, e.g. `pro`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// Keys not defined by the schema (`additionalProperties: true`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Envelope `web_context`: Origin/Referer context of browser traffic.
///
/// `origin` and `referer` carry `format: uri`; an `Origin: null` header is
/// not a URI and must be omitted rather than copied.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WebContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_app_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_app_type: Option<WebAppType>,
    /// Keys not defined by the schema (`additionalProperties: true`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
