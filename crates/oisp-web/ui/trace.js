// Agent sessions: the list, and one session's trace as a tree (session → AI calls → tool calls →
// the commands, file changes and connections linked to each), built from trace_context spans.
import { api, el, errorBox, usd, num, dateTime, ms, hashFor, typeClass, markedText } from './util.js';
import { showEvent } from './timeline.js';

export function renderSessions(root, params) {
  root.append(el('h1', {}, 'Agent sessions'), el('div', { class: 'meta' }, 'loading…'));
  api('/api/sessions', params).then((r) => {
    const list = r.sessions;
    if (!list.length) { root.replaceChildren(el('h1', {}, 'Agent sessions'), el('div', { class: 'empty' }, 'No agent sessions recorded.')); return; }
    const head = ['agent', 'root process', 'started', 'duration', 'AI calls', 'tool calls', 'commands', 'file writes', 'tokens', 'cost', 'task'];
    root.replaceChildren(el('h1', {}, 'Agent sessions'),
      el('table', { class: 'grid', id: 'sessions' },
        el('tr', {}, head.map((h, i) => el('th', { class: i >= 4 && i <= 9 ? 'num' : '' }, h))),
        list.map((s) => {
          const t = s.totals || {};
          const dur = s.start && s.end ? new Date(s.end) - new Date(s.start) : null;
          return el('tr', { dataset: { trace: s.trace_id } },
            el('td', {}, el('a', { href: hashFor('trace', s.trace_id) }, s.agent?.name || 'agent'), ' ',
              el('span', { class: 'pill' }, s.agent?.type || '')),
            el('td', { class: 'mono' }, `${(s.root_exe || '').split('/').pop()} [${s.root_pid ?? '?'}]`),
            el('td', {}, dateTime(s.start)),
            el('td', {}, dur == null ? 'running' : ms(dur)),
            el('td', { class: 'num' }, num(t.ai_calls)), el('td', { class: 'num' }, num(t.tool_calls)),
            el('td', { class: 'num' }, num(t.execs)), el('td', { class: 'num' }, num(t.file_writes)),
            el('td', { class: 'num' }, num(t.tokens)), el('td', { class: 'num' }, usd(t.cost_usd)),
            el('td', {}, (s.task || '').slice(0, 160)));
        })));
  }).catch((e) => root.replaceChildren(errorBox(e)));
}

/** Nodes of the tree: events sharing a span are one node (request+response, call+result). */
function buildTree(events, rows) {
  const rowOf = new Map(rows.map((r) => [r.event_id, r]));
  const nodes = new Map();
  const order = [];
  for (const ev of events) {
    const tc = ev.trace_context || {};
    const key = tc.span_id || ev.event_id;
    let n = nodes.get(key);
    if (!n) { n = { span: key, parent: tc.parent_span_id || null, events: [], children: [] }; nodes.set(key, n); order.push(n); }
    n.events.push({ ev, row: rowOf.get(ev.event_id) || {} });
    if (!n.parent && tc.parent_span_id) n.parent = tc.parent_span_id;
  }
  const roots = [];
  for (const n of order) {
    const p = n.parent && nodes.get(n.parent);
    if (p && p !== n) p.children.push(n); else roots.push(n);
  }
  return roots;
}

