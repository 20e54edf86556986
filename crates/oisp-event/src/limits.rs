//! String length limits that the OISP v0.1 schemas impose (`maxLength`,
//! counted in Unicode code points) and a helper to respect them.

/// `ai.*` `auth.key_prefix` maxLength.
pub const KEY_PREFIX_MAX_CHARS: usize = 8;
/// `$redacted.preview` maxLength.
pub const REDACTION_PREVIEW_MAX_CHARS: usize = 100;
/// `file.read` / `file.write` `content_preview` maxLength.
pub const FILE_CONTENT_PREVIEW_MAX_CHARS: usize = 256;

/// The longest prefix of `s` with at most `max_chars` code points (never
/// splits a character).
pub fn truncate_chars(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((byte_idx, _)) => &s[..byte_idx],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(
            truncate_chars("sk-proj-abcdef", KEY_PREFIX_MAX_CHARS),
            "sk-proj-"
        );
        assert_eq!(truncate_chars("héllo", 2), "hé");
        assert_eq!(truncate_chars("ab", 5), "ab");
        assert_eq!(truncate_chars("", 0), "");
    }
}
