// report.md: for a README or a PR comment. Order: claims (with the definition beside every verdict),
// the leaderboard (two runs or more), accuracy, paired comparison, latency, memory, flips, notes. Everything that came from a dataset or a
// model goes through escapeMarkdown, so a "|" or a newline cannot break a table.
import { ms, nats, pct, pctInterval, points, pointsInterval, pValue } from './format.js';
import { LATENCY_DISPLAY_ORDER, LATENCY_TABLE, MEMORY_TABLE, type MemoryPartName } from '../metrics/table.js';
import { BYTE_UNIT_POLICY, formatBytes } from '../metrics/units.js';
import { FRONTIER_AXES, type ClaimCheck, type Distribution, type FlippedItem, type FrontierAxis, type Interval, type LeaderboardRow, type ReportModel, type RunReport } from './model.js';
import { LEADERBOARD_DEFINITION, leaderboardOf } from './leaderboard.js';
import type { ServerFigure } from './server-view.js';
import { toleranceText, VERDICT_DEFINITIONS } from './claims.js';
import { THROTTLE_DEFINITION, throttleRows } from './throttle.js';
import type { ReportWriter } from './writer.js';

/**
 * Escape text for a Markdown table cell or inline text (GitHub-flavoured): one line; the characters that
 * could start markup mid-line (emphasis, code, links, HTML, strikethrough, math, table pipes, entities)
 * backslash-escaped. Text never starts a line, so line-start markers (#, >, -) need no escape.
 */
