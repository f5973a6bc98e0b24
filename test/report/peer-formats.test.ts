// `medeval export`: each format checked against the peer's own field list (read from its code) and its
// numbers against the run's own summary (summary.json is built by buildRunSummary from the same folder).
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/entry.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { csvLine } from '../../src/report/csv.js';
import { accStderr, LONG_CSV_COLUMNS } from '../../src/report/peer-formats.js';
import { buildRunSummary } from '../../src/run/summary.js';
import { tempDir } from '../helpers/tiny-run.js';

/**
 * vLLM `bench serve --save-result` fields, from vllm-project/vllm vllm/benchmarks/serve.py: the `result`
 * dict of benchmark() (BenchmarkMetrics branch), the fields process_one_metric adds for ttft, tpot, itl
 * and e2el (mean_, median_, std_, and p99_ for the default --metric-percentiles 99), and the metadata
 * main() adds before saving (date, backend, label, model_id, num_prompts).
 */
const VLLM_RESULT_FIELDS = [
  'duration', 'completed', 'failed', 'total_input_tokens', 'total_output_tokens', 'request_throughput', 'request_goodput',
  'output_throughput', 'total_token_throughput', 'input_lens', 'output_lens', 'ttfts', 'itls', 'latencies', 'start_times',
  'queue_times', 'generated_texts', 'errors', 'max_output_tokens_per_s', 'max_concurrent_requests', 'rtfx',
  ...['ttft', 'tpot', 'itl', 'e2el'].flatMap((m) => ['mean', 'median', 'std', 'p99'].map((s) => `${s}_${m}_ms`)),
  'date', 'backend', 'label', 'model_id', 'num_prompts',
];
/** The fields issue 15 asks for: what a vLLM dashboard reads. */
const REQUIRED_BENCH = [
  'completed', 'duration', 'request_throughput', 'output_throughput', 'total_input_tokens', 'total_output_tokens',
  ...['ttft', 'tpot', 'itl', 'e2el'].flatMap((m) => ['mean', 'median', 'std', 'p99'].map((s) => `${s}_${m}_ms`)),
];

/**
 * lm-evaluation-harness results.json, from EleutherAI/lm-evaluation-harness lm_eval/evaluator.py:
 * evaluate()'s results_dict (results, group_subtasks, configs, versions, n-shot, higher_is_better,
 * n-samples) and simple_evaluate()'s additions (config, git_hash, date); model_name from
 * lm_eval/loggers/evaluation_tracker.py. Per task: "alias", "<metric>,<filter>", "<metric>_stderr,<filter>".
 */
const LM_EVAL_TOP = ['results', 'group_subtasks', 'configs', 'versions', 'n-shot', 'higher_is_better', 'n-samples', 'config', 'git_hash', 'date', 'model_name'];
const LM_EVAL_TASK = ['alias', 'acc,none', 'acc_stderr,none'];

const FIXTURE = join(import.meta.dirname, '../fixtures/runs/baseline-f16');
const AWKWARD = 'He said "stop, now",\nthen left; =cmd';

