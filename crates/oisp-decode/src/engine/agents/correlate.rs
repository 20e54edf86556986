//! Which tool call a process, file or network event belongs to.
//!
//! The rules (documented in docs/traces.md), for an event of process Q in an agent session:
//! 1. **Process lineage** (as sure as the link it descends from): Q or an ancestor of Q below
//!    the agent ran a command already linked to tool call T → T.
//! 2. **Arguments** (high): among the session's open tool calls (issued by a response, result
//!    not yet sent back), the one whose arguments name what the event shows — an exec whose
//!    command line contains a string argument of the call (arrays of strings joined by spaces;
//!    quotes, backslashes and repeated blanks ignored), a file whose path (or, for shell
//!    commands, whose file name) appears in an argument. The longest match wins; a tie between
//!    calls lowers the link to medium.
//! 3. **Timing** (medium when one call is open, low when several are): an event of a process
//!    below the agent (never of the agent's own processes, which do their own work between
//!    calls) while calls are open → the most recently issued open call.
//!
//! An event matching none of these stays at the session's root.

use oisp_event::ConfidenceLevel;
use serde_json::{Map, Value};

/// Strings shorter than this never match (`ls`, `-c`, `.` would match everything).
const MIN_MATCH: usize = 4;

/// A tool call whose result has not been sent back yet.
#[derive(Debug, Clone)]
pub struct OpenCall {
    /// The `agent.tool_call` event's id.
    pub event_id: String,
    /// Normalised string arguments (see [`normalise`]).
    pub needles: Vec<String>,
    /// Capture time (monotonic ns) the call was issued.
    pub issued_ns: u64,
}

/// What an event shows, for matching against tool arguments.
pub enum Observed<'a> {
    /// A command line.
    Exec(&'a [String]),
    /// A file path.
    File(&'a str),
    /// Anything else (a connect, an exit): only lineage and timing apply.
    Other,
}

/// The tool call an event is linked to, how sure, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub event_id: String,
    pub confidence: ConfidenceLevel,
    pub basis: &'static str,
}

/// Lower-cases nothing but drops quotes and backslashes and collapses blanks, so a command
/// quoted by a shell wrapper (`bash -c 'eval '"'"'echo hi'"'"''`) still contains the command.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for c in s.chars() {
        match c {
            '\'' | '"' | '\\' => {}
            c if c.is_whitespace() => blank = true,
            c => {
                if blank && !out.is_empty() {
                    out.push(' ');
                }
                blank = false;
                out.push(c);
            }
        }
    }
    out
}

/// The strings of a tool call's arguments worth matching: every string value, and every array
/// of strings joined by spaces (an argv), normalised; short ones dropped.
pub fn needles(args: &Map<String, Value>) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(normalise(s)),
            Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_string) => {
                let parts: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                out.push(normalise(&parts.join(" ")));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(m) => m.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    args.values().for_each(|v| walk(v, &mut out));
    out.retain(|s| s.len() >= MIN_MATCH);
    out.sort();
    out.dedup();
    out
}

/// Whether `text` names the file `path` as a whole: an occurrence not followed by more of a path
/// (so a directory is not named by a path below it) and, for a bare file name (`whole_name`),
/// not preceded by more of a name either (`agents` is not named by `two_agents-1`).
fn mentions(text: &str, path: &str, whole_name: bool) -> bool {
    let part = |c: char| c.is_alphanumeric() || matches!(c, '/' | '.' | '-' | '_');
    text.match_indices(path).any(|(i, _)| {
        let after = text[i + path.len()..].chars().next();
        let before = text[..i].chars().next_back();
        let path_goes_on = after.is_some_and(part);
        let name_starts_earlier = whole_name && before.is_some_and(|c| part(c) && c != '/');
        !path_goes_on && !name_starts_earlier
    })
}

/// How well `call`'s arguments name what was observed: the length of the longest match.
fn score(call: &OpenCall, seen: &Observed) -> usize {
    match seen {
        Observed::Exec(args) => {
            let hay = normalise(&args.join(" "));
            call.needles
                .iter()
                .filter(|n| hay.contains(n.as_str()))
                .map(String::len)
                .max()
                .unwrap_or(0)
        }
        Observed::File(path) => {
            let name = path.rsplit('/').next().unwrap_or(path);
            call.needles
                .iter()
                .map(|n| {
                    if mentions(n, path, false) {
                        path.len()
                    } else if name.len() >= MIN_MATCH && mentions(n, name, true) {
                        name.len()
                    } else {
                        0
                    }
                })
                .max()
                .unwrap_or(0)
        }
        Observed::Other => 0,
    }
}

