// summary.json and summary.md of one run folder: the run's own view of the report model, so that a
// run's summary and any later report built from the same folder always agree.
import { buildMemory, buildNotes, buildReport } from '../report/build.js';
import { errorKindsText } from '../report/markdown.js';
import { checkJournal, journalCoverageNotes } from '../core/journal-check.js';
import { portablePath } from '../core/portable-path.js';
import type { AccuracyCell, LatencyDistributions, RunLatency, RunReport } from '../report/model.js';
import { serverViewOf } from '../report/server-view.js';
import { inFlightTimeline } from '../metrics/in-flight.js';
import { questionTypeOrder, wilsonCell } from '../scoring/accuracy.js';
import { summarize, summarizeInPlace } from '../stats/descriptive.js';
import type { CellCounts, Slice, SummaryTally } from './summary-tally.js';
import { existsSync } from 'node:fs';
import { parseResultsFile, RESULTS, type RunFolder } from '../core/run-folder.js';
import type { ItemResult, RunManifest } from '../core/types.js';
import { LATENCY_METRICS, LATENCY_TABLE, MEMORY_TABLE } from '../metrics/table.js';
import { BYTE_UNIT_POLICY, formatBytes } from '../metrics/units.js';

export interface RunSummary {
  schemaVersion: 'medeval.summary/1';
  run: RunReport;
  notes: string[];
}

export function buildRunSummary(dir: string, manifest: RunManifest, results: ItemResult[]): RunSummary {
  // A run that covers fewer questions than its suite (stopped early, --limit) says so in its summary.
  const warnings = checkJournal(manifest, results).coverageNotes;
  const model = buildReport({ runs: [{ dir, manifest, results, warnings }], generatedAt: null, includeItems: false });
  return { schemaVersion: 'medeval.summary/1', run: model.runs[0]!, notes: model.notes.map((n) => n.text) };
}

/**
 * The summary of the run in `folder`, from its journal on disk (one record per item and sample, the latest),
 * read without the texts a summary never shows: the run holds no records of its own to build it from.
 */
export function writeRunSummaryFromJournal(folder: RunFolder, manifest: RunManifest): RunSummary {
  const file = folder.path(RESULTS);
  const results = existsSync(file) ? parseResultsFile(file, { omitTexts: true }).results : [];
  return writeRunSummary(folder, manifest, results);
}

export function writeRunSummary(folder: RunFolder, manifest: RunManifest, results: ItemResult[]): RunSummary {
  return writeSummaryFiles(folder, buildRunSummary(folder.dir, manifest, results));
}

/**
 * The summary of a run that has just written its journal: from the running totals it kept (summary-tally.ts)
 * when they give the read-back's summary exactly, else read back from the journal. `tallied` says which.
 */
export function writeRunSummaryOfRun(folder: RunFolder, manifest: RunManifest, tally: SummaryTally | null): { summary: RunSummary; tallied: boolean } {
  const fromTally = tally ? summaryFromTally(tally, folder.dir, manifest) : null;
  if (fromTally) return { summary: writeSummaryFiles(folder, fromTally), tallied: true };
  return { summary: writeRunSummaryFromJournal(folder, manifest), tallied: false };
}

function writeSummaryFiles(folder: RunFolder, summary: RunSummary): RunSummary {
  folder.writeAtomic('summary.json', JSON.stringify(summary, null, 2) + '\n');
  folder.writeAtomic('summary.md', summaryMarkdown(summary));
  return summary;
}

/** scoreRun's cell of these counts with one sample per question: a Wilson interval. */
const cellOf = (key: string, c: CellCounts): AccuracyCell => wilsonCell(key, c);

/** scoreRun's slice cells: none when no record had a key, else every key in `order`. */
function sliceCells(slice: Slice, order: (keys: string[]) => string[]): AccuracyCell[] {
  if (!slice.anyKey) return [];
  return order([...slice.cells.keys()]).map((k) => cellOf(k, slice.cells.get(k)!));
}

/**
 * The summary buildRunSummary makes of the journal, from the tally: the same objects with their keys in
 * the same order (build.ts buildRunReport, buildLatency, buildReliability, rssTimeline), the same
 * arithmetic in the same order; null when the tally is not exact. Once only: it sorts the tally's columns.
 */
