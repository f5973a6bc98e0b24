// report.html: one self-contained page rendered from the report model. Tables are rendered here,
// with every dataset/model text HTML-escaped, so the page reads (and prints) without JavaScript; the
// charts are drawn in the browser by Chart.js from the same chart specs as the PNG/SVG files.

import { errorKindsText } from './markdown.js';
import { mkdir } from 'node:fs/promises';
import { writeRedactedAsync } from '../core/redact.js';
import { dirname } from 'node:path';
import { CHART_FONT_FAMILY, intervalLabel, reportCharts, unionKeys, type ChartSpec } from './charts.js';
import { nats } from './format.js';
import { THROTTLE_DEFINITION, throttleRows } from './throttle.js';
import { LATENCY_DISPLAY_ORDER, LATENCY_TABLE, MEMORY_TABLE } from '../metrics/table.js';
import { BYTE_UNIT_POLICY, formatBytes } from '../metrics/units.js';
import { toleranceText, VERDICT_DEFINITIONS } from './claims.js';
import { escapeHtml as esc, jsonForScript, jsonForScriptPieces } from './html-escape.js';
import { pageHtml, pageHtmlPieces } from './html-template.js';
import type {
  AccuracyCell,
  ClaimCheck,
  Distribution,
  FlippedItem,
  FlipOutput,
  Interval,
  LatencyMetric,
  MemoryPartName,
  PairComparison,
  ReportModel,
  RunReport,
  Verdict,
  FrontierAxis,
  LeaderboardRow,
} from './model.js';
import { FRONTIER_AXES } from './model.js';
import { LEADERBOARD_DEFINITION, leaderboardOf } from './leaderboard.js';
import type { ServerFigure } from './server-view.js';
import type { ReportWriter } from './writer.js';

// ---- number formatting ---------------------------------------------------------------------------

const NA = '<span class="na">n/a</span>';

function pct(fraction: number | null | undefined, digits = 1): string {
  return fraction == null || !Number.isFinite(fraction) ? NA : `${(fraction * 100).toFixed(digits)}%`;
}

/** A difference of two proportions, in percentage points with a sign. */
function pp(fraction: number): string {
  const v = fraction * 100;
  return `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(1)}&nbsp;pp`;
}

function interval(i: Interval | null | undefined, format: (v: number) => string = (v) => pct(v)): string {
  if (!i) return NA;
  if (i.method === 'exact' || (i.lower === i.estimate && i.upper === i.estimate)) return `${format(i.estimate)} <span class="small">(exact)</span>`;
  return `${format(i.estimate)} <span class="small ci">[${format(i.lower)}, ${format(i.upper)}]</span>`;
}

/** The one byte unit policy (metrics/units.ts), a no-break space between number and unit. */
function bytes(n: number | null | undefined): string {
  return n == null || !Number.isFinite(n) ? NA : formatBytes(n, '&nbsp;');
}

function ms(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return NA;
  return v >= 100 ? `${Math.round(v).toLocaleString('en-US')}&nbsp;ms` : `${v.toFixed(v >= 10 ? 1 : 2)}&nbsp;ms`;
}

function count(n: number | null | undefined): string {
  return n == null ? NA : n.toLocaleString('en-US');
}

function pValue(p: number | null | undefined): string {
  if (p == null || !Number.isFinite(p)) return NA;
  return p < 0.001 ? '&lt; 0.001' : p.toPrecision(3);
}

/** A claimed or measured figure in the claim's own unit (older reports without one: a fraction). */
function claimValue(claim: ClaimCheck, v: number): string {
  switch (claim.unit ?? 'fraction') {
    case 'bytes': return bytes(v);
    case 'ms': return ms(v);
    default: return pct(v);
  }
}

function supportingValue(s: ClaimCheck['supporting'][number]): string {
  const formats: Record<string, (v: number) => string> = { fraction: (v) => pct(v), points: pp, ms, bytes, count, 'p-value': pValue };
  const format = formats[s.unit] ?? ((v: number) => esc(v));
  if (s.interval) return interval(s.interval, format);
  return s.value == null ? NA : format(s.value);
}

// ---- sections ------------------------------------------------------------------------------------

const VERDICT_CLASS: Record<Verdict, string> = {
  reproduced: 'reproduced',
  exceeded: 'exceeded',
  'not reproduced': 'not-reproduced',
  inconclusive: 'inconclusive',
  'not measurable': 'not-measurable',
  // No colour: a smoke test's numbers are no evidence either way.
  'smoke test: no evidence': 'no-evidence',
};

function badge(verdict: Verdict): string {
  return `<span class="badge ${VERDICT_CLASS[verdict] ?? 'not-measurable'}">${esc(verdict)}</span>`;
}

