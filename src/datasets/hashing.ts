// Content hashes: stable item ids for records without one, and file digests for the run manifest.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { sha256Hex } from '../core/sha256.js';

/**
 * JSON with object keys sorted at every level, so equal values always hash the same. Built by appending to
 * one string (every item id of a dataset without ids is made from one, at start-up): the same text the
 * sort-filter-map-join form gave, undefined members and all (tests/datasets/hashing.test.ts holds both).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // An element JSON cannot write (undefined, a function) leaves nothing between its commas, as join did.
      const element = canonicalJson(value[i]) as string | undefined;
      if (element !== undefined) out += element;
    }
    return out + ']';
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    let out = '{';
    let first = true;
    for (const k of keys) {
      const v = record[k];
      if (v === undefined) continue;
      if (!first) out += ',';
      first = false;
      out += JSON.stringify(k) + ':' + canonicalJson(v);
    }
    return out + '}';
  }
  return JSON.stringify(value);
}

/** `<prefix>-` + the first 12 hex chars of sha256(canonicalJson(value)). */
export function hashId(prefix: string, value: unknown): string {
  return `${prefix}-${sha256Hex(canonicalJson(value)).slice(0, 12)}`;
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