export function escapeMarkdown(text: string): string {
  return String(text)
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_[\]<|~$]|&(?=#?[0-9A-Za-z]+;)/g, (c) => `\\${c}`);
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const VERDICT_MARK: Record<ClaimCheck['verdict'], string> = {
  reproduced: '**reproduced**',
  exceeded: '**exceeded**',
  'not reproduced': '**not reproduced**',
  inconclusive: 'inconclusive',
  'not measurable': 'not measurable',
  // Not a verdict: the numbers of a smoke test are no evidence either way.
  'smoke test: no evidence': 'smoke test: no evidence',
};

type Unit = ClaimCheck['supporting'][number]['unit'];

function formatValue(value: number | null, unit: Unit): string {
  switch (unit) {
    case 'fraction': return pct(value);
    case 'points': return points(value);
    case 'p-value': return pValue(value);
    case 'ms': return `${ms(value)} ms`;
    case 'bytes': return formatBytes(value);
    default: return value === null ? 'n/a' : String(value);
  }
}

/** "92.1% [90.6%, 93.5%]" or "880.0 ms [850.0 ms, 910.0 ms]": an interval in its own unit. */
function formatInterval(i: Interval | null | undefined, unit: Unit): string {
  if (!i) return 'n/a';
  if (unit === 'fraction') return pctInterval(i);
  if (unit === 'points') return pointsInterval(i);
  if (i.lower === i.upper && i.lower === i.estimate) return formatValue(i.estimate, unit);
  return `${formatValue(i.estimate, unit)} [${formatValue(i.lower, unit)}, ${formatValue(i.upper, unit)}]`;
}

export function supportingValue(s: ClaimCheck['supporting'][number]): string {
  return s.interval ? formatInterval(s.interval, s.unit) : formatValue(s.value, s.unit);
}

const DIRECTION_WORDS: Record<ClaimCheck['direction'], string> = { 'at-least': 'at least', 'at-most': 'at most', equal: 'equal to' };

/** "at least 64.7% ± 2.0 points": the claim with its band (percentage points for a percentage claim). */
function claimedText(c: ClaimCheck): string {
  const unit = c.unit ?? 'fraction';
  const tol = c.tolerance ? ` ${unit === 'fraction' ? toleranceText(c.tolerance) : `± ${formatValue(c.tolerance, unit)}`}` : '';
  return `${DIRECTION_WORDS[c.direction] ?? escapeMarkdown(c.direction)} ${formatValue(c.claimed, unit)}${tol}`;
}

function claimsSection(model: ReportModel): string[] {
  if (!model.claims.length) return [];
  const rows: string[][] = [];
  for (const c of model.claims) {
    const unit = c.unit ?? 'fraction';
    rows.push([escapeMarkdown(c.statement), claimedText(c), formatInterval(c.measured, unit),
      `${VERDICT_MARK[c.verdict] ?? escapeMarkdown(c.verdict)}${c.basis ? ` (${escapeMarkdown(c.basis.split(':')[0]!)})` : ''}`, escapeMarkdown(c.reason)]);
    // A memory claim: every part judged on its own, one row each under the claim.
    for (const p of c.parts ?? []) {
      rows.push([`↳ ${escapeMarkdown(p.label)}`, '', formatInterval(p.measured, 'fraction'), VERDICT_MARK[p.verdict] ?? escapeMarkdown(p.verdict),
        escapeMarkdown(`${bytesPair(p.baselineBytes, p.compressedBytes)}${p.reason}`)]);
    }
  }
  const out = ['## Claims', '', table(['Claim', 'Claimed', 'Measured (95% CI)', 'Verdict', 'Why'], rows), ''];
  out.push('Verdicts (the same rule for every claim; the band is claim ± tolerance, a percentage claim\'s tolerance in percentage points):', '');
  for (const [v, d] of VERDICT_DEFINITIONS) out.push(`- **${escapeMarkdown(v)}**: ${escapeMarkdown(d)}.`);
  out.push('', 'How each claim is measured:', '');
  for (const c of model.claims) {
    out.push(`- **${escapeMarkdown(c.id)}**: ${escapeMarkdown(c.definition)}. Rule: ${escapeMarkdown(c.rule)}.`);
    const extra = c.supporting.map((s) => `${escapeMarkdown(s.label)} ${supportingValue(s)}`).join('; ');
    if (extra) out.push(`  Also: ${extra}.`);
  }
  out.push('');
  return out;
}

function bytesPair(b: number | null, c: number | null): string {
  return b === null && c === null ? '' : `${formatBytes(b)} → ${formatBytes(c)}: `;
}

/** "weights, peak memory, E2EL": the costs on whose frontier the row sits. */
export function frontierWords(row: LeaderboardRow): string {
  const on = FRONTIER_AXES.filter((a) => row.frontier[a]).map((a) => FRONTIER_NAMES[a]);
  return on.length ? on.join(', ') : '-';
}

const FRONTIER_NAMES: Record<FrontierAxis, string> = {
  weights: MEMORY_TABLE.weights.short,
  processPeak: MEMORY_TABLE.processPeak.short,
  e2eMs: LATENCY_TABLE.e2eMs.short,
};

function leaderboardSection(model: ReportModel): string[] {
  const board = leaderboardOf(model);
  if (board.rows.length < 2) return [];
  const rows = board.rows.map((r) => [
    escapeMarkdown(r.run),
    r.role === 'compressed' ? `vs ${escapeMarkdown(r.baseline ?? '')}` : r.role,
    pctInterval(r.accuracy),
    pctInterval(r.retention),
    pointsInterval(r.accuracyDifference),
    r.mcnemarP === null ? 'n/a' : `${pValue(r.mcnemarP)} (${pValue(r.mcnemarPHolm)})`,
    formatBytes(r.memory.weights), formatBytes(r.memory.residentWeights), formatBytes(r.memory.processPeak), formatBytes(r.memory.gpuProcessPeak),
    ms(r.latencyP50Ms.ttftMs), ms(r.latencyP50Ms.tpotMs), ms(r.latencyP50Ms.e2eMs),
    r.verdicts.length ? r.verdicts.map((v) => `${escapeMarkdown(v.claim)}: ${escapeMarkdown(v.verdict)}`).join('; ') : '',
    frontierWords(r),
  ]);
  const mem = (k: 'weights' | 'residentWeights' | 'processPeak' | 'gpuProcessPeak') => MEMORY_TABLE[k].short.replace(/^./, (c) => c.toUpperCase());
  const lat = (k: 'ttftMs' | 'tpotMs' | 'e2eMs') => `${LATENCY_TABLE[k].short} p50 (ms)`;
  return ['## Leaderboard', '',
    table(['Model', 'Paired with', 'Accuracy (95% CI)', 'Retention (95% CI)', 'Difference, points (95% CI)', 'McNemar p (Holm)',
      mem('weights'), mem('residentWeights'), mem('processPeak'), mem('gpuProcessPeak'), lat('ttftMs'), lat('tpotMs'), lat('e2eMs'), 'Verdicts', 'Pareto frontier'], rows),
    '', `${escapeMarkdown(LEADERBOARD_DEFINITION)} Holm over ${board.pAdjustment.pairs} pair(s). Memory in ${escapeMarkdown(BYTE_UNIT_POLICY)}.`, ''];
}

function accuracySection(model: ReportModel): string[] {
  const out = ['## Accuracy', ''];
  const rows: string[][] = [];
  for (const r of model.runs) {
    const cells = [r.accuracy.overall, ...r.accuracy.byStep, ...r.accuracy.byQuestionType];
    if (r.accuracy.majorityVote) cells.push(r.accuracy.majorityVote);
    for (const c of cells) {
      rows.push([escapeMarkdown(r.id), escapeMarkdown(c.key), String(c.items), `${c.correct}/${c.scored}`, pctInterval(c.accuracy),
        String(c.wrong), String(c.unparseable), String(c.truncated), String(c.errors)]);
    }
  }
  out.push(table(['Run', 'Slice', 'Questions', 'Correct/scored', 'Accuracy (95% CI)', 'Wrong', 'Unparseable', 'Truncated', 'Errors'], rows), '');
  return out;
}

function comparisonSection(model: ReportModel): string[] {
  if (!model.comparisons.length) return [];
  const out = ['## Baseline vs compressed (paired)', ''];
  const rows = model.comparisons.map((c) => [
    `${escapeMarkdown(c.baseline)} -> ${escapeMarkdown(c.compressed)}`,
    String(c.itemsInCommon),
    `${pct(c.baselineAccuracy)} -> ${pct(c.compressedAccuracy)}`,
    pointsInterval(c.accuracyDifference),
    pctInterval(c.retention),
    `${c.rightToWrong.length} / ${c.wrongToRight.length}`,
    pct(c.agreementRate),
    c.mcnemar ? `${pValue(c.mcnemar.exactP)} (mid-p ${pValue(c.mcnemar.midP)})` : 'n/a',
  ]);
  out.push(table(['Pair', 'Common questions', 'Accuracy', 'Difference, points (95% CI)', 'Retention (95% CI)', 'Right->wrong / wrong->right', 'Agreement', 'McNemar exact p'], rows), '');
  const withLetters = model.comparisons.filter((c) => c.letterDistribution);
  if (withLetters.length) {
    out.push('Answer-letter distributions (likelihood scoring; each renormalised over the option letters; KL in nats):', '');
    out.push(table(['Pair', 'Questions', 'KL(baseline || compressed) mean (95% CI)', 'KL p50 / p90 / p99 / max', 'Same most likely letter', 'P(correct letter)', 'Mass on the letters'],
      withLetters.map((c) => {
        const d = c.letterDistribution!;
        return [`${escapeMarkdown(c.baseline)} -> ${escapeMarkdown(c.compressed)}`, String(d.items), `${nats(d.klMean.estimate)} [${nats(d.klMean.lower)}, ${nats(d.klMean.upper)}]`,
          `${nats(d.klP50)} / ${nats(d.klP90)} / ${nats(d.klP99)} / ${nats(d.klMax)}`, pct(d.top1Agreement),
          `${pct(d.baselineGoldProbability)} -> ${pct(d.compressedGoldProbability)}`, `${pct(d.baselineLetterMass)} -> ${pct(d.compressedLetterMass)}`];
      })), '');
  }
  return out;
}

function dist(d: Distribution | null): string[] {
  return d ? [ms(d.mean), ms(d.p50), ms(d.p90), ms(d.p99)] : ['n/a', 'n/a', 'n/a', 'n/a'];
}

function latencySection(model: ReportModel): string[] {
  const out = ['## Latency (ms, client clock)', ''];
  const rows: string[][] = [];
  for (const r of model.runs) {
    const l = r.latency;
    const load = l.batchSizeOne ? 'batch size 1' : `${l.load.profile}${l.load.concurrency ? ` x${l.load.concurrency}` : ''}${l.load.ratePerSecond ? ` ${l.load.ratePerSecond}/s` : ''}`;
    for (const metric of LATENCY_DISPLAY_ORDER) {
      const d = l[metric];
      rows.push([escapeMarkdown(r.id), LATENCY_TABLE[metric].short, ...dist(d), String(d?.n ?? 0), escapeMarkdown(load)]);
    }
  }
  out.push(table(['Run', 'Metric', 'Mean', 'p50', 'p90', 'p99', 'n', 'Load'], rows), '');
  const tput = model.runs.map((r) => [escapeMarkdown(r.id), `${r.latency.completed}/${r.latency.requests}`,
    r.latency.requestThroughputPerS === null ? 'n/a' : r.latency.requestThroughputPerS.toFixed(3),
    r.latency.outputTokenThroughputPerS === null ? 'n/a' : r.latency.outputTokenThroughputPerS.toFixed(1),
    r.latency.inFlight ? String(r.latency.inFlight.peak) : 'n/a',
    escapeMarkdown(r.latency.outputTokens.sources.join(', ') || 'n/a')]);
  out.push(table(['Run', 'Completed/requests', 'Requests/s', 'Output tokens/s', 'Peak in flight', 'Token count source'], tput), '');
  const throttled = throttleRows(model);
  if (throttled.length) {
    out.push(`**Throttled.** ${THROTTLE_DEFINITION}`, '');
    out.push(table(['Run', 'Capacity episodes', 'Window (requests in flight)', 'Window changes', 'Lowest', 'Final window'],
      throttled.map((t) => [escapeMarkdown(t.id), String(t.cuts), t.path, String(t.changes), String(t.lowest), String(t.atEnd)])), '');
  }
  const withGoodput = model.runs.filter((r) => r.latency.goodput);
  if (withGoodput.length) {
    out.push(`Goodput (as vLLM \`bench serve --goodput\`): completed requests meeting every objective, ${escapeMarkdown(withGoodput[0]!.latency.goodput!.objectives)}.`, '');
    out.push(table(['Run', 'Good/completed', 'Share (95% CI)', 'Goodput (requests/s)'], withGoodput.map((r) => {
      const g = r.latency.goodput!;
      return [escapeMarkdown(r.id), `${g.good}/${g.completed}`, pctInterval(g.share), g.perS === null ? 'n/a' : g.perS.toFixed(3)];
    })), '');
  }
  for (const c of model.comparisons) {
    if (!c.latency.length) continue;
    out.push(table(['Reduction ' + escapeMarkdown(`${c.baseline} -> ${c.compressed}`), 'Baseline mean', 'Compressed mean', 'Reduction (95% CI)', 'Resampling'],
      c.latency.map((x) => [LATENCY_TABLE[x.metric]?.short ?? x.metric, ms(x.baselineMs), ms(x.compressedMs), pctInterval(x.reduction), x.paired ? 'paired' : 'unpaired'])), '');
  }
  return out;
}

function serverFigure(f: ServerFigure): string {
  if (f.unit === 'ms') return `${ms(f.value)} ms`;
  if (f.unit === 'tokens/s') return `${f.value.toFixed(1)} tokens/s`;
  if (f.unit === 'ratio') return pct(f.value);
  return Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(1);
}

function serverSection(model: ReportModel): string[] {
  const runs = model.runs.filter((r) => r.server);
  if (!runs.length) return [];
  const out = ['## Server view', '', 'What the server said about each run, beside the client figures above (engine clocks exclude the network, HTTP and queueing).', ''];
  const rows: string[][] = [];
  for (const r of runs) {
    const s = r.server!;
    for (const f of s.figures) rows.push([escapeMarkdown(r.id), escapeMarkdown(f.label), serverFigure(f), escapeMarkdown(f.source)]);
    if (s.truncation) rows.push([escapeMarkdown(r.id), 'prompts silently truncated by the server', `${s.truncation.flagged} flagged, ${s.truncation.logLines} log lines`, 'runner check (/tokenize) and server log']);
    if (s.note) rows.push([escapeMarkdown(r.id), 'note', '', escapeMarkdown(s.note)]);
  }
  out.push(table(['Run', 'Figure', 'Value', 'Source'], rows), '');
  return out;
}

function memorySection(model: ReportModel): string[] {
  const out = [`## Memory (${BYTE_UNIT_POLICY})`, ''];
  const parts = model.runs[0]?.memory.map((m) => m.part) ?? [];
  const rows = parts.map((part) => [MEMORY_TABLE[part as MemoryPartName]?.long ?? part, ...model.runs.map((r) => {
    const m = r.memory.find((x) => x.part === part);
    return m?.bytes == null ? `n/a${m?.note ? ` (${escapeMarkdown(m.note)})` : ''}` : `${formatBytes(m.bytes)} (${escapeMarkdown(m.source)})`;
  }), ...model.comparisons.map((c) => pct(c.memory.find((x) => x.part === part)?.reduction ?? null))]);
  out.push(table(['Part', ...model.runs.map((r) => escapeMarkdown(r.id)), ...model.comparisons.map((c) => `Reduction ${escapeMarkdown(c.compressed)}`)], rows), '');
  return out;
}

const FLIP_LIMIT = 50;

function flipList(items: FlippedItem[]): string {
  const shown = items.slice(0, FLIP_LIMIT).map((f) => `\`${f.itemId.replace(/`/g, "'").replace(/\r\n|\r|\n/g, ' ')}\` (${escapeMarkdown(f.baselineLetter ?? 'none')}->${escapeMarkdown(f.compressedLetter ?? 'none')}, gold ${escapeMarkdown(f.gold)})`);
  return shown.join(', ') + (items.length > FLIP_LIMIT ? `, ... and ${items.length - FLIP_LIMIT} more (see results.csv)` : '') || 'none';
}

