//! The TUI's state and its key handling: a pure state machine. Keys change the state and may ask
//! the runner for work (an [`Action`]: read a trace, apply a filter, page older events, quit);
//! it reads nothing itself.
//!
//! Views stack: the list is at the bottom, `enter`/`t`/`p`/`s`/`?` open a view on top, `esc`
//! goes back one. The list follows new events (selection on the newest, at the bottom) until the
//! user moves up; `End` (or moving down onto the last entry) follows again.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What is on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    List,
    Detail,
    Trace,
    Procs,
    Sessions,
    Help,
}

/// Work the runner does for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    /// The selected entry's detail.
    OpenDetail,
    /// The trace of the selected entry's agent session.
    OpenTrace,
    /// The trace of the session at this index of the sessions list.
    SessionTrace(usize),
    OpenProcs,
    OpenSessions,
    OpenHelp,
    /// Apply (`Some`) or clear (`None`) the text filter.
    Filter(Option<String>),
    /// Read older events (the selection is at the top of the window).
    LoadOlder,
}

#[derive(Debug, Clone)]
pub struct App {
    stack: Vec<View>,
    /// Index of the selected list entry.
    pub selected: usize,
    /// Row key of the selected entry (kept across rebuilds of the list).
    selected_key: Option<i64>,
    /// Following the newest entry.
    pub follow: bool,
    /// Entries in the list.
    pub list_len: usize,
    /// First line shown of the pane on top (detail, trace, processes, help).
    pub scroll: usize,
    /// Lines of that pane.
    pub pane_len: usize,
    /// Selected row of the sessions list, and its length.
    pub session_sel: usize,
    pub sessions_len: usize,
    /// Rows visible at once (set from the screen size).
    pub page: usize,
    /// The filter being typed after `/`.
    pub input: Option<String>,
    /// Whether a text filter is in force.
    pub filtered: bool,
}

impl Default for App {
    fn default() -> Self {
        App {
            stack: vec![View::List],
            selected: 0,
            selected_key: None,
            follow: true,
            list_len: 0,
            scroll: 0,
            pane_len: 0,
            session_sel: 0,
            sessions_len: 0,
            page: 20,
            input: None,
            filtered: false,
        }
    }
}

impl App {
    pub fn view(&self) -> View {
        *self.stack.last().unwrap_or(&View::List)
    }

    /// Puts `v` on top (a view already on top is not stacked twice); the pane starts at its top.
    pub fn open(&mut self, v: View) {
        if self.view() != v {
            self.stack.push(v);
        }
        self.scroll = 0;
    }

    /// Back one view (never below the list).
    pub fn back(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
        self.scroll = 0;
    }

    /// The list was rebuilt with entries of these row keys: keep the selection on its entry, or
    /// on the newest when following.
    pub fn relist(&mut self, keys: &[i64]) {
        self.list_len = keys.len();
        let last = keys.len().saturating_sub(1);
        self.selected = match self.selected_key {
            _ if self.follow => last,
            Some(k) => keys.iter().position(|x| *x == k).unwrap_or(last),
            None => last,
        };
        self.selected_key = keys.get(self.selected).copied();
    }

    fn select(&mut self, i: usize, keys: &[i64]) {
        self.selected = i.min(self.list_len.saturating_sub(1));
        self.follow = self.selected + 1 >= self.list_len;
        self.selected_key = keys.get(self.selected).copied();
    }

