//! Secret redaction: API keys, bearer tokens, JWTs, cloud credentials and private keys are
//! replaced wherever they appear in an event (prompts, responses, tool arguments, command lines,
//! attributes) by `<first 8 chars>…[REDACTED:<kind> sha256:<16 hex>]`, so equal secrets stay
//! correlatable and the key family stays recognisable, but the value is gone.

use oisp_event::Event;
use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The kinds of secret the redactor recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    ApiKey,
    BearerToken,
    Jwt,
    AwsAccessKey,
    PrivateKey,
}

impl SecretKind {
    fn as_str(self) -> &'static str {
        match self {
            SecretKind::ApiKey => "api_key",
            SecretKind::BearerToken => "bearer_token",
            SecretKind::Jwt => "jwt",
            SecretKind::AwsAccessKey => "aws_access_key",
            SecretKind::PrivateKey => "private_key",
        }
    }
}

struct Pattern {
    kind: SecretKind,
    re: Regex,
    /// Capture group holding the secret itself (0 = whole match).
    group: usize,
}

fn patterns() -> &'static [Pattern] {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        let p = |kind, re: &str, group| Pattern {
            kind,
            re: Regex::new(re).expect("secret pattern compiles"),
            group,
        };
        vec![
            p(
                SecretKind::PrivateKey,
                r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
                0,
            ),
            p(
                SecretKind::Jwt,
                r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
                0,
            ),
            // OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), OpenRouter (sk-or-), DeepSeek, ...
            p(SecretKind::ApiKey, r"\bsk-[A-Za-z0-9_-]{16,}", 0),
            // Google API keys, Groq, xAI, Hugging Face, Replicate, GitHub, Slack, Stripe.
            p(SecretKind::ApiKey, r"\bAIza[0-9A-Za-z_-]{30,}", 0),
            p(
                SecretKind::ApiKey,
                r"\b(?:gsk_|xai-|hf_|r8_|ghp_|gho_|github_pat_|xox[abpr]-|rk_live_|sk_live_|pplx-|fw_|nvapi-)[A-Za-z0-9_-]{16,}",
                0,
            ),
            p(SecretKind::AwsAccessKey, r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0),
            p(
                SecretKind::BearerToken,
                r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{16,})",
                1,
            ),
            p(
                SecretKind::ApiKey,
                r#"(?i)\b(?:x-api-key|api-key|x-goog-api-key|apikey|api_key)["']?\s*[:=]\s*["']?([A-Za-z0-9._-]{16,})"#,
                1,
            ),
        ]
    })
}

/// How much of an event's content is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedactionMode {
    /// Content kept; secrets and personal data (emails, payment card numbers) masked.
    #[default]
    Safe,
    /// Content as captured; secrets still masked.
    Full,
    /// Metadata only: content replaced by its length and hash; secrets masked everywhere else.
    Minimal,
}

impl RedactionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RedactionMode::Safe => "safe",
            RedactionMode::Full => "full",
            RedactionMode::Minimal => "minimal",
        }
    }
}

/// Applies a redaction mode to events. `Default` is `safe` with secret masking on.
#[derive(Debug, Clone)]
pub struct Redactor {
    mode: RedactionMode,
    secrets: bool,
    rules: std::sync::Arc<Vec<crate::CustomRule>>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(RedactionMode::Safe)
    }
}

impl Redactor {
    /// A redactor for `mode`, masking secrets.
    pub fn new(mode: RedactionMode) -> Self {
        Redactor {
            mode,
            secrets: true,
            rules: Default::default(),
        }
    }

    /// Adds user-defined rules, applied after the built-in detectors in every mode.
    pub fn with_rules(mut self, rules: Vec<crate::CustomRule>) -> Self {
        self.rules = std::sync::Arc::new(rules);
        self
    }

    /// Keeps secrets as captured (the user opted out with `--no-redact-secrets`).
    pub fn without_secret_masking(mut self) -> Self {
        self.secrets = false;
        self
    }

    pub fn mode(&self) -> RedactionMode {
        self.mode
    }

