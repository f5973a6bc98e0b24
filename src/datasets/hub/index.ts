// Datasets by name: fetch from the Hub once (pinned revision, every file hashed and recorded in the
// lock file), then use offline from the cache, with the hashes enforced on every use.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.js';
import { sha256File } from '../hashing.js';
import type { DatasetFormat } from '../formats.js';
import type { DatasetSpec } from '../types.js';
import { KNOWN_DATASETS, knownDataset, type KnownDataset } from './catalog.js';
import { cacheRoot, filesDir, lockFile, preparedDir, readLock, writeLock, type LockedDataset, type LockedFile } from './cache.js';
import { downloadVerified, hubAccess, HubUnreachable, listRepoFiles, resolveRevision, type DownloadProgress } from './client.js';
import { prepareFiles } from './convert.js';

export { KNOWN_DATASETS, knownDataset, pinNote, type KnownDataset } from './catalog.js';
export { cacheRoot, lockFile, readLock, type LockedDataset } from './cache.js';
export { DEFAULT_HUB_URL, HubUnreachable, type DownloadProgress } from './client.js';

export interface HubOptions {
  /** Another revision (branch, tag or commit), taken on purpose and recorded in the lock file. */
  revision?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: DownloadProgress) => void;
  /** One line per step (cached file, verified, recorded), for the CLI. */
  onLine?: (line: string) => void;
}

export interface HubDataset {
  known: KnownDataset;
  locked: LockedDataset;
  /** Loader spec pieces: what the prepared files are. */
  spec: { format: DatasetFormat } & Pick<DatasetSpec, 'path'> & Partial<Pick<DatasetSpec, 'copBase'>>;
  /** Whether this call used the network. */
  fetched: boolean;
}

function mustKnow(name: string): KnownDataset {
  const known = knownDataset(name);
  if (!known) {
    throw new InputError(`unknown dataset ${JSON.stringify(name)}`, {},
      `known: ${KNOWN_DATASETS.map((d) => d.name).join(', ')} (medeval datasets list)`);
  }
  return known;
}

const hubFilePath = (root: string, name: string, locked: Pick<LockedDataset, 'revision'>, path: string) => join(filesDir(root, name, locked.revision), path);

/** Fetches NAME (or takes its cached files when their hashes match) and records the lock entry. */
export async function fetchDataset(name: string, o: HubOptions = {}): Promise<HubDataset> {
  const known = mustKnow(name);
  const root = cacheRoot(o.env);
  const lock = readLock(root);
  const prior = lock.datasets[name];
  const access = hubAccess(o.env);
  const requested = o.revision ?? prior?.revision ?? known.revision ?? 'main';
  const commit = await resolveRevision(access, known.repo, requested);
  const sameRevision = prior?.revision === commit ? prior : undefined;
  const listing = await listRepoFiles(access, known.repo, commit);
  const chosen = listing.filter((f) => known.files.test(f.path)).sort((a, b) => a.path.localeCompare(b.path));
  if (!chosen.length) {
    const seen = listing.slice(0, 8).map((f) => f.path).join(', ');
    throw new InputError(`${known.repo} at ${commit.slice(0, 12)} has no ${known.expect}`, {},
      `its files: ${seen || 'none'}${listing.length > 8 ? ', ...' : ''}; the Hub layout may have changed: try another --revision`);
  }
  const files: LockedFile[] = [];
  for (const entry of chosen) {
    const pinned = known.sha256[entry.path];
    const recorded = sameRevision?.files.find((f) => f.path === entry.path);
    const fromListing = entry.lfs?.oid && /^[0-9a-f]{64}$/.test(entry.lfs.oid) ? entry.lfs.oid : undefined;
    const expected = pinned ?? recorded?.sha256 ?? fromListing ?? null;
    const hashFrom: LockedFile['hashFrom'] = pinned ? 'catalog' : recorded ? recorded.hashFrom : fromListing ? 'hub-listing' : 'first-fetch';
    const expectedFrom = pinned ? 'pinned by medeval' : recorded ? `recorded in ${lockFile(root)} on ${sameRevision!.fetchedAt}` : 'the Hub\'s LFS listing';
    const dest = hubFilePath(root, name, { revision: commit }, entry.path);
    if (expected && existsSync(dest) && (await sha256File(dest)) === expected) {
      o.onLine?.(`${entry.path}: in the cache, sha256 ${expected.slice(0, 12)} checked`);
      files.push({ path: entry.path, size: entry.size, sha256: expected, hashFrom });
      continue;
    }
    const got = await downloadVerified(access, { repo: known.repo, commit, path: entry.path, dest, expectedSha256: expected, expectedFrom, onProgress: o.onProgress });
    o.onLine?.(`${entry.path}: ${got.size} bytes, sha256 ${got.sha256.slice(0, 12)} ${expected ? 'checked' : 'recorded (first fetch)'}`);
    files.push({ path: entry.path, size: got.size, sha256: got.sha256, hashFrom });
  }
  const locked: LockedDataset = {
    repo: known.repo,
    revision: commit,
    requested: o.revision ? `--revision ${o.revision}` : prior ? prior.requested : known.revision ? 'catalog pin' : 'main (unverified pin: first fetch)',
    chosenOnPurpose: o.revision !== undefined ? o.revision !== known.revision : (prior?.chosenOnPurpose ?? false),
    fetchedAt: new Date().toISOString(),
    files,
  };
  const spec = await prepare(root, name, known, locked);
  lock.datasets[name] = locked;
  writeLock(root, lock);
  return { known, locked, spec, fetched: true };
}

