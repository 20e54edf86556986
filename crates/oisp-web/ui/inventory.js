// Inventory: which applications, processes and containers use which providers, models and API
// keys (prefix and hash only; the sensor never keeps a whole key).
import { api, el, errorBox, usd, num, dateTime, sinceSelect } from './util.js';

export function render(root, params) {
  root.append(el('h1', {}, 'Inventory'), el('div', { class: 'meta' }, 'loading…'));
  api('/api/inventory', params).then((r) => {
    const rows = r.rows;
    if (!rows.length) { root.replaceChildren(el('h1', {}, 'Inventory'), el('div', { class: 'empty' }, 'No AI calls recorded.')); return; }
    const apps = new Set(rows.map((x) => x.exe));
    const keys = new Set(rows.filter((x) => x.key_hash).map((x) => x.key_hash));
    const providers = new Set(rows.map((x) => x.provider));
    const models = new Set(rows.map((x) => x.model));
    const head = ['application', 'container', 'provider', 'model', 'API key', 'calls', 'processes', 'tokens', 'cost', 'first seen', 'last seen'];
    root.replaceChildren(el('h1', {}, 'Inventory'), el('div', { class: 'filters' }, sinceSelect('inventory', params)),
      el('div', { class: 'cards' }, card('applications', apps.size), card('providers', providers.size),
        card('models', models.size), card('API keys', keys.size)),
      el('table', { class: 'grid', id: 'inventory' },
        el('tr', {}, head.map((h, i) => el('th', { class: i >= 5 && i <= 8 ? 'num' : '' }, h))),
        rows.map((x) => el('tr', {},
          el('td', { class: 'mono', title: x.exe || '' }, x.name || (x.exe || '?').split('/').pop(), el('div', { class: 'meta' }, x.exe || '')),
          el('td', {}, x.container || 'host'),
          el('td', {}, x.provider || '?'),
          el('td', { class: 'mono' }, x.model || '?'),
          el('td', { class: 'mono' }, x.key_prefix ? `${x.key_prefix}… ${x.key_hash || ''}` : (x.key_hash || 'none seen')),
          el('td', { class: 'num' }, num(x.calls)), el('td', { class: 'num' }, num(x.processes)),
          el('td', { class: 'num' }, num(x.tokens)), el('td', { class: 'num' }, usd(x.cost_usd)),
          el('td', {}, dateTime(x.first_ns)), el('td', {}, dateTime(x.last_ns))))));
  }).catch((e) => root.replaceChildren(errorBox(e)));
}

function card(k, v) {
  return el('div', { class: 'card' }, el('div', { class: 'v' }, v), el('div', { class: 'k' }, k));
}
