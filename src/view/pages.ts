// The viewer's HTML, rendered on the server. Every string from a dataset, a model or a folder name goes
// through escapeHtml (report/html-escape.ts), the same function report.html uses; the page's own script
// only fetches more of these server-rendered pieces. Labels and units of timings come from the metric
// table (metrics/table.ts), so a figure is named here as in every report.
import { basename } from 'node:path';
import type { ItemResult, RunManifest } from '../core/types.js';
import { LATENCY_DISPLAY_ORDER, LATENCY_TABLE, QUEUE_METRIC, type MetricDefinition } from '../metrics/table.js';
import { formatBytes } from '../metrics/units.js';
import { optionsFromPrompt } from '../prompts/templates.js';
import { escapeHtml as esc } from '../report/html-escape.js';
import { wilsonInterval } from '../stats/proportion.js';
import { runKind, totals, type ViewRun } from './catalog.js';
import {
  facetCounts, filterQuery, FLIP_DEFINITIONS, FLIP_RULE, FLIPS, OUTCOME_DEFINITIONS, outcomeCounts, outcomeOf, OUTCOMES,
  type ItemFilter, type Outcome,
} from './filters.js';

export const CSS_PATH = '/assets/view.css';
export const SCRIPT_PATH = '/assets/view.js';

export function pageShell(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${CSS_PATH}">
<script src="${SCRIPT_PATH}" defer></script>
</head>
<body>
<header class="top"><a href="/">medeval view</a><span class="small">read-only · loopback only</span></header>
<main>
${body}
</main>
</body>
</html>
`;
}

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const count = (n: number) => n.toLocaleString('en-US');
const date = (iso: string | undefined) => (iso ? esc(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')) : '<span class="na">n/a</span>');

/** "71.3% [67.2%, 75.1%]" with its n: the Wilson interval only where records are independent (one sample each). */
function accuracyHtml(run: ViewRun): string {
  const t = totals(run);
  if (t.scored === 0) return '<span class="na">no scored record</span>';
  const acc = t.right / t.scored;
  const interval = run.manifest?.samples === 1 ? wilsonInterval(t.right, t.scored) : null;
  return `<span class="acc">${pct(acc)}</span>${interval ? ` <span class="ci">[${pct(interval.lower)}, ${pct(interval.upper)}]</span>` : ''}<br><span class="small">${count(t.right)} of ${count(t.scored)} scored</span>`;
}

export const ACCURACY_DEFINITION = 'Accuracy: scored records answered with the gold letter, over scored records (failed requests are not scored; unparseable and truncated answers count as wrong). Interval: Wilson 95% over records, shown for one sample per question only. Verdicts and paired intervals: medeval report.';

/** Weight format and runner, then the model file and its size (on lines of their own in the list, `sep` elsewhere). */
function modelCell(m: RunManifest, sep = '<br>'): string {
  const parts = [m.model.quantization, m.model.runner].filter((x): x is string => Boolean(x));
  const file = m.model.modelPath ? basename(m.model.modelPath) : null;
  return `${esc(parts.join(' · '))}${file ? `${sep}<span class="small">${esc(file)}</span>` : ''}${m.model.fileBytes ? `${sep}<span class="small">${esc(formatBytes(m.model.fileBytes))}</span>` : ''}`;
}

/** The suite's name, its dataset when it is named otherwise, and "smoke test" where it is one. */
function suiteHtml(m: RunManifest): string {
  const notes = [m.suite.dataset !== m.suite.name ? m.suite.dataset : null, m.suite.smokeTest ? 'smoke test: not a benchmark' : null].filter((x): x is string => x !== null);
  return `${esc(m.suite.name)}${notes.length ? ` <span class="small">${esc(notes.join(' · '))}</span>` : ''}`;
}

function statusBadge(status: string): string {
  return `<span class="status status-${esc(status)}">${esc(status)}</span>`;
}

export function runsPage(runs: readonly ViewRun[], roots: readonly string[]): string {
  const rows = runs.map((run) => {
    const m = run.manifest;
    const pick = `<td><input type="checkbox" name="runs" value="${esc(run.id)}" aria-label="pick ${esc(m?.label ?? run.dir)}"${m && !run.error ? '' : ' disabled'}></td>`;
    if (!m || run.error) {
      return `<tr class="unreadable" data-run="${esc(run.id)}">${pick}<td colspan="9"><strong>cannot read this folder</strong><pre class="error">${esc(run.error ?? 'no manifest')}</pre></td><td><code>${esc(run.dir)}</code></td></tr>`;
    }
    const t = totals(run);
    const flag = run.problems.length ? ` <span class="warn" title="${esc(run.problems.join('\n'))}">journal problems: ${run.problems.length}</span>` : '';
    return `<tr data-run="${esc(run.id)}">${pick}<td><a href="/run/${esc(run.id)}">${esc(m.label)}</a>${flag}</td><td>${modelCell(m)}</td>` +
      `<td>${suiteHtml(m)}</td>` +
      `<td>${esc(runKind(run))}</td><td>${statusBadge(m.status)}</td><td class="num">${accuracyHtml(run)}</td>` +
      `<td class="num">${count(t.records)} of ${count(t.expectedRecords)}</td><td>${date(m.createdAt)}</td><td>${date(m.finishedAt)}</td><td><code>${esc(run.dir)}</code></td></tr>`;
  });
  const body = runs.length
    ? `<form method="get" action="/compare" id="pick">
<table class="runs">
<thead><tr><th>pick</th><th>run</th><th>model</th><th>suite</th><th>kind</th><th>status</th><th class="num">accuracy</th><th class="num">records</th><th>created</th><th>finished</th><th>folder</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<p><button type="submit" id="side-by-side">Side by side</button> <span class="small">pick two or more runs of the same questions</span></p>
</form>
<p class="small">${esc(ACCURACY_DEFINITION)}</p>`
    : '<p class="na">No run folders found (a run folder holds manifest.json and results.jsonl).</p>';
  return pageShell('medeval view: runs', `<h1>Runs</h1>
<p class="meta">${count(runs.length)} run folder(s) under ${roots.map((r) => `<code>${esc(r)}</code>`).join(', ')}</p>
${body}`);
}

function kv(pairs: [string, string][]): string {
  return `<dl class="kv">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function banners(run: ViewRun): string {
  const out: string[] = [];
  if (run.error) out.push(`<div class="banner error"><strong>This folder cannot be read.</strong><pre>${esc(run.error)}</pre></div>`);
  if (run.problems.length) {
    out.push(`<div class="banner"><strong>The journal disagrees with its manifest:</strong><ul>${run.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul></div>`);
  }
  if (run.warnings.length) out.push(`<ul class="notes small">${run.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  return out.join('\n');
}

function runFacts(run: ViewRun): string {
  const m = run.manifest!;
  const s = m.sampling;
  return kv([
    ['model', modelCell(m, ' · ')],
    ['suite', `${suiteHtml(m)} · ${count(m.suite.items)} question(s) × ${m.samples} sample(s)`],
    ['status', `${statusBadge(m.status)}${m.stopReason ? ` ${esc(m.stopReason)}` : ''}`],
    ['kind', esc(runKind(run))],
    ['accuracy', accuracyHtml(run)],
    ['sampling', esc(`temperature ${s.temperature}, top-p ${s.topP}, max tokens ${s.maxTokens}${s.seed !== undefined ? `, seed ${s.seed}` : ''}`)],
    ['load', esc(`${m.load.profile}${m.load.concurrency ? ` × ${m.load.concurrency}` : ''}${m.load.ratePerSecond ? ` at ${m.load.ratePerSecond}/s` : ''}`)],
    ['created', `${date(m.createdAt)} · medeval ${esc(m.medevalVersion)}`],
    ['finished', date(m.finishedAt)],
    ['folder', `<code>${esc(run.dir)}</code>`],
  ]);
}

/** A menu of the filter form; `disabled` for one that means nothing yet (flip before a run to compare with is picked). */
function select(name: string, label: string, current: string | undefined, options: [string, string][], all = 'all', disabled = false): string {
  const opts = [`<option value="">${esc(all)}</option>`, ...options.map(([v, text]) => `<option value="${esc(v)}"${v === current ? ' selected' : ''}>${esc(text)}</option>`)];
  return `<label>${esc(label)} <select name="${esc(name)}"${disabled ? ' disabled title="pick a run to flip against first"' : ''}>${opts.join('')}</select></label>`;
}

export interface ItemsPage {
  /** Records matching the filter, and the page's slice of them. */
  total: number;
  offset: number;
  limit: number;
  records: ItemResult[];
}

function filterForm(run: ViewRun, others: readonly ViewRun[], f: ItemFilter): string {
  const entries = run.index.entries();
  const oc = outcomeCounts(entries);
  const types = facetCounts(entries, (e) => e.questionType);
  const steps = facetCounts(entries, (e) => e.step);
  const subjects = facetCounts(entries, (e) => e.subject);
  const withCount = (xs: [string, number][]): [string, string][] => xs.map(([v, n]) => [v, `${v} (${count(n)})`]);
  return `<form method="get" action="/run/${esc(run.id)}" id="filters" class="filters">
${select('outcome', 'outcome', f.outcome, OUTCOMES.map((o) => [o, `${o} (${count(oc[o])})`]))}
${select('type', 'type', f.type, withCount(types))}
${steps.length ? select('step', 'step', f.step, withCount(steps)) : ''}
${subjects.length ? select('subject', 'subject', f.subject, withCount(subjects)) : ''}
<label>item id <input type="search" name="id" value="${esc(f.id ?? '')}" size="12"></label>
${select('vs', 'flip against', f.vs, others.map((o) => [o.id, o.manifest?.label ?? o.dir]), 'no other run')}
${select('flip', 'flip', f.vs ? f.flip : undefined, FLIPS.map((d) => [d, d]), 'any', !f.vs)}
<button type="submit">Apply</button> <a href="/run/${esc(run.id)}">clear</a>
</form>
<details class="defs"><summary>What the filters mean</summary><dl>${OUTCOMES.map((o) => `<dt>${outcomeBadge(o)}</dt><dd>${esc(OUTCOME_DEFINITIONS[o])}</dd>`).join('')}${FLIPS.map((d) => `<dt>flip ${esc(d)}</dt><dd>${esc(FLIP_DEFINITIONS[d])}</dd>`).join('')}</dl><p class="small">${esc(FLIP_RULE)}</p></details>`;
}

function outcomeBadge(o: Outcome): string {
  return `<span class="badge o-${o}">${o}</span>`;
}

export function runPage(run: ViewRun, others: readonly ViewRun[], f: ItemFilter, page: ItemsPage): string {
  const label = run.manifest?.label ?? basename(run.dir);
  const body = `<nav class="crumbs"><a href="/">runs</a> › ${esc(label)}</nav>
<h1>${esc(label)}</h1>
${banners(run)}
${run.manifest ? runFacts(run) : ''}
${run.manifest && !run.error ? `${breakdownHtml(run)}
${filterForm(run, others, f)}
<p class="count" id="count">${countLine(page, run.index.entries().length)}${f.vs ? ` <a id="side-link" href="/compare?runs=${esc(encodeURIComponent(f.vs))}&amp;runs=${esc(encodeURIComponent(run.id))}&amp;show=flips">the flips side by side</a>` : ''}</p>
<div id="items" data-offset="${page.offset}">
${itemsHtml(page.records)}
</div>
${moreLink(`/run/${encodeURIComponent(run.id)}`, filterQuery(f), position(page))}` : ''}`;
  return pageShell(`medeval view: ${label}`, body);
}

/** Accuracy by question type and by step, each row a link to its filter (the same rule as the run's accuracy). */
function breakdownHtml(run: ViewRun): string {
  const entries = run.index.entries();
  const table = (title: string, param: 'type' | 'step', field: (e: (typeof entries)[number]) => string | undefined) => {
    const groups = new Map<string, { records: number; scored: number; right: number }>();
    for (const e of entries) {
      const v = field(e);
      if (v === undefined) continue;
      const g = groups.get(v) ?? { records: 0, scored: 0, right: 0 };
      g.records++;
      if (e.correct !== null) g.scored++;
      if (e.correct) g.right++;
      groups.set(v, g);
    }
    if (groups.size < 2) return '';
    const rows = [...groups].sort((a, b) => a[0].localeCompare(b[0])).map(([v, g]) =>
      `<tr><td><a href="/run/${esc(run.id)}?${esc(param)}=${esc(encodeURIComponent(v))}">${esc(v)}</a></td><td class="num">${count(g.records)}</td><td class="num">${count(g.scored)}</td><td class="num">${pct(g.scored ? g.right / g.scored : null)}</td></tr>`);
    return `<table class="breakdown" data-by="${param}"><thead><tr><th>${esc(title)}</th><th class="num">records</th><th class="num">scored</th><th class="num">accuracy</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  };
  const parts = [table('question type', 'type', (e) => e.questionType), table('step', 'step', (e) => e.step)].filter(Boolean);
  return parts.length ? `<div class="breakdowns">${parts.join('')}</div>` : '';
}

function countLine(page: ItemsPage, all: number): string {
  if (page.total === 0) return `No record matches (of ${count(all)} in the run).`;
  return `${count(page.total)} matching record(s) of ${count(all)} in the run; showing <span id="shown">${count(Math.min(page.total, page.offset + page.records.length))}</span>.`;
}

/** Where a page is in its list: `shown` items from `offset` of `total`, `limit` per page. */
export interface PagePosition {
  total: number;
  offset: number;
  shown: number;
  limit: number;
}

/** A link to the next page; the page script turns it into "load more" (it fetches the items fragment). */
export function moreLink(base: string, query: URLSearchParams, p: PagePosition): string {
  const next = p.offset + p.shown;
  if (next >= p.total) return '<nav class="pager" id="pager"><span class="small">end of the list</span></nav>';
  const q = new URLSearchParams(query);
  q.delete('offset');
  q.delete('limit');
  q.set('offset', String(next));
  q.set('limit', String(p.limit));
  return `<nav class="pager" id="pager"><a id="more" href="${esc(`${base}?${q}`)}" data-fragment="${esc(`${base}/items?${q}`)}">next ${count(Math.min(p.limit, p.total - next))} (${count(p.total - next)} left)</a></nav>`;
}

const position = (page: ItemsPage): PagePosition => ({ total: page.total, offset: page.offset, shown: page.records.length, limit: page.limit });

/** The fragment "load more" fetches for one run: the items, then the next link (replacing the old one). */
export function runItemsFragment(run: ViewRun, f: ItemFilter, page: ItemsPage): string {
  return `${itemsHtml(page.records)}\n${moreLink(`/run/${encodeURIComponent(run.id)}`, filterQuery(f), position(page))}`;
}

export function itemsHtml(records: readonly ItemResult[]): string {
  return records.map((r) => itemHtml(r)).join('\n');
}

const fmtMs = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(1));