const DIRECTION_WORDS: Record<ClaimCheck['direction'], string> = { 'at-least': 'at least', 'at-most': 'at most', equal: 'equal to' };

function claimsSection(model: ReportModel): string {
  if (model.claims.length === 0) return section('claims', 'Claims', '<p class="muted">No claims were checked (no claims file given).</p>');
  const rows = model.claims
    .map((c) => {
      // The tolerance is a two-sided band in percentage points around a percentage claim.
      const tol = c.tolerance ? ` <span class="small ci">${(c.unit ?? 'fraction') === 'fraction' ? esc(toleranceText(c.tolerance)).replace(/ /g, '&nbsp;') : `±&nbsp;${claimValue(c, c.tolerance)}`}</span>` : '';
      const claimed = `${DIRECTION_WORDS[c.direction] ?? esc(c.direction)} ${claimValue(c, c.claimed)}${tol}`;
      const measured = c.measured ? interval(c.measured, (v) => claimValue(c, v)) : NA;
      const supporting = c.supporting.length
        ? `<ul class="small">${c.supporting.map((s) => `<li>${esc(s.label)}: ${supportingValue(s)}</li>`).join('')}</ul>`
        : '';
      const pair = c.baseline || c.compressed ? `<div class="small">${esc(c.baseline ?? '—')} → ${esc(c.compressed ?? '—')}</div>` : '';
      const basis = c.basis ? `<div class="small">verdict on ${esc(c.basis)}</div>` : '';
      const main = `<tr>
<td><strong>${esc(c.statement)}</strong><div class="small">Measured as: ${esc(c.definition)}</div>${pair}</td>
<td class="num">${claimed}</td>
<td class="num">${measured}</td>
<td>${badge(c.verdict)}${basis}</td>
<td>${esc(c.reason)}<div class="small">Rule: ${esc(c.rule)}</div>${supporting}</td>
</tr>`;
      // A memory claim: every part judged on its own, one row each under the claim.
      const parts = (c.parts ?? []).map((p) => `<tr class="claim-part">
<td>↳ ${esc(p.label)}</td>
<td class="num small">${bytes(p.baselineBytes)} → ${bytes(p.compressedBytes)}</td>
<td class="num">${p.measured ? interval(p.measured, (v) => pct(v)) : NA}</td>
<td>${badge(p.verdict)}</td>
<td class="small">${esc(p.reason)}</td>
</tr>`).join('\n');
      return parts ? `${main}\n${parts}` : main;
    })
    .join('\n');
  const head = '<tr><th>Claim</th><th class="num">Claimed</th><th class="num">Measured [interval]</th><th>Verdict</th><th>Why</th></tr>';
  const defs = `<dl class="verdicts small">${VERDICT_DEFINITIONS.map(([v, d]) => `<dt>${badge(v)}</dt><dd>${esc(d)}</dd>`).join('')}</dl>`;
  return section('claims', 'Claims', `<table class="claims"><thead>${head}</thead><tbody>${rows}</tbody></table>
<p class="small">Verdicts: the same rule for every claim; the band is claim ± tolerance, a percentage claim&#39;s tolerance in percentage points.</p>
${defs}`);
}

function leaderboardSection(model: ReportModel, charts: ChartSpec[]): string {
  const board = leaderboardOf(model);
  if (board.rows.length < 2) return '';
  const frontier = (r: LeaderboardRow) => {
    const on = FRONTIER_AXES.filter((a) => r.frontier[a]).map((a) => FRONTIER_LABELS[a]);
    return on.length ? esc(on.join(', ')) : '<span class="na">-</span>';
  };
  // A smoke-test row's verdicts are printed without a colour (the badge class says no evidence).
  const verdicts = (r: LeaderboardRow) => r.verdicts.map((v) => `<div>${esc(v.claim)}: ${badge(r.smokeTest ? 'smoke test: no evidence' : v.verdict)}</div>`).join('');
  const rows = board.rows.map((r) => `<tr class="${r.role}"><td>${esc(r.run)}${r.quantization ? ` <span class="small">${esc(r.quantization)}</span>` : ''}</td>
<td>${r.role === 'compressed' ? `vs ${esc(r.baseline ?? '')}` : esc(r.role)}</td>
<td class="num">${interval(r.accuracy)}</td><td class="num">${interval(r.retention)}</td><td class="num">${interval(r.accuracyDifference, pp)}</td>
<td class="num">${r.mcnemarP === null ? NA : `${pValue(r.mcnemarP)} <span class="small">(Holm ${pValue(r.mcnemarPHolm)})</span>`}</td>
<td class="num">${bytes(r.memory.weights)}</td><td class="num">${bytes(r.memory.residentWeights)}</td><td class="num">${bytes(r.memory.processPeak)}</td><td class="num">${bytes(r.memory.gpuProcessPeak)}</td>
<td class="num">${ms(r.latencyP50Ms.ttftMs)}</td><td class="num">${ms(r.latencyP50Ms.tpotMs)}</td><td class="num">${ms(r.latencyP50Ms.e2eMs)}</td>
<td>${verdicts(r)}</td><td>${frontier(r)}</td></tr>`).join('\n');
  const head = ['Model', 'Paired with', 'Accuracy (95% CI)', 'Retention', 'Difference (points)', 'McNemar p', 'Weights', 'Resident weights', 'Peak memory', 'Peak GPU',
    'TTFT p50', 'TPOT p50', 'E2EL p50', 'Verdicts', 'Pareto frontier'].map((h) => `<th>${esc(h)}</th>`).join('');
  const table = `<div class="wide"><table id="leaderboard"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>
<p class="small">${esc(LEADERBOARD_DEFINITION)} Holm over ${board.pAdjustment.pairs} pair(s).</p>`;
  const pareto = ['accuracy-vs-weights', 'accuracy-vs-peak-memory', 'accuracy-vs-e2el'].map((id) => figure(charts, id)).join('\n');
  return section('leaderboard', 'Leaderboard', `${table}\n${pareto}`);
}