    /// Handles one key; `keys` are the list's row keys.
    pub fn on_key(&mut self, k: KeyEvent, keys: &[i64]) -> Action {
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            return Action::Quit;
        }
        if let Some(text) = &mut self.input {
            return match k.code {
                KeyCode::Enter => {
                    let t = std::mem::take(text);
                    self.input = None;
                    self.filtered = !t.trim().is_empty();
                    Action::Filter(Some(t))
                }
                KeyCode::Esc => {
                    self.input = None;
                    self.filtered = false;
                    Action::Filter(None)
                }
                KeyCode::Backspace => {
                    text.pop();
                    Action::None
                }
                KeyCode::Char(c) => {
                    text.push(c);
                    Action::None
                }
                _ => Action::None,
            };
        }
        match k.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Char('?') => return Action::OpenHelp,
            KeyCode::Char('p') => return Action::OpenProcs,
            KeyCode::Char('s') => return Action::OpenSessions,
            KeyCode::Char('/') => {
                self.stack.truncate(1);
                self.input = Some(String::new());
                return Action::None;
            }
            _ => {}
        }
        match self.view() {
            View::List => self.list_key(k.code, keys),
            View::Sessions => self.sessions_key(k.code),
            _ => self.pane_key(k.code),
        }
    }

    fn list_key(&mut self, code: KeyCode, keys: &[i64]) -> Action {
        let at_top = self.selected == 0;
        let page = self.page.max(1);
        match code {
            KeyCode::Char('j') | KeyCode::Down => self.select(self.selected + 1, keys),
            KeyCode::Char('k') | KeyCode::Up | KeyCode::PageUp if at_top => {
                return Action::LoadOlder
            }
            KeyCode::Char('k') | KeyCode::Up => self.select(self.selected - 1, keys),
            KeyCode::PageDown => self.select(self.selected + page, keys),
            KeyCode::PageUp => self.select(self.selected.saturating_sub(page), keys),
            KeyCode::Home | KeyCode::Char('g') => self.select(0, keys),
            KeyCode::End | KeyCode::Char('G') => self.select(usize::MAX, keys),
            KeyCode::Enter if self.list_len > 0 => return Action::OpenDetail,
            KeyCode::Char('t') if self.list_len > 0 => return Action::OpenTrace,
            KeyCode::Esc if self.filtered => {
                self.filtered = false;
                return Action::Filter(None);
            }
            _ => {}
        }
        Action::None
    }

    fn sessions_key(&mut self, code: KeyCode) -> Action {
        let last = self.sessions_len.saturating_sub(1);
        match code {
            KeyCode::Char('j') | KeyCode::Down => {
                self.session_sel = (self.session_sel + 1).min(last)
            }
            KeyCode::Char('k') | KeyCode::Up => {
                self.session_sel = self.session_sel.saturating_sub(1)
            }
            KeyCode::Home | KeyCode::Char('g') => self.session_sel = 0,
            KeyCode::End | KeyCode::Char('G') => self.session_sel = last,
            KeyCode::Enter | KeyCode::Char('t') if self.sessions_len > 0 => {
                return Action::SessionTrace(self.session_sel)
            }
            KeyCode::Esc => self.back(),
            _ => {}
        }
        Action::None
    }

    fn pane_key(&mut self, code: KeyCode) -> Action {
        let page = self.page.max(1);
        let max = self.pane_len.saturating_sub(page);
        match code {
            KeyCode::Char('j') | KeyCode::Down => self.scroll = (self.scroll + 1).min(max),
            KeyCode::Char('k') | KeyCode::Up => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll = (self.scroll + page).min(max),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(page),
            KeyCode::Home | KeyCode::Char('g') => self.scroll = 0,
            KeyCode::End | KeyCode::Char('G') => self.scroll = max,
            KeyCode::Char('t') if self.view() == View::Detail => return Action::OpenTrace,
            KeyCode::Esc => self.back(),
            _ => {}
        }
        Action::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn app(n: usize) -> (App, Vec<i64>) {
        let keys: Vec<i64> = (1..=n as i64).collect();
        let mut a = App::default();
        a.relist(&keys);
        (a, keys)
    }

    #[test]
    fn the_list_follows_until_the_user_moves_up_and_again_at_the_end() {
        let (mut a, keys) = app(5);
        assert_eq!((a.selected, a.follow), (4, true));
        a.on_key(key(KeyCode::Char('k')), &keys);
        assert_eq!((a.selected, a.follow), (3, false));
        // New entries arrive: the selection stays on its entry.
        let more: Vec<i64> = (1..=8).collect();
        a.relist(&more);
        assert_eq!(a.selected, 3);
        a.on_key(key(KeyCode::End), &more);
        assert_eq!((a.selected, a.follow), (7, true));
        a.relist(&(1..=9).collect::<Vec<_>>());
        assert_eq!(a.selected, 8);
    }

    #[test]
    fn moving_up_from_the_top_asks_for_older_events() {
        let (mut a, keys) = app(3);
        a.on_key(key(KeyCode::Home), &keys);
        assert_eq!(a.selected, 0);
        assert_eq!(a.on_key(key(KeyCode::Up), &keys), Action::LoadOlder);
        // Older entries prepended: the selection stays on its entry.
        a.relist(&[-2, -1, 0, 1, 2, 3]);
        assert_eq!(a.selected, 3);
    }

    #[test]
    fn views_stack_and_esc_goes_back() {
        let (mut a, keys) = app(2);
        assert_eq!(a.on_key(key(KeyCode::Enter), &keys), Action::OpenDetail);
        a.open(View::Detail);
        assert_eq!(a.on_key(key(KeyCode::Char('t')), &keys), Action::OpenTrace);
        a.open(View::Trace);
        a.on_key(key(KeyCode::Esc), &keys);
        assert_eq!(a.view(), View::Detail);
        a.on_key(key(KeyCode::Esc), &keys);
        a.on_key(key(KeyCode::Esc), &keys);
        assert_eq!(a.view(), View::List);
        assert_eq!(a.on_key(key(KeyCode::Char('?')), &keys), Action::OpenHelp);
        assert_eq!(a.on_key(key(KeyCode::Char('q')), &keys), Action::Quit);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(a.on_key(ctrl_c, &keys), Action::Quit);
    }

    #[test]
    fn the_filter_is_typed_applied_with_enter_and_cleared_with_esc() {
        let (mut a, keys) = app(2);
        a.on_key(key(KeyCode::Char('/')), &keys);
        for c in "qx".chars() {
            assert_eq!(a.on_key(key(KeyCode::Char(c)), &keys), Action::None);
        }
        a.on_key(key(KeyCode::Backspace), &keys);
        a.on_key(key(KeyCode::Char('y')), &keys);
        assert_eq!(a.input.as_deref(), Some("qy"));
        assert_eq!(
            a.on_key(key(KeyCode::Enter), &keys),
            Action::Filter(Some("qy".into()))
        );
        assert!(a.filtered && a.input.is_none());
        assert_eq!(a.on_key(key(KeyCode::Esc), &keys), Action::Filter(None));
        assert!(!a.filtered);
    }

    #[test]
    fn panes_scroll_within_their_lines() {
        let (mut a, keys) = app(1);
        a.open(View::Procs);
        a.pane_len = 50;
        a.page = 10;
        a.on_key(key(KeyCode::End), &keys);
        assert_eq!(a.scroll, 40);
        a.on_key(key(KeyCode::PageDown), &keys);
        assert_eq!(a.scroll, 40);
        a.on_key(key(KeyCode::PageUp), &keys);
        a.on_key(key(KeyCode::Char('k')), &keys);
        assert_eq!(a.scroll, 29);
    }

    #[test]
    fn sessions_pick_a_trace() {
        let (mut a, keys) = app(1);
        a.open(View::Sessions);
        a.sessions_len = 3;
        a.on_key(key(KeyCode::Down), &keys);
        a.on_key(key(KeyCode::Down), &keys);
        a.on_key(key(KeyCode::Down), &keys);
        assert_eq!(
            a.on_key(key(KeyCode::Enter), &keys),
            Action::SessionTrace(2)
        );
    }
}
