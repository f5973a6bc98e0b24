// Adding a latency metric is one entry in the metric table (src/core/metric-table.ts): a copy of src/ with
// a throwaway metric added there and nothing else changed runs a real `medeval run` (scripted runner)
// and `medeval report`, and the metric is in the journal's timings (the record schema kept it), the
// report model (report.json), the Markdown and HTML reports and summary.md. A run folder written before
// the metric existed still reads: the metric has no figure there.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from '../helpers/tiny-run.js';
import { writeSampleSuite } from '../reliability/helpers.js';

const TABLE = 'src/core/metric-table.ts';
const ANCHOR = '} as const satisfies Record<string, LatencyDefinition>;';
/** Decode time: from the first token to the last, i.e. E2EL - TTFT. */
const THROWAWAY = `  decodeMs: {
    key: 'decodeMs', short: 'DECODE', long: 'decode time', description: 'time from the first token to the last', unit: 'ms', better: 'lower', stem: 'decode',
    per: 'request', compute: (m: StreamMarks) => (m.firstText === null ? null : m.end - m.firstText),
  },
`;

let copy: string;
let work: string;
const medeval = (args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', join(copy, 'src/cli/bin.ts'), ...args],
  { cwd: copy, env: { ...process.env, CI: '1' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  copy = tempDir('medeval-metric-copy-');
  cpSync(join(REPO, 'src'), join(copy, 'src'), { recursive: true });
  cpSync(join(REPO, 'package.json'), join(copy, 'package.json'));
  cpSync(join(REPO, 'tsconfig.json'), join(copy, 'tsconfig.json'));
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'));
  const table = readFileSync(join(copy, TABLE), 'utf8');
  const at = table.indexOf(ANCHOR);
  expect(at).toBeGreaterThan(0);
  writeFileSync(join(copy, TABLE), table.slice(0, at) + THROWAWAY + table.slice(at));
  work = tempDir('medeval-metric-run-');
});

describe('a latency metric is one entry in the metric table', () => {
  it('a throwaway metric added there reaches the record, the report model and every latency table', () => {
    const suite = writeSampleSuite(work, { limit: 6 });
    writeFileSync(join(work, 'script.jsonl'), JSON.stringify({ default: true, text: 'The answer is A because it fits best', timings: { ttftMs: 120, itlMs: 15 } }) + '\n');
    writeFileSync(join(work, 'scripted.yaml'), 'kind: scripted\nlabel: scripted\nscript: ./script.jsonl\n');
    const run = join(work, 'run');
    medeval(['run', '--suite', suite, '--runner', join(work, 'scripted.yaml'), '--out', run, '--no-cache']);

    // The journal: the record schema (strict on write) kept the new field, computed from the stream's marks.
    const lines = readFileSync(join(run, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { timings: Record<string, number | null> });
    expect(lines).toHaveLength(6);
    for (const l of lines) {
      expect(l.timings.decodeMs).toBeTypeOf('number');
      expect(l.timings.decodeMs).toBeCloseTo(l.timings.e2eMs! - l.timings.ttftMs!, 9);
    }
    const decode = lines.map((l) => l.timings.decodeMs!);
    // summary.md, written by the run.
    expect(readFileSync(join(run, 'summary.md'), 'utf8')).toMatch(/\| DECODE \| 6 \|/);

    const out = join(work, 'report');
    medeval(['report', run, '--out', out, '--no-charts']);
    const model = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { runs: Array<{ latency: Record<string, { n: number; mean: number } | null> }> };
    const d = model.runs[0]!.latency.decodeMs!;
    expect(d.n).toBe(6);
    expect(d.mean).toBeCloseTo(decode.reduce((a, b) => a + b, 0) / 6, 6);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| scripted \| DECODE \| [\d.]+ \|/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<td>scripted<\/td><td>[^<]*DECODE[^<]*<\/td><td class="num">6<\/td>/);
  }, 300_000);

  it('a run folder written before the metric existed still reads: no figure for it', () => {
    const out = join(work, 'old-report');
    medeval(['report', join(REPO, 'test/fixtures/runs/baseline-f16'), '--out', out, '--no-charts', '--no-html']);
    const model = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { runs: Array<{ latency: Record<string, { n: number } | null> }> };
    expect(model.runs[0]!.latency.decodeMs).toBeNull();
    expect(model.runs[0]!.latency.e2eMs!.n).toBeGreaterThan(0);
  }, 300_000);
});
