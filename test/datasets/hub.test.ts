// Datasets by name from the Hub, against the Hub double on loopback (no network): pinning and hashes,
// cut downloads, gated sets, offline use, and the Hub's schema variants giving the original files' ids.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadDataset } from '../../src/datasets/index.js';
import { filesDir } from '../../src/datasets/hub/cache.js';
import { prepareFiles } from '../../src/datasets/hub/convert.js';
import { fetchDataset, readLock, useHubDataset, verifyCache } from '../../src/datasets/hub/index.js';
import { HubDouble } from '../doubles/hub-double.js';
import { addKnownRepos, COMMIT_4, HEAD_MMLU, jsonl, MEDMCQA_ROWS, MEDQA_KV, MEDQA_ORIGINAL, MEDQA_SWAG, NEWER_4 } from '../helpers/hub-fixtures.js';
import { tempDir } from '../helpers/tiny-run.js';

let hub: HubDouble;
let env: NodeJS.ProcessEnv;
let cache: string;

beforeEach(async () => {
  hub = new HubDouble();
  addKnownRepos(hub);
  await hub.start();
  cache = tempDir('medeval-hub-cache-');
  env = { HF_ENDPOINT: hub.url, MEDEVAL_CACHE: cache };
});
afterEach(async () => {
  await hub.stop();
});

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const error = async (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error);
const noPartials = (dir: string): boolean => !readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.partial'));

async function originalLoad(format: 'medqa' | 'medmcqa', rows: unknown[], name = 'x.jsonl') {
  const file = join(tempDir(), name);
  writeFileSync(file, jsonl(rows));
  return loadDataset({ format, path: file, ...(format === 'medmcqa' && { copBase: 0 as const }) });
}

describe('fetching a known dataset', () => {
  it('downloads the pinned revision, records each file\'s sha256, and gives the original file\'s items and ids', async () => {
    const got = await fetchDataset('medqa-us-4', { env });
    expect(got.locked.revision).toBe(COMMIT_4);
    expect(got.locked.requested).toBe('catalog pin');
    // Only the test file of the split is fetched, not the train file or the card.
    expect(got.locked.files).toEqual([{ path: 'phrases_no_exclude_test.jsonl', size: jsonl(MEDQA_ORIGINAL).byteLength, sha256: sha256(jsonl(MEDQA_ORIGINAL)), hashFrom: 'hub-listing' }]);
    expect(hub.requests.some((r) => r.path.includes('train'))).toBe(false);
    expect(readLock(cache).datasets['medqa-us-4']!.files[0]!.sha256).toBe(sha256(jsonl(MEDQA_ORIGINAL)));
    const fromHub = await loadDataset({ format: got.spec.format, path: got.spec.path });
    const original = await originalLoad('medqa', MEDQA_ORIGINAL);
    expect(fromHub.items.map((i) => i.id)).toEqual(original.items.map((i) => i.id));
    expect(fromHub.items.map((i) => i.answer)).toEqual(['B', 'A', 'C']);
    // The loader's quirk handling carries over: the stfep2&3 typo is normalised and reported.
    expect(fromHub.warnings.join('\n')).toMatch(/stfep2&3/);
  });

  it('MedMCQA from a generated Parquet file: the same ids and answers as the same rows in JSON Lines', async () => {
    const got = await fetchDataset('medmcqa', { env });
    expect(got.locked.files.map((f) => f.path)).toEqual(['data/validation-00000-of-00001.parquet']);
    const fromHub = await loadDataset({ format: got.spec.format, path: got.spec.path, copBase: got.spec.copBase });
    const original = await originalLoad('medmcqa', MEDMCQA_ROWS.map((r) => ({ ...r, cop: Number(r.cop) })));
    expect(fromHub.items.map((i) => [i.id, i.answer])).toEqual(original.items.map((i) => [i.id, i.answer]));
    expect(fromHub.items.map((i) => i.answer)).toEqual(['A', 'B']);
  });

  it('MMLU: only the six medical subjects\' test files, with the ids of the published CSV files', async () => {
    const got = await fetchDataset('mmlu-medical', { env });
    expect(got.locked.revision).toBe(HEAD_MMLU);
    expect(got.locked.requested).toMatch(/unverified/);
    expect(got.locked.files.map((f) => f.path)).toEqual(['anatomy/test-00000-of-00001.parquet', 'medical_genetics/test-00000-of-00001.parquet']);
    const fromHub = await loadDataset({ format: 'mmlu', path: got.spec.path });
    const folder = tempDir();
    writeFileSync(join(folder, 'anatomy_test.csv'), 'Which bone forms the heel?,Talus,Calcaneus,Navicular,Cuboid,B\n');
    writeFileSync(join(folder, 'medical_genetics_test.csv'),
      '"Which pattern of inheritance skips generations, ""often""?",Autosomal dominant,Autosomal recessive,Mitochondrial,Y-linked,B\n"A trisomy, with a comma, is caused by",Nondisjunction,Deletion,Inversion,Translocation,A\n');
    const original = await loadDataset({ format: 'mmlu', path: folder });
    expect(fromHub.items.map((i) => i.id).sort()).toEqual(original.items.map((i) => i.id).sort());
    expect(fromHub.items).toHaveLength(3);
  });

  it('PubMedQA: the labelled Parquet rows keyed by PMID, kept to the test PMIDs given', async () => {
    const got = await fetchDataset('pubmedqa', { env });
    const truth = join(tempDir(), 'test_ground_truth.json');
    writeFileSync(truth, JSON.stringify({ 10001: 'yes', 10003: 'maybe' }));
    const d = await loadDataset({ format: 'pubmedqa', path: got.spec.path, groundTruthPath: truth });
    expect(d.items.map((i) => [i.id, i.answer])).toEqual([['pubmedqa-10001', 'A'], ['pubmedqa-10003', 'C']]);
    expect(d.items[0]!.meta.extra).toMatchObject({ context: 'Our own background text.\nOur own results text.', labels: ['BACKGROUND', 'RESULTS'] });
  });
});

