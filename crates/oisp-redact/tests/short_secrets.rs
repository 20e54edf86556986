//! Credential values after `Authorization: Bearer|Basic`, `x-api-key:`, `api-key:`,
//! `x-goog-api-key:` and `--api-key` are masked whatever their length, wherever they are in an
//! event: `process.exec` args, the process's command line, file paths, message text.

use oisp_event::{
    Content, Event, EventData, FileWrite, Message, ProcessExec, ProcessInfo, Role, Timestamp,
};
use oisp_redact::{RedactionMode, Redactor};

const SECRETS: [&str; 3] = ["sk-mock-key", "sk-ant-mock-key", "g00gkey"];

fn argv() -> Vec<String> {
    [
        "curl",
        "-sS",
        "-H",
        "Authorization: Bearer sk-mock-key",
        "-H",
        "x-api-key: sk-ant-mock-key",
        "-H",
        "X-Goog-Api-Key: g00gkey",
        "-H",
        "Authorization: Bearer $OPENAI_API_KEY",
        "https://api.openai.com/v1/models",
    ]
    .map(String::from)
    .to_vec()
}

fn events() -> Vec<Event> {
    let ts = Timestamp::new(1_700_000_000_000_000_000, 1);
    let args = argv();
    let cmdline = args.join(" ");
    let process = ProcessInfo {
        pid: Some(42),
        exe: Some("/usr/bin/curl".into()),
        cmdline: Some(cmdline.clone()),
        cmdline_args: Some(args.clone()),
        ..Default::default()
    };
    let exec = Event::new(
        ProcessExec {
            exe: "/usr/bin/curl".into(),
            args: Some(args),
            ..Default::default()
        },
        ts,
        "01HZZZZZZZZZZZZZZZZZZZZZZ0",
    )
    .with_process(process.clone());
    let write = Event::new(
        FileWrite {
            path: "/tmp/run --api-key=sk-mock-key x-api-key: g00gkey".into(),
            ..Default::default()
        },
        ts,
        "01HZZZZZZZZZZZZZZZZZZZZZZ1",
    )
    .with_process(process);
    let request = Event::new(
        oisp_event::AiRequest {
            messages: Some(vec![Message {
                content: Some(Content::Text(format!(
                    "why does `{cmdline}` fail with --api-key sk-ant-mock-key?"
                ))),
                ..Message::new(Role::User)
            }]),
            ..Default::default()
        },
        ts,
        "01HZZZZZZZZZZZZZZZZZZZZZZ2",
    );
    vec![exec, write, request]
}

#[test]
fn short_credentials_are_masked_in_every_string_of_every_event_in_every_mode() {
    for mode in [
        RedactionMode::Safe,
        RedactionMode::Full,
        RedactionMode::Minimal,
    ] {
        for mut ev in events() {
            Redactor::new(mode).apply(&mut ev);
            oisp_event::schema::validate_event(&ev)
                .unwrap_or_else(|e| panic!("{mode:?}: invalid after redaction: {e:#?}"));
            let line = ev.to_json_line();
            for s in SECRETS {
                assert!(!line.contains(s), "{mode:?}: {s} in clear: {line}");
            }
            assert_eq!(ev.confidence.redaction_applied, Some(true), "{line}");
            // The shell variable reference is kept: it is where the key is, not the key.
            // (`minimal` replaces the arguments by their length and hash altogether.)
            if matches!(ev.data, EventData::ProcessExec(_)) && mode != RedactionMode::Minimal {
                assert!(line.contains("Bearer $OPENAI_API_KEY"), "{line}");
                assert!(line.contains("[REDACTED:bearer_token sha256:"), "{line}");
            }
        }
    }
}

#[test]
fn secrets_stay_in_clear_only_when_the_user_opts_out() {
    let r = Redactor::new(RedactionMode::Full).without_secret_masking();
    let mut ev = events().remove(0);
    r.apply(&mut ev);
    assert!(ev.to_json_line().contains("Bearer sk-mock-key"));
}

#[test]
fn equal_short_secrets_mask_alike() {
    let mut ev = events().remove(0);
    Redactor::default().apply(&mut ev);
    let EventData::ProcessExec(e) = &ev.data else {
        unreachable!()
    };
    let arg = &e.args.as_ref().unwrap()[3];
    let cmdline = ev.process.as_ref().unwrap().cmdline.as_deref().unwrap();
    assert!(arg.starts_with("Authorization: Bearer sk…[REDACTED:bearer_token sha256:"));
    assert!(cmdline.contains(arg.as_str()), "{cmdline}");
}
