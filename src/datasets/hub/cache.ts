// Where fetched datasets live (MEDEVAL_CACHE, else $XDG_CACHE_HOME/medeval, else ~/.cache/medeval) and
// the lock file that records, per dataset, the revision in use and every file's sha256: written on
// first fetch (trust on first use where the catalog pins nothing) and enforced on every later use.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../../core/errors.js';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MEDEVAL_CACHE) return env.MEDEVAL_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'medeval');
}

export const datasetsDir = (root: string) => join(root, 'datasets');
export const lockFile = (root: string) => join(datasetsDir(root), 'lock.json');
/** The Hub's files of one dataset at one revision, as downloaded. */
export const filesDir = (root: string, name: string, revision: string) => join(datasetsDir(root), name, revision, 'hub');
/** The same rows in the original files' form, which the loaders read. */
export const preparedDir = (root: string, name: string, revision: string) => join(datasetsDir(root), name, revision, 'prepared');

const lockedFile = z.strictObject({
  path: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Where the expected hash came from: the catalog, the Hub's LFS listing, or this first download. */
  hashFrom: z.enum(['catalog', 'hub-listing', 'first-fetch']),
});

const lockedDataset = z.strictObject({
  repo: z.string(),
  /** The commit the files came from. */
  revision: z.string(),
  /** What was asked for: the catalog pin, the branch head (unverified pin), or --revision on purpose. */
  requested: z.string(),
  chosenOnPurpose: z.boolean(),
  fetchedAt: z.string(),
  files: z.array(lockedFile),
});

const lockSchema = z.strictObject({
  version: z.literal(1),
  datasets: z.record(z.string(), lockedDataset),
});

export type LockedFile = z.infer<typeof lockedFile>;
export type LockedDataset = z.infer<typeof lockedDataset>;
export type Lock = z.infer<typeof lockSchema>;

export function readLock(root: string): Lock {
  let text: string;
  try {
    text = readFileSync(lockFile(root), 'utf8');
  } catch {
    return { version: 1, datasets: {} };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, { file: lockFile(root) }, 'delete it to fetch again (hashes are then recorded anew)');
  }
  const result = lockSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InputError(issue.message, { file: lockFile(root), field: issue.path.join('.') }, 'delete it to fetch again (hashes are then recorded anew)');
  }
  return result.data;
}

/** Written whole to a temporary file and renamed, so a crash never leaves half a lock file. */
export function writeLock(root: string, lock: Lock): void {
  mkdirSync(datasetsDir(root), { recursive: true });
  const tmp = `${lockFile(root)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(lock, null, 2)}\n`);
  renameSync(tmp, lockFile(root));
}