export function summaryFromTally(t: SummaryTally, dir: string, manifest: RunManifest): RunSummary | null {
  if (t.inexact === null && manifest.server?.replicas?.length) t.inexact = 'a run over replicas';
  if (t.inexact === null && manifest.merged) t.inexact = 'a merged run';
  if (t.inexact !== null) return null;
  const warnings = journalCoverageNotes(manifest, t.scoredQuestions, t.records);
  const run: RunReport = {
    id: manifest.label,
    label: manifest.label,
    folder: portablePath(dir),
    createdAt: manifest.createdAt,
    finishedAt: manifest.finishedAt ?? null,
    status: manifest.status,
    medevalVersion: manifest.medevalVersion,
    gitCommit: manifest.gitCommit,
    suite: manifest.suite,
    runner: manifest.runner,
    model: manifest.model,
    sampling: manifest.sampling,
    seed: manifest.seed,
    configHash: manifest.configHash,
    accuracy: {
      samplesPerItem: manifest.samples,
      overall: cellOf('overall', t.overall),
      byStep: sliceCells(t.byStep, (keys) => keys.sort()),
      byQuestionType: sliceCells(t.byType, questionTypeOrder),
      bySubject: sliceCells(t.bySubject, (keys) => keys.sort()),
      majorityVote: null,
    },
    chanceAccuracy: t.chanceUnknown ? null : t.chanceN ? t.chanceSum / t.chanceN : null,
    latency: latencyFromTally(t, manifest),
    memory: buildMemory(manifest),
    finishReasons: t.finishReasons,
    reliability: {
      requests: t.records,
      errors: t.errors,
      errorRate: t.records ? t.errors / t.records : null,
      errorKinds: t.errorKinds,
      retriedRequests: t.retriedRequests,
      retries: t.retries,
      stopReason: manifest.stopReason ?? null,
    },
    server: serverViewOf(manifest, t.server),
    rssTimeline: rssTimelineFromTally(t),
    warnings: [...warnings],
  };
  const notes = buildNotes([{ dir, manifest, results: [], warnings }], [run], []);
  return { schemaVersion: 'medeval.summary/1', run, notes: notes.map((n) => n.text) };
}

function latencyFromTally(t: SummaryTally, manifest: RunManifest): RunLatency {
  const distributions = {} as LatencyDistributions;
  for (const k of LATENCY_METRICS) distributions[k] = summarizeInPlace(t.latency[k].values());
  let durationMs: number | null = null;
  let durationSource: RunLatency['durationSource'] = null;
  if (manifest.durationMs !== undefined && manifest.durationMs > 0) {
    durationMs = manifest.durationMs;
    durationSource = 'manifest';
  } else if (t.completed) {
    durationMs = t.last - t.first;
    durationSource = 'timings';
  }
  const perS = (x: number) => (durationMs && durationMs > 0 ? x / (durationMs / 1000) : null);
  const load = manifest.load;
  const spans = () => {
    const s = t.starts.values(), e = t.ends.values();
    return Array.from(s, (startMs, i) => ({ startMs, endMs: e[i]! }));
  };
  return {
    requests: t.records,
    completed: t.completed,
    failed: t.failed,
    cachedExcluded: t.cached,
    ...distributions,
    queueMs: summarize(t.queue.values()),
    outputTokens: { total: t.tokenTotal, perRequest: summarize(t.tokens.values()), sources: [...t.sources].sort() },
    durationMs,
    durationSource,
    requestThroughputPerS: perS(t.completed),
    outputTokenThroughputPerS: t.tokens.length ? perS(t.tokenTotal) : null,
    load,
    batchSizeOne: load.profile === 'sequential' || (load.profile === 'concurrency' && load.concurrency === 1),
    ...(t.completed ? { inFlight: inFlightTimeline(spans()) } : {}),
  };
}

/** build.ts rssTimeline: every point up to 200, else 200 picked at an even stride. */
function rssTimelineFromTally(t: SummaryTally): RunReport['rssTimeline'] {
  const index = t.rssIndex.values(), bytes = t.rssBytes.values();
  const n = index.length;
  const at = (k: number) => ({ index: index[k]!, rssBytes: bytes[k]! });
  if (n <= 200) return Array.from({ length: n }, (_, k) => at(k));
  const stride = n / 200;
  return Array.from({ length: 200 }, (_, k) => at(Math.min(n - 1, Math.round(k * stride))));
}

