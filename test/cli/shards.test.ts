// Shards and merge as a CI matrix or an Indexed Job uses them: four `medeval run --shard I/4` processes of
// one suite (scripted runner, deterministic), merged with `medeval merge`, against the unsharded run of the
// same --limit: identical items, answers and accuracy; report, gate and rescore read the merged folder like
// any run; merge refuses another configuration, a shard given twice and a missing shard (exit 2).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mergeShards } from '../../src/run/merge.js';
import { parseShard, shardOf } from '../../src/run/shard.js';
import type { ItemResult, RunManifest } from '../../src/core/types.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { buildReport } from '../../src/report/build.js';
import { REPO, SAMPLE, tempDir } from '../helpers/tiny-run.js';

const CLI = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];
const env = { ...process.env, CI: '1' };
const medeval = (args: string[], extraEnv: Record<string, string> = {}) =>
  spawnSync(process.execPath, [...CLI, ...args], { cwd: REPO, encoding: 'utf8', env: { ...env, ...extraEnv } });

/** Runs the CLI as a child process; resolves with its exit code and output once it exits. */
function medevalAsync(args: string[], extraEnv: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO, env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stderr }));
  });
}

const journal = (dir: string): ItemResult[] => readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const manifestOf = (dir: string): RunManifest => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const key = (r: ItemResult) => `${r.itemId}#${r.sample}`;
const LIMIT = 40;

let dir: string;
let suite: string;
let runner: string;
let unsharded: string;
let shardDirs: string[];