describe('the Hub\'s schema variants of MedQA', () => {
  it('SWAG-style sent1/ending0..3/label and options as [{key, value}] give the original file\'s ids and answers', async () => {
    const original = await originalLoad('medqa', MEDQA_ORIGINAL);
    for (const rows of [MEDQA_SWAG, MEDQA_KV]) {
      const dir = tempDir();
      const hubFile = join(dir, 'test.jsonl');
      writeFileSync(hubFile, jsonl(rows));
      const prepared = await prepareFiles('medqa', [hubFile], join(dir, 'prepared'), 4);
      const d = await loadDataset({ format: 'medqa', path: prepared.path });
      expect(d.items.map((i) => [i.id, i.answer, i.options])).toEqual(original.items.map((i) => [i.id, i.answer, i.options]));
    }
  });

  it('a bad label is reported by the loader at its row number (line N of the prepared file = row N)', async () => {
    const dir = tempDir();
    const hubFile = join(dir, 'test.jsonl');
    writeFileSync(hubFile, jsonl([MEDQA_SWAG[0], { ...MEDQA_SWAG[1], label: 7 }]));
    const prepared = await prepareFiles('medqa', [hubFile], join(dir, 'prepared'), 4);
    const err = await error(loadDataset({ format: 'medqa', path: prepared.path }));
    expect(err).toBeInstanceOf(InputError);
    expect(err!.message).toContain(`${prepared.path}:2`);
    expect(err!.message).toContain('answer_idx');
  });

  it('a copy with another option count than the name promises is refused', async () => {
    const dir = tempDir();
    const hubFile = join(dir, 'test.jsonl');
    writeFileSync(hubFile, jsonl(MEDQA_ORIGINAL));
    const err = await error(prepareFiles('medqa', [hubFile], join(dir, 'prepared'), 5));
    expect(err!.message).toMatch(/4 options per question, this set needs 5/);
  });
});

