//! Finding and parsing the configuration file.

use super::Config;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The system-wide default location.
pub const SYSTEM_CONFIG: &str = "/etc/oisp-sensor/config.toml";

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// Named by `--config` or `$OISP_CONFIG`: must exist.
    Explicit(PathBuf),
    /// The system file, which exists.
    System(PathBuf),
    /// No file: built-in defaults.
    Defaults,
}

impl ConfigSource {
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigSource::Explicit(p) | ConfigSource::System(p) => Some(p),
            ConfigSource::Defaults => None,
        }
    }

    pub fn describe(&self) -> String {
        self.path()
            .map_or("built-in defaults".into(), |p| p.display().to_string())
    }
}

/// `--config` wins over `$OISP_CONFIG`, which wins over /etc/oisp-sensor/config.toml (used only
/// when it exists).
pub fn locate(flag: Option<&Path>) -> ConfigSource {
    if let Some(p) = flag {
        return ConfigSource::Explicit(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("OISP_CONFIG").filter(|p| !p.is_empty()) {
        return ConfigSource::Explicit(PathBuf::from(p));
    }
    let sys = PathBuf::from(SYSTEM_CONFIG);
    if sys.exists() {
        ConfigSource::System(sys)
    } else {
        ConfigSource::Defaults
    }
}

/// Reads, parses and validates the configuration. Errors carry the file name and line numbers.
pub fn load(source: &ConfigSource) -> Result<Config> {
    let Some(path) = source.path() else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    parse(&text, &path.display().to_string())
}

/// Parses and validates `text` (named `name` in messages).
pub fn parse(text: &str, name: &str) -> Result<Config> {
    let cfg: Config = toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{name}: {}", e.to_string().trim_end()))?;
    let issues = super::validate(&cfg, text);
    if !issues.is_empty() {
        let lines: Vec<String> = issues.iter().map(|i| i.render(name)).collect();
        anyhow::bail!("{}", lines.join("\n"));
    }
    Ok(cfg)
}