async function prepare(root: string, name: string, known: KnownDataset, locked: LockedDataset): Promise<HubDataset['spec']> {
  const dir = preparedDir(root, name, locked.revision);
  rmSync(dir, { recursive: true, force: true });
  const prepared = await prepareFiles(known.shape, locked.files.map((f) => hubFilePath(root, name, locked, f.path)), dir, known.options);
  return { format: known.format, path: prepared.path, ...(known.shape === 'medmcqa' && { copBase: 0 as const }) };
}

/** Problems of the cached files against the lock: missing or changed (both hashes named). */
async function cacheProblems(root: string, name: string, locked: LockedDataset): Promise<string[]> {
  const problems: string[] = [];
  for (const f of locked.files) {
    const file = hubFilePath(root, name, locked, f.path);
    if (!existsSync(file)) problems.push(`${file}: missing`);
    else {
      const now = await sha256File(file);
      if (now !== f.sha256) problems.push(`${file}: changed: the lock file records sha256 ${f.sha256}, the file has ${now}`);
    }
  }
  return problems;
}

/**
 * For a suite's `dataset.hub`: the cached copy when the lock has it (no network; hashes checked),
 * else a fetch. Offline without a cached copy is a clear InputError (exit 2).
 */
export async function useHubDataset(name: string, o: HubOptions = {}): Promise<HubDataset> {
  const known = mustKnow(name);
  const root = cacheRoot(o.env);
  const locked = readLock(root).datasets[name];
  const wanted = !o.revision || locked?.revision === o.revision || locked?.requested === `--revision ${o.revision}`;
  if (locked && wanted) {
    const problems = await cacheProblems(root, name, locked);
    const changed = problems.filter((p) => p.includes('changed'));
    if (changed.length) throw new InputError(`the cached copy of ${name} does not match its lock file:\n  ${changed.join('\n  ')}`, {}, `medeval datasets fetch ${name} downloads it again`);
    if (!problems.length) {
      const dir = preparedDir(root, name, locked.revision);
      const spec = existsSync(dir) ? preparedSpec(known, dir) : await prepare(root, name, known, locked);
      return { known, locked, spec, fetched: false };
    }
  }
  try {
    return await fetchDataset(name, o);
  } catch (e) {
    if (!(e instanceof HubUnreachable)) throw e;
    throw new InputError(`dataset ${name} is not in the cache (${root}) and ${e.message}`, {},
      `fetch it once while online: medeval datasets fetch ${name} (MEDEVAL_CACHE sets where it is kept; HF_ENDPOINT a mirror)`);
  }
}

function preparedSpec(known: KnownDataset, dir: string): HubDataset['spec'] {
  const path = known.shape === 'mmlu' ? dir : join(dir, known.shape === 'pubmedqa' ? 'ori_pqal.json' : known.shape === 'medqa' ? 'test.jsonl' : 'validation.jsonl');
  return { format: known.format, path, ...(known.shape === 'medmcqa' && { copBase: 0 as const }) };
}

export interface VerifyResult {
  name: string;
  revision: string;
  files: number;
  problems: string[];
}

/** Every fetched dataset's files re-hashed against the lock file; nothing is downloaded. */
export async function verifyCache(env: NodeJS.ProcessEnv = process.env): Promise<VerifyResult[]> {
  const root = cacheRoot(env);
  const lock = readLock(root);
  const out: VerifyResult[] = [];
  for (const [name, locked] of Object.entries(lock.datasets)) {
    out.push({ name, revision: locked.revision, files: locked.files.length, problems: await cacheProblems(root, name, locked) });
  }
  return out;
}