const FRONTIER_LABELS: Record<FrontierAxis, string> = { weights: 'weights', processPeak: 'peak memory', e2eMs: 'E2EL' };

function accuracyOverallTable(runs: RunReport[]): string {
  const rows = runs
    .map((r) => {
      const c = r.accuracy.overall;
      const vote = r.accuracy.majorityVote ? `<div class="small">majority vote: ${interval(r.accuracy.majorityVote.accuracy)}</div>` : '';
      return `<tr><td>${esc(r.label)}</td><td class="num">${interval(c.accuracy)}${vote}</td><td class="num">${count(c.correct)} / ${count(c.scored)}</td><td class="num">${count(c.items)}</td><td class="num">${count(r.accuracy.samplesPerItem)}</td><td class="num">${count(c.wrong)}</td><td class="num">${count(c.unparseable)}</td><td class="num">${count(c.truncated)}</td><td class="num">${count(c.errors)}</td></tr>`;
    })
    .join('\n');
  return `<table><caption>Overall (${esc(intervalLabel(runs.map((r) => r.accuracy.overall.accuracy)))})</caption>
<thead><tr><th>Run</th><th class="num">Accuracy [interval]</th><th class="num">Correct / scored</th><th class="num">Questions</th><th class="num">Samples per question</th><th class="num">Wrong letter</th><th class="num">Unparseable</th><th class="num">Truncated</th><th class="num">Request errors</th></tr></thead>
<tbody>${rows}</tbody></table>
<p class="small">Unparseable and truncated answers are scored as wrong and counted apart; request errors are not scored.</p>`;
}

/** One row per slice key, one column per run. */
function sliceTable(caption: string, runs: RunReport[], cells: (r: RunReport) => AccuracyCell[], keyLabel: string): string {
  const keys = unionKeys(runs.map(cells));
  if (keys.length === 0) return '';
  const head = `<tr><th>${esc(keyLabel)}</th>${runs.map((r) => `<th class="num">${esc(r.label)}</th>`).join('')}</tr>`;
  const rows = keys
    .map((k) => {
      const tds = runs
        .map((r) => {
          const c = cells(r).find((x) => x.key === k);
          if (!c) return `<td class="num">${NA}</td>`;
          return `<td class="num">${interval(c.accuracy)}<div class="small">${count(c.correct)} / ${count(c.scored)}${c.unparseable || c.truncated ? `; ${count(c.unparseable)} unparseable, ${count(c.truncated)} truncated` : ''}</div></td>`;
        })
        .join('');
      return `<tr><td>${esc(k)}</td>${tds}</tr>`;
    })
    .join('\n');
  return `<table><caption>${esc(caption)}</caption><thead>${head}</thead><tbody>${rows}</tbody></table>`;
}

function accuracySection(model: ReportModel, charts: ChartSpec[]): string {
  const runs = model.runs;
  return section(
    'accuracy',
    'Accuracy',
    [
      accuracyOverallTable(runs),
      figure(charts, 'accuracy-by-step'),
      sliceTable('Per USMLE step', runs, (r) => r.accuracy.byStep, 'Step'),
      sliceTable('Per question type', runs, (r) => r.accuracy.byQuestionType, 'Question type'),
      figure(charts, 'accuracy-by-question-type'),
    ].join('\n'),
  );
}

