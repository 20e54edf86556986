//! User-defined redaction rules (`[[redaction.rules]]` in the config file).

use regex::Regex;
use sha2::{Digest, Sha256};

/// One rule: every match of `pattern` is replaced, in every string of every event, in every
/// redaction mode (even with `--no-redact-secrets`: a rule is an explicit instruction).
#[derive(Debug, Clone)]
pub struct CustomRule {
    name: String,
    re: Regex,
    replacement: Option<String>,
}

impl CustomRule {
    /// `replacement` may use `$1`/`${name}` group references; without one, a match becomes
    /// `[REDACTED:<name> sha256:<16 hex>]` (equal values stay correlatable).
    /// Errors name the rule and say what is wrong with the pattern.
    pub fn new(name: &str, pattern: &str, replacement: Option<&str>) -> Result<Self, String> {
        if name.trim().is_empty() {
            return Err("a redaction rule needs a non-empty name".into());
        }
        let re = Regex::new(pattern)
            .map_err(|e| format!("redaction rule `{name}`: invalid pattern: {e}"))?;
        if re.is_match("") {
            return Err(format!(
                "redaction rule `{name}`: pattern matches the empty string"
            ));
        }
        Ok(CustomRule {
            name: name.to_string(),
            re,
            replacement: replacement.map(str::to_string),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Applies the rule to `s`; returns how many matches were replaced.
    pub fn apply(&self, s: &mut String) -> usize {
        if !self.re.is_match(s) {
            return 0;
        }
        let mut n = 0;
        let out = self.re.replace_all(s, |c: &regex::Captures| {
            n += 1;
            match &self.replacement {
                Some(r) => {
                    let mut dst = String::new();
                    c.expand(r, &mut dst);
                    dst
                }
                None => {
                    let d = Sha256::digest(c[0].as_bytes());
                    format!("[REDACTED:{} sha256:{}]", self.name, hex::encode(&d[..8]))
                }
            }
        });
        *s = out.into_owned();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_or_replacement_with_groups() {
        let r = CustomRule::new("employee", r"EMP-\d{6}", None).unwrap();
        let mut s = "ask EMP-123456 and EMP-123456".to_string();
        assert_eq!(r.apply(&mut s), 2);
        assert!(!s.contains("123456"));
        assert!(s.starts_with("ask [REDACTED:employee sha256:"));
        let r = CustomRule::new("host", r"(\w+)\.corp\.example", Some("$1.[internal]")).unwrap();
        let mut s = "db1.corp.example".to_string();
        r.apply(&mut s);
        assert_eq!(s, "db1.[internal]");
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(CustomRule::new("x", "(", None)
            .unwrap_err()
            .contains("invalid pattern"));
        assert!(CustomRule::new("x", "a*", None)
            .unwrap_err()
            .contains("empty string"));
        assert!(CustomRule::new(" ", "a", None).is_err());
    }
}