function flipsSection(model: ReportModel): string[] {
  if (!model.comparisons.length) return [];
  const out = ['## Flips', ''];
  for (const c of model.comparisons) {
    out.push(`**${escapeMarkdown(c.baseline)} -> ${escapeMarkdown(c.compressed)}**`, '');
    out.push(`- right -> wrong (${c.rightToWrong.length}): ${flipList(c.rightToWrong)}`);
    out.push(`- wrong -> right (${c.wrongToRight.length}): ${flipList(c.wrongToRight)}`, '');
  }
  return out;
}

function runsSection(model: ReportModel): string[] {
  const rows = model.runs.map((r: RunReport) => [escapeMarkdown(r.id), escapeMarkdown(r.model.runner), escapeMarkdown(r.model.quantization ?? 'n/a'),
    r.model.parameters === null ? 'n/a' : r.model.parameters.toLocaleString('en-US'), escapeMarkdown(r.suite.name), String(r.suite.items),
    String(r.accuracy.samplesPerItem), escapeMarkdown(r.status)]);
  return ['## Runs', '', table(['Run', 'Runner', 'Quantization', 'Parameters', 'Suite', 'Items', 'Samples', 'Status'], rows), ''];
}

/** Error kinds as "timeout 3, http-5xx 1", the same in every format. */
export function errorKindsText(kinds: Record<string, number>): string {
  const parts = Object.entries(kinds).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

function reliabilitySection(model: ReportModel): string[] {
  const rows = model.runs.map((r: RunReport) => {
    const x = r.reliability;
    return [escapeMarkdown(r.id), String(x.requests), `${x.errors}${x.errorRate !== null ? ` (${(100 * x.errorRate).toFixed(1)}%)` : ''}`,
      escapeMarkdown(errorKindsText(x.errorKinds)), `${x.retriedRequests} / ${x.retries}`, escapeMarkdown(x.stopReason ?? '-')];
  });
  return ['## Reliability (failed requests are errors, never wrong answers)', '',
    table(['Run', 'Requests', 'Errors', 'Error kinds', 'Retried requests / retries', 'Stopped early'], rows), ''];
}

function notesSection(model: ReportModel): string[] {
  const warnings = model.notes.filter((n) => n.kind !== 'definition');
  const defs = model.notes.filter((n) => n.kind === 'definition');
  const out: string[] = [];
  if (warnings.length) out.push('## Warnings', '', ...warnings.map((n) => `- ${escapeMarkdown(n.text)}`), '');
  out.push('## Definitions', '', ...defs.map((n) => `- ${escapeMarkdown(n.text)}`), '');
  out.push(`Seed ${model.settings.seed}, ${model.settings.bootstrapResamples} bootstrap resamples, ${Math.round(model.settings.confidence * 100)}% intervals. Schema ${model.schemaVersion}.`, '');
  return out;
}

export function renderMarkdown(model: ReportModel): string {
  const warn = model.notes.some((n) => n.kind === 'warning' && /smoke test/.test(n.text))
    ? ['> **Smoke test**: at least one run uses a tiny random model or a smoke-test suite; its numbers check the pipeline, not the paper.', '']
    : [];
  return [
    '# medeval report',
    '',
    ...warn,
    ...claimsSection(model),
    ...leaderboardSection(model),
    ...accuracySection(model),
    ...comparisonSection(model),
    ...latencySection(model),
    ...serverSection(model),
    ...memorySection(model),
    ...flipsSection(model),
    ...runsSection(model),
    ...reliabilitySection(model),
    ...notesSection(model),
  ].join('\n');
}

export const markdownWriter: ReportWriter = {
  name: 'md',
  description: 'report.md, for a README or a pull request',
  files: ['report.md'],
  render: (model) => [{ name: 'report.md', content: renderMarkdown(model) }],
};