function letter(l: string | null): string {
  return l == null ? '<span class="na">none</span>' : `<code>${esc(l)}</code>`;
}

/** Each model's reply to a flipped question, folded away under the question. */
function flipReplies(pair: PairComparison, f: FlippedItem): string {
  const reply = (label: string, o: FlipOutput | undefined) =>
    o
      ? `<div class="reply"><b>${esc(label)}</b> <span class="small muted">${esc(o.status)}${o.reasoned ? ', after its reasoning' : ''}</span><blockquote>${o.excerpt ? esc(o.excerpt) : '<span class="na">no answer text</span>'}</blockquote></div>`
      : '';
  if (!f.baselineOutput && !f.compressedOutput) return '';
  return `<details><summary>replies</summary>${reply(pair.baseline, f.baselineOutput)}${reply(pair.compressed, f.compressedOutput)}</details>`;
}

function flipsTable(pair: PairComparison): string {
  const flips = [
    ...pair.rightToWrong.map((f) => ({ f, down: true })),
    ...pair.wrongToRight.map((f) => ({ f, down: false })),
  ];
  if (flips.length === 0) return '<p class="muted">No answer changed from right to wrong or wrong to right.</p>';
  const rows = flips
    .map(
      ({ f, down }) =>
        `<tr><td class="id">${esc(f.itemId)}</td><td>${f.question ? `<div class="question" title="${esc(f.question)}">${esc(f.question)}</div>` : NA}${flipReplies(pair, f)}</td><td>${f.step == null ? NA : esc(f.step)}</td><td>${esc(f.questionType)}</td><td>${letter(f.gold)}</td><td>${letter(f.baselineLetter)}</td><td>${letter(f.compressedLetter)}</td><td class="${down ? 'flip-down' : 'flip-up'}">${down ? 'right → wrong' : 'wrong → right'}</td></tr>`,
    )
    .join('\n');
  return `<table class="flips"><caption>Flipped questions (${count(pair.rightToWrong.length)} right → wrong, ${count(pair.wrongToRight.length)} wrong → right)</caption>
<thead><tr><th>Item id</th><th>Question</th><th>Step</th><th>Question type</th><th>Gold</th><th>${esc(pair.baseline)}</th><th>${esc(pair.compressed)}</th><th>Change</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

const metricName = (m: LatencyMetric) => LATENCY_TABLE[m]?.short ?? m;
/** "Peak process memory": a memory part's long name from the metric table, capitalised for a table row. */
const partName = (p: MemoryPartName) => {
  const long = MEMORY_TABLE[p]?.long ?? p;
  return long.charAt(0).toUpperCase() + long.slice(1);
};

function comparisonBlock(pair: PairComparison): string {
  const m = pair.mcnemar;
  const facts: Array<[string, string]> = [
    ['Questions in common', count(pair.itemsInCommon)],
    ['Only in one run', `${count(pair.onlyInBaseline)} only in ${esc(pair.baseline)}, ${count(pair.onlyInCompressed)} only in ${esc(pair.compressed)}`],
    ['Left out for request errors', count(pair.excludedForErrors)],
    ['Both right / both wrong', `${count(pair.bothRight)} / ${count(pair.bothWrong)}`],
    ['Accuracy on common questions', `${pct(pair.baselineAccuracy)} → ${pct(pair.compressedAccuracy)}`],
    ['Accuracy difference (compressed − baseline)', interval(pair.accuracyDifference, pp)],
    ['Retention (compressed / baseline)', interval(pair.retention)],
    ['Agreement (both right or both wrong)', pct(pair.agreementRate)],
    ['Same letter chosen', pct(pair.sameLetterRate)],
    [
      'McNemar test',
      m
        ? `b = ${count(m.b)} (right → wrong), c = ${count(m.c)} (wrong → right); exact p = ${pValue(m.exactP)}, mid-p = ${pValue(m.midP)}${m.chiSquare != null ? `, χ² (continuity-corrected) = ${m.chiSquare.toFixed(3)}, p = ${pValue(m.chiSquareP)}` : ''}`
        : NA,
    ],
  ];
  const latencyRows = pair.latency
    .map(
      (l) =>
        `<tr><td>${esc(metricName(l.metric))} (${esc(l.statistic)})</td><td class="num">${ms(l.baselineMs)}</td><td class="num">${ms(l.compressedMs)}</td><td class="num">${interval(l.reduction)}</td><td>${l.paired ? 'paired' : 'independent'} bootstrap, n = ${count(l.n.baseline)} / ${count(l.n.compressed)}</td></tr>`,
    )
    .join('\n');
  const memoryRows = pair.memory
    .map(
      (x) =>
        `<tr><td>${esc(partName(x.part))}</td><td class="num">${bytes(x.baselineBytes)}</td><td class="num">${bytes(x.compressedBytes)}</td><td class="num">${pct(x.reduction)}</td><td>${x.note ? esc(x.note) : ''}</td></tr>`,
    )
    .join('\n');
  return `<h3>${esc(pair.baseline)} → ${esc(pair.compressed)}</h3>
<dl class="kv">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>
${latencyRows ? `<table><caption>Latency reduction (positive = compressed is faster)</caption><thead><tr><th>Metric</th><th class="num">${esc(pair.baseline)}</th><th class="num">${esc(pair.compressed)}</th><th class="num">Reduction [interval]</th><th>Method</th></tr></thead><tbody>${latencyRows}</tbody></table>` : ''}
${memoryRows ? `<table><caption>Memory reduction (positive = compressed uses less)</caption><thead><tr><th>Part</th><th class="num">${esc(pair.baseline)}</th><th class="num">${esc(pair.compressed)}</th><th class="num">Reduction</th><th>Note</th></tr></thead><tbody>${memoryRows}</tbody></table>` : ''}
${letterDistributionTable(pair)}
${flipsTable(pair)}`;
}

/** Likelihood scoring: how closely the compressed model's answer-letter distribution follows the baseline's. */
function letterDistributionTable(pair: PairComparison): string {
  const d = pair.letterDistribution;
  if (!d) return '';
  const both = (b: number, c: number) => `${pct(b)} → ${pct(c)}`;
  const rows: Array<[string, string]> = [
    ['KL divergence (baseline ‖ compressed), nats: mean [interval]', `${nats(d.klMean.estimate)} <span class="small ci">[${nats(d.klMean.lower)}, ${nats(d.klMean.upper)}]</span>`],
    ['KL divergence p50 / p90 / p99 / max', `${nats(d.klP50)} / ${nats(d.klP90)} / ${nats(d.klP99)} / ${nats(d.klMax)}`],
    ['Same most likely letter', pct(d.top1Agreement)],
    [`Probability of the correct letter, mean (${pair.baseline} → ${pair.compressed})`, both(d.baselineGoldProbability, d.compressedGoldProbability)],
    [`Next-token probability on the letters, mean (${pair.baseline} → ${pair.compressed})`, both(d.baselineLetterMass, d.compressedLetterMass)],
  ];
  return `<table><caption>Answer-letter distributions (likelihood scoring, ${count(d.items)} questions; each renormalised over the option letters)</caption><thead><tr><th>Figure</th><th class="num">Value</th></tr></thead><tbody>${rows
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${v}</td></tr>`)
    .join('')}</tbody></table>`;
}

function comparisonSection(model: ReportModel): string {
  if (model.comparisons.length === 0) return '';
  return section('comparison', 'Baseline vs compressed', model.comparisons.map(comparisonBlock).join('\n'));
}

function latencySection(model: ReportModel, charts: ChartSpec[]): string {
  const metrics = LATENCY_DISPLAY_ORDER;
  const rows: string[] = [];
  for (const r of model.runs) {
    for (const metric of metrics) {
      const d: Distribution | null = r.latency[metric];
      if (!d) continue;
      rows.push(
        `<tr><td>${esc(r.label)}</td><td>${metricName(metric)}</td><td class="num">${count(d.n)}</td><td class="num">${ms(d.mean)}</td><td class="num">${ms(d.std)}</td><td class="num">${ms(d.p50)}</td><td class="num">${ms(d.p90)}</td><td class="num">${ms(d.p95)}</td><td class="num">${ms(d.p99)}</td><td class="num">${ms(d.max)}</td></tr>`,
      );
    }
  }
  const throughput = model.runs
    .map((r) => {
      const l = r.latency;
      return `<tr><td>${esc(r.label)}</td><td class="num">${count(l.requests)}</td><td class="num">${count(l.completed)}</td><td class="num">${count(l.failed)}</td><td class="num">${l.requestThroughputPerS == null ? NA : l.requestThroughputPerS.toFixed(3)}</td><td class="num">${l.outputTokenThroughputPerS == null ? NA : l.outputTokenThroughputPerS.toFixed(1)}</td><td class="num">${l.inFlight ? count(l.inFlight.peak) : NA}</td><td>${esc(l.load.profile)}${l.load.concurrency != null ? `, concurrency ${count(l.load.concurrency)}` : ''}${l.load.ratePerSecond != null ? `, ${esc(l.load.ratePerSecond)} req/s` : ''}, warm-up ${count(l.load.warmup)}${l.batchSizeOne ? ' <span class="small">(batch size 1)</span>' : ''}</td></tr>`;
    })
    .join('\n');
  const table = rows.length
    ? `<table><caption>Latency per request</caption><thead><tr><th>Run</th><th>Metric</th><th class="num">n</th><th class="num">Mean</th><th class="num">SD</th><th class="num">p50</th><th class="num">p90</th><th class="num">p95</th><th class="num">p99</th><th class="num">Max</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
    : '<p class="muted">No request timings were recorded.</p>';
  return section(
    'latency',
    'Latency',
    [
      table,
      `<table><caption>Load and throughput</caption><thead><tr><th>Run</th><th class="num">Requests</th><th class="num">Completed</th><th class="num">Failed</th><th class="num">Requests / s</th><th class="num">Output tokens / s</th><th class="num">Peak in flight</th><th>Load</th></tr></thead><tbody>${throughput}</tbody></table>`,
      throttleTable(model),
      goodputTable(model),
      figure(charts, 'latency-cdf-e2el'),
      figure(charts, 'latency-cdf-ttft'),
      figure(charts, 'latency-percentiles-tpot'),
      figure(charts, 'latency-percentiles-itl'),
      figure(charts, 'requests-in-flight'),
    ].join('\n'),
  );
}

function serverFigure(f: ServerFigure): string {
  if (f.unit === 'ms') return ms(f.value);
  if (f.unit === 'tokens/s') return `${f.value.toFixed(1)}&nbsp;tokens/s`;
  if (f.unit === 'ratio') return pct(f.value);
  return count(Math.round(f.value));
}

/** What the server said about each run (engine timings, /metrics differences), each figure with its source. */
function serverSection(model: ReportModel): string {
  const runs = model.runs.filter((r) => r.server);
  if (!runs.length) return '';
  const rows: string[] = [];
  for (const r of runs) {
    const s = r.server!;
    for (const f of s.figures) rows.push(`<tr><td>${esc(r.label)}</td><td>${esc(f.label)}</td><td class="num">${serverFigure(f)}</td><td class="small">${esc(f.source)}</td></tr>`);
    if (s.truncation) rows.push(`<tr><td>${esc(r.label)}</td><td>prompts silently truncated by the server</td><td class="num">${count(s.truncation.flagged)} flagged, ${count(s.truncation.logLines)} log lines</td><td class="small">runner check (/tokenize) and server log</td></tr>`);
    if (s.note) rows.push(`<tr><td>${esc(r.label)}</td><td>note</td><td class="num">${NA}</td><td class="small">${esc(s.note)}</td></tr>`);
  }
  return section('server', 'Server view', `<p class="muted">What each server said about its run, beside the client's figures: engine clocks leave out the network, HTTP and queueing.</p>
<table><thead><tr><th>Run</th><th>Figure</th><th class="num">Value</th><th>Source</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`);
}

/** Goodput per run, when the report was built with service-level objectives. */
function goodputTable(model: ReportModel): string {
  const runs = model.runs.filter((r) => r.latency.goodput);
  if (!runs.length) return '';
  const rows = runs
    .map((r) => {
      const g = r.latency.goodput!;
      return `<tr><td>${esc(r.label)}</td><td class="num">${count(g.good)} / ${count(g.completed)}</td><td class="num">${g.share ? interval(g.share, (v) => pct(v)) : NA}</td><td class="num">${g.perS == null ? NA : g.perS.toFixed(3)}</td></tr>`;
    })
    .join('\n');
  return `<table><caption>Goodput: completed requests meeting every objective (${esc(runs[0]!.latency.goodput!.objectives)}), as vLLM bench serve --goodput</caption><thead><tr><th>Run</th><th class="num">Good / completed</th><th class="num">Share [interval]</th><th class="num">Goodput (requests / s)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function memorySection(model: ReportModel, charts: ChartSpec[]): string {
  const parts: MemoryPartName[] = [];
  for (const r of model.runs) for (const m of r.memory) if (!parts.includes(m.part)) parts.push(m.part);
  const head = `<tr><th>Part</th>${model.runs.map((r) => `<th class="num">${esc(r.label)}</th>`).join('')}</tr>`;
  const rows = parts
    .map((part) => {
      const tds = model.runs
        .map((r) => {
          const m = r.memory.find((x) => x.part === part);
          if (!m) return `<td class="num">${NA}</td>`;
          if (m.bytes == null) return `<td class="num"><span class="na">not available</span>${m.note ? `<div class="small">${esc(m.note)}</div>` : ''}</td>`;
          return `<td class="num">${bytes(m.bytes)}<div class="small">${esc(m.source)}${m.note ? `; ${esc(m.note)}` : ''}</div></td>`;
        })
        .join('');
      return `<tr><td>${esc(partName(part))}</td>${tds}</tr>`;
    })
    .join('\n');
  const table = parts.length
    ? `<table><caption>Memory parts (${esc(BYTE_UNIT_POLICY)})</caption><thead>${head}</thead><tbody>${rows}</tbody></table>`
    : '<p class="muted">No memory figures were recorded.</p>';
  // Two runs: the accuracy-vs-memory picture sits here; a ladder has its Pareto charts in the leaderboard.
  const pareto = leaderboardOf(model).rows.length < 2 ? [figure(charts, 'accuracy-vs-weights'), figure(charts, 'accuracy-vs-peak-memory')] : [];
  return section('memory', 'Memory', [table, figure(charts, 'memory'), ...pareto].join('\n'));
}

function modelsSection(model: ReportModel): string {
  const blocks = model.runs.map((r) => {
    const d = r.model;
    const tensorTypes = d.tensorTypes
      ? Object.entries(d.tensorTypes)
          .map(([k, v]) => `${esc(k)}: ${count(v)}`)
          .join(', ')
      : NA;
    const s = r.sampling;
    const facts: Array<[string, string]> = [
      ['Runner', esc(d.runner)],
      ['Model file', d.modelPath ? `<code>${esc(d.modelPath)}</code>` : NA],
      ['Architecture', d.architecture ? esc(d.architecture) : NA],
      ['Parameters', d.parameters == null ? NA : `${count(d.parameters)} (${(d.parameters / 1e9).toFixed(2)} B)`],
      ['File size', bytes(d.fileBytes)],
      ['Weight format', d.quantization ? esc(d.quantization) : NA],
      ['Tensor types', tensorTypes],
      ['Context size', d.contextSize == null ? NA : count(d.contextSize)],
      ['Threads', d.threads == null ? NA : count(d.threads)],
      [
        'Sampling',
        `temperature ${esc(s.temperature)}, top-p ${esc(s.topP)}${s.topK != null ? `, top-k ${esc(s.topK)}` : ''}${s.minP != null ? `, min-p ${esc(s.minP)}` : ''}, max tokens ${count(s.maxTokens)}${s.seed != null ? `, seed ${esc(s.seed)}` : ''}`,
      ],
      ['Suite', `${esc(r.suite.name)} (${esc(r.suite.dataset)}, ${count(r.suite.items)} questions, <code>${esc(r.suite.datasetHash)}</code>)`],
      ['Run', `${esc(r.status)}, ${esc(r.createdAt)}${r.finishedAt ? ` → ${esc(r.finishedAt)}` : ''}; medeval ${esc(r.medevalVersion)}${r.gitCommit ? ` @ <code>${esc(r.gitCommit)}</code>` : ''}`],
      ['Run folder', r.folder ? `<code>${esc(r.folder)}</code>` : NA],
      ['Config hash', `<code>${esc(r.configHash)}</code>`],
      ['Finish reasons', Object.entries(r.finishReasons).map(([k, v]) => `${esc(k)}: ${count(v)}`).join(', ') || NA],
      ['Request errors', `${count(r.reliability.errors)} of ${count(r.reliability.requests)}${r.reliability.errors ? ` (${esc(errorKindsText(r.reliability.errorKinds))})` : ''}`],
      ['Retries', `${count(r.reliability.retries)} over ${count(r.reliability.retriedRequests)} request(s)`],
      ...(r.reliability.stopReason ? [['Stopped early', esc(r.reliability.stopReason)] as [string, string]] : []),
    ];
    if (d.extra && Object.keys(d.extra).length) facts.push(['Other', `<code>${esc(JSON.stringify(d.extra))}</code>`]);
    const warnings = r.warnings.length ? `<ul class="notes">${r.warnings.map((w) => `<li class="note-warning">${esc(w)}</li>`).join('')}</ul>` : '';
    return `<div><h3>${esc(r.label)}</h3><dl class="kv">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>${warnings}</div>`;
  });
  return section('models', 'Models and runs', `<div class="grid2">${blocks.join('\n')}</div>`);
}

function notesSection(model: ReportModel): string {
  const items = model.notes.map((n) => `<li class="note-${esc(n.kind)}"><strong>${esc(n.kind)}:</strong> ${esc(n.text)}</li>`);
  items.push(
    `<li><strong>settings:</strong> confidence ${pct(model.settings.confidence, 0)}, ${count(model.settings.bootstrapResamples)} bootstrap resamples, seed ${esc(model.settings.seed)}.</li>`,
  );
  return section('notes', 'Definitions and notes', `<ul class="notes">${items.join('\n')}</ul>`);
}

/** The capacity throttle per run, beside the load settings; nothing when no run was throttled. */
function throttleTable(model: ReportModel): string {
  const rows = throttleRows(model);
  if (!rows.length) return '';
  const body = rows.map((t) => `<tr><td>${esc(t.label)}</td><td class="num">${count(t.cuts)}</td><td>${esc(t.path)}</td><td class="num">${count(t.changes)}</td><td class="num">${count(t.lowest)}</td><td class="num">${count(t.atEnd)}</td></tr>`).join('\n');
  return `<table id="throttle"><caption>Throttled: requests in flight after capacity errors</caption><thead><tr><th>Run</th><th class="num">Capacity episodes</th><th>Window (requests in flight)</th><th class="num">Window changes</th><th class="num">Lowest</th><th class="num">Final window</th></tr></thead><tbody>${body}</tbody></table>\n<p class="small">${esc(THROTTLE_DEFINITION)}</p>`;
}

function section(id: string, title: string, html: string): string {
  return `<section id="${esc(id)}"><h2>${esc(title)}</h2>\n${html}\n</section>`;
}

function figure(charts: ChartSpec[], id: string): string {
  const spec = charts.find((c) => c.id === id);
  if (!spec) return '';
  return `<figure><div class="chart"><canvas id="chart-${esc(spec.id)}" width="${spec.width}" height="${spec.height}" role="img" aria-label="${esc(spec.description)}"></canvas></div><figcaption>${esc(spec.description)}</figcaption></figure>`;
}

// ---- the page ------------------------------------------------------------------------------------

/** Warnings a reader must see before any number (smoke tests, tiny random models), at the top of the page. */
function warningBanner(model: ReportModel): string {
  const warnings = model.notes.filter((n) => n.kind === 'warning');
  if (warnings.length === 0) return '';
  return `<div class="banner" role="alert"><strong>Read this first</strong><ul>${warnings.map((n) => `<li>${esc(n.text)}</li>`).join('')}</ul></div>`;
}

/** The whole report page as a string. */
export function renderHtml(model: ReportModel): string {
  const { data, ...page } = htmlPage(model);
  return pageHtml({ ...page, dataJson: jsonForScript(data) });
}

/** renderHtml's text in pieces (the model it carries is tens of MB at 100,000 items): the same bytes joined. */
export function* renderHtmlPieces(model: ReportModel): Generator<string> {
  const { data, ...page } = htmlPage(model);
  yield* pageHtmlPieces({ ...page, dataJson: jsonForScriptPieces(data) });
}

function htmlPage(model: ReportModel): { title: string; bodyHtml: string; data: unknown } {
  const charts = reportCharts(model);
  const labels = model.runs.map((r) => r.label);
  const nav = [['claims', 'Claims'], ...(model.runs.length >= 2 ? [['leaderboard', 'Leaderboard']] : []), ['accuracy', 'Accuracy'], ...(model.comparisons.length ? [['comparison', 'Baseline vs compressed']] : []), ['latency', 'Latency'], ...(model.runs.some((r) => r.server) ? [['server', 'Server view']] : []), ['memory', 'Memory'], ['models', 'Models'], ['notes', 'Notes']];
  const header = `<header><h1>medeval report</h1>
<p class="meta">${labels.length ? `Runs: ${labels.map((l) => `<strong>${esc(l)}</strong>`).join(', ')}` : 'No runs'} · report schema ${esc(model.schemaVersion)}${model.generatedAt ? ` · generated ${esc(model.generatedAt)}` : ''}</p>
<nav><ul>${nav.map(([id, title]) => `<li><a href="#${id}">${esc(title)}</a></li>`).join('')}</ul></nav>
<noscript><p class="muted">Charts need JavaScript; every figure is also in the tables.</p></noscript>${warningBanner(model)}</header>`;
  const body = model.runs.length
    ? [claimsSection(model), leaderboardSection(model, charts), accuracySection(model, charts), comparisonSection(model), latencySection(model, charts), serverSection(model), memorySection(model, charts), modelsSection(model), notesSection(model)]
    : [claimsSection(model), notesSection(model)];
  return {
    title: `medeval report: ${labels.join(' vs ') || 'no runs'}`,
    bodyHtml: `<main>${header}\n${body.filter(Boolean).join('\n')}</main>`,
    // The model travels with the page, so the figures behind it can be read back from report.html alone.
    data: { chartFontFamily: CHART_FONT_FAMILY, charts, model },
  };
}

/** Writes report.html (creating its folder); returns the path. */
export async function writeHtml(model: ReportModel, file: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  await writeRedactedAsync(file, renderHtml(model));
  return file;
}

export const htmlWriter: ReportWriter = {
  name: 'html',
  description: 'report.html, one self-contained page',
  files: ['report.html'],
  skippable: true,
  render: (model) => [{ name: 'report.html', content: renderHtmlPieces(model) }],
};
