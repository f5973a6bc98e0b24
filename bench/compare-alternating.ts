// `medeval compare --order alternating` on the demo (the two tiny demo models, the bundled 60 questions,
// turns of 10 items as an experiment file's default chunk): wall time, and how often each model was
// loaded. Each model lives in one worker process for the whole comparison, so it is loaded (and warmed
// up) once, not once per turn: before the workers, this compare loaded each model 6 times, and took
// 718 s wall on this 2-core machine at load 6-17 (488 s with the workers at load 2-16; both with the
// compiled CLI, `node bin/medeval.js compare ... --order alternating`, 2026-12-02).
// Run: npm run bench -- compare-alternating
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureTinyModels } from '../src/models/make-models.js';
import { runComparison } from '../src/run/compare.js';
import { round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const REPO = resolve(import.meta.dirname, '..');
const CHUNK = 10;

export const compareAlternating: Benchmark = {
  name: 'compare-alternating',
  description: 'demo compare in alternating turns of 10: wall time, model loads per side (target: 1)',
  async run(): Promise<BenchResult> {
    await ensureTinyModels({ dir: join(REPO, 'models', 'demo'), preset: 'demo', formats: ['F32', 'Q4_0'], seed: 42 });
    const out = mkdtempSync(join(tmpdir(), 'medeval-bench-compare-'));
    const t0 = performance.now();
    const turns: string[] = [];
    const runs = await runComparison({
      suite: join(REPO, 'suites', 'demo.yaml'), baseline: join(REPO, 'runners', 'demo-f32.yaml'), compressed: join(REPO, 'runners', 'demo-q4_0.yaml'),
      out, order: 'alternating', chunk: CHUNK, seed: 1234, cacheDir: false, log: (l) => (l.includes(' items 1..') ? turns.push(l) : undefined),
    });
    const wallS = (performance.now() - t0) / 1000;
    const loads = { baseline: runs.outcomes.baseline?.loads ?? 0, compressed: runs.outcomes.compressed?.loads ?? 0 };
    return {
      notes: [
        'wall time includes both workers starting (tsx from source), loading each model and warming it up, and every turn; the 2 cores are shared with whatever else runs',
        `${turns.length} turns in all; a model loaded more than once per side would mean a worker was restarted`,
      ],
      tables: [{ head: ['items', 'chunk', 'turns', 'wall s', 'loads baseline', 'loads compressed'], rows: [[runs.total, CHUNK, turns.length, round(wallS, 1), loads.baseline, loads.compressed]] }],
      targets: [
        { name: 'baseline model loads', value: loads.baseline, target: '= 1', met: loads.baseline === 1 },
        { name: 'compressed model loads', value: loads.compressed, target: '= 1', met: loads.compressed === 1 },
      ],
      data: { items: runs.total, chunk: CHUNK, turns: turns.length, wallS, loads, outcomes: runs.outcomes },
    };
  },
};
