// The fixed parts of report.html: the page shell with its Content-Security-Policy, the stylesheet and
// the browser script that draws the charts. Every inline script and style is allowed by its SHA-256
// hash, so the policy needs neither 'unsafe-inline' nor any network source.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CHART_PLUGINS_SOURCE } from './chart-plugins.js';
import { escapeHtml } from './html-escape.js';

export const REPORT_CSS = `
:root { --fg: #1d1d1f; --muted: #5a5a5f; --line: #d6d6dc; --head: #f2f2f5; --accent: #0072B2; }
* { box-sizing: border-box; }
body { font: 15px/1.5 'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif; color: var(--fg); margin: 0; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 17px; margin: 22px 0 8px; }
p.meta, .muted { color: var(--muted); }
p.meta { margin: 0 0 12px; font-size: 13px; }
nav ul { list-style: none; padding: 0; margin: 8px 0 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 14px; }
a { color: var(--accent); }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13.5px; width: 100%; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
/* An interval may go to its own line, but never breaks inside. */
.ci { display: inline-block; white-space: nowrap; }
/* Flip rows show two lines of the question; the whole excerpt is in the tooltip. */
table.flips td.id { min-width: 10em; }
details > summary { cursor: pointer; color: var(--accent); font-size: 12.5px; margin-top: 2px; }
div.reply { margin: 4px 0 0; font-size: 13px; }
div.reply blockquote { margin: 2px 0 6px; padding: 2px 8px; border-left: 3px solid var(--line); overflow-wrap: anywhere; }
div.question { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; min-width: 16em; }
td.id, code { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
div.wide { overflow-x: auto; }
table#leaderboard td, table#leaderboard th { white-space: nowrap; }
table#leaderboard tr.baseline td { font-weight: 600; }
table.claims th:nth-child(1) { width: 31%; }
table.claims th:nth-child(2) { width: 12%; }
table.claims th:nth-child(3) { width: 15%; }
table.claims th:nth-child(4) { width: 9%; }
table.claims th:nth-child(5) { width: 33%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; caption-side: top; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-weight: 700; font-size: 12.5px; white-space: nowrap; border: 1.5px solid currentColor; }
.badge.reproduced { color: #0b6b2f; background: #e3f5e9; }
.badge.exceeded { color: #1f4e99; background: #e4ecfa; }
.badge.not-reproduced { color: #a3171b; background: #fbe5e5; }
.badge.inconclusive { color: #8a5a00; background: #fff2d6; }
.badge.not-measurable { color: #4a4a4f; background: #ececef; }
/* A smoke test: no colour at all, so it cannot be read as a result. */
.badge.no-evidence { color: #4a4a4f; background: transparent; border-style: dashed; font-weight: 600; }
tr.claim-part td { padding-top: 2px; padding-bottom: 2px; }
tr.claim-part td:first-child { padding-left: 1.6em; }
dl.verdicts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 6px 0 14px; }
dl.verdicts dd { margin: 0; }
.small { font-size: 12.5px; color: var(--muted); }
.na { color: var(--muted); font-style: italic; }
.flip-down { color: #a3171b; }
.flip-up { color: #0b6b2f; }
figure { margin: 14px 0 24px; break-inside: avoid; page-break-inside: avoid; }
figure .chart { position: relative; width: 100%; max-width: 900px; }
figure canvas { display: block; max-width: 100%; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; max-width: 900px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 14px; font-size: 14px; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
ul.notes li { margin: 4px 0; }
.note-warning { color: #8a5a00; }
.banner { border: 2px solid #c77c00; background: #fff6e0; padding: 0.6em 1em; margin: 1em 0; border-radius: 4px; }
.banner ul { margin: 0.3em 0 0 1.2em; padding: 0; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 0 24px; }
@media print {
  body { font-size: 10.5pt; }
  table { font-size: 9pt; }
  th, td { padding: 3px 5px; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr, figure, dl.kv { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .badge { background: none !important; }
  figure .chart, figcaption { max-width: 17cm; }
}
`;

/** Draws every chart spec from the JSON block into its canvas; the same plugins as the PNG/SVG path. */
export const BROWSER_SCRIPT = `(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('medeval-data').textContent);
  var plugins = ${CHART_PLUGINS_SOURCE};
  Chart.defaults.font.family = data.chartFontFamily;
  Chart.defaults.color = '#222222';
  var drawn = 0;
  data.charts.forEach(function (spec) {
    var canvas = document.getElementById('chart-' + spec.id);
    if (!canvas) return;
    var config = spec.config;
    config.options = config.options || {};
    config.options.responsive = true;
    config.options.maintainAspectRatio = true;
    config.options.aspectRatio = spec.width / spec.height;
    config.options.animation = false;
    // At least 2 device pixels per CSS pixel, so printed charts stay sharp.
    config.options.devicePixelRatio = Math.max(2, window.devicePixelRatio || 1);
    config.plugins = plugins;
    new Chart(canvas, config);
    drawn++;
  });
  document.documentElement.setAttribute('data-charts-drawn', String(drawn));
})();`;

let chartJsSource: string | undefined;

/** Chart.js's UMD build from node_modules, read at run time (no CDN), without its source-map comment. */
export function chartJsUmdSource(): string {
  if (chartJsSource == null) {
    const require = createRequire(import.meta.url);
    // The package's exports map hides dist/ files; its CommonJS entry sits beside the UMD build.
    const file = join(dirname(require.resolve('chart.js')), 'chart.umd.js');
    chartJsSource = readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
    if (/<\/script|<!--/i.test(chartJsSource)) throw new Error(`${file}: contains a script-closing sequence; cannot inline it`);
  }
  return chartJsSource;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export interface PageParts {
  title: string;
  /** Already-escaped HTML of the page body. */
  bodyHtml: string;
  /** Output of jsonForScript. */
  dataJson: string;
}

/** The whole page. Scripts run only if their hash is in the policy; nothing may be fetched. */
export function pageHtml(parts: PageParts): string {
  return [...pageHtmlPieces({ ...parts, dataJson: [parts.dataJson] })].join('');
}

/** pageHtml's text in pieces, the data block given in pieces too (the model at 100,000 items is tens of MB). */
export function* pageHtmlPieces(parts: Omit<PageParts, 'dataJson'> & { dataJson: Iterable<string> }): Generator<string> {
  const chartJs = chartJsUmdSource();
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(chartJs)} ${sha256(BROWSER_SCRIPT)}`,
    `style-src ${sha256(REPORT_CSS)}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  yield `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(parts.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${parts.bodyHtml}
<script type="application/json" id="medeval-data">`;
  yield* parts.dataJson;
  yield `</script>
<script>${chartJs}</script>
<script>${BROWSER_SCRIPT}</script>
</body>
</html>
`;
}
