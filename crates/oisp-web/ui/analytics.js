// Analytics: cost, tokens and calls over time by provider, model or process (stacked bar
// charts), and the totals per group.
import { api, el, errorBox, usd, num, hashFor, sinceSelect } from './util.js';
import { stackedBars } from './chart.js';

const DIMS = { provider: 'provider', model: 'model', process: 'process' };
const TOP = 8;

export function render(root, params) {
  const by = DIMS[params.by] ? params.by : 'model';
  const pick = el('select', { id: 'group-by', onchange: (e) => { location.hash = hashFor('analytics', '', { ...params, by: e.target.value }); } },
    Object.keys(DIMS).map((d) => el('option', { value: d, selected: d === by }, `by ${d}`)));
  root.append(el('h1', {}, 'Analytics'), el('div', { class: 'filters' }, pick, sinceSelect('analytics', params)), el('div', { class: 'meta' }, 'loading…'));
  api('/api/analytics', params).then((r) => {
    const rows = r.rows;
    const box = el('div', { id: 'analytics' });
    root.replaceChildren(el('h1', {}, 'Analytics'), el('div', { class: 'filters' }, pick, sinceSelect('analytics', params)), box);
    if (!rows.length) { box.append(el('div', { class: 'empty' }, 'No AI calls recorded.')); return; }
    const key = (x) => x[by] || '(unknown)';
    const groups = new Map();
    for (const x of rows) {
      const g = groups.get(key(x)) || { name: key(x), calls: 0, tin: 0, tout: 0, cost: 0 };
      g.calls += x.calls; g.tin += x.prompt_tokens; g.tout += x.completion_tokens; g.cost += x.cost_usd;
      groups.set(key(x), g);
    }
    const ranked = [...groups.values()].sort((a, b) => b.cost - a.cost || b.calls - a.calls);
    const top = new Set(ranked.slice(0, TOP).map((g) => g.name));
    const name = (x) => (top.has(key(x)) ? key(x) : 'other');
    const buckets = [...new Set(rows.map((x) => x.t_ns))].sort((a, b) => a - b);
    const series = (metric) => {
      const m = new Map();
      for (const x of rows) {
        const n = name(x);
        if (!m.has(n)) m.set(n, { name: n, values: new Map() });
        const v = m.get(n).values;
        v.set(x.t_ns, (v.get(x.t_ns) || 0) + metric(x));
      }
      return [...m.values()].sort((a, b) => (a.name === 'other') - (b.name === 'other'));
    };
    const bucketS = r.bucket_ns / 1e9;
    const per = bucketS >= 3600 ? `${bucketS / 3600} h` : bucketS >= 60 ? `${bucketS / 60} min` : `${bucketS} s`;
    box.append(
      el('div', { class: 'cards' },
        card('AI calls', num(ranked.reduce((a, g) => a + g.calls, 0))),
        card('tokens', num(ranked.reduce((a, g) => a + g.tin + g.tout, 0))),
        card('cost', usd(ranked.reduce((a, g) => a + g.cost, 0)), 'an-cost')),
      stackedBars(`Cost per ${per}, by ${by}`, buckets, series((x) => x.cost_usd), (v) => usd(v), r.bucket_ns),
      stackedBars(`Tokens per ${per}, by ${by}`, buckets, series((x) => x.prompt_tokens + x.completion_tokens), (v) => num(Math.round(v)), r.bucket_ns),
      stackedBars(`AI calls per ${per}, by ${by}`, buckets, series((x) => x.calls), (v) => num(Math.round(v)), r.bucket_ns),
      el('table', { class: 'grid', id: 'analytics-table' },
        el('tr', {}, el('th', {}, by), el('th', { class: 'num' }, 'calls'), el('th', { class: 'num' }, 'tokens in'),
          el('th', { class: 'num' }, 'tokens out'), el('th', { class: 'num' }, 'cost')),
        ranked.map((g) => el('tr', {}, el('td', {}, g.name), el('td', { class: 'num' }, num(g.calls)),
          el('td', { class: 'num' }, num(g.tin)), el('td', { class: 'num' }, num(g.tout)), el('td', { class: 'num' }, usd(g.cost))))));
  }).catch((e) => root.replaceChildren(errorBox(e)));
}

function card(k, v, id) {
  return el('div', { class: 'card', id }, el('div', { class: 'v' }, v), el('div', { class: 'k' }, k));
}
