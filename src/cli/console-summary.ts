// What `medeval compare`, `report` and `demo` print on the terminal: the side-by-side table and the claims.
import { describeSlo, type Slo } from '../metrics/goodput.js';
import { LATENCY_TABLE, MEMORY_TABLE, RUN_TABLE } from '../metrics/table.js';
import { formatBytes } from '../metrics/units.js';
import type { ReportModel, RunReport } from '../report/model.js';
import { REPORT_WRITERS } from '../report/writers.js';
import type { SkippedFormat } from '../report/write.js';
import { printerFor } from './terminal.js';
import { toleranceText, VERDICT_DEFINITIONS } from '../report/claims.js';
import { LEADERBOARD_DEFINITION, leaderboardOf } from '../report/leaderboard.js';
import { frontierWords } from '../report/markdown.js';

const pct = (x: number | null | undefined, d = 1) => (x == null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(d)}%`);
const pp = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)} pp`;
const bytes = (b: number | null | undefined) => formatBytes(b);
const ms = (x: number | null | undefined) => (x == null ? 'n/a' : `${x.toFixed(x < 100 ? 1 : 0)} ms`);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r, ri) => {
    const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

export function sideBySide(model: ReportModel): string {
  return sideBySideRuns(model.runs, model.settings.goodputSlo);
}

/** The same table of some runs' reports (`medeval run`: its one run, from the summary it wrote). */
export function sideBySideRuns(runs: readonly RunReport[], slo?: Slo): string {
  const header = ['', ...runs.map((r) => r.label)];
  const rows: string[][] = [header];
  const add = (name: string, f: (r: RunReport) => string) => rows.push([name, ...runs.map(f)]);
  add('weights format', (r) => r.model.quantization ?? '?');
  add('accuracy', (r) => pct(r.accuracy.overall.accuracy?.estimate));
  add('  95% CI (Wilson)', (r) => (r.accuracy.overall.accuracy ? `${pct(r.accuracy.overall.accuracy.lower)}-${pct(r.accuracy.overall.accuracy.upper)}` : 'n/a'));
  add('  scored / unparseable / truncated / errors', (r) => { const o = r.accuracy.overall; return `${o.scored}/${o.unparseable}/${o.truncated}/${o.errors}`; });
  add(MEMORY_TABLE.weights.long, (r) => bytes(r.memory.find((m) => m.part === 'weights')?.bytes));
  add(MEMORY_TABLE.processPeak.long, (r) => bytes(r.memory.find((m) => m.part === 'processPeak')?.bytes));
  add(`latency ${LATENCY_TABLE.e2eMs.short} p50`, (r) => ms(r.latency.e2eMs?.p50));
  add(`latency ${LATENCY_TABLE.e2eMs.short} p95`, (r) => ms(r.latency.e2eMs?.p95));
  add(`${LATENCY_TABLE.ttftMs.short} p50`, (r) => ms(r.latency.ttftMs?.p50));
  add(`${LATENCY_TABLE.tpotMs.short} mean`, (r) => ms(r.latency.tpotMs?.mean));
  add(RUN_TABLE.outputTokenThroughputPerS.short, (r) => (r.latency.outputTokenThroughputPerS == null ? 'n/a' : r.latency.outputTokenThroughputPerS.toFixed(1)));
  if (slo) {
    add(`goodput req/s (${describeSlo(slo)})`, (r) => {
      const g = r.latency.goodput;
      return g ? `${g.perS == null ? 'n/a' : g.perS.toFixed(3)} (${g.good}/${g.completed} good)` : 'n/a';
    });
  }
  return table(rows);
}

/** A ladder (three runs or more): one row per model, each compressed model against its baseline. */
export function leaderboardTable(model: ReportModel): string {
  const board = leaderboardOf(model);
  if (board.rows.length < 3) return '';
  const p = (x: number | null) => (x == null ? 'n/a' : x < 0.001 ? '<0.001' : x.toFixed(3));
  const ci = (i: { lower: number; upper: number } | null, f: (x: number) => string) => (i ? `${f(i.lower)} to ${f(i.upper)}` : '');
  const rows = [['model', 'accuracy (95% CI)', 'retention', 'difference (95% CI)', 'McNemar p (Holm)', 'weights', 'peak memory', `${LATENCY_TABLE.e2eMs.short} p50`, 'verdicts', 'frontier']];
  for (const r of board.rows) {
    const d = r.accuracyDifference;
    rows.push([
      r.role === 'baseline' ? `${r.run} (baseline)` : r.run,
      r.accuracy ? `${pct(r.accuracy.estimate)} (${ci(r.accuracy, (x) => pct(x))})` : 'n/a',
      r.retention ? pct(r.retention.estimate) : '',
      d ? `${pp(d.estimate)} (${ci(d, pp)})` : '',
      r.mcnemarP == null ? '' : `${p(r.mcnemarP)} (${p(r.mcnemarPHolm)})`,
      bytes(r.memory.weights), bytes(r.memory.processPeak), ms(r.latencyP50Ms.e2eMs),
      r.verdicts.map((v) => `${v.claim}: ${v.verdict}`).join('; '),
      frontierWords(r),
    ]);
  }
  return `${table(rows)}\nleaderboard: ${LEADERBOARD_DEFINITION}`;
}

export function claimsTable(model: ReportModel): string {
  if (model.claims.length === 0) return '';
  const rows = [['claim', 'claimed', 'measured (95% CI)', 'verdict']];
  for (const c of model.claims) {
    // A claim prints in its own unit (older reports have none: a fraction).
    const f = c.unit === 'ms' ? ms : c.unit === 'bytes' ? bytes : pct;
    const m = c.measured ? `${f(c.measured.estimate)} (${f(c.measured.lower)} to ${f(c.measured.upper)})` : 'n/a';
    const tol = c.tolerance ? ` ${(c.unit ?? 'fraction') === 'fraction' ? toleranceText(c.tolerance) : `± ${f(c.tolerance)}`}` : '';
    rows.push([c.id, `${f(c.claimed)}${tol}`, m, c.verdict]);
    for (const p of c.parts ?? []) rows.push([`  ${MEMORY_TABLE[p.part]?.long ?? p.part}`, '', p.measured ? pct(p.measured.estimate) : 'n/a', p.verdict]);
  }
  const reasons = model.claims.map((c) => `  ${c.id}: ${c.definition}\n    -> ${c.reason}`).join('\n');
  const defs = VERDICT_DEFINITIONS.map(([v, d]) => `  ${v}: ${d}`).join('\n');
  return `${table(rows)}\n${reasons}\nverdicts (the band is claim ± tolerance; a percentage claim's tolerance is in percentage points):\n${defs}`;
}

export function comparisonLine(model: ReportModel): string {
  const c = model.comparisons[0];
  if (!c) return '';
  const p = c.mcnemar ? c.mcnemar.exactP.toFixed(3) : 'n/a';
  const d = c.accuracyDifference;
  const line = `paired on ${c.itemsInCommon} items: accuracy difference ${d ? `${pp(d.estimate)} (${pp(d.lower)} to ${pp(d.upper)})` : "n/a"}, ` +
    `flips right->wrong ${c.rightToWrong.length}, wrong->right ${c.wrongToRight.length}, McNemar exact p = ${p}`;
  const l = c.letterDistribution;
  if (!l) return line;
  return `${line}\nanswer-letter distributions on ${l.items} items: mean KL(baseline || compressed) ${l.klMean.estimate.toPrecision(3)} nats ` +
    `(${l.klMean.lower.toPrecision(3)} to ${l.klMean.upper.toPrecision(3)}), same most likely letter ${pct(l.top1Agreement)}`;
}

export function printReportSummary(model: ReportModel, outDir: string, out: NodeJS.WriteStream = process.stdout,
  formats: readonly string[] = REPORT_WRITERS.map((w) => w.name), skipped: readonly SkippedFormat[] = []): void {
  const files = REPORT_WRITERS.filter((w) => formats.includes(w.name) && !skipped.some((s) => s.format === w.name)).flatMap((w) => w.files);
  const warn = model.notes.filter((n) => n.kind === 'warning').map((n) => `! ${n.text}`);
  // A format left out for a missing optional package (charts without @napi-rs/canvas) is said, with the command.
  const notWritten = skipped.map((s) => `${s.format} skipped: ${s.reason}; to write them: ${s.install}`);
  const ladder = leaderboardTable(model);
  printerFor(out)(['', sideBySide(model), '', ...(ladder ? [ladder, ''] : []), comparisonLine(model), '', claimsTable(model), '', ...warn, '',
    `reports written to ${outDir}/ (${files.join(', ')})`, ...notWritten, ''].join('\n'));
}