function metric(def: MetricDefinition, value: number | null | undefined): string {
  return `<span class="metric" title="${esc(def.description)}">${esc(def.short)} ${esc(fmtMs(value))}&nbsp;${esc(def.unit)}</span>`;
}

function timingsHtml(r: ItemResult): string {
  if (r.cached) return '<span class="small">served from the response cache: not timed</span>';
  const t = r.timings;
  if (!t) return '<span class="na">no timings (the request failed)</span>';
  const parts = LATENCY_DISPLAY_ORDER.map((key) => {
    if (key === 'itlMs') {
      const mean = t.itlMs.length ? t.itlMs.reduce((a, b) => a + b, 0) / t.itlMs.length : null;
      return `${metric(LATENCY_TABLE.itlMs, mean)} <span class="small">(mean of ${t.itlMs.length} gaps)</span>`;
    }
    return metric(LATENCY_TABLE[key], t[key]);
  });
  if (t.queueMs !== undefined) parts.push(metric(QUEUE_METRIC, t.queueMs));
  return parts.join(' · ');
}

function optionsHtml(r: ItemResult): string {
  const options = optionsFromPrompt(r.prompt);
  if (!options) return '';
  const items = Object.entries(options).map(([letter, text]) => {
    const marks = [letter === r.gold ? 'gold' : null, letter === r.extracted.letter ? 'answer' : null].filter(Boolean) as string[];
    return `<li class="${marks.join(' ')}"><b>${esc(letter)}.</b> ${esc(text)}${marks.map((m) => ` <span class="mark ${m}">${m}</span>`).join('')}</li>`;
  });
  return `<ol class="options">${items.join('')}</ol>`;
}

