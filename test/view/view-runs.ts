// Run folders for the viewer's tests, written the way medeval writes them: a compare folder (runs/
// baseline-... and runs/compressed-...) whose questions hold hostile text, a merge output, and a large
// run. Items cover every outcome (correct, wrong, unparseable, truncated, error) and known flips.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ItemResult, QuestionType, RunManifest } from '../../src/core/types.js';
import { itemResult, manifest } from '../fixtures/runs/synthetic.js';

export const HOSTILE_SCRIPT = '<script>window.__pwned = 1</script>';
export const HOSTILE_IMG = '<img src=x onerror="window.__pwned = 2">';
const LETTERS = ['A', 'B', 'C', 'D', 'E'];
const TYPES: QuestionType[] = ['diagnosis', 'management', 'pharmacology', 'basic_science', 'ethics', 'other'];

export type Outcome = 'correct' | 'wrong' | 'unparseable' | 'truncated' | 'error';

/** One record with a full prompt (question and options), a reasoning trace, and the given outcome. */
export function record(i: number, outcome: Outcome, over: { question?: string; questionType?: QuestionType; step?: string } = {}): ItemResult {
  const gold = LETTERS[i % 5]!;
  const other = LETTERS[(i + 2) % 5]!;
  const question = over.question ?? `A ${30 + (i % 50)}-year-old patient (item ${i}) presents with fever and cough. What is the most likely diagnosis?`;
  const options = LETTERS.map((l) => `${l}. option ${l} for item ${i}`).join('\n');
  const prompt = `${question}\n\n${options}\n\nAnswer with "Answer: <letter>".`;
  const status = outcome === 'unparseable' ? 'unparseable' : outcome === 'truncated' ? 'truncated' : 'answered';
  const letter = outcome === 'error' ? null : outcome === 'correct' ? gold : outcome === 'wrong' ? other : null;
  const base = itemResult({
    itemId: `q${String(i).padStart(5, '0')}`,
    gold,
    letter,
    ...(outcome === 'error' ? {} : { status }),
    questionType: over.questionType ?? TYPES[i % TYPES.length],
    step: over.step ?? (i % 2 ? 'step1' : 'step2&3'),
    prompt,
    question: question.slice(0, 300),
    rawOutput: outcome === 'error' ? '' : letter ? `Answer: ${letter}` : outcome === 'truncated' ? 'The patient most likely has' : 'I cannot decide.',
    e2eMs: 1000 + i,
  });
  return { ...base, reasoning: outcome === 'error' ? null : `Thinking about item ${i}: the fever points to an infection.` };
}

export function writeRunFolder(dir: string, m: RunManifest, records: readonly ItemResult[]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
  writeFileSync(join(dir, 'results.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
  return dir;
}

/** Outcomes of the 20-item pair: baseline and compressed, with 3 right->wrong and 1 wrong->right flips. */
export const BASELINE: Outcome[] = ['correct', 'correct', 'correct', 'correct', 'correct', 'correct', 'correct', 'correct', 'correct', 'correct',
  'correct', 'wrong', 'wrong', 'unparseable', 'truncated', 'error', 'correct', 'correct', 'wrong', 'correct'];
export const COMPRESSED: Outcome[] = ['correct', 'wrong', 'unparseable', 'correct', 'correct', 'correct', 'correct', 'truncated', 'correct', 'correct',
  'correct', 'correct', 'wrong', 'unparseable', 'truncated', 'correct', 'correct', 'correct', 'wrong', 'correct'];

export interface ViewFixture {
  root: string;
  compare: string;
  baseline: string;
  compressed: string;
  merged: string;
  big: string | null;
  damaged: string | null;
}

function runManifest(label: string, items: number, over: Partial<RunManifest> = {}): RunManifest {
  const base = manifest(label);
  return manifest(label, {
    suite: { ...base.suite, items },
    model: { ...base.model, quantization: label.includes('q4') ? 'Q4_K_M' : 'F16', modelPath: `/models/${label}.gguf`, fileBytes: label.includes('q4') ? 4_683_073_536 : 15_231_233_024 },
    finishedAt: '2026-01-01T01:00:00.000Z',
    ...over,
  });
}

/** A root folder with a compare folder, a merge output and (with `bigItems`) a large run. */
export function writeViewFixture(opts: { bigItems?: number; damaged?: boolean } = {}): ViewFixture {
  const root = mkdtempSync(join(tmpdir(), 'medeval-view-'));
  const compare = join(root, 'study');
  const hostile = (i: number) => (i === 3 ? { question: `Which drug? ${HOSTILE_SCRIPT} ${HOSTILE_IMG}` } : {});
  const baseline = writeRunFolder(join(compare, 'runs', 'baseline-f16'), runManifest('baseline-f16', 20),
    BASELINE.map((o, i) => record(i, o, hostile(i))));
  const compressed = writeRunFolder(join(compare, 'runs', 'compressed-q4'), runManifest('compressed-q4', 20, { status: 'incomplete' }),
    COMPRESSED.map((o, i) => record(i, o, hostile(i))));
  const shard = (index: number) => ({
    index, dir: `shards/s${index}`, status: 'finished' as const, records: 5, errors: 0, medevalVersion: '0.1.0', gitCommit: null,
    createdAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:30:00.000Z', durationMs: 1000, durationSource: 'manifest' as const,
    requestsPerS: 5, outputTokensPerS: 50,
  });
  const merged = writeRunFolder(join(root, 'merged-q8'), runManifest('merged-q8', 10, {
    merged: {
      count: 2, rule: 'item index modulo count', mergedAt: '2026-01-02T00:00:00.000Z', shards: [shard(0), shard(1)], missing: [], partial: false,
      throughput: { requestsPerS: 10, outputTokensPerS: 100, method: 'sum of shards' },
    },
  }), Array.from({ length: 10 }, (_, i) => ({ ...record(i, i % 3 ? 'correct' : 'wrong'), shard: i % 2 })));
  let big: string | null = null;
  if (opts.bigItems) {
    const n = opts.bigItems;
    const outcomes: Outcome[] = ['correct', 'correct', 'wrong', 'correct', 'unparseable', 'correct', 'truncated', 'correct', 'error', 'correct'];
    big = writeRunFolder(join(root, 'big-run'), runManifest('big-q4', n), Array.from({ length: n }, (_, i) => record(i, outcomes[i % 10]!)));
  }
  let damaged: string | null = null;
  if (opts.damaged) {
    damaged = writeRunFolder(join(root, 'damaged'), runManifest('damaged', 3), [record(0, 'correct'), record(1, 'correct')]);
    writeFileSync(join(damaged, 'results.jsonl'), JSON.stringify(record(0, 'correct')) + '\n{"schema": 1, "itemId": \n' + JSON.stringify(record(2, 'wrong')) + '\n');
  }
  return { root, compare, baseline, compressed, merged, big, damaged };
}
