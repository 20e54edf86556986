//! The process tree view: processes by parent and child, each with its events, AI calls,
//! tokens and cost in the selection.
//!
//! Contract: every process with figures is listed once; a process whose parent is unknown (or
//! not seen) is a root; parents seen only as links (no events of their own) are listed so that
//! their children hang under them. Siblings are ordered by pid. Cycles (pid reuse) cannot loop.

use super::feed::Parents;
use super::totals::ProcStats;
use crate::timeline::{fmt_usd, truncate};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The tree's lines, with a header line first.
pub fn lines(stats: &HashMap<i64, ProcStats>, parents: &Parents) -> Vec<String> {
    let mut shown: HashSet<i64> = stats.keys().copied().collect();
    // Ancestors known through links come along, so that the tree has its branches.
    for pid in stats.keys() {
        let mut cur = *pid;
        let mut guard = 0;
        while let Some((Some(pp), _)) = parents.get(&cur) {
            if !parents.contains_key(pp) || guard > 64 {
                break;
            }
            shown.insert(*pp);
            cur = *pp;
            guard += 1;
        }
    }
    let parent_of = |pid: i64| -> Option<i64> {
        parents
            .get(&pid)
            .and_then(|(pp, _)| *pp)
            .filter(|pp| *pp != pid && shown.contains(pp))
    };
    let mut children: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut roots = Vec::new();
    for pid in &shown {
        match parent_of(*pid) {
            Some(pp) => children.entry(pp).or_default().push(*pid),
            None => roots.push(*pid),
        }
    }
    roots.sort_unstable();
    children.values_mut().for_each(|v| v.sort_unstable());
    let mut out = vec![format!(
        "{:<48} {:>8} {:>8} {:>10} {:>12}",
        "process[pid]", "events", "AI calls", "tokens", "cost"
    )];
    let mut visited = HashSet::new();
    let ctx = Ctx {
        stats,
        parents,
        children: &children,
    };
    for r in &roots {
        ctx.walk(*r, "", "", &mut visited, &mut out);
    }
    // What a cycle kept away from every root.
    let mut rest: Vec<i64> = shown.difference(&visited).copied().collect();
    rest.sort_unstable();
    for pid in rest {
        if !visited.contains(&pid) {
            ctx.walk(pid, "", "", &mut visited, &mut out);
        }
    }
    out
}

struct Ctx<'a> {
    stats: &'a HashMap<i64, ProcStats>,
    parents: &'a Parents,
    children: &'a BTreeMap<i64, Vec<i64>>,
}

impl Ctx<'_> {
    fn walk(
        &self,
        pid: i64,
        branch: &str,
        prefix: &str,
        visited: &mut HashSet<i64>,
        out: &mut Vec<String>,
    ) {
        if !visited.insert(pid) {
            return;
        }
        let s = self.stats.get(&pid);
        let name = s
            .map(|s| s.name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| self.parents.get(&pid).map(|(_, n)| n.clone()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "?".into());
        // The name gives way so that the pid stays and the columns line up.
        let room = 48usize.saturating_sub(branch.chars().count() + pid.to_string().len() + 2);
        let label = format!("{branch}{}[{pid}]", truncate(&name, room.max(4)));
        out.push(match s {
            Some(s) => format!(
                "{:<48} {:>8} {:>8} {:>10} {:>12}",
                label,
                s.events,
                s.ai_calls,
                s.tokens,
                format!("${}", fmt_usd(s.cost_usd))
            ),
            None => label,
        });
        let kids = self.children.get(&pid).map(Vec::as_slice).unwrap_or(&[]);
        for (i, k) in kids.iter().enumerate() {
            let last = i + 1 == kids.len();
            let (b, p) = if last {
                (format!("{prefix}└─ "), format!("{prefix}   "))
            } else {
                (format!("{prefix}├─ "), format!("{prefix}│  "))
            };
            self.walk(*k, &b, &p, visited, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(name: &str, calls: u64) -> ProcStats {
        ProcStats {
            name: name.into(),
            events: 1,
            ai_calls: calls,
            tokens: calls * 10,
            cost_usd: 0.0,
        }
    }

    #[test]
    fn children_hang_under_parents_and_link_only_ancestors_are_listed() {
        let stats = HashMap::from([
            (10, stat("claude", 2)),
            (11, stat("bash", 0)),
            (12, stat("git", 0)),
        ]);
        let parents = Parents::from([
            (1, (None, "systemd".to_string())),
            (10, (Some(1), "claude".to_string())),
            (11, (Some(10), "bash".to_string())),
            (12, (Some(10), "git".to_string())),
        ]);
        let l = lines(&stats, &parents);
        assert!(l[0].starts_with("process[pid]"));
        assert_eq!(l[1], "systemd[1]");
        assert!(l[2].starts_with("└─ claude[10] "), "{l:?}");
        assert!(l[2].contains(" 2 ") && l[2].contains(" 20 "), "{l:?}");
        assert!(l[3].starts_with("   ├─ bash[11]"), "{l:?}");
        assert!(l[4].starts_with("   └─ git[12]"), "{l:?}");
    }

    #[test]
    fn a_cycle_does_not_loop_and_unknown_parents_make_roots() {
        let stats = HashMap::from([(5, stat("a", 1)), (6, stat("b", 1)), (7, stat("c", 0))]);
        let parents = Parents::from([
            (5, (Some(6), "a".to_string())),
            (6, (Some(5), "b".to_string())),
            (7, (Some(999), "c".to_string())),
        ]);
        let l = lines(&stats, &parents);
        assert_eq!(l.len(), 4, "{l:?}");
        assert!(l.iter().any(|x| x.starts_with("c[7]")), "{l:?}");
    }
}
