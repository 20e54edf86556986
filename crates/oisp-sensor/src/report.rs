//! A small table type rendered as aligned text, JSON or CSV (for `analyze`).

use crate::cli::Format;
use serde_json::{Map, Value};

/// One cell: text or a number (numbers right-align and stay numbers in JSON).
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(u64),
    Usd(f64),
    Float(f64),
    Empty,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Usd(v) => format!("{v:.6}"),
            Cell::Float(v) => format!("{v:.1}"),
            Cell::Empty => String::new(),
        }
    }
    fn json(&self) -> Value {
        match self {
            Cell::Text(s) => Value::String(s.clone()),
            Cell::Int(n) => Value::from(*n),
            Cell::Usd(v) | Cell::Float(v) => serde_json::Number::from_f64(*v)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Cell::Empty => Value::Null,
        }
    }
    fn numeric(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Usd(_) | Cell::Float(_))
    }
}

/// A titled table with an optional totals row.
pub struct Table {
    pub title: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub totals: Option<Vec<Cell>>,
}

impl Table {
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.text(),
            Format::Json => self.json(),
            Format::Csv => self.csv(),
        }
    }

    fn text(&self) -> String {
        let all: Vec<&Vec<Cell>> = self.rows.iter().chain(self.totals.iter()).collect();
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                all.iter()
                    .map(|r| r.get(i).map_or(0, |c| c.text().chars().count()))
                    .max()
                    .unwrap_or(0)
                    .max(c.len())
            })
            .collect();
        let line = |cells: Vec<(String, bool)>| -> String {
            cells
                .iter()
                .zip(&widths)
                .map(|((t, right), w)| {
                    if *right {
                        format!("{t:>w$}")
                    } else {
                        format!("{t:<w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let mut out = format!("{}\n", self.title);
        out.push_str(&line(
            self.columns
                .iter()
                .map(|c| (c.to_string(), false))
                .collect(),
        ));
        out.push('\n');
        out.push_str(
            &"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)),
        );
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r.iter().map(|c| (c.text(), c.numeric())).collect()));
            out.push('\n');
        }
        if let Some(t) = &self.totals {
            out.push_str(&line(t.iter().map(|c| (c.text(), c.numeric())).collect()));
            out.push('\n');
        }
        out
    }

    fn object(&self, cells: &[Cell]) -> Value {
        let mut m = Map::new();
        for (c, v) in self.columns.iter().zip(cells) {
            m.insert(c.to_string(), v.json());
        }
        Value::Object(m)
    }

    fn json(&self) -> String {
        let mut doc = Map::new();
        doc.insert("report".into(), Value::String(self.title.clone()));
        doc.insert(
            "rows".into(),
            Value::Array(self.rows.iter().map(|r| self.object(r)).collect()),
        );
        if let Some(t) = &self.totals {
            doc.insert("totals".into(), self.object(t));
        }
        serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default() + "\n"
    }

    fn csv(&self) -> String {
        let esc = |s: String| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s
            }
        };
        let mut out = self.columns.join(",") + "\n";
        for r in self.rows.iter().chain(self.totals.iter()) {
            out.push_str(
                &r.iter()
                    .map(|c| esc(c.text()))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        out
    }
}
