// Shards: the I-th of N disjoint slices of a run's items, so N machines (a CI matrix, a Kubernetes Indexed
// Job) each run one and `medeval merge` puts them back together. An item's shard is a function of its id
// alone (sha256 of the id, mod N), so every machine computes the same slices from the same dataset with
// no coordination. --limit is applied BEFORE sharding: the shards of `--limit L` are the first L items
// split N ways, and their merge is exactly the unsharded `--limit L` run.
import { createHash } from 'node:crypto';
import { InputError } from '../core/errors.js';
import type { ShardRecord } from '../core/types.js';

export interface ShardSpec {
  /** 0-based, like JOB_COMPLETION_INDEX and GitHub's strategy.job-index. */
  index: number;
  count: number;
  /** Where index and count came from, for the manifest: "--shard 1/4", "JOB_COMPLETION_INDEX=1, MEDEVAL_SHARD_COUNT=4". */
  source: string;
}

export const SHARD_RULE = 'sha256(itemId) first 6 bytes, big-endian, mod count';

/** Index variables read by `--shard env`, first found wins. */
export const SHARD_INDEX_VARS = ['MEDEVAL_SHARD_INDEX', 'JOB_COMPLETION_INDEX'] as const;
export const SHARD_COUNT_VAR = 'MEDEVAL_SHARD_COUNT';

/** The shard (0..count-1) an item belongs to. */
export function shardOf(itemId: string, count: number): number {
  return createHash('sha256').update(itemId).digest().readUIntBE(0, 6) % count;
}

export function inShard<T extends { id: string }>(items: readonly T[], shard: Pick<ShardSpec, 'index' | 'count'>): T[] {
  return items.filter((it) => shardOf(it.id, shard.count) === shard.index);
}

function wholeNumber(text: string | undefined, what: string, field: string): number {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(n) || n < 0) {
    throw new InputError(`${what} must be a whole number >= 0, got ${JSON.stringify(text ?? '')}`, { field });
  }
  return n;
}

function checked(index: number, count: number, source: string, field: string): ShardSpec {
  if (count < 1) throw new InputError(`the shard count must be at least 1, got ${count}`, { field });
  if (index >= count) {
    throw new InputError(`shard index ${index} is not below the shard count ${count}`, { field },
      `shard indexes are 0-based: with ${count} shards use 0 to ${count - 1} (as JOB_COMPLETION_INDEX and strategy.job-index count)`);
  }
  return { index, count, source };
}

/**
 * `--shard I/N` (0-based I), or `--shard env`: the index from MEDEVAL_SHARD_INDEX or JOB_COMPLETION_INDEX
 * (a Kubernetes Indexed Job sets it), the count from `countFlag` (--shard-count) or MEDEVAL_SHARD_COUNT.
 */
export function parseShard(value: string, env: NodeJS.ProcessEnv = process.env, countFlag?: number): ShardSpec {
  if (value === 'env') {
    const indexVar = SHARD_INDEX_VARS.find((v) => env[v] !== undefined && env[v] !== '');
    if (!indexVar) {
      throw new InputError(`--shard env: none of ${SHARD_INDEX_VARS.join(', ')} is set`, { field: '--shard' },
        'a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX; in GitHub Actions set MEDEVAL_SHARD_INDEX: ${{ strategy.job-index }}; or pass --shard I/N');
    }
    const index = wholeNumber(env[indexVar], indexVar, indexVar);
    let count: number;
    let countSource: string;
    if (countFlag !== undefined) {
      count = countFlag;
      countSource = `--shard-count ${countFlag}`;
    } else {
      if (env[SHARD_COUNT_VAR] === undefined || env[SHARD_COUNT_VAR] === '') {
        throw new InputError(`--shard env: the shard count is not known (${indexVar}=${index} is set, ${SHARD_COUNT_VAR} is not)`, { field: SHARD_COUNT_VAR },
          `pass --shard-count N (the Job's completions, the matrix size), or set ${SHARD_COUNT_VAR}`);
      }
      count = wholeNumber(env[SHARD_COUNT_VAR], SHARD_COUNT_VAR, SHARD_COUNT_VAR);
      countSource = `${SHARD_COUNT_VAR}=${count}`;
    }
    return checked(index, count, `${indexVar}=${index}, ${countSource}`, indexVar);
  }
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) throw new InputError(`--shard must be I/N (e.g. 0/4, 0-based) or "env", got ${JSON.stringify(value)}`, { field: '--shard' });
  if (countFlag !== undefined && countFlag !== Number(m[2])) {
    throw new InputError(`--shard ${value} and --shard-count ${countFlag} disagree`, { field: '--shard-count' }, '--shard-count is only needed with --shard env');
  }
  return checked(Number(m[1]), Number(m[2]), `--shard ${value.trim()}`, '--shard');
}

/**
 * The run's items cut to one shard, and what the manifest records about it. `itemIdsHash` is the journal
 * check's hash (passed in, so this module needs nothing from the report side). The dataset is a streamed
 * one (datasets' DatasetIndex): its ids decide, its subset() keeps the shard's items; `kept` says which
 * positions of the whole run they were.
 */
export function applyShard<D extends { ids: readonly string[]; subset(positions: readonly number[]): D }>(dataset: D, shard: ShardSpec | undefined,
  itemIdsHash: (ids: Iterable<string>) => string): { dataset: D; record: ShardRecord | null; kept: number[] | null } {
  if (!shard) return { dataset, record: null, kept: null };
  const record: ShardRecord = {
    index: shard.index,
    count: shard.count,
    source: shard.source,
    rule: SHARD_RULE,
    itemsBeforeShard: dataset.ids.length,
    itemIdsBeforeShardSha256: itemIdsHash(dataset.ids),
  };
  const keep: number[] = [];
  dataset.ids.forEach((id, k) => {
    if (shardOf(id, shard.count) === shard.index) keep.push(k);
  });
  return { dataset: dataset.subset(keep), record, kept: keep };
}