function tokensHtml(r: ItemResult): string {
  const budget = r.budget ? `, budget ${r.budget.maxTokens}${r.budget.maxTokens !== r.budget.requested ? ` (asked ${r.budget.requested})` : ''}` : '';
  return esc(`prompt ${r.promptTokens ?? 'n/a'}, output ${r.outputTokens ?? 'n/a'} (${r.tokenSource})${budget}`);
}

function foldedText(summary: string, text: string | null | undefined, open = false): string {
  if (text === null || text === undefined || text === '') return '';
  return `<details${open ? ' open' : ''}><summary>${esc(summary)} <span class="small">(${count(text.length)} characters)</span></summary><pre>${esc(text)}</pre></details>`;
}

/** One record in full: question, options, answer and how it was read, timings, reasoning folded. */
export function itemHtml(r: ItemResult): string {
  const o = outcomeOf(r);
  const tags = [`type ${r.questionType}`, r.step ? `step ${r.step}` : null, r.subject ? `subject ${r.subject}` : null, r.shard !== undefined ? `shard ${r.shard}` : null, r.replica ? `replica ${r.replica}` : null]
    .filter((x): x is string => x !== null);
  const answer = r.extracted.letter ?? '—';
  const lines = [
    `answer <b class="letter">${esc(answer)}</b> <span class="small">(${esc(r.extracted.status)}, read by ${esc(r.extracted.method)})</span> · gold <b class="letter">${esc(r.gold)}</b> · finish ${esc(r.finishReason)} · tokens ${tokensHtml(r)}`,
    timingsHtml(r),
  ];
  if (r.error) lines.push(`<span class="o-error-text">error ${esc(r.error.kind)}: ${esc(r.error.message)}</span>`);
  if (r.retries) lines.push(esc(`retried ${r.retries} time(s): ${(r.retryReasons ?? []).join('; ')}`));
  if (r.rescored) {
    const p = r.rescored.previous;
    lines.push(esc(`rescored; before: ${p.letter ?? '—'} (${p.status}, ${p.method}), ${p.correct === null ? 'not scored' : p.correct ? 'right' : 'wrong'}`));
  }
  if (r.letterLogprobs) lines.push(esc(`log-probabilities: ${Object.entries(r.letterLogprobs).map(([l, v]) => `${l} ${v.toFixed(3)}`).join(', ')}`));
  return `<article class="item o-${o}" data-item="${esc(r.itemId)}" data-sample="${r.sample}" data-outcome="${o}">
<header>${outcomeBadge(o)} <code class="id">${esc(r.itemId)}</code>${r.sample ? ` <span class="small">sample ${r.sample}</span>` : ''} <span class="small">${esc(tags.join(' · '))}</span></header>
${r.question ? `<p class="question">${esc(r.question)}</p>` : ''}
${optionsHtml(r)}
<div class="facts">${lines.map((l) => `<div>${l}</div>`).join('')}</div>
${foldedText('Reasoning', r.reasoning)}
${foldedText('Reply as generated', r.rawOutput)}
${foldedText('Prompt as sent (the full question and its options)', r.prompt, !r.question)}
</article>`;
}