beforeAll(async () => {
  dir = tempDir('medeval-shards-');
  // Replies picked per item by its seed: answers differ from item to item, the same on every machine.
  writeFileSync(join(dir, 'script.jsonl'), JSON.stringify({
    default: true, text: ['Answer: A', 'Answer: B', '<think>hmm</think>\nAnswer: C', 'Answer: D', 'no idea'], timings: { ttftMs: 20, itlMs: 5 },
  }) + '\n');
  runner = join(dir, 'scripted.yaml');
  writeFileSync(runner, 'kind: scripted\nlabel: scripted-shards\nscript: ./script.jsonl\nmemory:\n  peakBytes: 1048576\n');
  suite = join(dir, 'suite.yaml');
  writeFileSync(suite, [
    'name: shard-test', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${SAMPLE}`, `prompts: ${join(REPO, 'suites/prompts')}`,
    'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 32', 'samples: 2', 'load:', '  warmup: 1', '',
  ].join('\n'));
  unsharded = join(dir, 'unsharded');
  shardDirs = [0, 1, 2, 3].map((i) => join(dir, `shard-${i}`));
  const common = ['--suite', suite, '--runner', runner, '--limit', String(LIMIT), '--no-cache'];
  // Four shard processes at once (one by --shard I/N, the others as an Indexed Job and a CI matrix would), and the unsharded run.
  const runs = await Promise.all([
    medevalAsync(['run', ...common, '--out', unsharded]),
    medevalAsync(['run', ...common, '--out', shardDirs[0]!, '--shard', '0/4']),
    medevalAsync(['run', ...common, '--out', shardDirs[1]!, '--shard', 'env', '--shard-count', '4'], { JOB_COMPLETION_INDEX: '1' }),
    medevalAsync(['run', ...common, '--out', shardDirs[2]!, '--shard', 'env'], { MEDEVAL_SHARD_INDEX: '2', MEDEVAL_SHARD_COUNT: '4' }),
    medevalAsync(['run', ...common, '--out', shardDirs[3]!, '--shard', '3/4']),
  ]);
  for (const r of runs) expect(r.status, r.stderr).toBe(0);
});

describe('medeval run --shard', () => {
  it('splits the --limit items into four disjoint slices by id, each a normal run folder recording its shard', () => {
    const all = new Set(journal(unsharded).map((r) => r.itemId));
    expect(all.size).toBe(LIMIT);
    const seen = new Set<string>();
    shardDirs.forEach((d, i) => {
      const m = manifestOf(d);
      expect(m.status).toBe('finished');
      expect(m.shard).toMatchObject({ index: i, count: 4, itemsBeforeShard: LIMIT });
      const ids = new Set(journal(d).map((r) => r.itemId));
      expect(m.suite.items).toBe(ids.size);
      for (const id of ids) {
        expect(shardOf(id, 4)).toBe(i);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
      // Each shard alone reads as a run, with no journal problem.
      expect(readRunFolder(d).journalProblems).toEqual([]);
    });
    expect(manifestOf(shardDirs[1]!).shard!.source).toBe('JOB_COMPLETION_INDEX=1, --shard-count 4');
    expect(manifestOf(shardDirs[2]!).shard!.source).toBe('MEDEVAL_SHARD_INDEX=2, MEDEVAL_SHARD_COUNT=4');
    expect(seen).toEqual(all);
    // No shard is empty with 40 items (the split is by a hash, so only roughly even).
    for (const d of shardDirs) expect(journal(d).length).toBeGreaterThan(0);
  });

  it('refuses a bad --shard with exit 2 before any work', () => {
    const r = medeval(['run', '--suite', suite, '--runner', runner, '--out', join(dir, 'bad'), '--shard', '4/4']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('0-based');
    const e = medeval(['run', '--suite', suite, '--runner', runner, '--out', join(dir, 'bad'), '--shard', 'env'], { JOB_COMPLETION_INDEX: '1', MEDEVAL_SHARD_COUNT: '' });
    expect(e.status).toBe(2);
    expect(e.stderr).toContain('MEDEVAL_SHARD_COUNT');
  });

  it('parses I/N and env the same way everywhere', () => {
    expect(parseShard('2/5', {})).toMatchObject({ index: 2, count: 5 });
    expect(parseShard('env', { JOB_COMPLETION_INDEX: '0', MEDEVAL_SHARD_COUNT: '3' })).toMatchObject({ index: 0, count: 3 });
    // MEDEVAL_SHARD_INDEX wins over JOB_COMPLETION_INDEX (set it from strategy.job-index in GitHub Actions).
    expect(parseShard('env', { MEDEVAL_SHARD_INDEX: '1', JOB_COMPLETION_INDEX: '0' }, 2)).toMatchObject({ index: 1, count: 2 });
    expect(() => parseShard('1of4', {})).toThrow(/I\/N/);
    expect(() => parseShard('env', { JOB_COMPLETION_INDEX: 'x', MEDEVAL_SHARD_COUNT: '2' })).toThrow(/whole number/);
  });
});

describe('medeval merge', () => {
  let merged: string;
  beforeAll(() => {
    merged = join(dir, 'merged');
    // Shards in any order.
    const r = medeval(['merge', shardDirs[2]!, shardDirs[0]!, shardDirs[3]!, shardDirs[1]!, '--out', merged]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('gives the unsharded run: identical items, answers and accuracy', () => {
    const a = journal(unsharded);
    const b = journal(merged);
    expect(b.length).toBe(a.length);
    expect(new Set(b.map(key))).toEqual(new Set(a.map(key)));
    const byKey = new Map(a.map((r) => [key(r), r]));
    for (const r of b) {
      const u = byKey.get(key(r))!;
      expect(r.rawOutput).toBe(u.rawOutput);
      expect(r.extracted).toEqual(u.extracted);
      expect(r.correct).toBe(u.correct);
      expect(r.prompt).toBe(u.prompt);
      expect(r.shard).toBe(shardOf(r.itemId, 4));
    }
    const m = manifestOf(merged);
    const u = manifestOf(unsharded);
    expect(m.status).toBe('finished');
    expect(m.configHash).toBe(u.configHash);
    expect(m.suite.items).toBe(u.suite.items);
    expect(m.suite.itemIdsSha256).toBe(u.suite.itemIdsSha256);
    expect(m.shard).toBeUndefined();
    expect(m.merged!.shards.map((s) => s.index)).toEqual([0, 1, 2, 3]);
    expect(m.merged!.missing).toEqual([]);

    const model = buildReport({ runs: [readRunFolder(unsharded), readRunFolder(merged)], generatedAt: null });
    const [ru, rm] = model.runs;
    expect(rm!.accuracy.overall).toEqual(ru!.accuracy.overall);
    expect(rm!.accuracy.byQuestionType).toEqual(ru!.accuracy.byQuestionType);
    expect(rm!.accuracy.majorityVote).toEqual(ru!.accuracy.majorityVote);
    const pair = model.comparisons[0]!;
    expect(pair).toMatchObject({ itemsInCommon: LIMIT, onlyInBaseline: 0, onlyInCompressed: 0, rightToWrong: [], wrongToRight: [], sameLetterRate: 1 });
    expect(rm!.warnings).toEqual(ru!.warnings);
  });

  it('keeps each shard on its own clock and machine: per-shard figures, summed rates, no summed memory', () => {
    const m = manifestOf(merged);
    expect(m.durationMs).toBeUndefined();
    for (const s of m.merged!.shards) {
      expect(s.durationMs).toBeGreaterThan(0);
      expect(s.requestsPerS).toBeCloseTo(s.records / (s.durationMs! / 1000), 6);
    }
    const total = m.merged!.shards.reduce((n, s) => n + s.requestsPerS!, 0);
    expect(m.merged!.throughput.requestsPerS).toBeCloseTo(total, 6);
    const run = buildReport({ runs: [readRunFolder(merged)], generatedAt: null }).runs[0]!;
    expect(run.latency.durationSource).toBe('shards');
    expect(run.latency.requestThroughputPerS).toBeCloseTo(total, 6);
    expect(run.latency.inFlight).toBeUndefined();
    expect(run.shards).toHaveLength(4);
    // Every shard's scripted peak is 1 MiB: the merged figure is that (the highest machine), not 4 MiB.
    expect(m.memory!.processPeak.bytes).toBe(1048576);
    expect(m.memory!.processPeak.note).toMatch(/same in all 4 shards/);
    const md = readFileSync(join(merged, 'summary.md'), 'utf8');
    expect(md).toContain('## Shards (each on its own machine and clock)');
    expect(md).toContain("sum of the shards' own rates");
  });

  it('is read by report, gate and rescore like an unsharded run', () => {
    const rep = medeval(['report', unsharded, merged, '--out', join(dir, 'report'), '--no-charts', '--no-html']);
    expect(rep.status, rep.stderr).toBe(0);
    const gate = medeval(['gate', '--baseline', unsharded, '--current', merged, '--max-drop', '0']);
    expect(gate.status, gate.stdout + gate.stderr).toBe(0);
    const rescored = join(dir, 'rescored');
    const rs = medeval(['rescore', merged, '--out', rescored]);
    expect(rs.status, rs.stderr).toBe(0);
    expect(manifestOf(rescored).rescoredFrom!.changed).toBe(0);
    expect(manifestOf(rescored).merged!.count).toBe(4);
  });

  it('refuses a shard run with another configuration, naming it (exit 2)', async () => {
    const other = join(dir, 'shard-1-seed-99');
    const r = await medevalAsync(['run', '--suite', suite, '--runner', runner, '--limit', String(LIMIT), '--no-cache', '--seed', '99', '--out', other, '--shard', '1/4']);
    expect(r.status, r.stderr).toBe(0);
    const m = medeval(['merge', shardDirs[0]!, other, shardDirs[2]!, shardDirs[3]!, '--out', join(dir, 'm-config')]);
    expect(m.status).toBe(2);
    expect(m.stderr).toContain(other);
    expect(m.stderr).toContain('configuration');
  });

  it('refuses a shard given twice and a missing shard (exit 2); --allow-partial merges and records the gap', () => {
    const copy = join(dir, 'shard-2-copy');
    cpSync(shardDirs[2]!, copy, { recursive: true });
    const dup = medeval(['merge', ...shardDirs, copy, '--out', join(dir, 'm-dup')]);
    expect(dup.status).toBe(2);
    expect(dup.stderr).toContain('shard 2/4 is given twice');
    expect(dup.stderr).toContain(copy);

    const miss = medeval(['merge', shardDirs[0]!, shardDirs[1]!, shardDirs[3]!, '--out', join(dir, 'm-missing')]);
    expect(miss.status).toBe(2);
    expect(miss.stderr).toContain('shard(s) 2 of 4 are missing');

    const partialOut = join(dir, 'm-partial');
    const partial = medeval(['merge', shardDirs[0]!, shardDirs[1]!, shardDirs[3]!, '--out', partialOut, '--allow-partial']);
    // A merge that lacks a shard is not the run it says: exit 1, status incomplete, the gap recorded.
    expect(partial.status).toBe(1);
    const pm = manifestOf(partialOut);
    expect(pm.status).toBe('incomplete');
    expect(pm.merged).toMatchObject({ missing: [2], partial: true });
    expect(pm.suite.items).toBe(LIMIT);
    const run = readRunFolder(partialOut);
    expect(run.journalProblems).toEqual([]);
    expect(run.warnings.join('\n')).toMatch(/status is "incomplete"/);
    // And gate will not pass it as a full run.
    const gate = medeval(['gate', '--baseline', unsharded, '--current', partialOut, '--max-drop', '5']);
    expect(gate.status).toBe(1);
  });

  it('refuses a shard whose items are not its own (an edited or foreign folder)', () => {
    const bad = join(dir, 'shard-0-edited');
    cpSync(shardDirs[0]!, bad, { recursive: true });
    const other = journal(shardDirs[1]!);
    const foreign = other.filter((r) => r.itemId === other[0]!.itemId);
    const m = manifestOf(bad);
    m.suite.items += 1;
    delete m.suite.itemIdsSha256;
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify(m));
    writeFileSync(join(bad, 'results.jsonl'), readFileSync(join(bad, 'results.jsonl'), 'utf8') + foreign.map((r) => JSON.stringify(r) + '\n').join(''));
    expect(() => mergeShards([bad, shardDirs[1]!, shardDirs[2]!, shardDirs[3]!], join(dir, 'm-edited'))).toThrow(/belongs to shard 1, not 0/);
  });
});
