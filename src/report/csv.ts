// results.csv (one row per question and sample, every run side by side) and summary.csv (one row per
// run). RFC 4180: comma-separated, CRLF line ends, a field with a comma, quote, CR or LF is quoted and
// its quotes doubled. Text fields that a spreadsheet would run as a formula (=, +, -, @ first) get a
// leading apostrophe (OWASP CSV injection guard); numbers are written as numbers.
import { fieldName, LATENCY_TABLE, MEMORY_TABLE, statName, type LatencyStat, type MemoryPartName } from '../metrics/table.js';
import type { LatencyMetric, ReportModel } from './model.js';
import type { ReportWriter } from './writer.js';

/** One CSV field. Numbers and booleans as is, null/undefined as empty, text quoted when needed. */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(fields: Array<string | number | boolean | null | undefined>): string {
  return fields.map(csvField).join(',') + '\r\n';
}

/** Per item: id, sample, step, type, gold, question excerpt, then for each run letter/status/correct/e2el_ms/ttft_ms/tokens/cached. */
export function renderResultsCsv(model: ReportModel): string {
  return [...resultsCsvPieces(model)].join('');
}

/** results.csv in pieces of about 4,096 lines (100,000 items make tens of MB). */
export function* resultsCsvPieces(model: ReportModel): Generator<string> {
  const table = model.items;
  if (!table) throw new Error('the report was built without the item table (includeItems: false); results.csv needs it');
  // cached: the answer came from the response cache, so its latency is an earlier run's (left out of figures).
  const perRun = ['letter', 'status', 'correct', fieldName(LATENCY_TABLE.e2eMs), fieldName(LATENCY_TABLE.ttftMs), 'output_tokens', 'cached'];
  const header = ['item_id', 'sample', 'step', 'question_type', 'gold', 'question', ...table.runs.flatMap((id) => perRun.map((f) => `${id}_${f}`))];
  let parts: string[] = [csvLine(header)];
  for (const row of table.rows) {
    const fields: Array<string | number | boolean | null | undefined> = [row.itemId, row.sample, row.step, row.questionType, row.gold, row.question];
    for (const cell of row.cells) {
      if (!cell) fields.push('', 'missing', '', '', '', '', '');
      else fields.push(cell.letter, cell.status, cell.correct, cell.e2eMs, cell.ttftMs, cell.outputTokens, cell.cached === true);
    }
    parts.push(csvLine(fields));
    if (parts.length >= 4096) {
      yield parts.join('');
      parts = [];
    }
  }
  yield parts.join('');
}

/** Latency columns, vLLM's `{stat}_{metric}_{unit}` names (mean_e2el_ms), in this order. */
const LATENCY_COLUMNS: Array<[LatencyStat & ('mean' | 'p50' | 'p90' | 'p99'), LatencyMetric]> = [
  ['mean', 'e2eMs'], ['p50', 'e2eMs'], ['p90', 'e2eMs'], ['p99', 'e2eMs'], ['mean', 'ttftMs'], ['p50', 'ttftMs'], ['mean', 'ttfoMs'], ['mean', 'tpotMs'], ['mean', 'itlMs'],
];
/** Memory columns in bytes (resident weights last: added after the others). */
const MEMORY_COLUMNS: MemoryPartName[] = ['weights', 'context', 'processPeak', 'processRss', 'gpuProcessPeak', 'gpuDevice', 'residentWeights'];

/** One row per run: accuracy with its interval and counts, latency, throughput, memory parts. */
export function renderSummaryCsv(model: ReportModel): string {
  const header = [
    'run', 'label', 'runner', 'quantization', 'parameters', 'suite', 'questions', 'samples', 'scored', 'correct',
    'accuracy', 'accuracy_lower', 'accuracy_upper', 'accuracy_method', 'unparseable', 'truncated', 'errors',
    ...LATENCY_COLUMNS.map(([stat, metric]) => statName(stat, LATENCY_TABLE[metric])),
    'requests_per_s', 'output_tokens_per_s', 'batch_size_one', 'goodput_good', 'goodput_share', 'goodput_per_s',
    ...MEMORY_COLUMNS.map((part) => fieldName(MEMORY_TABLE[part])),
  ];
  const parts = [csvLine(header)];
  for (const r of model.runs) {
    const o = r.accuracy.overall;
    const l = r.latency;
    const mem = (part: string) => r.memory.find((m) => m.part === part)?.bytes ?? null;
    parts.push(csvLine([
      r.id, r.label, r.model.runner, r.model.quantization, r.model.parameters, r.suite.name, o.items, r.accuracy.samplesPerItem, o.scored, o.correct,
      o.accuracy?.estimate, o.accuracy?.lower, o.accuracy?.upper, o.accuracy?.method, o.unparseable, o.truncated, o.errors,
      ...LATENCY_COLUMNS.map(([stat, metric]) => l[metric]?.[stat]),
      l.requestThroughputPerS, l.outputTokenThroughputPerS, l.batchSizeOne, l.goodput?.good, l.goodput?.share?.estimate, l.goodput?.perS,
      ...MEMORY_COLUMNS.map(mem),
    ]));
  }
  return parts.join('');
}

export const csvWriter: ReportWriter = {
  name: 'csv',
  description: 'results.csv (one row per question and sample) and summary.csv (one row per run)',
  files: ['results.csv', 'summary.csv'],
  render: (model) => [
    ...(model.items ? [{ name: 'results.csv', content: resultsCsvPieces(model) }] : []),
    { name: 'summary.csv', content: renderSummaryCsv(model) },
  ],
};
