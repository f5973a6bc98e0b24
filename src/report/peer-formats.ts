// One stored run in the formats the peers' own tools read (`medeval export`): vLLM `bench serve`'s
// result JSON, an lm-evaluation-harness results.json, and a long-form CSV (one row per item and
// sample). Every figure is the run report's (build.ts), so an export always agrees with summary.json;
// names and units come from the metric table. Request errors are never scored: in the CSV they carry
// their error kind and an empty `correct`, in lm-eval they are out of the denominator.
import { fieldName, LATENCY_TABLE, type LatencyMetric } from '../metrics/table.js';
import type { LoadedRun } from '../core/run-folder.js';
import type { ItemResult } from '../core/types.js';
import { buildReport } from './build.js';
import { csvLine } from './csv.js';
import type { RunReport } from './model.js';

export const EXPORT_FORMATS = ['bench', 'lm-eval', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The run's own report (the same figures as its summary.json), without the item table. */
export function runReportOf(run: LoadedRun): RunReport {
  return buildReport({ runs: [run], generatedAt: null, includeItems: false }).runs[0]!;
}

/** vLLM's latency metrics, in the order `vllm bench serve` writes them (ttft, tpot, itl, e2el). */
const BENCH_METRICS: readonly LatencyMetric[] = ['ttftMs', 'tpotMs', 'itlMs', 'e2eMs'];

/** A request the report's latency figures count: completed, generated in this run (not cached). */
function isMeasured(r: ItemResult): boolean {
  return r.timings !== null && !r.error && r.cached !== true;
}

/**
 * vLLM `bench serve`'s saved result, flat fields (vllm/benchmarks/serve.py, `result` and
 * process_one_metric: mean_/median_/std_ and the default metric percentile, 99). std is the
 * population standard deviation, as numpy's np.std. Per-request arrays (saved only in detailed mode) and figures
 * medeval does not measure (peak output tokens/s, peak concurrency, rtfx) are left out, not faked.
 */
export function renderBenchJson(run: LoadedRun, report: RunReport = runReportOf(run)): string {
  const l = report.latency;
  const measured = run.results.filter(isMeasured);
  const inputTokens = measured.reduce((a, r) => a + (r.promptTokens ?? 0), 0);
  const duration = l.durationMs !== null ? l.durationMs / 1000 : null;
  const out: Record<string, unknown> = {
    date: report.finishedAt ?? report.createdAt,
    backend: report.runner.kind,
    label: report.label,
    model_id: report.model.modelPath ?? report.model.label,
    num_prompts: l.requests,
    duration,
    completed: l.completed,
    failed: l.failed,
    total_input_tokens: inputTokens,
    total_output_tokens: l.outputTokens.total,
    request_throughput: l.requestThroughputPerS,
    request_goodput: l.goodput?.perS ?? null,
    output_throughput: l.outputTokenThroughputPerS,
    total_token_throughput: duration ? (inputTokens + l.outputTokens.total) / duration : null,
  };
  for (const key of BENCH_METRICS) {
    const metric = LATENCY_TABLE[key];
    const d = l[key];
    const name = fieldName(metric); // "ttft_ms"
    out[`mean_${name}`] = d?.mean ?? null;
    out[`median_${name}`] = d?.p50 ?? null;
    out[`std_${name}`] = d?.std ?? null;
    out[`p99_${name}`] = d?.p99 ?? null;
  }
  return JSON.stringify(out, null, 2) + '\n';
}

/** lm-eval's standard error of a mean of 0/1 scores: sample standard deviation / sqrt(n) = sqrt(p(1-p)/(n-1)). */
export function accStderr(p: number, n: number): number | null {
  if (n < 2) return null;
  return Math.sqrt((p * (1 - p)) / (n - 1));
}

/**
 * lm-evaluation-harness's results.json (lm_eval/evaluator.py `results_dict`, with simple_evaluate's
 * `config` and `date`): one task, the suite, metric `acc` under the filter `none`. `acc` is over
 * scored answers; failed requests are not in `n-samples.effective`.
 */
export function renderLmEvalResults(run: LoadedRun, report: RunReport = runReportOf(run)): string {
  const task = report.suite.name;
  const o = report.accuracy.overall;
  const acc = o.accuracy?.estimate ?? null;
  const stderr = acc !== null ? accStderr(acc, o.scored) : null;
  const out = {
    results: { [task]: { alias: task, 'acc,none': acc, 'acc_stderr,none': stderr ?? 'N/A' } },
    group_subtasks: { [task]: [] },
    configs: {
      [task]: {
        task,
        dataset_path: report.suite.dataset,
        output_type: report.suite.scoring === 'likelihood' ? 'multiple_choice' : 'generate_until',
        num_fewshot: 0,
        repeats: run.manifest.samples,
        metric_list: [{ metric: 'acc', aggregation: 'mean', higher_is_better: true }],
        generation_kwargs: {
          temperature: report.sampling.temperature, top_p: report.sampling.topP, max_gen_toks: report.sampling.maxTokens,
          ...(report.sampling.stop ? { until: report.sampling.stop } : {}),
        },
        metadata: { medeval_version: report.medevalVersion, dataset_hash: report.suite.datasetHash, answer_constraint: report.suite.answerConstraint ?? null },
      },
    },
    versions: { [task]: 1 },
    'n-shot': { [task]: 0 },
    higher_is_better: { [task]: { acc: true } },
    'n-samples': { [task]: { original: report.suite.items, effective: o.scored } },
    config: {
      model: report.runner.kind,
      model_args: report.model.modelPath ?? report.model.label,
      batch_size: 1,
      limit: null,
      random_seed: report.seed,
      gen_kwargs: null,
    },
    git_hash: report.gitCommit,
    date: Date.parse(report.finishedAt ?? report.createdAt) / 1000,
    model_name: report.model.label,
  };
  return JSON.stringify(out, null, 2) + '\n';
}

/** results.csv long form: the columns, named apart from any run label. */
export const LONG_CSV_COLUMNS = [
  'run_id', 'model', 'suite', 'item_id', 'sample', 'step', 'question_type', 'status', 'correct', 'predicted', 'gold',
  'extraction_method', 'error_kind', fieldName(LATENCY_TABLE.ttftMs), fieldName(LATENCY_TABLE.tpotMs), fieldName(LATENCY_TABLE.e2eMs),
  'output_tokens', 'cached', 'question', 'question_whole', 'prompt',
] as const;

/**
 * One row per item and sample. `question` is the whole question stem as the dataset gives it, from the
 * record's `questionText`; records written before medeval kept it have only the short stem (whitespace
 * collapsed, cut at 300 characters), and `question_whole` says which it is. `prompt` is the whole text
 * sent, question and options included. A failed request: status "error", its error kind, `correct` and
 * `predicted` empty (not scored).
 */
export function renderLongCsv(run: LoadedRun, report: RunReport = runReportOf(run)): string {
  const lines = [csvLine([...LONG_CSV_COLUMNS])];
  for (const r of run.results) {
    const failed = r.error !== undefined || r.correct === null;
    const t = r.timings;
    lines.push(csvLine([
      report.id, report.model.label, report.suite.name, r.itemId, r.sample, r.step ?? null, r.questionType,
      failed ? 'error' : r.extracted.status, failed ? null : r.correct, failed ? null : r.extracted.letter, r.gold,
      failed ? null : r.extracted.method, r.error?.kind ?? null,
      t?.ttftMs ?? null, t?.tpotMs ?? null, t?.e2eMs ?? null, r.outputTokens, r.cached === true,
      r.questionText ?? r.question ?? null, r.questionText !== undefined, r.prompt,
    ]));
  }
  return lines.join('');
}

export function renderExport(format: ExportFormat, run: LoadedRun): string {
  const report = runReportOf(run);
  if (format === 'bench') return renderBenchJson(run, report);
  if (format === 'lm-eval') return renderLmEvalResults(run, report);
  return renderLongCsv(run, report);
}