/// Rules 2 and 3 (rule 1 is the caller's: it knows the processes). `open` is in issue order;
/// `own_process`: the event is of one of the agent's own processes.
pub fn link(open: &[OpenCall], seen: &Observed, own_process: bool) -> Option<Link> {
    let scores: Vec<usize> = open.iter().map(|c| score(c, seen)).collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    if best > 0 {
        let winners: Vec<usize> = (0..open.len()).filter(|&i| scores[i] == best).collect();
        let i = winners[0];
        return Some(Link {
            event_id: open[i].event_id.clone(),
            confidence: if winners.len() == 1 {
                ConfidenceLevel::High
            } else {
                ConfidenceLevel::Medium
            },
            basis: "arguments",
        });
    }
    if own_process {
        return None;
    }
    let latest = open.iter().max_by_key(|c| c.issued_ns)?;
    Some(Link {
        event_id: latest.event_id.clone(),
        confidence: if open.len() == 1 {
            ConfidenceLevel::Medium
        } else {
            ConfidenceLevel::Low
        },
        basis: "timing",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(id: &str, args: Value, at: u64) -> OpenCall {
        OpenCall {
            event_id: id.into(),
            needles: needles(args.as_object().unwrap()),
            issued_ns: at,
        }
    }

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_wrapped_shell_command_matches_its_call() {
        let open = [
            call(
                "a",
                json!({"command": "echo one > a.txt", "description": "first"}),
                1,
            ),
            call(
                "b",
                json!({"command": "echo two > b.txt", "description": "second"}),
                1,
            ),
        ];
        let exec = argv(&[
            "/bin/bash",
            "-c",
            "-l",
            "source /root/.claude/shell-snapshots/s.sh && eval 'echo two > b.txt' < /dev/null",
        ]);
        let l = link(&open, &Observed::Exec(&exec), false).unwrap();
        assert_eq!((l.event_id.as_str(), l.basis), ("b", "arguments"));
        assert_eq!(l.confidence, ConfidenceLevel::High);
        // A file named by the command, written by the agent itself (no lineage).
        let l = link(&open, &Observed::File("/tmp/w/a.txt"), true).unwrap();
        assert_eq!(l.event_id, "a");
        // Neither a directory above a named file nor a name inside another name.
        let open = [call(
            "c",
            json!({"command": "tee /tmp/two_agents-1/out.txt"}),
            1,
        )];
        assert_eq!(
            link(&open, &Observed::File("/tmp/two_agents-1"), true),
            None
        );
        assert_eq!(link(&open, &Observed::File("/work/agents"), true), None);
        assert!(link(&open, &Observed::File("/tmp/two_agents-1/out.txt"), true).is_some());
    }

    #[test]
    fn argv_arrays_match_joined() {
        let open = [call(
            "c",
            json!({"command": ["bash", "-lc", "printf x | tee out.txt"]}),
            1,
        )];
        let exec = argv(&["/bin/bash", "-lc", "printf x | tee out.txt"]);
        assert_eq!(
            link(&open, &Observed::Exec(&exec), false).unwrap().basis,
            "arguments"
        );
    }

    #[test]
    fn timing_applies_only_below_the_agent_and_says_how_sure() {
        let one = [call("a", json!({"command": "make"}), 5)];
        let l = link(&one, &Observed::Other, false).unwrap();
        assert_eq!((l.basis, l.confidence), ("timing", ConfidenceLevel::Medium));
        assert_eq!(link(&one, &Observed::Other, true), None);
        let two = [
            call("a", json!({"command": "make"}), 5),
            call("b", json!({"command": "make test"}), 6),
        ];
        let l = link(&two, &Observed::Other, false).unwrap();
        assert_eq!(
            (l.event_id.as_str(), l.confidence),
            ("b", ConfidenceLevel::Low)
        );
        assert_eq!(link(&[], &Observed::Other, false), None);
    }

    #[test]
    fn normalising_drops_quotes_and_collapses_blanks() {
        assert_eq!(normalise(" echo  'a b'\n \"c\" \\d"), "echo a b c d");
    }
}
