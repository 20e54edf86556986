// The live timeline: filters, a virtualized list paged from the server (newest first), new
// events pushed by the live stream, and a detail drawer.
import { api, el, errorBox, usd, tokens, clock, typeClass, hashFor, kv, openDrawer, ms, markedText } from './util.js';

const ROW_H = 30;
const PAGE = 200;
const TYPES = ['', 'ai', 'ai.request', 'ai.response', 'agent', 'agent.tool_call', 'agent.tool_result',
  'agent.session', 'process', 'process.exec', 'file', 'file.write', 'network', 'sensor.warning'];
const FILTER_KEYS = ['type', 'process', 'provider', 'model', 'q', 'since', 'until'];

export function render(root, params) {
  const filter = Object.fromEntries(FILTER_KEYS.map((k) => [k, params[k] || '']));
  const state = { rows: [], ids: new Set(), next: null, loading: false, maxId: 0, fresh: 0, source: null, selected: null };

  const input = (key, placeholder, type = 'text') => el('input', {
    type, placeholder, value: filter[key], 'data-filter': key, 'aria-label': placeholder,
    onkeydown: (e) => { if (e.key === 'Enter') apply(); },
    onchange: apply,
  });
  const typeSel = el('select', { 'data-filter': 'type', onchange: apply, 'aria-label': 'event type' },
    TYPES.map((t) => el('option', { value: t, selected: t === filter.type }, t || 'all types')));
  const bar = el('div', { class: 'filters' },
    typeSel,
    input('process', 'process'),
    input('provider', 'provider'),
    input('model', 'model'),
    input('q', 'search prompts and responses', 'search'),
    input('since', 'since (10m, 2h, RFC 3339)'),
    el('button', { onclick: clear }, 'clear'),
  );
  const meta = el('div', { class: 'meta', id: 'tl-meta' }, 'loading…');
  const spacer = el('div', { class: 'spacer' });
  const badge = el('button', { class: 'newbadge', hidden: true, onclick: () => { list.scrollTop = 0; } });
  const list = el('div', { class: 'vlist', id: 'timeline', onscroll: onScroll }, badge, spacer);
  root.append(el('h1', {}, 'Timeline'), bar, meta, list);

  function apply() {
    const f = {};
    for (const n of bar.querySelectorAll('[data-filter]')) f[n.dataset.filter] = n.value.trim();
    location.hash = hashFor('timeline', '', f);
  }
  function clear() { location.hash = '#/'; }

  function draw() {
    spacer.style.height = `${state.rows.length * ROW_H}px`;
    const top = list.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_H) - 10);
    const last = Math.min(state.rows.length, Math.ceil((top + list.clientHeight) / ROW_H) + 10);
    const nodes = [];
    for (let i = first; i < last; i++) nodes.push(rowNode(state.rows[i], i));
    spacer.replaceChildren(...nodes);
    if (top < ROW_H) { state.fresh = 0; }
    badge.hidden = state.fresh === 0;
    badge.textContent = `${state.fresh} new event${state.fresh === 1 ? '' : 's'} ↑`;
  }

  function rowNode(r, i) {
    const n = el('div', {
      class: `row${r._new ? ' new' : ''}${state.selected === r.id ? ' sel' : ''}`, style: `top:${i * ROW_H}px`,
      dataset: { id: r.id, type: r.type }, onclick: () => detail(r),
    },
    el('span', { class: 'mono' }, clock(r.ts)),
    el('span', { title: r.pid != null ? `pid ${r.pid}` : '' }, `${r.process || '?'}${r.pid != null ? `[${r.pid}]` : ''}`),
    el('span', { class: `c-type ${typeClass(r.type)}` }, r.type),
    el('span', { class: 'c-model', title: r.model || '' }, [r.provider, r.model].filter(Boolean).join(' · ')),
    el('span', { class: 'c-text', title: r.text }, r.text),
    el('span', { class: 'num' }, [tokens(r.prompt_tokens, r.completion_tokens), usd(r.cost_usd)].filter(Boolean).join('  ')));
    r._new = false;
    return n;
  }

  async function load(first) {
    if (state.loading || (!first && !state.next)) return;
    state.loading = true;
    try {
      const page = await api('/api/events', { ...filter, before: first ? '' : state.next, limit: PAGE });
      if (first) {
        state.maxId = page.max_id;
        meta.textContent = page.rows.length < PAGE ? `${page.rows.length} matching events` : 'counting…';
        if (page.rows.length === PAGE) count(page.max_id);
        live();
      }
      for (const r of page.rows) if (!state.ids.has(r.id)) { state.ids.add(r.id); state.rows.push(r); }
      state.next = page.next;
      if (first && !page.rows.length) spacer.replaceChildren(el('div', { class: 'empty' }, 'No events match.'));
      else draw();
    } catch (e) {
      meta.replaceChildren(errorBox(e));
    } finally {
      state.loading = false;
    }
  }

  // Counting may scan the whole store: asked apart, after the rows are shown.
  async function count(upTo) {
    try {
      const c = await api('/api/events', { ...filter, limit: 1, count: 1 });
      const t = c.total;
      const since = c.max_id - upTo;
      meta.textContent = `${t.capped ? 'at least ' : ''}${t.n.toLocaleString('en-US')} matching events${since > 0 ? ` (${since.toLocaleString('en-US')} stored since)` : ''}`;
    } catch (e) { meta.replaceChildren(errorBox(e)); }
  }

  function onScroll() {
    draw();
    if (list.scrollTop + list.clientHeight > state.rows.length * ROW_H - 20 * ROW_H) load(false);
  }

  function live() {
    const qs = new URLSearchParams({ after: state.maxId });
    for (const [k, v] of Object.entries(filter)) if (v) qs.set(k, v);
    const src = new EventSource(`/api/live?${qs}`);
    state.source = src;
    src.addEventListener('rows', (m) => {
      const msg = JSON.parse(m.data);
      state.maxId = msg.max_id;
      const add = msg.rows.filter((r) => !state.ids.has(r.id)).reverse();
      if (!add.length) return;
      for (const r of add) { state.ids.add(r.id); r._new = true; }
      const atTop = list.scrollTop < ROW_H;
      state.rows.unshift(...add);
      if (!atTop) { list.scrollTop += add.length * ROW_H; state.fresh += add.length; }
      meta.dataset.live = String(Number(meta.dataset.live || 0) + add.length);
      draw();
    });
    src.addEventListener('problem', (m) => { meta.textContent = `live stream: ${JSON.parse(m.data).error}`; });
  }

  function detail(r) {
    state.selected = r.id; draw();
    showEvent(r);
  }

  load(true);
  window.addEventListener('resize', draw);
  return () => { if (state.source) state.source.close(); window.removeEventListener('resize', draw); };
}

