// results.csv (one row per question and sample, every run side by side) and summary.csv (one row per
// run). RFC 4180: comma-separated, CRLF line ends, a field with a comma, quote, CR or LF is quoted and
// its quotes doubled. Text fields that a spreadsheet would run as a formula (=, +, -, @ first) get a
// leading apostrophe (OWASP CSV injection guard); numbers are written as numbers.
import type { ReportModel } from './model.js';

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

/** Per item: id, sample, step, type, gold, question excerpt, then for each run letter/status/correct/E2EL/TTFT/tokens/cached. */
export function renderResultsCsv(model: ReportModel): string {
  const table = model.items;
  if (!table) throw new Error('the report was built without the item table (includeItems: false); results.csv needs it');
  // cached: the answer came from the response cache, so its latency is an earlier run's (left out of figures).
  const perRun = ['letter', 'status', 'correct', 'e2e_ms', 'ttft_ms', 'output_tokens', 'cached'];
  const header = ['item_id', 'sample', 'step', 'question_type', 'gold', 'question', ...table.runs.flatMap((id) => perRun.map((f) => `${id}_${f}`))];
  const parts: string[] = [csvLine(header)];
  for (const row of table.rows) {
    const fields: Array<string | number | boolean | null | undefined> = [row.itemId, row.sample, row.step, row.questionType, row.gold, row.question];
    for (const cell of row.cells) {
      if (!cell) fields.push('', 'missing', '', '', '', '', '');
      else fields.push(cell.letter, cell.status, cell.correct, cell.e2eMs, cell.ttftMs, cell.outputTokens, cell.cached === true);
    }
    parts.push(csvLine(fields));
  }
  return parts.join('');
}

/** One row per run: accuracy with its interval and counts, latency, throughput, memory parts. */
export function renderSummaryCsv(model: ReportModel): string {
  const header = [
    'run', 'label', 'runner', 'quantization', 'parameters', 'suite', 'questions', 'samples', 'scored', 'correct',
    'accuracy', 'accuracy_lower', 'accuracy_upper', 'accuracy_method', 'unparseable', 'truncated', 'errors',
    'e2e_mean_ms', 'e2e_p50_ms', 'e2e_p90_ms', 'e2e_p99_ms', 'ttft_mean_ms', 'ttft_p50_ms', 'ttfo_mean_ms', 'tpot_mean_ms', 'itl_mean_ms',
    'requests_per_s', 'output_tokens_per_s', 'batch_size_one', 'goodput_good', 'goodput_share', 'goodput_per_s',
    'weights_bytes', 'context_bytes', 'process_peak_bytes', 'process_rss_bytes', 'gpu_process_peak_bytes', 'gpu_device_bytes', 'resident_weights_bytes',
  ];
  const parts = [csvLine(header)];
  for (const r of model.runs) {
    const o = r.accuracy.overall;
    const l = r.latency;
    const mem = (part: string) => r.memory.find((m) => m.part === part)?.bytes ?? null;
    parts.push(csvLine([
      r.id, r.label, r.model.runner, r.model.quantization, r.model.parameters, r.suite.name, o.items, r.accuracy.samplesPerItem, o.scored, o.correct,
      o.accuracy?.estimate, o.accuracy?.lower, o.accuracy?.upper, o.accuracy?.method, o.unparseable, o.truncated, o.errors,
      l.e2eMs?.mean, l.e2eMs?.p50, l.e2eMs?.p90, l.e2eMs?.p99, l.ttftMs?.mean, l.ttftMs?.p50, l.ttfoMs?.mean, l.tpotMs?.mean, l.itlMs?.mean,
      l.requestThroughputPerS, l.outputTokenThroughputPerS, l.batchSizeOne, l.goodput?.good, l.goodput?.share?.estimate, l.goodput?.perS,
      mem('weights'), mem('context'), mem('processPeak'), mem('processRss'), mem('gpuProcessPeak'), mem('gpuDevice'), mem('residentWeights'),
    ]));
  }
  return parts.join('');
}
