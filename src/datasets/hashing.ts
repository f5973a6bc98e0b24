// Content hashes: stable item ids for records without one, and file digests for the run manifest.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';

/** JSON with object keys sorted at every level, so equal values always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => JSON.stringify(k) + ':' + canonicalJson((value as Record<string, unknown>)[k]));
    return '{' + entries.join(',') + '}';
  }
  return JSON.stringify(value);
}

/** `<prefix>-` + the first 12 hex chars of sha256(canonicalJson(value)). */
export function hashId(prefix: string, value: unknown): string {
  return `${prefix}-${createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 12)}`;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * One file: its own sha256. Several: sha256 of "<sha256>  <file name>\n" lines (like sha256sum
 * output; names without folders, so the hash does not depend on where the data lives).
 */
export async function sha256Files(files: string[]): Promise<string> {
  const digests: string[] = [];
  for (const file of files) digests.push(await sha256File(file));
  if (files.length === 1) return digests[0];
  const listing = files.map((f, i) => `${digests[i]}  ${basename(f)}\n`).join('');
  return createHash('sha256').update(listing).digest('hex');
}
