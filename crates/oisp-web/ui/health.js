// Sensor health: the running record's probes, per-process coverage, counters and every drop,
// each sink's state and lag; the store; this server. Refreshed every 2 seconds.
import { api, el, errorBox, num, bytes, dateTime, kv } from './util.js';

export function render(root) {
  const box = el('div', { id: 'health' }, el('div', { class: 'meta' }, 'loading…'));
  root.append(el('h1', {}, 'Sensor health'), box);
  const draw = async () => {
    try { box.replaceChildren(...view(await api('/api/health'))); } catch (e) { box.replaceChildren(errorBox(e)); }
  };
  draw();
  const t = setInterval(draw, 2000);
  return () => clearInterval(t);
}

function table(id, head, rows) {
  return el('table', { class: 'grid', id }, el('tr', {}, head.map((h) => el('th', {}, h))),
    rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c)))));
}

function view(h) {
  const s = h.store;
  const out = [];
  const rec = h.record;
  if (rec) {
    const c = rec.counters || {};
    out.push(el('div', { class: 'cards' },
      card('record pid', rec.pid), card('probes', num((rec.probes || []).length)), card('events', num(c.events)),
      card('AI calls', num(c.ai_calls)), card('drops', num(h.drops), 'drops')));
    out.push(el('h2', {}, 'Counters and drops'));
    out.push(table('counters', ['counter', 'value'], Object.entries(c).map(([k, v]) => [k.replaceAll('_', ' '), num(v)])));
    out.push(el('h2', {}, 'Sinks'));
    out.push(table('sinks', ['sink', 'target', 'state', 'delivered', 'queued', 'lag', 'dropped', 'failures', 'last error'],
      (rec.sinks || []).map((x) => [x.name, x.target || '', x.state || '', num(x.delivered), num(x.queued), `${num(x.lag_ms)} ms`, num(x.dropped), num(x.failures), x.last_error || ''])));
    out.push(el('h2', {}, 'Per-process coverage'));
    out.push((rec.coverage || []).length
      ? table('coverage', ['pid', 'executable', 'AI calls', 'providers', 'TLS stack', 'located', 'coverage'],
        rec.coverage.map((x) => [x.pid, x.exe, num(x.ai_calls), x.providers, x.stack, x.located, x.coverage]))
      : el('div', { class: 'meta' }, 'No AI-calling process yet.'));
    if ((rec.unlocated || []).length) {
      out.push(el('h2', {}, 'TLS stacks not (fully) hooked'));
      out.push(table('unlocated', ['file', 'why'], rec.unlocated.map((x) => [x.path, x.why])));
    }
    out.push(el('h2', {}, `Probes (${(rec.probes || []).length})`));
    out.push(el('details', {}, el('summary', {}, 'attached probes'),
      table('probes', ['probe', 'file', 'symbol'], (rec.probes || []).map((p) => [p.probe, p.path, p.symbol]))));
    out.push(kv([['started', rec.started], ['updated', rec.updated], ['configuration', rec.config], ['output', rec.output]]));
  } else {
    out.push(el('div', { class: 'meta', id: 'no-record' },
      'No record is running: probes, coverage and live counters appear here while `sudo oisp-sensor record` runs. The store below is what was recorded.'));
  }
  out.push(el('h2', {}, 'Store'));
  out.push(kv([
    ['file', h.store_path], ['size', bytes(s.bytes)], ['events', num(s.events)],
    ['first event', dateTime(s.first_ns)], ['last event', dateTime(s.last_ns)],
    ['sensor warnings', num(s.warnings)], ['agent sessions', num(s.agent_sessions)],
  ]));
  out.push(table('by-type', ['event type', 'events'], s.by_type.map(([t, n]) => [t, num(n)])));
  out.push(el('h2', {}, 'Web server'));
  out.push(kv([['live clients', num(h.web.live_clients)], ['API requests', num(h.web.requests)], ['state file', h.state_file]]));
  return out;
}

function card(k, v, id) {
  return el('div', { class: 'card', id }, el('div', { class: 'v' }, v ?? '–'), el('div', { class: 'k' }, k));
}
