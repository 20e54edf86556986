//! Secret redaction: API keys, bearer tokens, JWTs, cloud credentials and private keys are
//! replaced wherever they appear in an event (prompts, responses, tool arguments, command lines,
//! attributes) by `<first 8 chars>…[REDACTED:<kind> sha256:<16 hex>]`, so equal secrets stay
//! correlatable and the key family stays recognisable, but the value is gone.
//!
//! Two kinds of detector:
//! - by shape (`sk-…`, `AIza…`, JWTs, AWS keys, private key blocks, a long token after
//!   `Bearer`): the value must look like a credential, so at least 16 characters;
//! - by position: the value of a credential header or flag is a secret whatever its length —
//!   after `Authorization: Bearer`, `Authorization: Basic`, `x-api-key:`, `api-key:`,
//!   `x-goog-api-key:` (header names case-insensitive, quoted or not, also glued to curl's `-H`),
//!   and after `--api-key` / `--api-key=`, in one string or, in an argument list, as the element
//!   following a lone `--api-key`.
//!
//! A shell variable reference in that position (`$OPENAI_API_KEY`, `${KEY}`, `"$KEY"`) is not a
//! secret value — it names where the secret is, not the secret — and is left alone; so is a
//! position with nothing after it.
//!
//! A value shorter than 16 characters keeps only a quarter of its characters (at most 3) before
//! the mask instead of 8, so a short key is not mostly given away by its prefix; a Basic
//! credential (base64 of `user:password`) keeps none.

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
    /// The credential of an `Authorization: Basic` header.
    BasicAuth,
}

impl SecretKind {
    fn as_str(self) -> &'static str {
        match self {
            SecretKind::ApiKey => "api_key",
            SecretKind::BearerToken => "bearer_token",
            SecretKind::Jwt => "jwt",
            SecretKind::AwsAccessKey => "aws_access_key",
            SecretKind::PrivateKey => "private_key",
            SecretKind::BasicAuth => "basic_auth",
        }
    }
}

/// A credential value in a header or flag position: token68 / base64 / key characters, not
/// starting with `-` (the next flag) nor `$` (a shell variable reference, see the module doc).
const VALUE: &str = r"[A-Za-z0-9._~+/][A-Za-z0-9._~+/=-]*";

/// Minimum length of a secret that keeps the usual 8-character prefix.
const FULL_PREFIX_MIN_LEN: usize = 16;

struct Pattern {
    kind: SecretKind,
    re: Regex,
    /// Capture group holding the secret itself (0 = whole match).
    group: usize,
    /// Detected by position (header or flag), not by shape: a shell expansion glued after the
    /// value (`sk-$KEY`) means the literal part is not the whole secret.
    by_position: bool,
}