/** Opens the drawer on the event of timeline row `r` (the whole event is fetched). */
export async function showEvent(r) {
  openDrawer(el('div', { class: 'meta' }, 'loading…'));
  try {
    const resp = await fetch(`/api/events/${r.id}`, { credentials: 'same-origin' });
    if (!resp.ok) throw new Error(`${resp.status} ${(await resp.json()).error}`);
    openDrawer(...eventDetail(await resp.json(), r));
  } catch (e) { openDrawer(errorBox(e)); }
}

/** The drawer's content for one event. */
export function eventDetail(ev, r) {
  const d = ev.data || {};
  const p = ev.process || {};
  const links = el('div', { class: 'filters' },
    r.request_id ? el('a', { href: hashFor('call', r.request_id), id: 'open-call' }, 'Open conversation →') : null,
    r.trace_id ? el('a', { href: hashFor('trace', r.trace_id), id: 'open-trace' }, 'Open agent trace →') : null);
  return [
    el('h1', { class: typeClass(ev.event_type) }, ev.event_type),
    el('div', { class: 'c-text' }, markedText(r.text || '')),
    links,
    kv([
      ['time', ev.ts],
      ['process', p.name ? `${p.name} [${p.pid}] (parent ${p.ppid ?? '?'})` : null],
      ['executable', p.exe],
      ['command line', p.cmdline],
      ['working dir', p.cwd],
      ['container', r.container],
      ['provider', r.provider],
      ['model', r.model],
      ['tokens', tokens(r.prompt_tokens, r.completion_tokens)],
      ['cost', usd(r.cost_usd)],
      ['latency', ms(r.latency_ms)],
      ['request', r.request_id],
      ['trace', r.trace_id],
      ['path', d.path],
      ['destination', d.dest ? `${d.dest.ip || '?'}:${d.dest.port || ''} ${d.dest.domain || ''}` : null],
      ['capture', ev.source ? `${ev.source.capture_method || ''} / ${ev.source.capture_point || ''}` : null],
      ['confidence', ev.confidence ? `${ev.confidence.level || ''} (${(ev.confidence.reasons || []).join(', ')})` : null],
    ]),
    el('details', {}, el('summary', {}, 'event JSON'), el('pre', { class: 'json' }, JSON.stringify(ev, null, 2))),
  ];
}
