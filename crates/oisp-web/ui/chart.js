// A stacked bar chart in SVG: one bar per time bucket, one colour per series.
import { el } from './util.js';

const NS = 'http://www.w3.org/2000/svg';
export const COLOURS = ['#5fb3f9', '#c792ea', '#ffcb6b', '#7fdbca', '#ff8b6a', '#a5e075', '#82aaff', '#f78c6c', '#89ddff', '#d4bfff'];

function svg(tag, attrs, ...children) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  for (const c of children) if (c) n.append(c);
  return n;
}

/**
 * buckets: sorted bucket start times (ns); series: [{name, values: Map(bucket → value)}];
 * fmt: formats an axis value. Returns a node with the chart and its legend.
 */
export function stackedBars(title, buckets, series, fmt, bucketNs) {
  const W = 900, H = 220, L = 64, B = 24, T = 8;
  const totals = buckets.map((b) => series.reduce((a, s) => a + (s.values.get(b) || 0), 0));
  const max = Math.max(...totals, 0) || 1;
  const span = buckets.length ? buckets[buckets.length - 1] - buckets[0] + bucketNs : bucketNs;
  const x = (b) => L + ((b - (buckets[0] || 0)) / span) * (W - L - 8);
  const bw = Math.max(2, ((W - L - 8) * bucketNs) / span - 2);
  const y = (v) => H - B - (v / max) * (H - B - T);
  const g = svg('g', {});
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    g.append(svg('line', { x1: L, x2: W, y1: y(v), y2: y(v), stroke: '#2a3541' }));
    const t = svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', fill: '#8a98a8', 'font-size': 11 });
    t.textContent = fmt(v); g.append(t);
  }
  for (const b of buckets) {
    let base = 0;
    series.forEach((s, i) => {
      const v = s.values.get(b) || 0;
      if (!v) return;
      const r = svg('rect', { x: x(b), y: y(base + v), width: bw, height: Math.max(1, y(base) - y(base + v)), fill: COLOURS[i % COLOURS.length] });
      const tip = svg('title', {}); tip.textContent = `${s.name}: ${fmt(v)} at ${new Date(b / 1e6).toISOString()}`;
      r.append(tip); g.append(r);
      base += v;
    });
  }
  const label = (b, anchor) => {
    const t = svg('text', { x: x(b), y: H - 6, fill: '#8a98a8', 'font-size': 11, 'text-anchor': anchor });
    t.textContent = new Date(b / 1e6).toISOString().replace('T', ' ').slice(5, 16);
    return t;
  };
  if (buckets.length) { g.append(label(buckets[0], 'start')); g.append(label(buckets[buckets.length - 1], 'end')); }
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': title }, g);
  return el('div', { class: 'chart', dataset: { chart: title } }, el('div', { class: 'meta' }, title), chart,
    el('div', { class: 'legend' }, series.map((s, i) => el('span', {}, el('i', { style: `background:${COLOURS[i % COLOURS.length]}` }), s.name))));
}