fn patterns() -> &'static [Pattern] {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        let p = |kind, re: &str, group| Pattern {
            kind,
            re: Regex::new(re).expect("secret pattern compiles"),
            group,
            by_position: re.contains(VALUE),
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
            // By position, whatever the length (after the detectors by shape, so a long key
            // keeps its usual mask; a value they already masked is skipped in `redact_string`).
            // No leading word boundary: curl also takes `-HAuthorization: ...`.
            p(
                SecretKind::BearerToken,
                &format!(r#"(?i)authorization["']?[ \t]*:[ \t]*["']?bearer[ \t]+["']?({VALUE})"#),
                1,
            ),
            p(
                SecretKind::BasicAuth,
                &format!(r#"(?i)authorization["']?[ \t]*:[ \t]*["']?basic[ \t]+["']?({VALUE})"#),
                1,
            ),
            // x-api-key, api-key, x-goog-api-key (and any other `...api-key:` header).
            p(
                SecretKind::ApiKey,
                &format!(r#"(?i)api-key["']?[ \t]*:[ \t]*["']?({VALUE})"#),
                1,
            ),
            p(
                SecretKind::ApiKey,
                &format!(r#"(?i)--api-key(?:[ \t]*=[ \t]*|[ \t]+)["']?({VALUE})"#),
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
            Value::Array(a) => {
                if self.secrets {
                    *found += redact_flag_values(a);
                }
                a.iter_mut().for_each(|x| self.walk(x, found))
            }
            Value::Object(m) => m.values_mut().for_each(|x| self.walk(x, found)),
            _ => {}
        }
    }
}

/// In an argument list (`process.exec` args, any array of strings): the element after a lone
/// `--api-key` is a secret whatever its length, unless it is a shell variable reference or the
/// next flag. (`-H` followed by a header needs nothing here: the header element is masked by the
/// header detectors of [`redact_string`].) Returns how many elements were masked.
fn redact_flag_values(a: &mut [Value]) -> usize {
    let mut count = 0;
    for i in 1..a.len() {
        let flag = a[i - 1]
            .as_str()
            .is_some_and(|f| f.trim().eq_ignore_ascii_case("--api-key"));
        if !flag {
            continue;
        }
        let Value::String(v) = &mut a[i] else {
            continue;
        };
        let value = v.trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
        if value.is_empty()
            || value.starts_with('$')
            || value.starts_with('-')
            || value.contains("[REDACTED:")
        {
            continue;
        }
        *v = mask(value, SecretKind::ApiKey);
        count += 1;
    }
    count
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
            // Already masked by an earlier detector (`prefix…[REDACTED:...]`), or the literal
            // head of a shell expansion (`sk-$KEY`): not a whole secret value.
            let after = &s[m.end()..];
            if after.starts_with("…[REDACTED:") || (p.by_position && after.starts_with('$')) {
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
    let len = secret.chars().count();
    let keep = match kind {
        SecretKind::PrivateKey | SecretKind::BasicAuth => 0,
        _ if len >= FULL_PREFIX_MIN_LEN => 8,
        _ => (len / 4).min(3),
    };
    let prefix: String = secret.chars().take(keep).collect();
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

    /// The secret part of `out` is gone and the mask is there, of `kind`.
    fn masked(out: &str, secret: &str, kind: &str) {
        assert!(!out.contains(secret), "{secret} in clear: {out}");
        assert!(out.contains(&format!("…[REDACTED:{kind} sha256:")), "{out}");
    }

    #[test]
    fn credential_header_values_are_secrets_whatever_their_length() {
        for (input, secret, kind) in [
            (
                "Authorization: Bearer sk-mock-key",
                "mock-key",
                "bearer_token",
            ),
            ("authorization:bearer abc", "abc", "bearer_token"),
            ("AUTHORIZATION: BEARER x1", "x1", "bearer_token"),
            ("Authorization: Basic dXNlcjpw", "dXNlcjpw", "basic_auth"),
            ("x-api-key: sk-ant-mock-key", "mock-key", "api_key"),
            ("X-Api-Key:k3y", "k3y", "api_key"),
            ("api-key: azure12", "azure12", "api_key"),
            ("x-goog-api-key: AIzaShort", "AIzaShort", "api_key"),
            ("--api-key sk-mock-key", "mock-key", "api_key"),
            ("--api-key=sk-mock-key", "mock-key", "api_key"),
            ("--API-KEY = 'short'", "short", "api_key"),
        ] {
            masked(&red(input), secret, kind);
        }
    }

    #[test]
    fn curl_command_lines_lose_their_short_keys() {
        let cmd = r#"curl -sS https://api.openai.com/v1/chat/completions -H "Authorization: Bearer sk-mock-key" -H 'x-api-key: sk-ant-mock-key' -H "x-goog-api-key: gkey" -HAuthorization:Bearer glued -d '{"model":"m"}'"#;
        let out = red(cmd);
        for gone in ["mock-key", "gkey", "glued"] {
            assert!(!out.contains(gone), "{gone}: {out}");
        }
        assert_eq!(out.matches("[REDACTED:").count(), 4, "{out}");
        assert!(out.starts_with("curl -sS https://api.openai.com/v1/chat/completions -H \"Authorization: Bearer sk…[REDACTED:bearer_token sha256:"), "{out}");
        assert!(out.ends_with(r#" -d '{"model":"m"}'"#), "{out}");
        // In a JSON or Python dict of headers too.
        let out = red(r#"{"Authorization": "Bearer tok123", "x-api-key": "k-42"}"#);
        assert!(!out.contains("tok123") && !out.contains("k-42"), "{out}");
    }

    #[test]
    fn short_values_keep_a_short_prefix_and_long_ones_keep_the_usual_mask() {
        // Short: a quarter of the characters (at most 3), never most of the key.
        let out = red("x-api-key: sk-ant-mock-key");
        assert!(
            out.starts_with("x-api-key: sk-…[REDACTED:api_key sha256:"),
            "{out}"
        );
        let out = red("Authorization: Bearer ab");
        assert!(
            out.starts_with("Authorization: Bearer …[REDACTED:bearer_token"),
            "{out}"
        );
        // Long: exactly what the detectors by shape produced before (8 characters, one mask).
        let long = "sk-proj-TESTKEY0123456789abcdefghij";
        for input in [
            format!("Authorization: Bearer {long}"),
            format!("x-api-key: {long}"),
            format!("--api-key={long}"),
        ] {
            let out = red(&input);
            assert_eq!(out.matches("[REDACTED:").count(), 1, "{out}");
            assert!(out.contains(&mask(long, SecretKind::ApiKey)), "{out}");
        }
        let tok = "abcdefghijklmnopqrstuvwxyz012345";
        assert_eq!(
            red(&format!("Authorization: Bearer {tok}")),
            format!(
                "Authorization: Bearer {}",
                mask(tok, SecretKind::BearerToken)
            )
        );
        let out = red("Authorization: Basic dXNlcjpwYXNzd29yZDEyMzQ1Njc4OQ==");
        assert_eq!(
            out,
            format!(
                "Authorization: Basic {}",
                mask("dXNlcjpwYXNzd29yZDEyMzQ1Njc4OQ==", SecretKind::BasicAuth)
            )
        );
        assert!(out.starts_with("Authorization: Basic …[REDACTED:basic_auth"));
    }

    #[test]
    fn shell_variables_and_empty_positions_are_not_secrets() {
        for text in [
            "curl -H \"Authorization: Bearer $OPENAI_API_KEY\" https://api.openai.com",
            "curl -H 'Authorization: Bearer ${OPENAI_API_KEY}'",
            "curl -H \"x-api-key: $ANTHROPIC_API_KEY\"",
            "x-goog-api-key: ${GEMINI_API_KEY:-}",
            "llm --api-key $KEY --model m",
            "llm --api-key=\"$KEY\"",
            "Authorization: Bearer",
            "Authorization: Bearer \nContent-Type: application/json",
            "x-api-key:\n",
            "tool --api-key --verbose",
            "Authorization: Bearer sk-$KEY",
            "send the x-api-key header, or the api-key header on Azure",
        ] {
            assert_eq!(red(text), text);
        }
    }

    #[test]
    fn argument_lists_mask_the_value_after_a_lone_api_key_flag() {
        let r = Redactor::default();
        let mut v = serde_json::json!([
            "curl",
            "-H",
            "Authorization: Bearer sk-mock-key",
            "-H",
            "x-api-key: sk-ant-mock-key",
            "--api-key",
            "sk-mock-key",
            "--api-key",
            "$OPENAI_API_KEY",
            "--api-key",
            "--next",
            "--api-key=short1",
            "https://example.com"
        ]);
        let mut found = 0;
        r.walk(&mut v, &mut found);
        assert_eq!(found, 4, "{v}");
        let a: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert!(
            a[2].starts_with("Authorization: Bearer sk…[REDACTED:bearer_token"),
            "{a:?}"
        );
        assert!(
            a[4].starts_with("x-api-key: sk-…[REDACTED:api_key"),
            "{a:?}"
        );
        assert_eq!(a[6], mask("sk-mock-key", SecretKind::ApiKey));
        assert_eq!(a[8], "$OPENAI_API_KEY");
        assert_eq!(a[10], "--next");
        assert!(a[11].starts_with("--api-key=s…[REDACTED:api_key"), "{a:?}");
        assert_eq!(a[12], "https://example.com");
        // Idempotent, and a long key after the flag keeps the usual mask.
        let again = v.clone();
        r.walk(&mut v, &mut found);
        assert_eq!(v, again);
        let long = "sk-proj-TESTKEY0123456789abcdefghij";
        let mut v = serde_json::json!(["llm", "--api-key", long]);
        r.walk(&mut v, &mut 0);
        assert_eq!(v[2], mask(long, SecretKind::ApiKey));
    }
}
