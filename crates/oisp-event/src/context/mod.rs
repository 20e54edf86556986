//! Envelope context objects (`common/*.schema.json`): who, where and what
//! process an event is about. All of them allow additional properties, so
//! each keeps unknown keys in a flattened `extra` map.

mod actor;
mod app;
mod host;
mod process;

pub use actor::{
    Actor, AuthMethod, Identity, IdentityProvider, ServiceAccount, ServiceAccountType,
};
pub use app::{App, AppCategory, AppTier, AppType, WebAppType, WebContext};
pub use host::{Arch, Cloud, CloudProvider, Container, ContainerRuntime, Host, K8s, Os};
pub use process::{AncestorProcess, BinaryHash, CodeSignature, ParentProcess, ProcessInfo};
