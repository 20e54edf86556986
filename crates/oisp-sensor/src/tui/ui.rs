//! Drawing one frame: the totals bar and status line at the top, the view in the middle, the
//! keys (or the filter being typed) at the bottom. Pure: draws what [`Screen`] holds.

use super::app::{App, View};
use super::entries::Kind;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// The footer of the list (most used first: a narrow terminal cuts the end).
pub const KEYS: &str = "q quit · enter detail · t trace · p processes · s sessions · / filter · \
                        ? help · ↑↓/jk PgUp PgDn Home End move";
/// The footer of the other views.
pub const PANE_KEYS: &str =
    "esc back · q quit · t trace · p processes · s sessions · ? help · ↑↓/jk PgUp PgDn Home End scroll";

/// What a frame shows.
pub struct Screen<'a> {
    pub app: &'a App,
    /// The list's lines (one per entry) and their kinds (for colour).
    pub list: &'a [String],
    pub kinds: &'a [Kind],
    /// The lines of the view on top (detail, trace, processes, sessions, help).
    pub pane: &'a [String],
    pub pane_title: &'a str,
    /// `AI calls … · tokens … · cost … · events …`.
    pub totals: &'a str,
    /// Drops of a running record, or `no record running`.
    pub drops: &'a str,
    /// Filter, paging and record messages.
    pub status: &'a str,
}

/// The first row to show of a list of `len` rows so that `selected` is visible in `height`
/// rows, moving as little as possible from `offset`, and the rows fill the view when there are
/// enough (a list that shrank is not shown from its middle).
pub fn scroll_to(offset: usize, selected: usize, height: usize, len: usize) -> usize {
    let h = height.max(1);
    let offset = offset.min(len.saturating_sub(h));
    if selected < offset {
        selected
    } else if selected >= offset + h {
        selected + 1 - h
    } else {
        offset
    }
}

/// Rows of the middle area for a terminal `height` rows tall (two bars, the frame, the footer).
pub fn body_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(4)).max(1)
}

/// Draws the frame; returns the list offset used (kept for the next frame).
pub fn draw(f: &mut Frame, s: &Screen, list_offset: usize) -> usize {
    let [top, status, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(f.area());
    let bar = Style::default().bg(Color::Blue).fg(Color::White);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" {} ", s.totals), bar.add_modifier(Modifier::BOLD)),
            Span::styled(format!("│ {} ", s.drops), bar),
        ]))
        .style(bar),
        top,
    );
    f.render_widget(
        Paragraph::new(s.status).style(Style::default().fg(Color::Yellow)),
        status,
    );
    let offset = match s.app.view() {
        View::List => list(f, s, body, list_offset),
        View::Sessions => {
            pane(f, s, body, Some(s.app.session_sel + 1));
            list_offset
        }
        _ => {
            pane(f, s, body, None);
            list_offset
        }
    };
    let footer = match (&s.app.input, s.app.view()) {
        (Some(text), _) => format!("filter (enter apply, esc clear): {text}█"),
        (None, View::List) => KEYS.to_string(),
        (None, View::Sessions) => format!("enter/t trace of the session · {PANE_KEYS}"),
        (None, _) => PANE_KEYS.to_string(),
    };
    f.render_widget(
        Paragraph::new(footer).style(Style::default().add_modifier(Modifier::REVERSED)),
        foot,
    );
    offset
}

