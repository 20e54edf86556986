// Measures the web UI on a large store: API response times (median of 7) and, in headless
// chromium, the time from navigation to the timeline's first rows (first paint of data) and to
// the rows of a filtered query. Prints one line per figure.
//
// OISP_URL: the server (`oisp-sensor web -i BIG.db`); CHROMIUM: default /usr/bin/chromium.
import { chromium } from 'playwright-core';

const url = process.env.OISP_URL;
const RUNS = 7;
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeFetch(path) {
  const xs = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = await fetch(url + path);
    const body = await r.text();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${body}`);
    bytes = body.length;
    xs.push(performance.now() - t);
  }
  return { ms: median(xs), bytes };
}

const api = [
  ['timeline first page (200 rows)', '/api/events?limit=200'],
  ['count of all events (capped at 100,000)', '/api/events?limit=1&count=1'],
  ['timeline, a page deep in history', null],
  ['filter: type=ai.request, model=gpt-4o', '/api/events?type=ai.request&model=gpt-4o&limit=200'],
  ['  its count', '/api/events?type=ai.request&model=gpt-4o&limit=1&count=1'],
  ['filter: process=python', '/api/events?process=python&limit=200'],
  ['  its count', '/api/events?process=python&limit=1&count=1'],
  ['full-text search: "weather in Paris"', '/api/events?q=weather%20in%20Paris&limit=200'],
  ['  its count', '/api/events?q=weather%20in%20Paris&limit=1&count=1'],
  ['agent sessions', '/api/sessions'],
  ['one agent trace', null],
  ['analytics (cost/tokens over time)', '/api/analytics'],
  ['process tree', '/api/processes'],
  ['inventory', '/api/inventory'],
  ['overview (header totals)', '/api/overview'],
];

const first = await (await fetch(url + '/api/events?limit=200')).json();
const deep = await (await fetch(url + '/api/events?limit=1000&before=' + encodeURIComponent(first.next))).json();
let cursor = deep.next;
for (let i = 0; i < 50 && cursor; i++) {
  const p = await (await fetch(url + '/api/events?limit=1000&before=' + encodeURIComponent(cursor))).json();
  cursor = p.next || cursor;
}
api.find((a) => a[1] === null)[1] = '/api/events?limit=200&before=' + encodeURIComponent(cursor);
const sessions = await (await fetch(url + '/api/sessions')).json();
api.find((a) => a[1] === null)[1] = '/api/trace/' + sessions.sessions.find((s) => s.agent?.name === 'claude-code')?.trace_id;

const overview = await (await fetch(url + '/api/overview')).json();
console.log(`store: ${overview.store.events.toLocaleString('en-US')} events, ${(overview.store.bytes / 2 ** 20).toFixed(0)} MiB`);
for (const [name, path] of api) {
  const r = await timeFetch(path);
  console.log(`api  ${name}: ${r.ms.toFixed(1)} ms (${(r.bytes / 1024).toFixed(0)} KiB)`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
async function paint(hash, selector) {
  const xs = [];
  for (let i = 0; i < RUNS; i++) {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const t = performance.now();
    await page.goto(url + '/' + hash);
    await page.waitForSelector(selector, { timeout: 60000 });
    xs.push(performance.now() - t);
    await page.close();
  }
  return median(xs);
}
console.log(`page timeline: first rows painted ${(await paint('#/', '#timeline .row')).toFixed(0)} ms after navigation`);
console.log(`page filtered timeline (type=ai.request, model=gpt-4o): rows painted ${(await paint('#/timeline?type=ai.request&model=gpt-4o', '#timeline .row')).toFixed(0)} ms`);
console.log(`page filtered timeline (process=python): rows painted ${(await paint('#/timeline?process=python', '#timeline .row')).toFixed(0)} ms`);
console.log(`page search "weather in Paris": rows painted ${(await paint('#/timeline?q=weather%20in%20Paris', '#timeline .row')).toFixed(0)} ms`);
console.log(`page analytics: charts drawn ${(await paint('#/analytics', '#analytics svg rect')).toFixed(0)} ms`);
// scrolling: 50 pages down the virtualized list
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await page.goto(url + '/#/');
await page.waitForSelector('#timeline .row');
const t = performance.now();
for (let i = 0; i < 50; i++) {
  const h = await page.evaluate(() => { const l = document.getElementById('timeline'); const was = l.scrollHeight; l.scrollTop = was; return was; });
  await page.waitForFunction((n) => document.getElementById('timeline').scrollHeight > n, h, { timeout: 30000 });
}
const dom = await page.evaluate(() => document.querySelectorAll('#timeline .row').length);
console.log(`page scroll: 50 pages (10,000 rows) loaded in ${(performance.now() - t).toFixed(0)} ms; ${dom} row nodes in the DOM (virtualized)`);
await browser.close();
