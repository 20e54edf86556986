//! Runs the built binary and checks what a user gets: every event `demo` and `replay` write —
//! after redaction — validates against the OISP v0.1 schemas, and no secret survives.

use std::path::Path;
use std::process::Command;

/// The binary with its default store in a temp dir of its own for each test (`test` names it)
/// and no config file.
fn bin(test: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"));
    c.env("OISP_STORE", store_dir(test).join("events.db"))
        .env("OISP_CONFIG", "");
    c
}

fn store_dir(test: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("oisp-cli-store-{test}-{}", std::process::id()))
}

fn validate_file(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Err(errs) = oisp_event::schema::validate_emitted(&value) {
            panic!("{} line {}: {errs:#?}\n{line}", path.display(), i + 1);
        }
        n += 1;
    }
    n
}

#[test]
fn demo_output_validates_and_holds_no_secrets() {
    let dir = std::env::temp_dir().join(format!("oisp-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("demo.jsonl");
    let status = bin("demo").args(["demo", "-o"]).arg(&out).status().unwrap();
    assert!(status.success());
    let n = validate_file(&out);
    assert!(n > 200, "only {n} events");
    let text = std::fs::read_to_string(&out).unwrap();
    for secret in ["sk-proj-TESTKEY", "sk-ant-api03-TESTKEY", "AIzaSyTESTKEY0"] {
        assert!(!text.contains(secret), "{secret} leaked into demo output");
    }
    assert!(text.contains("\"redaction_applied\":true"));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(store_dir("demo")).ok();
}

#[test]
fn replay_of_every_fixture_validates() {
    let captures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/captures");
    let dir = std::env::temp_dir().join(format!("oisp-cli-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(&captures).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "oraw") {
            continue;
        }
        let out = dir.join(path.file_name().unwrap()).with_extension("jsonl");
        let status = bin("replay")
            .arg("replay")
            .arg(&path)
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "{}", path.display());
        assert!(validate_file(&out) > 0);
        files += 1;
    }
    assert!(files >= 10, "{files} fixtures");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(store_dir("replay")).ok();
}
