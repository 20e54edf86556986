// Drives Debian's chromium (headless, through playwright-core) through every view of the
// oisp-sensor web UI served from a store filled by `demo` and `replay`, checks the content that
// matters, and saves a screenshot of each view.
//
// Environment: OISP_URL (the server's URL), OISP_BIN (the oisp-sensor binary), OISP_STORE (the
// store it serves), OISP_LIVE_RAW (a raw capture not yet in the store, replayed into it while the
// timeline is open), OISP_EXPECT (JSON: facts computed from `oisp-sensor show --json`),
// OISP_ARTIFACTS (where screenshots go), CHROMIUM (default /usr/bin/chromium).
// Exit status 0 when every check passed; each check prints one line.
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { usd } from '../../crates/oisp-web/ui/util.js';

const url = process.env.OISP_URL;
const expect = JSON.parse(process.env.OISP_EXPECT || '{}');
const out = process.env.OISP_ARTIFACTS || 'target/artifacts/web';
mkdirSync(out, { recursive: true });

let failed = 0;
function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  if (!ok) failed++;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
const shot = (name) => page.screenshot({ path: `${out}/${name}.png`, fullPage: false });
const text = (sel) => page.locator(sel).first().innerText({ timeout: 10000 }).catch(() => '');

try {
  // Timeline: rows, header totals, text search through the store's FTS.
  await page.goto(url);
  await page.waitForSelector('#timeline .row', { timeout: 15000 });
  await page.waitForSelector('#tot-calls', { timeout: 10000 });
  check('timeline lists events', (await page.locator('#timeline .row').count()) > 10);
  const calls = (await text('#tot-calls')).replace(/,/g, '');
  check('header counts the AI calls', calls === String(expect.ai_calls), `shows ${calls}, expected ${expect.ai_calls}`);
  check('header shows the total cost', (await text('#tot-cost')) === usd(expect.cost_usd), `shows ${await text('#tot-cost')}, expected ${usd(expect.cost_usd)}`);
  await shot('timeline');

  await page.fill('input[data-filter=q]', expect.prompt);
  await page.press('input[data-filter=q]', 'Enter');
  await page.waitForFunction((p) => {
    const rows = [...document.querySelectorAll('#timeline .row')];
    return rows.length > 0 && rows.every((r) => r.innerText.includes(p) || r.dataset.type === 'ai.response' || r.dataset.type === 'agent.session');
  }, expect.prompt, { timeout: 10000 }).catch(() => {});
  const rows = await page.locator('#timeline .row').allInnerTexts();
  check('text search finds the known prompt', rows.some((r) => r.includes(expect.prompt)), `${rows.length} rows`);
  await shot('timeline-search');

  // Detail drawer → conversation view.
  await page.locator('#timeline .row[data-type="ai.request"]').first().click();
  await page.waitForSelector('#drawer:not([hidden]) #open-call', { timeout: 10000 });
  await shot('event-detail');
  await page.click('#open-call');
  await page.waitForSelector('#messages', { timeout: 10000 });
  check('the drawer opens the conversation of the row', (await text('#messages .msg.user')).includes(expect.prompt));
  await page.goto(`${url}#/call/${encodeURIComponent(expect.request_id)}`);
  await page.waitForSelector('#messages', { timeout: 10000 });
  check('conversation shows the prompt with its role', (await text('#messages .msg.user')).includes(expect.prompt));
  check('conversation shows the whole response', (await text('#response')).includes(expect.response));
  check('conversation shows the call cost', (await text('#call-cost')).includes(usd(expect.call_cost)), `${await text('#call-cost')} vs ${usd(expect.call_cost)}`);
  check('system prompt is collapsed', (await page.locator('#system-prompt').count()) === 1 && !(await page.locator('#system-prompt').evaluate((d) => d.open)));
  await shot('conversation');

  // A call recorded with --redaction minimal: its content shows as redaction markers.
  await page.goto(`${url}#/call/${encodeURIComponent(expect.redacted_request_id)}`);
  await page.waitForSelector('#messages', { timeout: 10000 });
  check('redaction markers are shown', (await page.locator('.redacted').count()) > 0);
  await shot('conversation-redacted');

  // Agent sessions → one session's trace: tool call with the command it ran and the file it wrote.
  await page.goto(`${url}#/sessions`);
  await page.waitForSelector('#sessions tr[data-trace]', { timeout: 10000 });
  const sessions = await text('#sessions');
  check('sessions list Claude Code and Codex', sessions.includes('claude') && sessions.includes('codex'));
  await shot('sessions');
  await page.locator(`#sessions tr[data-trace="${expect.trace_id}"] a`).first().click();
  await page.waitForSelector('#trace-tree li', { timeout: 10000 });
  const tool = page.locator('#trace-tree li[data-type="agent.tool_call"]', { hasText: expect.tool_text }).first();
  const below = await tool.innerText().catch(() => '');
  check('trace: the tool call holds the command it ran', below.includes(expect.exec_text), expect.exec_text);
  check('trace: the tool call holds the file it wrote', below.includes(expect.file_text), expect.file_text);
  await shot('trace');

  // Process tree.
  await page.goto(`${url}#/processes`);
  await page.waitForSelector('#process-tree li', { timeout: 10000 });
  const tree = await text('#process-tree');
  check('process tree shows the agents with their AI calls', tree.includes('claude') && /AI calls/.test(tree));
  await shot('processes');

  // Analytics.
  await page.goto(`${url}#/analytics`);
  await page.waitForSelector('#analytics svg rect', { timeout: 10000 });
  check('analytics draws bars', (await page.locator('#analytics svg rect').count()) > 3);
  check('analytics totals the cost', (await text('#an-cost')).includes(usd(expect.cost_usd)));
  check('analytics lists the models', (await text('#analytics-table')).includes(expect.model));
  await shot('analytics');

  // Inventory.
  await page.goto(`${url}#/inventory`);
  await page.waitForSelector('#inventory tr td', { timeout: 10000 });
  const inv = await text('#inventory');
  check('inventory shows API key prefixes and hashes', inv.includes(expect.key_prefix) && inv.includes(expect.key_hash));
  check('inventory shows the providers', inv.includes('anthropic'));
  await shot('inventory');

  // Sensor health.
  await page.goto(`${url}#/health`);
  await page.waitForSelector('#by-type', { timeout: 10000 });
  check('health shows the store by event type', (await text('#by-type')).includes('ai.request'));
  check('health says whether a record runs', (await page.locator('#no-record, #counters').count()) > 0);
  await shot('health');

  // Live: a capture replayed into the store appears in the open timeline without reload.
  await page.goto(`${url}#/`);
  await page.waitForSelector('#timeline .row', { timeout: 10000 });
  const before = Number(await page.locator('#timeline .row').first().getAttribute('data-id'));
  const r = spawnSync(process.env.OISP_BIN, ['replay', process.env.OISP_LIVE_RAW, '--store', process.env.OISP_STORE, '-o', '/dev/null'], { encoding: 'utf8' });
  check('replay into the served store', r.status === 0, r.stderr.trim().split('\n').pop());
  const arrived = await page.waitForFunction((b) => {
    const ids = [...document.querySelectorAll('#timeline .row')].map((n) => Number(n.dataset.id));
    return ids.some((i) => i > b);
  }, before, { timeout: 10000 }).then(() => true).catch(() => false);
  check('new events appear live', arrived);
  await shot('timeline-live');

  check('no script errors', errors.length === 0, errors.join(' | '));
} catch (e) {
  check('ran to the end', false, String(e));
  await shot('failure').catch(() => {});
} finally {
  await browser.close();
}
console.log(failed ? `${failed} checks failed` : 'all checks passed');
process.exit(failed ? 1 : 0);
