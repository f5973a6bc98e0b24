// medeval compare end to end: two real tiny GGUF models (F32 baseline, Q4_0 compressed), each in its own
// process, alternating turns, then every report from the stored run folders.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runComparison } from '../../src/run/compare.js';
import { publishReport } from '../../src/report/publish.js';
import { tempDir, tinyModel, writeRunnerProfile, writeSuite } from '../helpers/tiny-run.js';

let f32: string;
let q4: string;
beforeAll(async () => {
  f32 = await tinyModel('F32');
  q4 = await tinyModel('Q4_0');
});

describe('medeval compare', () => {
  it('runs both models on the same items in alternating turns and writes every report', async () => {
    const dir = tempDir();
    const out = join(dir, 'cmp');
    const logs: string[] = [];
    const runs = await runComparison({
      suite: writeSuite(dir),
      baseline: writeRunnerProfile(dir, f32, 'base-f32'),
      compressed: writeRunnerProfile(dir, q4, 'comp-q4'),
      out, order: 'alternating', chunk: 3, limit: 7, seed: 5, log: (l) => logs.push(l),
    });
    // Turns: 1..3, 1..6, 1..7 for each model, baseline first in each turn.
    expect(logs.filter((l) => l.startsWith('compare: baseline (')).map((l) => l.match(/items 1\.\.(\d+)/)![1])).toEqual(['3', '6', '7']);
    expect(logs[0]).toContain('baseline');
    expect(logs[1]).toContain('compressed');
    const ids = (d: string) => readFileSync(join(d, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).itemId).sort();
    expect(ids(runs.baselineDir)).toEqual(ids(runs.compressedDir));
    expect(ids(runs.baselineDir)).toHaveLength(7);

    const { model, files } = await publishReport([runs.baselineDir, runs.compressedDir], out, { seed: 1 });
    for (const f of ['report.json', 'report.md', 'results.csv', 'summary.csv', 'table.tex', 'report.html']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(files.some((f) => f.endsWith('.png'))).toBe(true);
    expect(files.some((f) => f.endsWith('.svg'))).toBe(true);
    const pair = model.comparisons[0]!;
    expect(pair.itemsInCommon).toBe(7);
    const memory = pair.memory.find((m) => m.part === 'weights')!;
    expect(memory.reduction!).toBeGreaterThan(0.5); // Q4_0 vs F32 weights
    expect(model.claims.map((c) => c.id)).toEqual(['accuracy', 'memory', 'latency']);
  }, 900_000);
});
