// The process tree: processes by parent, with what each did (events, AI calls, tool calls,
// tokens, cost, providers and models).
import { api, el, errorBox, usd, num, dateTime, hashFor, sinceSelect } from './util.js';

export function render(root, params) {
  const onlyAi = params.all !== '1';
  root.append(el('h1', {}, 'Process tree'), el('div', { class: 'meta' }, 'loading…'));
  api('/api/processes', params).then((r) => {
    const procs = r.processes;
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    const kids = new Map();
    const roots = [];
    for (const p of procs) {
      if (p.ppid != null && p.ppid !== p.pid && byPid.has(p.ppid)) {
        if (!kids.has(p.ppid)) kids.set(p.ppid, []);
        kids.get(p.ppid).push(p);
      } else roots.push(p);
    }
    const aiBelow = new Map();
    const hasAi = (p) => {
      if (aiBelow.has(p.pid)) return aiBelow.get(p.pid);
      aiBelow.set(p.pid, false);
      const v = p.ai_calls > 0 || (kids.get(p.pid) || []).some(hasAi);
      aiBelow.set(p.pid, v);
      return v;
    };
    const byStart = (a, b) => (a.first_ns || 0) - (b.first_ns || 0);
    const node = (p) => {
      const children = (kids.get(p.pid) || []).filter((c) => !onlyAi || hasAi(c)).sort(byStart);
      return el('li', { dataset: { pid: p.pid } },
        el('span', { class: 'node' },
          el('b', { class: p.ai_calls ? 't-ai' : 't-process' }, `${p.name || '?'} [${p.pid}]`),
          el('span', { class: 'mono meta' }, p.exe || ''),
          p.container ? el('span', { class: 'pill' }, `container ${p.container}`) : null,
          p.ai_calls ? el('span', { class: 'pill ok' }, `${num(p.ai_calls)} AI calls`) : null,
          p.tool_calls ? el('span', { class: 'pill' }, `${num(p.tool_calls)} tool calls`) : null,
          p.tokens ? el('span', { class: 'meta' }, `${num(p.tokens)} tok`) : null,
          p.cost_usd ? el('span', { class: 'meta' }, usd(p.cost_usd)) : null,
          p.providers ? el('span', { class: 'meta' }, p.providers) : null,
          p.models ? el('span', { class: 'meta' }, p.models) : null,
          el('span', { class: 'meta' }, `${num(p.events)} events`),
          el('a', { href: hashFor('timeline', '', { process: p.name || '' }) }, 'events')),
        children.length ? el('ul', {}, children.map(node)) : null);
    };
    // roots whose parent was not recorded (started before the capture, or not followed) are
    // grouped under that parent's pid
    const top = [];
    const absent = new Map();
    for (const p of roots.filter((r) => !onlyAi || hasAi(r)).sort(byStart)) {
      if (p.ppid == null || p.ppid === p.pid) { top.push(p); continue; }
      if (!absent.has(p.ppid)) { const g = { ppid: p.ppid, kids: [] }; absent.set(p.ppid, g); top.push(g); }
      absent.get(p.ppid).kids.push(p);
    }
    const item = (x) => (x.kids
      ? (x.kids.length === 1 ? node(x.kids[0]) : el('li', { dataset: { pid: x.ppid } },
        el('span', { class: 'node' }, el('b', { class: 't-process' }, `[${x.ppid}]`), el('span', { class: 'meta' }, 'parent not recorded'),
          el('span', { class: 'meta' }, `${x.kids.length} children`)),
        el('ul', {}, x.kids.map(node))))
      : node(x));
    const shown = top;
    const toggle = el('label', {}, el('input', {
      type: 'checkbox', checked: onlyAi, id: 'only-ai',
      onchange: (e) => { location.hash = hashFor('processes', '', { ...params, all: e.target.checked ? '' : '1' }); },
    }), ' only processes with AI activity (and their ancestors)');
    root.replaceChildren(el('h1', {}, 'Process tree'),
      el('div', { class: 'filters' }, sinceSelect('processes', params), toggle),
      el('div', { class: 'meta' }, `${num(procs.length)} processes${procs.length >= r.limit ? ` (the ${num(r.limit)} most recently active)` : ''}`,
        procs.length ? ` · ${dateTime(Math.min(...procs.map((p) => p.first_ns || Infinity)))} – ${dateTime(Math.max(...procs.map((p) => p.last_ns || 0)))}` : ''),
      shown.length ? el('div', { class: 'tree', id: 'process-tree' }, el('ul', {}, shown.map(item)))
        : el('div', { class: 'empty' }, 'No processes.'));
  }).catch((e) => root.replaceChildren(errorBox(e)));
}