const pct = (x: number | undefined | null) => (x == null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const ms = (x: number | undefined | null) => (x == null ? 'n/a' : x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(1)} ms`);
const bytes = (b: number | null) => (b == null ? 'not available' : formatBytes(b));

/** What a status other than "finished" means for this run's figures, and how to complete it. */
function statusNote(r: RunReport): string | null {
  const x = r.reliability;
  const resume = '`medeval run` with the same settings and `--resume` re-runs exactly the records in error (and any not run); answered records are kept';
  if (r.status === 'incomplete') return `Incomplete: ${x.errors} of ${x.requests} records ended in error and are not scored. ${resume}.`;
  if (r.status === 'failed') return `Failed${x.stopReason ? `: ${x.stopReason}` : ''}. Figures cover the ${x.requests} records written. ${resume}.`;
  if (r.status === 'interrupted') return `Interrupted: figures cover the ${x.requests} records written. ${resume}.`;
  return null;
}

export function summaryMarkdown(s: RunSummary): string {
  const r = s.run;
  const a = r.accuracy.overall;
  const lines: string[] = [];
  lines.push(`# ${r.label} on ${r.suite.name}`, '');
  if (r.suite.smokeTest) lines.push('> Smoke-test suite: these numbers check the pipeline; they are not a benchmark result.', '');
  for (const n of s.notes.filter((t) => /tiny|random|smoke/i.test(t))) lines.push(`> ${n}`, '');
  lines.push(`Status: **${r.status}** · model ${r.model.modelPath ?? r.model.label} (${r.model.quantization ?? '?'}, ` +
    `${r.model.parameters?.toLocaleString('en-US') ?? '?'} parameters) · runner ${r.runner.kind} · seed ${r.seed}`, '');
  const status = statusNote(r);
  if (status) lines.push(`> ${status}`, '');
  if (r.suite.scoring === 'likelihood') {
    lines.push('Scoring: **likelihood**: nothing is generated; each answer is the option letter with the highest log-probability after the prompt. Times below are prompt evaluation, not inference latency.', '');
  }
  const skipped = r.suite.skipped;
  if (skipped) lines.push(`Dataset: ${r.suite.items} items; ${skipped.total} invalid record(s) skipped (--skip-invalid), listed under "Skipped records".`, '');
  lines.push('## Accuracy', '');
  accuracyTable(lines, 'slice', [a, ...r.accuracy.byStep, ...r.accuracy.byQuestionType]);
  if (r.accuracy.bySubject?.length) {
    lines.push('', '## Accuracy by subject', '');
    accuracyTable(lines, 'subject', r.accuracy.bySubject);
  }
  lines.push('', '## Latency (client clock, warm-up excluded)', '');
  lines.push('| metric | n | mean | p50 | p90 | p95 | p99 |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const k of LATENCY_METRICS) {
    const d = r.latency[k];
    lines.push(`| ${LATENCY_TABLE[k].short} | ${d?.n ?? 0} | ${ms(d?.mean)} | ${ms(d?.p50)} | ${ms(d?.p90)} | ${ms(d?.p95)} | ${ms(d?.p99)} |`);
  }
  const tput = r.latency.outputTokenThroughputPerS;
  lines.push('', `Output tokens: ${r.latency.outputTokens.total}` + (tput != null ? ` · ${tput.toFixed(1)} tokens/s` : ''), '');
  if (r.shards) shardTable(lines, r);
  if (r.replicas) replicaTable(lines, r);
  lines.push(`## Memory (${BYTE_UNIT_POLICY})`, '', '| part | value | how it was measured |', '|---|---:|---|');
  for (const m of r.memory) lines.push(`| ${MEMORY_TABLE[m.part]?.long ?? m.part} | ${bytes(m.bytes)} | ${m.source}${m.note ? ` (${m.note})` : ''} |`);
  const x = r.reliability;
  lines.push('', '## Reliability', '', `Requests ${x.requests} · errors ${x.errors}${x.errorRate !== null ? ` (${(100 * x.errorRate).toFixed(1)}%)` : ''}` +
    ` · error kinds: ${errorKindsText(x.errorKinds)} · retried requests ${x.retriedRequests} (${x.retries} retries)` +
    (x.stopReason ? ` · stopped early: ${x.stopReason}` : ''), 'Failed requests are errors: they are never scored as wrong answers.');
  const th = r.latency.load.throttle;
  if (th) {
    lines.push('', `**Throttled:** the server ran out of room (capacity errors) ${th.cuts} time(s); medeval cut the requests in flight from ${th.before} ` +
      `to as few as ${th.lowest} (${th.atEnd} at the end), so latency here is not at the suite's load profile throughout (manifest.load.throttle has every change).`);
  }
  if (r.warnings.length) lines.push('', '## Warnings', '', ...r.warnings.map((w) => `- ${w}`));
  if (skipped) {
    lines.push('', '## Skipped records', '', `${skipped.total} invalid record(s) were skipped with --skip-invalid and are in no figure:`, '');
    lines.push(...skipped.records.map((s) => `- ${s.place}: ${s.reason}`));
    if (skipped.total > skipped.records.length) lines.push(`- ... and ${skipped.total - skipped.records.length} more (the first ${skipped.records.length} are listed here and in manifest.json)`);
  }
  return lines.join('\n') + '\n';
}

