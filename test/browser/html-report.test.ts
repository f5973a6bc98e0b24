// Opens report.html in Debian's chromium: the page must draw every chart, log no error, fetch
// nothing, and show hostile dataset text as text without running it.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCharts } from '../../src/report/charts.js';
import { writeHtml } from '../../src/report/html.js';
import { VERDICTS } from '../../src/report/model.js';
import { fixtureReportModel, HOSTILE_IMG, HOSTILE_SCRIPT } from '../report/fixtures/report-model.js';

// The project compiles without the DOM library; these are the few browser globals the page
// functions below use (module-scoped, so nothing leaks into the rest of the program).
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
  getBoundingClientRect(): { width: number };
}
declare const document: {
  getElementById(id: string): PageCanvas | null;
  body: { innerText: string };
  documentElement: { scrollWidth: number; clientWidth: number };
};
declare const window: { __pwned?: unknown };
declare function getComputedStyle(e: unknown): { backgroundColor: string };

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`test/browser/html-report.test.ts: skipped, ${CHROMIUM} not found (install it with: apt-get install -y chromium)`);
}

describe.skipIf(!hasChromium)('report.html in chromium', () => {
  const model = fixtureReportModel({ hostile: true });
  let dir: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medeval-browser-'));
    const file = await writeHtml(model, join(dir, 'report.html'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(300_000); // playwright's 30 s defaults are a speed check on a busy machine: hang detection only
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    // A failure here is reported by the tests below (as a problem), not as an opaque hook error.
    await page
      .waitForSelector('html[data-charts-drawn]', { timeout: 300_000 }) // a hang, not a slow machine
      .catch((e: Error) => problems.push(`the page script never finished drawing: ${e.message.split('\n')[0]}`));
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('logs no error or warning (CSP violations included) and fetches nothing but the page', () => {
    expect(problems).toEqual([]);
    expect(requests).toEqual([expect.stringMatching(/^file:\/\/.*report\.html$/)]);
  });

  it('draws every chart into its canvas', async () => {
    const ids = reportCharts(model).map((c) => c.id);
    expect(await page.getAttribute('html', 'data-charts-drawn')).toBe(String(ids.length));
    const stats = await page.evaluate((chartIds) => {
      return chartIds.map((id) => {
        const canvas = document.getElementById(`chart-${id}`);
        if (!canvas) return { id, colours: 0, inked: 0, width: 0 };
        const ctx = canvas.getContext('2d');
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const colours = new Set<number>();
        let inked = 0;
        for (let i = 0; i < data.length; i += 4) {
          colours.add(((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]) * 256 + data[i + 3]);
          if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) inked++;
        }
        return { id, colours: colours.size, inked: inked / (data.length / 4), width: canvas.getBoundingClientRect().width };
      });
    }, ids);
    for (const s of stats) {
      expect(s.colours, s.id).toBeGreaterThan(20);
      expect(s.inked, s.id).toBeGreaterThan(0.02);
      expect(s.width, s.id).toBeGreaterThan(300);
    }
  });

  it('shows hostile dataset text as text and never runs it', async () => {
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toContain(`medqa-${HOSTILE_SCRIPT}`);
    expect(text).toContain(HOSTILE_IMG);
    expect(text).toContain(`Dataset note: ${HOSTILE_SCRIPT}`);
    await expect(page.getByText(`medqa-${HOSTILE_SCRIPT}`).isVisible()).resolves.toBe(true);
  });

  it('shows the verdict badges: each claim, each memory part under its claim, then every verdict word defined', async () => {
    const badges = await page.locator('table.claims .badge').allInnerTexts();
    expect(badges).toEqual(model.claims.flatMap((c) => [c.verdict, ...(c.parts ?? []).map((p) => p.verdict)]));
    expect(await page.locator('dl.verdicts .badge').allInnerTexts()).toEqual([...VERDICTS]);
    // A verdict is coloured by its meaning; "smoke test: no evidence" has no colour at all.
    const bg = (sel: string) => page.locator(sel).first().evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(await bg('dl.verdicts .badge.reproduced')).not.toBe(await bg('dl.verdicts .badge.exceeded'));
    expect(await bg('dl.verdicts .badge.no-evidence')).toBe('rgba(0, 0, 0, 0)');
  });

  it('fits an A4 page width when printed (nothing cut off at the right edge)', async () => {
    // 794 CSS px = 210 mm at 96 dpi. Run last: it changes the viewport and media of the shared page.
    await page.setViewportSize({ width: 794, height: 1123 });
    await page.emulateMedia({ media: 'print' });
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
  });
});
