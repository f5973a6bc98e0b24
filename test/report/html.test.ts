import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeHtml, jsonForScript } from '../../src/report/html-escape.js';
import { renderHtml, writeHtml } from '../../src/report/html.js';
import { fixtureReportModel, HOSTILE_AMP, HOSTILE_IMG, HOSTILE_SCRIPT } from './fixtures/report-model.js';

/** Contents of every <script ...>...</script> element, with its opening tag. */
function scripts(html: string): Array<{ open: string; body: string }> {
  return [...html.matchAll(/(<script\b[^>]*>)([\s\S]*?)<\/script>/gi)].map((m) => ({ open: m[1], body: m[2] }));
}

describe('escaping', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<img src=x onerror="a('b')"> & co`)).toBe('&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt; &amp; co');
    expect(escapeHtml(null)).toBe('');
  });

  it('writes JSON no script block can be closed by, and that parses back to the same value', () => {
    const value = { q: HOSTILE_SCRIPT, img: HOSTILE_IMG, other: HOSTILE_AMP };
    const json = jsonForScript(value);
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('renderHtml', () => {
  const html = renderHtml(fixtureReportModel({ hostile: true }));

  it('lets no dataset or model text become markup', () => {
    // Three scripts only: the data block, Chart.js, the page script. An injected one would be a fourth.
    const all = scripts(html);
    expect(all.map((s) => s.open)).toEqual(['<script type="application/json" id="medeval-data">', '<script>', '<script>']);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('window.__pwned = 1</script>');
    // ...but the text is there, escaped, for a reader to see.
    expect(html).toContain(escapeHtml(`medqa-${HOSTILE_SCRIPT}`));
    expect(html).toContain(escapeHtml(HOSTILE_IMG));
  });

  it('carries the model and the chart specs in the JSON block, byte-for-byte recoverable', () => {
    const data = JSON.parse(scripts(html)[0].body);
    expect(data.model).toEqual(fixtureReportModel({ hostile: true }));
    expect(data.charts.map((c: { id: string }) => c.id)).toContain('accuracy-by-step');
  });

  it('has a Content-Security-Policy that allows exactly its own inline scripts and style, and no network', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1].replace(/&#39;/g, "'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
    const executable = scripts(html).filter((s) => s.open === '<script>');
    for (const s of executable) expect(csp).toContain(hash(s.body));
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    expect(csp).toContain(`style-src ${hash(style)}`);
  });

  it('inlines Chart.js from node_modules (no CDN, no source-map fetch)', () => {
    const chartJs = scripts(html)[1].body;
    expect(chartJs).toMatch(/^\/\*!\s*\n \* Chart\.js v4\./);
    expect(chartJs).not.toContain('sourceMappingURL');
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
  });

  it('shows the claims with verdict badges, the flips, and a canvas per chart', () => {
    for (const verdict of ['reproduced', 'exceeded', 'not-reproduced', 'inconclusive', 'not-measurable']) {
      expect(html).toContain(`<span class="badge ${verdict}">`);
    }
    // The tolerance is a two-sided band in points, and every verdict word is defined next to the table.
    expect(html).toContain('at least 92.1% <span class="small ci">±&nbsp;2.0&nbsp;points</span>');
    expect(html).not.toContain('±&nbsp;2.0%');
    expect(html).toMatch(/<dl class="verdicts small"><dt><span class="badge reproduced">reproduced<\/span><\/dt><dd>the whole 95% interval lies within claim ± tolerance<\/dd>/);
    // A memory claim shows each part's own verdict under it.
    expect(html).toMatch(/<tr class="claim-part">\n<td>↳ weights file \(tensor bytes on disk\)<\/td>[\s\S]*?<span class="badge exceeded">exceeded<\/span>/);
    expect(html).toContain('Flipped questions (6 right → wrong, 3 wrong → right)');
    expect(html).toContain('<td class="id">medqa-test-0008</td><td><span class="na">n/a</span></td><td>step2&amp;3</td>');
    // The question excerpt (hostile here) is escaped in the cell and in its tooltip attribute.
    const q = 'A 45-year-old man &lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt; &quot;quoted&quot;';
    expect(html).toMatch(new RegExp(`<td class="id">medqa-test-0007</td><td><div class="question" title="${q}">${q}</div><details>.*?</details></td><td>step2&amp;3</td><td>management</td><td><code>B</code></td><td><code>D</code></td><td><code>B</code></td>`));
    // Each model's reply under the question, folded, escaped.
    expect(html).toContain('<details><summary>replies</summary><div class="reply"><b>baseline-f16</b> <span class="small muted">answered, after its reasoning</span><blockquote>Answer: D &lt;/script&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;</blockquote></div><div class="reply"><b>compressed-q4_0</b> <span class="small muted">answered</span><blockquote>Answer: B</blockquote></div></details>');
    const canvases = [...html.matchAll(/<canvas id="chart-([a-z0-9-]+)"/g)].map((m) => m[1]);
    const data = JSON.parse(scripts(html)[0].body);
    expect(canvases.sort()).toEqual(data.charts.map((c: { id: string }) => c.id).sort());
  });

  it('says "not available" with the reason where a memory figure is missing', () => {
    expect(html).toContain('<span class="na">not available</span><div class="small">no GPU on this machine</div>');
  });

  it('renders a model with no runs without charts or errors', () => {
    const empty = renderHtml({ ...fixtureReportModel(), runs: [], comparisons: [], claims: [], accuracyVsMemory: [] });
    expect(empty).toContain('No claims were checked');
    expect(empty).not.toContain('<canvas');
  });

  it('writeHtml creates the folder and writes the same page', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medeval-html-'));
    try {
      const file = await writeHtml(fixtureReportModel(), join(dir, 'nested', 'report.html'));
      expect(await readFile(file, 'utf8')).toBe(renderHtml(fixtureReportModel()));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
