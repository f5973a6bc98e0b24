// The viewer's server over real run folders on a real loopback port: what it lists (compare runs,
// merge outputs), read-only and loopback-only answers, filters and flips against the fixture's known
// outcomes, and paging that parses the page's lines only.
import { request } from 'node:http';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, checkRoots, runId } from '../../src/view/catalog.js';
import { startViewServer, type ViewServer } from '../../src/view/server.js';
import { BASELINE, COMPRESSED, writeViewFixture, type ViewFixture } from './view-runs.js';

function raw(url: string, method: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('medeval view server', () => {
  let fx: ViewFixture;
  let view: ViewServer;
  const get = (path: string) => fetch(new URL(path, view.url));
  const json = async (path: string) => {
    const res = await get(path);
    expect(res.status, path).toBe(200);
    return { body: (await res.json()) as Record<string, unknown>, res };
  };

  beforeAll(async () => {
    fx = writeViewFixture({ bigItems: 10_000, damaged: true });
    view = await startViewServer(new Catalog(checkRoots([fx.root])), { port: 0 });
  });
  afterAll(async () => {
    await view?.close();
    if (fx) rmSync(fx.root, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only', () => {
    expect(view.server.address()).toMatchObject({ address: '127.0.0.1' });
    expect(view.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('lists compare runs, the merge output and a plain run, with accuracy from the journal', async () => {
    const { body } = await json('/api/runs');
    const runs = body.runs as { label: string | null; dir: string; error: string | null; kind: string; records: number; right: number; scored: number; status: string }[];
    const by = Object.fromEntries(runs.filter((r) => r.label !== null).map((r) => [r.label, r]));
    // A damaged folder is listed with its error at file:line, not dropped and not fatal.
    expect(runs.filter((r) => r.error !== null).map((r) => [r.dir, r.error!.split('\n')[0]])).toEqual([
      [fx.damaged, expect.stringMatching(/results\.jsonl: 1 problem\(s\)/)],
    ]);
    expect(runs.find((r) => r.dir === fx.damaged)!.error).toMatch(/results\.jsonl:2: not valid JSON/);
    expect(Object.keys(by).sort()).toEqual(['baseline-f16', 'big-q4', 'compressed-q4', 'merged-q8']);
    expect(by['baseline-f16']!.kind).toBe('compare run (study)');
    expect(by['merged-q8']!.kind).toBe('merged (2 of 2 shards)');
    expect(by['big-q4']!.records).toBe(10_000);
    expect(by['baseline-f16']!).toMatchObject({ right: BASELINE.filter((o) => o === 'correct').length, scored: BASELINE.filter((o) => o !== 'error').length });
    expect(by['compressed-q4']!.status).toBe('incomplete');
  });

  it('answers GET and HEAD only: anything else is 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await raw(view.url, method);
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
    const head = await raw(view.url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('refuses a Host that is not its own (DNS rebinding)', async () => {
    const res = await raw(view.url, 'GET', { Host: 'evil.example:80' });
    expect(res.status).toBe(403);
  });

  it('sends a policy that loads nothing but its own files', async () => {
    const res = await get('/');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('filters by outcome, type and step, counted from the fixture', async () => {
    const id = runId(fx.compressed);
    for (const outcome of ['correct', 'wrong', 'unparseable', 'truncated', 'error'] as const) {
      const { body } = await json(`/api/run/${id}/items?outcome=${outcome}`);
      expect(body.total, outcome).toBe(COMPRESSED.filter((o) => o === outcome).length);
    }
    const { body: step } = await json(`/api/run/${id}/items?step=step1&outcome=correct`);
    const want = COMPRESSED.filter((o, i) => o === 'correct' && i % 2 === 1).length;
    expect(step.total).toBe(want);
    expect((step.records as { step: string }[]).every((r) => r.step === 'step1')).toBe(true);
  });

  it('shows accuracy by question type and step, each linked to its filter', async () => {
    const html = await (await get(`/run/${runId(fx.compressed)}`)).text();
    const step = html.slice(html.indexOf('data-by="step"'), html.indexOf('</table>', html.indexOf('data-by="step"')));
    const odd = COMPRESSED.filter((_, i) => i % 2 === 1);
    const right = odd.filter((o) => o === 'correct').length;
    const scored = odd.filter((o) => o !== 'error').length;
    expect(step).toContain(`?step=step1">step1</a></td><td class="num">${odd.length}</td><td class="num">${scored}</td><td class="num">${((100 * right) / scored).toFixed(1)}%</td>`);
  });

  it('filters flips against another run, in each direction', async () => {
    const id = runId(fx.compressed);
    const vs = runId(fx.baseline);
    const right = (o: string) => o === 'correct';
    const scored = (o: string) => o !== 'error';
    const pairs = BASELINE.map((b, i) => [b, COMPRESSED[i]!] as const).filter(([b, c]) => scored(b) && scored(c));
    const lost = pairs.filter(([b, c]) => right(b) && !right(c)).length;
    const gained = pairs.filter(([b, c]) => !right(b) && right(c)).length;
    expect([lost, gained]).toEqual([3, 1]);
    expect((await json(`/api/run/${id}/items?vs=${vs}&flip=lost`)).body.total).toBe(lost);
    expect((await json(`/api/run/${id}/items?vs=${vs}&flip=gained`)).body.total).toBe(gained);
    expect((await json(`/api/run/${id}/items?vs=${vs}`)).body.total).toBe(lost + gained);
    const ids = ((await json(`/api/run/${id}/items?vs=${vs}&flip=lost`)).body.records as { itemId: string }[]).map((r) => r.itemId);
    expect(ids).toEqual(['q00001', 'q00002', 'q00007']);
  });

  it('pages a 10,000-item run: a page parses its own lines only, never the whole journal', async () => {
    const id = runId(fx.big!);
    await json('/api/runs'); // the index exists from the listing
    const first = await json(`/api/run/${id}/items?limit=50`);
    expect(first.body).toMatchObject({ total: 10_000, offset: 0, limit: 50 });
    expect((first.body.records as unknown[]).length).toBe(50);
    expect(first.res.headers.get('x-medeval-lines-parsed')).toBe('50');
    expect(first.res.headers.get('x-medeval-lines-indexed')).toBe('0');
    const later = await json(`/api/run/${id}/items?outcome=error&offset=900&limit=20`);
    expect(later.body.total).toBe(1000);
    expect((later.body.records as { itemId: string }[]).map((r) => r.itemId)[0]).toBe('q09008');
    expect(later.res.headers.get('x-medeval-lines-parsed')).toBe('20');
    const page = await get(`/run/${id}`);
    expect(page.headers.get('x-medeval-lines-parsed')).toBe('50');
  });

  it('a journal that grows is indexed from where it stopped', async () => {
    const { appendFileSync } = await import('node:fs');
    const { record } = await import('./view-runs.js');
    const id = runId(fx.merged);
    const before = (await json(`/api/run/${id}/items`)).body.total as number;
    appendFileSync(`${fx.merged}/results.jsonl`, JSON.stringify(record(77, 'correct')) + '\n');
    const after = await json(`/api/run/${id}/items`);
    expect(after.body.total).toBe(before + 1);
    expect(after.res.headers.get('x-medeval-lines-indexed')).toBe('1');
  });

  it('says what is wrong with a bad query (400) or an unknown run (404)', async () => {
    const id = runId(fx.baseline);
    expect((await get(`/api/run/${id}/items?outcome=maybe`)).status).toBe(400);
    expect((await get(`/api/run/${id}/items?flip=lost`)).status).toBe(400);
    expect((await get(`/api/run/${id}/items?limit=100000`)).status).toBe(400);
    expect((await get('/run/000000000000')).status).toBe(404);
    expect((await get('/compare?runs=' + id)).status).toBe(400);
    expect((await get('/nothing')).status).toBe(404);
  });

  it('side by side pairs the runs by question and shows only flips on request', async () => {
    const q = `runs=${runId(fx.baseline)}&runs=${runId(fx.compressed)}`;
    const all = await (await get(`/compare?${q}`)).text();
    expect(all.match(/<article class="item side"/g)).toHaveLength(20);
    const flips = await (await get(`/compare?${q}&show=flips`)).text();
    expect([...flips.matchAll(/<article class="item side" data-item="([^"]+)"/g)].map((m) => m[1])).toEqual(['q00001', 'q00002', 'q00007', 'q00011']);
  });

  it('sets three runs side by side; a question one of them lacks says so', async () => {
    const res = await get(`/compare?runs=${runId(fx.baseline)}&runs=${runId(fx.compressed)}&runs=${runId(fx.merged)}&limit=20`);
    expect(res.headers.get('x-medeval-lines-parsed')).toBe(String(20 + 20 + 10));
    const html = await res.text();
    const rows = html.split('<article class="item side"').slice(1);
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => (r.match(/<div class="cell[ "]/g) ?? []).length === 3)).toBe(true);
    expect(rows.filter((r) => r.includes('no record'))).toHaveLength(10);
  });

  it('a damaged run answers with its error, and cannot be set side by side', async () => {
    const id = runId(fx.damaged!);
    const page = await (await get(`/run/${id}`)).text();
    expect(page).toMatch(/This folder cannot be read/);
    expect(page).toMatch(/results\.jsonl:2: not valid JSON/);
    expect((await get(`/compare?runs=${id}&runs=${runId(fx.baseline)}`)).status).toBe(400);
  });
});
