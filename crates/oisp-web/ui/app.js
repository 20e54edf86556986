// The page: routing between views (location hash), the header's running totals, the drawer.
import { api, el, usd, num, parseHash, closeDrawer } from './util.js';
import * as timeline from './timeline.js';
import * as call from './call.js';
import * as trace from './trace.js';
import * as processes from './processes.js';
import * as analytics from './analytics.js';
import * as inventory from './inventory.js';
import * as health from './health.js';

const views = {
  timeline: (root, r) => timeline.render(root, r.params),
  call: (root, r) => call.render(root, r.arg),
  sessions: (root, r) => trace.renderSessions(root, r.params),
  trace: (root, r) => trace.renderTrace(root, r.arg),
  processes: (root, r) => processes.render(root, r.params),
  analytics: (root, r) => analytics.render(root, r.params),
  inventory: (root, r) => inventory.render(root, r.params),
  health: (root) => health.render(root),
};
const navOf = { call: 'timeline', trace: 'sessions' };

let cleanup = null;

function route() {
  const r = parseHash(location.hash);
  const view = views[r.view] ? r.view : 'timeline';
  if (cleanup) { try { cleanup(); } catch (_) { /* already gone */ } cleanup = null; }
  closeDrawer();
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === (navOf[view] || view));
  const main = document.getElementById('main');
  main.replaceChildren();
  document.body.dataset.view = view;
  cleanup = views[view](main, r) || null;
}

async function totals() {
  const box = document.getElementById('totals');
  try {
    const o = await api('/api/overview');
    const s = o.store;
    box.replaceChildren(
      el('span', { class: o.recording ? 'live' : 'idle', id: 'rec-state' }, o.recording ? '● recording' : '○ no record running'),
      el('span', {}, el('b', { id: 'tot-calls' }, num(s.ai_calls)), ' AI calls'),
      el('span', {}, el('b', { id: 'tot-tokens' }, num(s.prompt_tokens + s.completion_tokens)), ' tokens'),
      el('span', {}, el('b', { id: 'tot-cost' }, usd(s.cost_usd)), ' cost'),
      el('span', {}, el('b', { id: 'tot-events' }, num(s.events)), ' events'),
      el('span', { class: 'drops' }, el('b', { id: 'tot-drops' }, o.drops == null ? '–' : num(o.drops)), ' drops'),
    );
  } catch (e) {
    box.replaceChildren(el('span', { class: 'error' }, e.message));
  }
}

document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeDrawer(); });
window.addEventListener('hashchange', route);
route();
totals();
setInterval(totals, 3000);