/** The fixture run with q20 failed (timeout: not scored) and q01's question full of CSV specials. */
function runFolder(): string {
  const dir = join(tempDir('medeval-export-'), 'run');
  cpSync(FIXTURE, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  manifest.status = 'incomplete';
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  lines[0].question = 'He said "stop, now", then left; =cmd';
  lines[0].questionText = AWKWARD;
  for (const l of lines.slice(1, 19)) l.questionText = `Stem of ${l.itemId} ${'and more detail '.repeat(30)}`;
  const q20 = lines[19];
  q20.question = 'The stem an older medeval stored, cut at 300 characters…';
  Object.assign(q20, { correct: null, timings: null, outputTokens: null, rawOutput: '', finishReason: 'error',
    extracted: { letter: null, status: 'unparseable', method: 'none', answerText: '' }, error: { kind: 'timeout', message: 'no reply in 60 s' } });
  writeFileSync(join(dir, 'results.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  return dir;
}

async function exportRun(dir: string, format: string): Promise<string> {
  const out = join(dir, '..', `export.${format}`);
  expect(await main(['node', 'medeval', 'export', dir, '--format', format, '--out', out])).toBe(0);
  return readFileSync(out, 'utf8');
}

function summaryOf(dir: string) {
  const run = readRunFolder(dir);
  return buildRunSummary(dir, run.manifest, run.results).run;
}

describe('medeval export --format bench (vLLM bench serve)', () => {
  it("writes vLLM's field names, every one the issue asks for, with the summary's numbers", async () => {
    const dir = runFolder();
    const bench = JSON.parse(await exportRun(dir, 'bench')) as Record<string, number | null>;
    for (const key of Object.keys(bench)) expect(VLLM_RESULT_FIELDS, `${key} is not a vLLM field`).toContain(key);
    for (const key of REQUIRED_BENCH) expect(bench[key], key).toEqual(expect.any(Number));
    const s = summaryOf(dir).latency;
    expect(bench.completed).toBe(19);
    expect(bench.completed).toBe(s.completed);
    expect(bench.failed).toBe(1);
    expect(bench.duration).toBe(s.durationMs! / 1000);
    expect(bench.request_throughput).toBe(s.requestThroughputPerS);
    expect(bench.output_throughput).toBe(s.outputTokenThroughputPerS);
    expect(bench.total_output_tokens).toBe(s.outputTokens.total);
    expect(bench.mean_ttft_ms).toBe(s.ttftMs!.mean);
    expect(bench.median_tpot_ms).toBe(s.tpotMs!.p50);
    expect(bench.p99_itl_ms).toBe(s.itlMs!.p99);
    // std as numpy's np.std (population), recomputed here from the journal's answered records.
    const e2e = readRunFolder(dir).results.filter((r) => r.timings && !r.error).map((r) => r.timings!.e2eMs);
    const mean = e2e.reduce((a, b) => a + b, 0) / e2e.length;
    expect(bench.std_e2el_ms).toBeCloseTo(Math.sqrt(e2e.reduce((a, x) => a + (x - mean) ** 2, 0) / e2e.length), 9);
    expect(bench.total_input_tokens).toBe(19 * 50);
  });
});

describe('medeval export --format lm-eval (lm-evaluation-harness results.json)', () => {
  it("has lm-eval's layout, acc over scored answers and lm-eval's standard error", async () => {
    const dir = runFolder();
    const out = JSON.parse(await exportRun(dir, 'lm-eval'));
    expect(Object.keys(out).sort()).toEqual([...LM_EVAL_TOP].sort());
    const s = summaryOf(dir);
    const task = s.suite.name;
    expect(Object.keys(out.results[task]).sort()).toEqual([...LM_EVAL_TASK].sort());
    const o = s.accuracy.overall;
    expect(o.scored).toBe(19); // the timeout is not scored
    expect(out.results[task]['acc,none']).toBe(o.correct / o.scored);
    const p = o.correct / o.scored;
    expect(out.results[task]['acc_stderr,none']).toBeCloseTo(Math.sqrt((p * (1 - p)) / 18), 12);
    expect(out['n-samples'][task]).toEqual({ original: 20, effective: 19 });
    expect(out.higher_is_better[task]).toEqual({ acc: true });
    expect(out['n-shot'][task]).toBe(0);
    expect(out.configs[task].metric_list[0]).toMatchObject({ metric: 'acc', higher_is_better: true });
  });

  it('stderr is the sample standard error of 0/1 scores: sd(x)/sqrt(n)', () => {
    const x = [1, 1, 1, 0, 0, 1, 0, 1];
    const n = x.length, m = x.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(x.reduce((a, v) => a + (v - m) ** 2, 0) / (n - 1));
    expect(accStderr(m, n)).toBeCloseTo(sd / Math.sqrt(n), 12);
    expect(accStderr(1, 1)).toBeNull();
  });
});

describe('medeval export --format csv (long form)', () => {
  it('one row per item, fixed column names, errors unscored, whole text round-trips', async () => {
    const dir = runFolder();
    const text = await exportRun(dir, 'csv');
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([...LONG_CSV_COLUMNS]);
    for (const col of ['run_id', 'model', 'suite', 'item_id', 'correct', 'predicted', 'gold', 'extraction_method', 'error_kind',
      'ttft_ms', 'tpot_ms', 'e2el_ms', 'output_tokens', 'question']) expect(LONG_CSV_COLUMNS).toContain(col);
    expect(LONG_CSV_COLUMNS.join(',')).not.toContain('baseline');
    expect(rows).toHaveLength(20);
    const failed = rows.find((r) => r.item_id === 'q20')!;
    expect(failed).toMatchObject({ status: 'error', error_kind: 'timeout', correct: '', predicted: '', e2el_ms: '' });
    const first = rows.find((r) => r.item_id === 'q01')!;
    expect(first).toMatchObject({ correct: 'true', predicted: 'A', gold: 'A', extraction_method: 'answer-colon', e2el_ms: '1010', ttft_ms: '100', model: 'baseline-f16' });
    expect(first.question).toBe(AWKWARD); // whole text back: commas, quotes and the newline survive
    expect(first.question_whole).toBe('true');
    const long = rows.find((r) => r.item_id === 'q02')!;
    expect(long.question.length).toBeGreaterThan(300); // not the 300-character stem
    expect(long.question).toMatch(/and more detail $/);
    // A record written before the whole question was kept: its stored stem, and it says so.
    const old = rows.find((r) => r.item_id === 'q20')!;
    expect(old.question_whole).toBe('false');
    expect(old.question).toBe('The stem an older medeval stored, cut at 300 characters…');
    expect(rows.filter((r) => r.correct === 'true').length).toBe(summaryOf(dir).accuracy.overall.correct);
  });

  it('quotes fields with commas, quotes and newlines (RFC 4180) so a parser reads them back', () => {
    const fields = ['a,b', 'say "hi"', 'line1\nline2', 'cr\r\nlf', 'plain', 3.5, true, null];
    const line = csvLine(fields);
    expect(line).toBe('"a,b","say ""hi""","line1\nline2","cr\r\nlf",plain,3.5,true,\r\n');
    expect(parse(line)).toEqual([['a,b', 'say "hi"', 'line1\nline2', 'cr\r\nlf', 'plain', '3.5', 'true', '']]);
  });
});

describe('medeval export: bad input', () => {
  it('an unknown format or a folder that is no run exits 2', async () => {
    const dir = runFolder();
    expect(await main(['node', 'medeval', 'export', dir, '--format', 'parquet'])).toBe(2);
    expect(await main(['node', 'medeval', 'export', join(dir, 'nope'), '--format', 'csv'])).toBe(2);
    expect(await main(['node', 'medeval', 'export', dir, '--format', 'csv', '--out', join(dir, 'results.jsonl')])).toBe(2);
  });
});
