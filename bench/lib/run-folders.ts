// Run folders (manifest.json + results.jsonl, as `medeval run` leaves them) written from in-memory runs,
// one record at a time (a 100,000-record journal is larger than one string may be).
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedRun } from '../../src/core/run-folder.js';
import { syntheticPair } from '../../test/fixtures/runs/synthetic.js';
import { itemIdsHash } from '../../src/core/journal-check.js';
import { SHARD_RULE, shardOf } from '../../src/run/shard.js';

export function writeRunFolders(runs: LoadedRun[], root: string): string[] {
  return runs.map((r) => {
    const dir = join(root, r.manifest.label);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(r.manifest, null, 2) + '\n');
    const fd = openSync(join(dir, 'results.jsonl'), 'w');
    try {
      let batch = '';
      for (const x of r.results) {
        batch += JSON.stringify(x) + '\n';
        if (batch.length > 1 << 20) {
          writeSync(fd, batch);
          batch = '';
        }
      }
      writeSync(fd, batch);
    } finally {
      closeSync(fd);
    }
    return dir;
  });
}

/**
 * A baseline/compressed pair of `n` items each shaped like the demo's real records (about 2 KB a line:
 * a 900-character prompt, 16-64 output tokens with their gaps), written as two finished run folders.
 */
export function writeDemoShapedPair(n: number, root: string): string[] {
  const runs = syntheticPair(n, { outputTokens: [16, 64], promptChars: 900 });
  for (const r of runs) r.manifest.suite.items = n;
  return writeRunFolders(runs, root);
}

/**
 * The baseline of a demo-shaped pair of `n` items run as `count` shards (`medeval run --shard I/count`):
 * one finished run folder per shard, each with its items and its manifest.shard, for `medeval merge`.
 */
export function writeDemoShapedShards(n: number, count: number, root: string): string[] {
  const [run] = syntheticPair(n, { outputTokens: [16, 64], promptChars: 900 });
  const ids = [...new Set(run!.results.map((r) => r.itemId))];
  const shards = Array.from({ length: count }, (_, index): LoadedRun => {
    const results = run!.results.filter((r) => shardOf(r.itemId, count) === index);
    const manifest = {
      ...run!.manifest,
      label: `shard-${index}`,
      suite: { ...run!.manifest.suite, items: new Set(results.map((r) => r.itemId)).size },
      shard: { index, count, source: `--shard ${index}/${count}`, rule: SHARD_RULE, itemsBeforeShard: ids.length, itemIdsBeforeShardSha256: itemIdsHash(ids) },
    };
    return { ...run!, manifest, results };
  });
  return writeRunFolders(shards, root);
}