fn list(f: &mut Frame, s: &Screen, area: Rect, offset: usize) -> usize {
    let block = Block::default().borders(Borders::TOP).title(format!(
        " events ({}){} ",
        s.list.len(),
        if s.app.follow { " · following" } else { "" }
    ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = usize::from(inner.height);
    let offset = scroll_to(offset, s.app.selected, h, s.list.len());
    if s.list.is_empty() {
        f.render_widget(
            Paragraph::new(
                "no events in the selection yet — new ones appear here as they are recorded",
            ),
            inner,
        );
        return offset;
    }
    let lines: Vec<Line> = s
        .list
        .iter()
        .enumerate()
        .skip(offset)
        .take(h)
        .map(|(i, l)| {
            if i == s.app.selected {
                Line::styled(
                    l.as_str(),
                    Style::default().add_modifier(Modifier::REVERSED),
                )
            } else {
                let colour = match s.kinds.get(i) {
                    Some(Kind::Call) => Style::default().fg(Color::Green),
                    Some(Kind::Failed) | Some(Kind::Warning) => Style::default().fg(Color::Red),
                    Some(Kind::Agent) => Style::default().fg(Color::Yellow),
                    _ => Style::default(),
                };
                Line::styled(l.as_str(), colour)
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    offset
}

/// A scrollable pane; `highlight` marks a row (1-based past the header) of the sessions list.
fn pane(f: &mut Frame, s: &Screen, area: Rect, highlight: Option<usize>) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(format!(" {} ", s.pane_title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = usize::from(inner.height);
    let first = match highlight {
        Some(row) => scroll_to(0, row, h, s.pane.len()),
        None => s.app.scroll,
    };
    let lines: Vec<Line> = s
        .pane
        .iter()
        .enumerate()
        .skip(first)
        .take(h)
        .map(|(i, l)| {
            if Some(i) == highlight {
                Line::styled(
                    l.as_str(),
                    Style::default().add_modifier(Modifier::REVERSED),
                )
            } else if l.contains("[REDACTED") || l.contains("[redacted") {
                Line::styled(l.as_str(), Style::default().fg(Color::Yellow))
            } else if l.starts_with("── ") || l.starts_with('[') {
                Line::styled(l.as_str(), Style::default().add_modifier(Modifier::BOLD))
            } else {
                Line::raw(l.as_str())
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// The help view's lines.
pub fn help() -> Vec<String> {
    [
        "Views",
        "  list        every event or AI call, one line each; the newest at the bottom. It follows",
        "              new events until you move up; End follows again. k/↑ at the top reads older",
        "              events from the store.",
        "  enter       detail of the selected entry: for an AI call the conversation, tools,",
        "              response, tokens, cost, latency, time to first token",
        "  t           trace of the agent session the entry belongs to",
        "  s           agent sessions; enter or t on one shows its trace",
        "  p           processes by parent and child, with their AI calls, tokens and cost",
        "  /           filter: text searched in prompts, responses, tool names, arguments and",
        "              results (enter applies, esc clears)",
        "  esc         back one view (on the list: clear the filter)",
        "  q, Ctrl-C   quit (under `record --tui`: stop recording)",
        "",
        "Top bar",
        "  AI calls    requests in the selection; tokens and cost: sums over their responses;",
        "  events      every event of the selection; then the drops of the running `record`",
        "              (TLS and system records lost, bytes truncated, stream gaps), or",
        "              `no record running`.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    #[test]
    fn scrolling_keeps_the_selection_visible_with_least_movement() {
        assert_eq!(scroll_to(0, 5, 10, 100), 0);
        assert_eq!(scroll_to(0, 12, 10, 100), 3);
        assert_eq!(scroll_to(8, 4, 10, 100), 4);
        assert_eq!(scroll_to(3, 12, 10, 100), 3);
        // The list shrank (a filter): shown from its start, not from the old offset.
        assert_eq!(scroll_to(2500, 3, 10, 4), 0);
        assert_eq!(scroll_to(2500, 30, 10, 31), 21);
    }

    fn text(t: &Terminal<TestBackend>) -> String {
        let buf = t.backend().buffer();
        let w = usize::from(buf.area.width);
        buf.content
            .chunks(w)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn captured_control_characters_never_reach_the_terminal() {
        let app = App::default();
        let list = vec!["prompt \x1b[2J\x07 with\tescapes\r".to_string()];
        let mut t = Terminal::new(TestBackend::new(60, 8)).unwrap();
        let screen = Screen {
            app: &app,
            list: &list,
            kinds: &[],
            pane: &[],
            pane_title: "",
            totals: "t",
            drops: "d",
            status: "\x1b]0;title\x07",
        };
        t.draw(|f| {
            draw(f, &screen, 0);
        })
        .unwrap();
        let out = text(&t);
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(out.contains("prompt [2J with"), "{out}");
    }

    #[test]
    fn a_frame_has_the_totals_the_list_and_the_keys() {
        let mut app = App::default();
        let list: Vec<String> = (0..30).map(|i| format!("line {i}")).collect();
        app.relist(&(0..30).collect::<Vec<i64>>());
        let mut t = Terminal::new(TestBackend::new(100, 12)).unwrap();
        let screen = Screen {
            app: &app,
            list: &list,
            kinds: &[],
            pane: &[],
            pane_title: "",
            totals: "AI calls 3 · tokens 9 · cost $0.01 · events 30",
            drops: "no record running",
            status: "status here",
        };
        let mut offset = 0;
        t.draw(|f| offset = draw(f, &screen, 0)).unwrap();
        let out = text(&t);
        assert!(out.lines().next().unwrap().contains("AI calls 3"), "{out}");
        assert!(out.contains("no record running"));
        assert!(
            out.contains("line 29") && !out.contains("line 20 "),
            "{out}"
        );
        assert!(out.lines().last().unwrap().contains("q quit"), "{out}");
        assert_eq!(offset, 30 - body_rows(12));
    }
}