function label(n) {
  const first = n.events[0];
  const t = first.ev.event_type;
  const by = (type) => n.events.find((e) => e.ev.event_type === type);
  if (t === 'agent.session') {
    const d = first.ev.data || {};
    return [el('span', { class: 'k t-agent' }, 'session'), el('b', {}, d.agent?.name || 'agent'), markedText(d.task_description || '')];
  }
  if (t.startsWith('ai.')) {
    const req = by('ai.request'); const resp = by('ai.response');
    const r = resp?.row || {};
    return [el('span', { class: 'k t-ai' }, 'AI call'), el('b', {}, r.model || req?.row.model || ''),
      el('span', {}, markedText((req?.row.text || '').slice(0, 120))),
      resp ? el('span', { class: 'meta' }, `→ ${(r.text || '').slice(0, 100)}`) : el('span', { class: 'pill warn' }, 'no response'),
      el('span', { class: 'meta' }, [r.prompt_tokens != null ? `${num(r.prompt_tokens)}→${num(r.completion_tokens)} tok` : '', usd(r.cost_usd)].filter(Boolean).join(' ')),
      (req || resp).row.request_id ? el('a', { href: hashFor('call', (req || resp).row.request_id), onclick: (e) => e.stopPropagation() }, 'conversation') : null];
  }
  if (t.startsWith('agent.tool')) {
    const call = by('agent.tool_call'); const res = by('agent.tool_result');
    return [el('span', { class: 'k t-agent' }, 'tool'), el('b', {}, markedText((call || res).row.text || '')),
      res ? el('span', { class: res.ev.data?.success === false ? 'pill bad' : 'pill ok' }, res.ev.data?.success === false ? 'failed' : 'done') : null];
  }
  const kind = { 'process.exec': 'exec', 'file.write': 'write', 'file.open': 'open', 'file.delete': 'delete', 'file.rename': 'rename', 'network.connect': 'connect', 'process.exit': 'exit' }[t] || t;
  const link = first.ev.related_events?.find((x) => x.confidence);
  return [el('span', { class: `k ${typeClass(t)}` }, kind), el('span', { class: 'mono' }, markedText(first.row.text || '')),
    link ? el('span', { class: 'meta' }, `${link.confidence}${link.basis ? ` (${link.basis})` : ''}`) : null,
    n.events.length > 1 ? el('span', { class: 'pill' }, `×${n.events.length}`) : null];
}

/** Children worth a line of their own; the rest (opens, reads, forks, exits) are folded. */
const MAIN = /^(ai\.|agent\.|sensor\.|process\.exec|file\.(write|delete|rename)|network\.connect)/;

function treeNode(n) {
  const first = n.events[0];
  const main = n.children.filter((c) => MAIN.test(c.events[0].ev.event_type));
  const minor = n.children.filter((c) => !MAIN.test(c.events[0].ev.event_type));
  const counts = {};
  for (const c of minor) { const t = c.events[0].ev.event_type; counts[t] = (counts[t] || 0) + 1; }
  const folded = minor.length ? el('li', { class: 'folded' }, el('details', {},
    el('summary', {}, `${minor.length} more: ${Object.entries(counts).map(([t, k]) => `${k} ${t}`).join(', ')}`),
    el('ul', {}, minor.map(treeNode)))) : null;
  return el('li', { dataset: { type: first.ev.event_type } },
    el('span', { class: 'node', onclick: () => showEvent(first.row) }, label(n)),
    n.children.length ? el('ul', {}, main.map(treeNode), folded) : null);
}

export function renderTrace(root, traceId) {
  root.append(el('div', { class: 'meta' }, 'loading…'));
  api(`/api/trace/${encodeURIComponent(traceId)}`).then((r) => {
    const roots = buildTree(r.events, r.rows);
    const session = r.events.find((e) => e.event_type === 'agent.session');
    const count = (t) => r.events.filter((e) => e.event_type === t).length;
    const cost = r.rows.reduce((a, x) => a + (x.cost_usd || 0), 0);
    root.replaceChildren(
      el('h1', {}, 'Agent trace: ', session?.data?.agent?.name || traceId),
      el('div', { class: 'cards' },
        card('AI calls', count('ai.request')), card('tool calls', count('agent.tool_call')),
        card('commands', count('process.exec')), card('file writes', count('file.write')),
        card('connections', count('network.connect')), card('cost', usd(cost))),
      el('div', { class: 'meta' }, `trace ${traceId}${r.truncated ? ' — first 5,000 events only' : ''}`),
      el('div', { class: 'tree', id: 'trace-tree' }, el('ul', {}, roots.map(treeNode))));
  }).catch((e) => root.replaceChildren(errorBox(e)));
}

function card(k, v) {
  return el('div', { class: 'card' }, el('div', { class: 'v' }, v), el('div', { class: 'k' }, k));
}