/** A run over several replicas: each one's share, speed and rotation beside the totals above. */
function replicaTable(lines: string[], r: RunReport): void {
  const rate = (x: number | null) => (x == null ? 'n/a' : x.toFixed(2));
  lines.push('## Replicas (requests to the one with the fewest outstanding)', '');
  lines.push(`| replica | requests | completed | failed | requests/s | output tokens/s | ${LATENCY_TABLE.ttftMs.short} p50 | ${LATENCY_TABLE.e2eMs.short} p50 | ${LATENCY_TABLE.e2eMs.short} p95 | rotation |`, '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const x of r.replicas!) {
    lines.push(`| ${x.replica} | ${x.requests} | ${x.completed} | ${x.failed} | ${rate(x.requestsPerS)} | ${rate(x.outputTokensPerS)} | ${ms(x.ttftMs?.p50)} | ${ms(x.e2eMs?.p50)} | ${ms(x.e2eMs?.p95)} | ` +
      `${x.outOfRotation ? `out after ${x.outOfRotation.afterRequests} request(s): ${x.outOfRotation.reason.replace(/\|/g, '/')}` : 'in'} |`);
  }
  lines.push('', `Total: ${rate(r.latency.requestThroughputPerS)} requests/s over the run's duration; each replica's rate is its completed requests over the same duration.`, '');
}

/** A merged run: each shard's own clock and machine; the merged throughput and how it was had. */
function shardTable(lines: string[], r: RunReport): void {
  const rate = (x: number | null, unit: string) => (x == null ? 'n/a' : `${x.toFixed(2)} ${unit}`);
  lines.push('## Shards (each on its own machine and clock)', '');
  lines.push(`| shard | status | records | errors | duration | requests/s | output tokens/s | ${MEMORY_TABLE.processPeak.long} | ${MEMORY_TABLE.gpuProcessPeak.long} |`, '|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of r.shards!) {
    lines.push(`| ${s.index} | ${s.status} | ${s.records} | ${s.errors} | ${s.durationMs == null ? 'n/a' : `${(s.durationMs / 1000).toFixed(1)} s`} | ` +
      `${rate(s.requestsPerS, '')} | ${rate(s.outputTokensPerS, '')} | ${bytes(s.processPeakBytes)} | ${bytes(s.gpuPeakBytes)} |`);
  }
  lines.push('', `Merged throughput: ${rate(r.latency.requestThroughputPerS, 'requests/s')}, ${rate(r.latency.outputTokenThroughputPerS, 'output tokens/s')}: ${r.latency.throughputMethod ?? ''}. ` +
    'Memory figures above are per machine (the highest shard\'s), never a sum.', '');
}

function accuracyTable(lines: string[], first: string, cells: AccuracyCell[]): void {
  lines.push(`| ${first} | items | scored | correct | accuracy (95% CI) | wrong | unparseable | truncated | errors |`);
  lines.push('|---|---:|---:|---:|---|---:|---:|---:|---:|');
  for (const c of cells) {
    const acc = c.accuracy ? `${pct(c.accuracy.estimate)} (${pct(c.accuracy.lower)} to ${pct(c.accuracy.upper)})` : 'n/a';
    lines.push(`| ${c.key} | ${c.items} | ${c.scored} | ${c.correct} | ${acc} | ${c.wrong} | ${c.unparseable} | ${c.truncated} | ${c.errors} |`);
  }
}