// ---- side by side ----

export interface SideBySideRow {
  key: string;
  /** Each run's record for this (item, sample), in the order of the runs; null where that run has none. */
  records: (ItemResult | null)[];
}

export const SHOW_MODES = ['all', 'differ', 'flips'] as const;
export type ShowMode = (typeof SHOW_MODES)[number];
export const SHOW_DEFINITIONS: Record<ShowMode, string> = {
  all: 'every question and sample of the first run',
  differ: 'the runs gave different answer letters, or different outcomes',
  flips: 'right in one run and wrong in another (both scored)',
};

export function sideBySidePage(runs: readonly ViewRun[], show: ShowMode, rows: readonly SideBySideRow[], p: PagePosition, query: URLSearchParams, missing: number): string {
  const heads = runs.map((r) => `<th>${esc(r.manifest?.label ?? r.dir)}<br><span class="small">${accuracyHtml(r)}</span></th>`).join('');
  const mode = `<form method="get" action="/compare" id="show" class="filters">${runs.map((r) => `<input type="hidden" name="runs" value="${esc(r.id)}">`).join('')}
${select('show', 'show', show, SHOW_MODES.filter((m) => m !== 'all').map((m) => [m, m]), 'all')}
<button type="submit">Apply</button> <span class="small">${esc(`${show}: ${SHOW_DEFINITIONS[show]}`)}</span></form>
<details class="defs"><summary>What the modes mean</summary><dl>${SHOW_MODES.map((m) => `<dt>${esc(m)}</dt><dd>${esc(SHOW_DEFINITIONS[m])}</dd>`).join('')}</dl><p class="small">${esc(FLIP_RULE)}</p></details>`;
  const items = sideRowsHtml(runs, rows);
  const body = `<nav class="crumbs"><a href="/">runs</a> › side by side</nav>
<h1>Side by side: ${runs.map((r) => esc(r.manifest?.label ?? r.dir)).join(' · ')}</h1>
<table class="runs"><thead><tr>${heads}</tr></thead></table>
${mode}
<p class="count" id="count">${p.total === 0 ? 'No question matches.' : `${count(p.total)} matching question-sample pair(s); showing <span id="shown">${count(Math.min(p.total, p.offset + rows.length))}</span>.`}${missing ? ` ${count(missing)} record(s) of the other runs have no record in the first run and are not listed.` : ''}</p>
<div id="items" data-offset="${p.offset}">
${items}
</div>
${moreLink('/compare', query, p)}`;
  return pageShell('medeval view: side by side', body);
}

