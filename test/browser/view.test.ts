// `medeval view` in Debian's chromium, driven by clicks: the list of runs, one run's items with the
// outcome and flip filters, hostile dataset text shown as text, a 10,000-item run paged with "load
// more", and runs side by side. The page must log no error (CSP violations included) and request
// nothing but the viewer's own origin. Screenshots go to test-output/view/.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, checkRoots, runId } from '../../src/view/catalog.js';
import { startViewServer, type ViewServer } from '../../src/view/server.js';
import { HOSTILE_IMG, HOSTILE_SCRIPT, writeViewFixture, type ViewFixture } from '../view/view-runs.js';

declare const document: { querySelectorAll(s: string): { length: number } };
declare const window: { __pwned?: unknown };

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`test/browser/view.test.ts: skipped, ${CHROMIUM} not found (install it with: apt-get install -y chromium)`);
export const SHOTS = join(import.meta.dirname, '../../test-output/view');

describe.skipIf(!hasChromium)('medeval view in chromium', () => {
  let fx: ViewFixture;
  let view: ViewServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const foreign: string[] = [];
  const parsed: { url: string; lines: string | undefined }[] = [];

  beforeAll(async () => {
    fx = writeViewFixture({ bigItems: 10_000 });
    view = await startViewServer(new Catalog(checkRoots([fx.root])), { port: 0 });
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(300_000); // hang detection only: this machine is shared and slow
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(view.url)) foreign.push(r.url());
    });
    page.on('response', (r) => parsed.push({ url: r.url(), lines: r.headers()['x-medeval-lines-parsed'] }));
  });

  afterAll(async () => {
    await browser?.close();
    await view?.close();
    if (fx) rmSync(fx.root, { recursive: true, force: true });
  });

  const articles = () => page.locator('#items > article');
  const outcomes = () => page.locator('#items > article').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')));
  const itemIds = () => page.locator('#items > article').evaluateAll((els) => els.map((e) => e.getAttribute('data-item')));

  it('lists every run folder: compare runs, the merge output and a plain run', async () => {
    await page.goto(view.url);
    const labels = await page.locator('table.runs tbody td:nth-child(2) a').allInnerTexts();
    expect(labels.sort()).toEqual(['baseline-f16', 'big-q4', 'compressed-q4', 'merged-q8']);
    await expect(page.locator('tr', { hasText: 'merged-q8' }).innerText()).resolves.toContain('merged (2 of 2 shards)');
    await page.screenshot({ path: join(SHOTS, 'runs.png'), fullPage: true });
  });

  it('opens a run by a click and filters by outcome', async () => {
    await page.click('text=compressed-q4');
    await page.waitForURL(`**/run/${runId(fx.compressed)}`);
    expect(await articles().count()).toBe(20);
    await Promise.all([page.waitForURL(/outcome=wrong/), page.selectOption('select[name=outcome]', 'wrong')]);
    expect(await outcomes()).toEqual(['wrong', 'wrong', 'wrong']);
    await Promise.all([page.waitForURL(/outcome=truncated/), page.selectOption('select[name=outcome]', 'truncated')]);
    expect(await outcomes()).toEqual(['truncated', 'truncated']);
    await page.screenshot({ path: join(SHOTS, 'run-filtered.png'), fullPage: true });
  });

  it('filters the flips against another run', async () => {
    await page.goto(`${view.url}run/${runId(fx.compressed)}`);
    await Promise.all([page.waitForURL(/vs=/), page.selectOption('select[name=vs]', runId(fx.baseline))]);
    expect(await itemIds()).toEqual(['q00001', 'q00002', 'q00007', 'q00011']);
    await Promise.all([page.waitForURL(/flip=lost/), page.selectOption('select[name=flip]', 'lost')]);
    expect(await itemIds()).toEqual(['q00001', 'q00002', 'q00007']);
    await Promise.all([page.waitForURL(/flip=gained/), page.selectOption('select[name=flip]', 'gained')]);
    expect(await itemIds()).toEqual(['q00011']);
    await Promise.all([page.waitForURL(/\/compare\?.*show=flips/), page.click('#side-link')]);
    expect(await itemIds()).toEqual(['q00001', 'q00002', 'q00007', 'q00011']);
    await page.goBack();
    // No run to flip against any more: every record again, and the flip menu waits for a run.
    await Promise.all([page.waitForURL((u) => !u.search.includes('flip=')), page.selectOption('select[name=vs]', '')]);
    expect(await articles().count()).toBe(20);
    expect(await page.locator('select[name=flip]').isDisabled()).toBe(true);
  });

  it('shows an item in full: options with gold and answer, reasoning folded until opened', async () => {
    await page.goto(`${view.url}run/${runId(fx.compressed)}?id=q00001`);
    const item = page.locator('article[data-item="q00001"]');
    await expect(item.locator('li.gold').innerText()).resolves.toContain('option B for item 1');
    await expect(item.locator('li.answer').innerText()).resolves.toContain('option D for item 1');
    const reasoning = item.locator('details', { hasText: 'Reasoning' });
    expect(await reasoning.locator('pre').isVisible()).toBe(false);
    await reasoning.locator('summary').click();
    expect(await reasoning.locator('pre').isVisible()).toBe(true);
    await expect(item.innerText()).resolves.toMatch(/E2EL 1001\sms/);
    await page.screenshot({ path: join(SHOTS, 'item.png'), fullPage: true });
  });

  it('shows hostile dataset text as text and never runs it', async () => {
    await page.goto(`${view.url}run/${runId(fx.baseline)}?id=q00003`);
    const question = await page.locator('article[data-item="q00003"] p.question').innerText();
    expect(question).toContain(HOSTILE_SCRIPT);
    expect(question).toContain(HOSTILE_IMG);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.evaluate(() => document.querySelectorAll('main script, main img').length)).toBe(0);
  });

  it('pages a 10,000-item run: 50 first, "load more" fetches the next 50 only', async () => {
    parsed.length = 0;
    await page.goto(`${view.url}run/${runId(fx.big!)}`);
    expect(await articles().count()).toBe(50);
    await expect(page.locator('#count').innerText()).resolves.toContain('10,000 matching record(s)');
    await page.screenshot({ path: join(SHOTS, 'big-run.png') });
    await page.click('#more');
    await page.waitForSelector('html[data-shown="100"]');
    expect(await articles().count()).toBe(100);
    await expect(page.locator('#shown').innerText()).resolves.toBe('100');
    const pageLines = parsed.filter((p) => p.url.includes('/run/')).map((p) => p.lines);
    expect(pageLines).toEqual(['50', '50']);
    expect((await itemIds()).slice(48, 52)).toEqual(['q00048', 'q00049', 'q00050', 'q00051']);
  });

  it('sets two runs side by side from the list, and narrows to the flips', async () => {
    await page.goto(view.url);
    await page.check(`input[value="${runId(fx.baseline)}"]`);
    await page.check(`input[value="${runId(fx.compressed)}"]`);
    await Promise.all([page.waitForURL(/\/compare\?/), page.click('#side-by-side')]);
    expect(await articles().count()).toBe(20);
    await Promise.all([page.waitForURL(/show=flips/), page.selectOption('select[name=show]', 'flips')]);
    expect(await itemIds()).toEqual(['q00001', 'q00002', 'q00007', 'q00011']);
    const cells = await page.locator('article[data-item="q00001"] div.cell').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')));
    expect(cells).toEqual(['correct', 'wrong']);
    await page.screenshot({ path: join(SHOTS, 'side-by-side.png'), fullPage: true });
    // Paged as a run is: 8 rows, then "load more" brings the next 8.
    await page.goto(`${view.url}compare?runs=${runId(fx.baseline)}&runs=${runId(fx.compressed)}&limit=8`);
    expect(await articles().count()).toBe(8);
    await page.click('#more');
    await page.waitForSelector('html[data-shown="16"]');
    expect((await itemIds()).slice(6, 10)).toEqual(['q00006', 'q00007', 'q00008', 'q00009']);
  });

  it('logged no error or CSP violation and requested nothing outside the viewer', () => {
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
