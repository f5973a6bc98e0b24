// Run folders for the gate tests, built from per-question outcomes and written to a temp folder as a
// real `medeval run` would leave them (manifest.json + results.jsonl), then read back with readRunFolder.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ItemResult, RunManifest } from '../../src/core/types.js';
import { itemResult, manifest, memoryReport } from '../fixtures/runs/synthetic.js';

/** One question's outcome: right, wrong, or the request failed. */
export type Outcome = 'right' | 'wrong' | 'error';

export interface RunSpec {
  label: string;
  outcomes: Outcome[];
  /** Question ids; default q0..q(n-1). */
  ids?: string[];
  /** E2EL of question i in ms; default 1000 + 7 * (i % 13). */
  e2eMs?: (i: number) => number;
  weightsBytes?: number | null;
  /** Samples per question: each outcome is repeated as a sample unless `sampleOutcomes` says otherwise. */
  sampleOutcomes?: Outcome[][];
}

const LETTERS = ['A', 'B', 'C', 'D'];

export function results(spec: RunSpec): ItemResult[] {
  const out: ItemResult[] = [];
  const perItem = spec.sampleOutcomes ?? spec.outcomes.map((o) => [o]);
  perItem.forEach((samples, i) => {
    const gold = LETTERS[i % 4]!;
    samples.forEach((o, sample) => {
      const e2e = spec.e2eMs ? spec.e2eMs(i) : 1000 + 7 * (i % 13);
      out.push(itemResult({
        itemId: spec.ids?.[i] ?? `q${i}`,
        sample,
        gold,
        letter: o === 'error' ? null : o === 'right' ? gold : LETTERS[(i + 1) % 4]!,
        e2eMs: e2e,
        ttftMs: Math.min(100, e2e / 2),
      }));
    });
  });
  return out;
}

export function writeRun(root: string, spec: RunSpec, over: Partial<RunManifest> = {}): string {
  const dir = join(root, spec.label);
  mkdirSync(dir, { recursive: true });
  const weights = spec.weightsBytes === undefined ? 4_683_073_536 : spec.weightsBytes;
  const base = manifest(spec.label);
  const m = manifest(spec.label, {
    // As `medeval run` writes it: the manifest names as many questions as the journal holds.
    suite: { ...base.suite, items: (spec.sampleOutcomes ?? spec.outcomes).length },
    memory: memoryReport(weights, 6e9),
    samples: spec.sampleOutcomes ? Math.max(...spec.sampleOutcomes.map((s) => s.length)) : 1,
    ...over,
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
  writeFileSync(join(dir, 'results.jsonl'), results(spec).map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'medeval-gate-'));
}

/** `n` outcomes: the first `right` right, the rest wrong. */
export function firstRight(n: number, right: number): Outcome[] {
  return Array.from({ length: n }, (_, i) => (i < right ? 'right' : 'wrong'));
}

/**
 * The baseline's outcomes with `rightToWrong` of its right answers turned wrong (from the front) and
 * `wrongToRight` of its wrong answers turned right (from the back): known McNemar b and c.
 */
export function withFlips(base: Outcome[], rightToWrong: number, wrongToRight: number): Outcome[] {
  const out = [...base];
  let b = rightToWrong;
  for (let i = 0; i < out.length && b > 0; i++) if (out[i] === 'right') { out[i] = 'wrong'; b--; }
  let c = wrongToRight;
  for (let i = out.length - 1; i >= 0 && c > 0; i--) if (base[i] === 'wrong' && out[i] === 'wrong') { out[i] = 'right'; c--; }
  if (b > 0 || c > 0) throw new Error('not enough answers to flip');
  return out;
}
