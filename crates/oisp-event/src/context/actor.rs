//! `actor` (`common/actor.schema.json`).

use crate::macros::string_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

string_enum! {
    /// `actor.identity.provider`: enterprise identity provider.
    pub enum IdentityProvider {
        Okta => "okta",
        AzureAd => "azure_ad",
        GoogleWorkspace => "google_workspace",
        Onelogin => "onelogin",
        Jumpcloud => "jumpcloud",
        Other => "other",
    }
}

string_enum! {
    /// `actor.service_account.type`.
    pub enum ServiceAccountType {
        Kubernetes => "kubernetes",
        Iam => "iam",
        ServicePrincipal => "service_principal",
        ApiKey => "api_key",
        Other => "other",
    }
}

string_enum! {
    /// `actor.auth_method`: how the actor authenticated.
    pub enum AuthMethod {
        Password => "password",
        Sso => "sso",
        Mfa => "mfa",
        SshKey => "ssh_key",
        Certificate => "certificate",
        Token => "token",
        ApiKey => "api_key",
        None => "none",
        Unknown => "unknown",
    }
}

/// `actor.identity`: enterprise (IdP/SSO) identity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Identity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<IdentityProvider>,
    /// Corporate email (schema `format: email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
}

/// `actor.service_account`: a non-human actor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ServiceAccountType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Envelope `actor`: the user or identity behind an event.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Actor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ServiceAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<AuthMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_elevated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_human: Option<bool>,
    /// Keys not defined by the schema (`additionalProperties: true`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
