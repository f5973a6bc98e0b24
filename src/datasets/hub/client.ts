// Talking to the Hugging Face Hub with the official @huggingface/hub client. Its library functions
// read no environment variable (only its own CLI defaults --token to HF_TOKEN): medeval reads
// HF_ENDPOINT (a mirror, or a test double on loopback) and HF_TOKEN (gated sets) and passes them as
// `hubUrl` and `accessToken`. The token is registered as a secret before any request is made.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ListFileEntry } from '@huggingface/hub';
import { InputError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

// The Hub client loads with the first Hub call, not with every command that can name a hub dataset (start-up).
type HubLibrary = typeof import('@huggingface/hub');
let hubLibrary: HubLibrary | undefined;
const hub = async (): Promise<HubLibrary> => (hubLibrary ??= await import('@huggingface/hub'));

export interface HubAccess {
  hubUrl: string;
  accessToken?: string;
}

export function hubAccess(env: NodeJS.ProcessEnv = process.env): HubAccess {
  const token = env.HF_TOKEN?.trim() || undefined;
  registerSecret(token);
  // The client refuses any token not starting with hf_ (a TypeError naming nothing): say so first.
  if (token && !token.startsWith('hf_')) {
    throw new InputError('HF_TOKEN does not look like a Hugging Face token (they start with "hf_")', { field: 'HF_TOKEN' },
      'create a read token in your Hub settings, or unset HF_TOKEN for public sets');
  }
  return { hubUrl: (env.HF_ENDPOINT?.trim() || DEFAULT_HUB_URL).replace(/\/+$/, ''), ...(token ? { accessToken: token } : {}) };
}

/** The Hub could not be reached at all (no network, wrong HF_ENDPOINT): offline use needs the cache. */
export class HubUnreachable extends Error {
  constructor(readonly hubUrl: string, cause: string) {
    super(`cannot reach the Hub at ${hubUrl}: ${cause}`);
    this.name = 'HubUnreachable';
  }
}

function causeOf(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

/** The client's errors in medeval's terms: access refused is bad input (exit 2) naming HF_TOKEN. */
export function explainHubError(e: unknown, access: HubAccess, repo: string, what: string): Error {
  if (e instanceof InputError || e instanceof HubUnreachable) return e;
  // A HubApiError comes only from a Hub call, which loaded the library.
  if (hubLibrary && e instanceof hubLibrary.HubApiError) {
    if (e.statusCode === 401 || e.statusCode === 403) {
      return new InputError(`the Hub refused ${what} of ${repo} (HTTP ${e.statusCode}${e.message ? `: ${e.message}` : ''})`, {},
        access.accessToken
          ? 'HF_TOKEN is set but gives no access: accept the dataset\'s terms on its Hub page with that account, or use a token with read access'
          : 'this dataset is gated or private: accept its terms on its Hub page, then set HF_TOKEN to a read token');
    }
    if (e.statusCode === 404) {
      return new InputError(`the Hub has no ${what} of ${repo} (HTTP 404)`, {}, 'check the repository name and the revision');
    }
    return new Error(`the Hub answered HTTP ${e.statusCode} for ${what} of ${repo}: ${e.message}`);
  }
  if (e instanceof TypeError && /fetch failed/i.test(e.message)) return new HubUnreachable(access.hubUrl, causeOf(e));
  return e as Error;
}

const datasetRepo = (name: string) => ({ type: 'dataset' as const, name });

/** The commit a revision (branch, tag or commit) names now. */
export async function resolveRevision(access: HubAccess, repo: string, revision: string): Promise<string> {
  try {
    const info = await (await hub()).datasetInfo({ name: repo, revision, additionalFields: ['sha'], ...access });
    if (!info.sha) throw new Error(`the Hub gave no commit for ${repo} at ${revision}`);
    return info.sha;
  } catch (e) {
    throw explainHubError(e, access, repo, `revision ${revision}`);
  }
}

export async function listRepoFiles(access: HubAccess, repo: string, commit: string): Promise<ListFileEntry[]> {
  const out: ListFileEntry[] = [];
  try {
    const { listFiles } = await hub();
    for await (const entry of listFiles({ repo: datasetRepo(repo), revision: commit, recursive: true, ...access })) {
      if (entry.type === 'file') out.push(entry);
    }
  } catch (e) {
    throw explainHubError(e, access, repo, `the file list at ${commit.slice(0, 12)}`);
  }
  return out;
}

export interface DownloadProgress {
  path: string;
  bytes: number;
  total: number;
}

export interface DownloadRequest {
  repo: string;
  commit: string;
  path: string;
  dest: string;
  /** The hash the file must have; null to accept (and record) what arrives. */
  expectedSha256: string | null;
  /** Says where the expected hash came from, for the refusal message. */
  expectedFrom: string;
  onProgress?: (p: DownloadProgress) => void;
}

/**
 * Downloads to "<dest>.partial", hashing as it goes; only a complete file whose hash matches is renamed
 * to dest. A cut connection, a short body or a changed file leave nothing at dest.
 */
export async function downloadVerified(access: HubAccess, r: DownloadRequest): Promise<{ sha256: string; size: number }> {
  const partial = `${r.dest}.partial`;
  mkdirSync(dirname(r.dest), { recursive: true });
  let blob: Blob | null;
  try {
    blob = await (await hub()).downloadFile({ repo: datasetRepo(r.repo), path: r.path, revision: r.commit, ...access });
  } catch (e) {
    throw explainHubError(e, access, r.repo, r.path);
  }
  if (!blob) throw new InputError(`the Hub has no file ${r.path} in ${r.repo} at ${r.commit.slice(0, 12)}`);
  const total = blob.size;
  const hash = createHash('sha256');
  let bytes = 0;
  const out = await open(partial, 'w');
  try {
    const reader = blob.stream().getReader();
    r.onProgress?.({ path: r.path, bytes, total });
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw new Error(`download of ${r.path} was cut after ${bytes} of ${total} bytes (${causeOf(e)}); nothing was kept: fetch again`);
      }
      if (chunk.done) break;
      hash.update(chunk.value);
      await out.write(chunk.value);
      bytes += chunk.value.byteLength;
      r.onProgress?.({ path: r.path, bytes, total });
    }
    if (bytes !== total) throw new Error(`download of ${r.path} ended after ${bytes} of ${total} bytes; nothing was kept: fetch again`);
  } catch (e) {
    await out.close();
    rmSync(partial, { force: true });
    throw e;
  }
  await out.close();
  const sha256 = hash.digest('hex');
  if (r.expectedSha256 && sha256 !== r.expectedSha256) {
    rmSync(partial, { force: true });
    throw new InputError(
      `${r.repo}/${r.path} at ${r.commit.slice(0, 12)} has changed: expected sha256 ${r.expectedSha256} (${r.expectedFrom}), got ${sha256}; the file was not kept`,
      {},
      'if the new content is wanted on purpose, fetch another revision with --revision (it is recorded), or delete the lock entry',
    );
  }
  renameSync(partial, r.dest);
  return { sha256, size: bytes };
}
