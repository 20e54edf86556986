// Screenshots of web UI views: node shot.mjs URL OUTDIR NAME=HASH=SELECTOR...
// Each view is loaded, SELECTOR awaited (10 s), and OUTDIR/NAME.png written. Exit 1 if a view
// did not show its selector.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [url, out, ...views] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = 0;
for (const v of views) {
  const [name, hash, selector] = v.split('=');
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${url}/${hash}`);
  const ok = await page.waitForSelector(selector, { timeout: 10000 }).then(() => true).catch(() => false);
  await page.screenshot({ path: `${out}/${name}.png` });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${selector}`);
  if (!ok) failed++;
  await page.close();
}
await browser.close();
process.exit(failed ? 1 : 0);