describe('hashes, cut downloads and revisions', () => {
  it('a file whose bytes changed since the first fetch is refused with both hashes, and nothing is kept', async () => {
    await fetchDataset('medqa-us-4', { env });
    const recorded = sha256(jsonl(MEDQA_ORIGINAL));
    const changed = jsonl([MEDQA_ORIGINAL[0], MEDQA_ORIGINAL[2]]);
    hub.repos.get('GBaker/MedQA-USMLE-4-options')!.commits[COMMIT_4]!['phrases_no_exclude_test.jsonl'] = { bytes: changed, lfs: true };
    const cached = join(filesDir(cache, 'medqa-us-4', COMMIT_4), 'phrases_no_exclude_test.jsonl');
    unlinkSync(cached);
    const err = await error(fetchDataset('medqa-us-4', { env }));
    expect(err).toBeInstanceOf(InputError);
    expect(err!.message).toContain(recorded);
    expect(err!.message).toContain(sha256(changed));
    expect(existsSync(cached)).toBe(false);
    expect(noPartials(cache)).toBe(true);
    expect(readLock(cache).datasets['medqa-us-4']!.files[0]!.sha256).toBe(recorded);
  });

  it('a download cut mid-body leaves no file that looks complete and no lock entry; the next fetch completes', async () => {
    hub.cutAfter = 40;
    const err = await error(fetchDataset('medqa-us-4', { env }));
    expect(err!.message).toMatch(/cut after 40 of \d+ bytes|ended after 40 of/);
    expect(existsSync(join(filesDir(cache, 'medqa-us-4', COMMIT_4), 'phrases_no_exclude_test.jsonl'))).toBe(false);
    expect(noPartials(cache)).toBe(true);
    expect(readLock(cache).datasets['medqa-us-4']).toBeUndefined();
    hub.cutAfter = null;
    const got = await fetchDataset('medqa-us-4', { env });
    expect(got.locked.files[0]!.sha256).toBe(sha256(jsonl(MEDQA_ORIGINAL)));
  });

  it('--revision takes another commit on purpose and records it; later uses stay on it', async () => {
    await fetchDataset('medqa-us-4', { env });
    const got = await fetchDataset('medqa-us-4', { env, revision: NEWER_4 });
    expect(got.locked).toMatchObject({ revision: NEWER_4, requested: `--revision ${NEWER_4}`, chosenOnPurpose: true });
    await hub.stop();
    const used = await useHubDataset('medqa-us-4', { env });
    expect(used.fetched).toBe(false);
    expect(used.locked.revision).toBe(NEWER_4);
    expect((await loadDataset({ format: 'medqa', path: used.spec.path })).items).toHaveLength(2);
  });

  it('verify re-hashes the cache against the lock file and names both hashes of a changed file', async () => {
    await fetchDataset('medqa-us-4', { env });
    expect((await verifyCache(env))[0]!.problems).toEqual([]);
    const cached = join(filesDir(cache, 'medqa-us-4', COMMIT_4), 'phrases_no_exclude_test.jsonl');
    writeFileSync(cached, readFileSync(cached, 'utf8').replace('Pyelonephritis', 'Pyelitis'));
    const [r] = await verifyCache(env);
    expect(r!.problems[0]).toContain(sha256(jsonl(MEDQA_ORIGINAL)));
    expect(r!.problems[0]).toContain(sha256(readFileSync(cached)));
    // And a suite's use refuses the changed copy rather than reading it.
    expect((await error(useHubDataset('medqa-us-4', { env })))!.message).toMatch(/does not match its lock file/);
  });
});

describe('gated sets and offline use', () => {
  beforeEach(() => {
    hub.repos.get('openlifescienceai/medmcqa')!.gated = { token: 'hf_doubleReadToken123' };
  });

  it('a 401 without HF_TOKEN and a 403 with a token lacking access are InputErrors that say what to do', async () => {
    const e401 = await error(fetchDataset('medmcqa', { env }));
    expect(e401).toBeInstanceOf(InputError);
    expect(e401!.message).toMatch(/HTTP 401/);
    expect(e401!.message).toMatch(/gated or private.*set HF_TOKEN/);
    const e403 = await error(fetchDataset('medmcqa', { env: { ...env, HF_TOKEN: 'hf_wrongToken456' } }));
    expect(e403!.message).toMatch(/HTTP 403/);
    expect(e403!.message).toMatch(/HF_TOKEN is set but gives no access/);
    expect(e403!.message).not.toContain('hf_wrongToken456');
    const bad = await error(fetchDataset('medmcqa', { env: { ...env, HF_TOKEN: 'not-a-token' } }));
    expect(bad!.message).toMatch(/start with "hf_"/);
    expect(bad!.message).not.toContain('not-a-token');
  });

  it('the token from HF_TOKEN is sent as a bearer token, and the fetch then works', async () => {
    const got = await fetchDataset('medmcqa', { env: { ...env, HF_TOKEN: 'hf_doubleReadToken123' } });
    expect(got.locked.files).toHaveLength(1);
    expect(hub.requests.filter((r) => r.path.startsWith('/api/')).every((r) => r.authorization === 'Bearer hf_doubleReadToken123')).toBe(true);
    expect(readFileSync(join(cache, 'datasets', 'lock.json'), 'utf8')).not.toContain('hf_doubleReadToken123');
  });

  it('after one fetch the set is used with the Hub gone; before any fetch that is a clear InputError', async () => {
    const t0 = performance.now();
    await fetchDataset('mmlu-medical', { env });
    const fetchMs = performance.now() - t0;
    await hub.stop();
    const t1 = performance.now();
    const used = await useHubDataset('mmlu-medical', { env });
    const offlineMs = performance.now() - t1;
    expect(used.fetched).toBe(false);
    expect((await loadDataset({ format: 'mmlu', path: used.spec.path })).items).toHaveLength(3);
    console.log(`hub double: fetch mmlu-medical ${fetchMs.toFixed(0)} ms, offline use ${offlineMs.toFixed(0)} ms`);
    const err = await error(useHubDataset('medqa-us-4', { env }));
    expect(err).toBeInstanceOf(InputError);
    expect(err!.message).toMatch(/not in the cache .* cannot reach the Hub at http:\/\/127\.0\.0\.1:\d+/);
    expect(err!.message).toContain('medeval datasets fetch medqa-us-4');
  });
});