export function sideRowsHtml(runs: readonly ViewRun[], rows: readonly SideBySideRow[]): string {
  return rows.map((row) => {
    const first = row.records.find((r): r is ItemResult => r !== null)!;
    const cells = row.records.map((r, i) => {
      const label = runs[i]!.manifest?.label ?? runs[i]!.dir;
      if (!r) return `<div class="cell"><h3>${esc(label)}</h3><span class="na">no record</span></div>`;
      const o = outcomeOf(r);
      return `<div class="cell o-${o}" data-outcome="${o}"><h3>${esc(label)}</h3>${outcomeBadge(o)} <b class="letter">${esc(r.extracted.letter ?? '—')}</b> <span class="small">${esc(r.extracted.status)} · ${esc(r.extracted.method)}</span>
<div class="small">${timingsHtml(r)}</div>
${r.error ? `<div class="o-error-text">${esc(r.error.kind)}: ${esc(r.error.message)}</div>` : ''}
${foldedText('Reasoning', r.reasoning)}
${foldedText('Reply as generated', r.rawOutput)}</div>`;
    });
    return `<article class="item side" data-item="${esc(first.itemId)}" data-sample="${first.sample}">
<header><code class="id">${esc(first.itemId)}</code>${first.sample ? ` <span class="small">sample ${first.sample}</span>` : ''} <span class="small">${esc(`type ${first.questionType}${first.step ? ` · step ${first.step}` : ''}`)} · gold <b class="letter">${esc(first.gold)}</b></span></header>
${first.question ? `<p class="question">${esc(first.question)}</p>` : ''}
${optionsHtml({ ...first, extracted: { ...first.extracted, letter: null } })}
${foldedText('Prompt as sent (the full question and its options)', first.prompt, !first.question)}
<div class="cells">${cells.join('\n')}</div>
</article>`;
  }).join('\n');
}

export function messagePage(title: string, message: string): string {
  return pageShell(`medeval view: ${title}`, `<nav class="crumbs"><a href="/">runs</a></nav><h1>${esc(title)}</h1><p>${esc(message)}</p>`);
}

