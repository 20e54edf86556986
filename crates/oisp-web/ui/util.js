// Small helpers shared by the views: DOM building, the API, number and time formats.

/** el('div', {class: 'x', onclick: f}, child, 'text', ...) — children may be nodes, strings or arrays. */
export function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(n.dataset, v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  append(n, children);
  return n;
}

function append(n, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(n, c);
    else n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** GET an API route with query parameters (empty values left out); JSON, or an Error with the server's message. */
export async function api(path, params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') qs.set(k, v);
  const url = qs.toString() ? `${path}?${qs}` : path;
  const r = await fetch(url, { credentials: 'same-origin' });
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try { msg = (await r.json()).error || msg; } catch (_) { /* not JSON */ }
    throw new Error(msg);
  }
  return r.json();
}

export function errorBox(e) { return el('div', { class: 'error' }, String(e.message || e)); }

export function usd(v) {
  if (v === null || v === undefined) return '';
  if (v === 0) return '$0';
  if (v < 0.000001) return '<$0.000001';
  if (v < 0.01) return '$' + Number(v.toPrecision(3)).toString();
  return '$' + v.toFixed(v < 10 ? 4 : 2);
}

export function num(v) {
  if (v === null || v === undefined) return '';
  return Number(v).toLocaleString('en-US');
}

export function tokens(inp, out) {
  if (inp == null && out == null) return '';
  return `${num(inp || 0)}→${num(out || 0)} tok`;
}

/** Local clock time of an RFC 3339 timestamp, with milliseconds. */
export function clock(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (isNaN(d)) return ts;
  return d.toLocaleTimeString('en-GB', { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

export function dateTime(tsOrNs) {
  if (tsOrNs === null || tsOrNs === undefined) return '';
  const d = typeof tsOrNs === 'number' ? new Date(tsOrNs / 1e6) : new Date(tsOrNs);
  return isNaN(d) ? String(tsOrNs) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function ms(v) {
  if (v === null || v === undefined) return '';
  return v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(v < 10000 ? 2 : 1)} s`;
}

export function bytes(n) {
  if (n == null) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** The colour class of an event type (`t-ai`, `t-agent`, …). */
export function typeClass(t) { return 't-' + String(t || '').split('.')[0]; }

/** Parses `#/view/arg?k=v` into { view, arg, params }. */
export function parseHash(hash) {
  const h = (hash || '#/').replace(/^#\/?/, '');
  const [path, query] = h.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || 'timeline', arg: parts[1] || '', params: Object.fromEntries(new URLSearchParams(query || '')) };
}

export function hashFor(view, arg, params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v) qs.set(k, v);
  const q = qs.toString();
  return `#/${view}${arg ? '/' + encodeURIComponent(arg) : ''}${q ? '?' + q : ''}`;
}

/** Text with `[REDACTED:…]` markers highlighted. */
export function markedText(s) {
  const parts = String(s).split(/(\[REDACTED:[^\]]*\])/g);
  return parts.map((p, i) => (i % 2 ? el('span', { class: 'redacted', title: 'redacted by the sensor' }, p) : p));
}

/** Message content: a string, or a `$redacted` marker. */
export function content(c) {
  if (c === null || c === undefined) return el('span', { class: 'meta' }, '(no content)');
  if (typeof c === 'string') return markedText(c);
  if (c.$redacted) {
    const r = c.$redacted;
    return el('span', { class: 'redacted', title: JSON.stringify(r) },
      `[redacted: ${r.reason || 'policy'}${r.original_length != null ? `, ${num(r.original_length)} chars` : ''}]`);
  }
  return JSON.stringify(c);
}

export function kv(pairs) {
  return el('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

/** Closes the detail drawer. */
export function closeDrawer() {
  const d = document.getElementById('drawer');
  d.hidden = true; d.replaceChildren();
}

/** Opens the detail drawer with `nodes`. */
export function openDrawer(...nodes) {
  const d = document.getElementById('drawer');
  d.replaceChildren(el('button', { class: 'close', onclick: closeDrawer, title: 'close (Esc)' }, '✕'), ...nodes);
  d.hidden = false;
}

/** A time-window picker for a view whose parameters are `params`: changes `since` in the hash. */
export function sinceSelect(view, params) {
  const opts = [['', 'all time'], ['1h', 'last hour'], ['24h', 'last 24 hours'], ['7d', 'last 7 days'], ['30d', 'last 30 days']];
  return el('select', {
    id: 'since', 'aria-label': 'time window',
    onchange: (e) => { location.hash = hashFor(view, '', { ...params, since: e.target.value }); },
  }, opts.map(([v, t]) => el('option', { value: v, selected: (params.since || '') === v }, t)));
}