    /// Redacts `ev` in place according to the mode. When something was replaced, the event's
    /// confidence says so (`redaction_applied`, and the profile).
    pub fn apply(&self, ev: &mut Event) {
        let stripped = self.mode == RedactionMode::Minimal && crate::minimal::apply(ev);
        if stripped {
            ev.confidence.redaction_applied = Some(true);
            ev.confidence.redaction_profile = Some(crate::minimal::PROFILE.to_string());
        }
        let pii = self.mode == RedactionMode::Safe;
        if !self.secrets && !pii && self.rules.is_empty() {
            return;
        }
        let mut value = ev.to_value();
        let mut found = 0usize;
        self.walk(&mut value, &mut found);
        if found == 0 {
            return;
        }
        match serde_json::from_value::<Event>(value) {
            Ok(mut redacted) => {
                redacted.confidence.redaction_applied = Some(true);
                redacted.confidence.redaction_profile = Some(self.mode.as_str().to_string());
                *ev = redacted;
            }
            Err(_) => {
                // Cannot happen for events built by this program (redaction only rewrites
                // strings); if it ever does, fail closed: keep no content at all.
                ev.data = oisp_event::EventData::SensorWarning(oisp_event::SensorWarning::new(
                    "redaction_failed",
                    "an event could not be re-read after redaction and was replaced",
                ));
            }
        }
    }

    /// Redacts one string as this redactor would inside an event; returns how many findings
    /// were replaced.
    pub fn redact_str(&self, s: &mut String) -> usize {
        let mut n = 0;
        if self.secrets {
            n += redact_string(s);
        }
        if self.mode == RedactionMode::Safe {
            n += crate::pii::redact_pii(s);
        }
        for r in self.rules.iter() {
            n += r.apply(s);
        }
        n
    }

    fn walk(&self, v: &mut Value, found: &mut usize) {
        match v {
            Value::String(s) => *found += self.redact_str(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x, found)),
            Value::Object(m) => m.values_mut().for_each(|x| self.walk(x, found)),
            _ => {}
        }
    }
}

fn redact_string(s: &mut String) -> usize {
    let mut count = 0;
    for p in patterns() {
        if !p.re.is_match(s) {
            continue;
        }
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for caps in p.re.captures_iter(s) {
            let Some(m) = caps.get(p.group) else { continue };
            if m.as_str().contains("[REDACTED:") {
                continue;
            }
            out.push_str(&s[last..m.start()]);
            out.push_str(&mask(m.as_str(), p.kind));
            last = m.end();
            count += 1;
        }
        out.push_str(&s[last..]);
        *s = out;
    }
    count
}

fn mask(secret: &str, kind: SecretKind) -> String {
    let prefix: String = if kind == SecretKind::PrivateKey {
        String::new()
    } else {
        secret.chars().take(8).collect()
    };
    let digest = Sha256::digest(secret.as_bytes());
    format!(
        "{prefix}…[REDACTED:{} sha256:{}]",
        kind.as_str(),
        hex::encode(&digest[..8])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(s: &str) -> String {
        let mut s = s.to_string();
        redact_string(&mut s);
        s
    }

    #[test]
    fn provider_keys_are_masked_with_prefix_and_hash() {
        let out = red("key sk-proj-TESTKEY0123456789abcdefghij end");
        assert!(
            out.starts_with("key sk-proj-…[REDACTED:api_key sha256:"),
            "{out}"
        );
        assert!(!out.contains("TESTKEY"));
        assert!(out.ends_with(" end"));
        let out = red("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345");
        assert!(out.contains("abcdefgh…[REDACTED:bearer_token"), "{out}");
        assert!(!out.contains("uvwxyz"));
        let out = red("curl -H 'x-api-key: 0123456789abcdefghijkl'");
        assert!(!out.contains("ijkl'"), "{out}");
        assert!(!red("AIzaSyA1234567890abcdefghijklmnopqrstuv").contains("abcdefghijklmnop"));
        assert!(!red("AKIAIOSFODNN7EXAMPLE").contains("IOSFODNN7EXAMPLE"));
    }

    #[test]
    fn jwt_and_private_keys_are_masked() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert!(!red(jwt).contains("dozjgNryP4J3"));
        let pk = "a\n-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\nb";
        let out = red(pk);
        assert!(!out.contains("MIIEv"), "{out}");
        assert!(out.starts_with("a\n") && out.ends_with("\nb"));
    }

    #[test]
    fn ordinary_text_is_untouched_and_redaction_is_idempotent() {
        let text = "The sky is blue; ask-me-anything tokens=42 bearer of news";
        assert_eq!(red(text), text);
        let once = red("sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUVWX");
        assert_eq!(red(&once), once);
    }
}
