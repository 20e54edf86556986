//! Personal-data detectors for the `safe` profile: email addresses and payment card numbers
//! (13–19 digits passing the Luhn check). Each finding becomes `[REDACTED:<kind> sha256:<hex>]`.

use regex::Regex;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

fn email() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")
            .expect("email pattern compiles")
    })
}

fn card() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("card pattern compiles"))
}

/// The Luhn checksum over the digits of `s` (separators ignored).
fn luhn_ok(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn mask(found: &str, kind: &str) -> String {
    let d = Sha256::digest(found.as_bytes());
    format!("[REDACTED:{kind} sha256:{}]", hex::encode(&d[..8]))
}

/// Masks emails and Luhn-valid card numbers in `s`; returns how many were masked.
pub fn redact_pii(s: &mut String) -> usize {
    let mut count = 0;
    if s.contains('@') && email().is_match(s) {
        let out = email().replace_all(s, |c: &regex::Captures| {
            count += 1;
            mask(&c[0], "email")
        });
        *s = out.into_owned();
    }
    if s.bytes().filter(u8::is_ascii_digit).count() >= 13 {
        let out = card().replace_all(s, |c: &regex::Captures| {
            if luhn_ok(&c[0]) {
                count += 1;
                mask(&c[0], "card_number")
            } else {
                c[0].to_string()
            }
        });
        *s = out.into_owned();
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_valid_cards_are_masked() {
        let mut s = "mail alice.smith+ai@example.co.uk, card 4111 1111 1111 1111 ok".to_string();
        assert_eq!(redact_pii(&mut s), 2);
        assert!(!s.contains("alice") && !s.contains("4111"), "{s}");
        assert!(s.contains("[REDACTED:email") && s.contains("[REDACTED:card_number"));
    }

    #[test]
    fn non_luhn_numbers_and_plain_text_stay() {
        let mut s = "order 1234567890123 at 12:00, ticket 4111111111111112".to_string();
        let before = s.clone();
        assert_eq!(redact_pii(&mut s), 0);
        assert_eq!(s, before);
    }
}
