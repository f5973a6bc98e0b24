// The `medeval view` web server: node:http on 127.0.0.1 only, read-only (GET and HEAD; anything else is
// 405), a Host check against DNS rebinding, and a Content-Security-Policy that lets the page load
// nothing but this server's own stylesheet and script. Pages are paged: a request reads only the
// journal lines of the page it shows (the index says where they are), so a 100,000-item run is never
// parsed whole; each response says how many lines it parsed (X-Medeval-Lines-Parsed / -Indexed).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError } from '../core/errors.js';
import type { ItemResult } from '../core/types.js';
import { VIEW_CSS, VIEW_SCRIPT } from './assets.js';
import { Catalog, runKind, totals, type ViewRun } from './catalog.js';
import { applyFilter, BadQuery, byKey, entryKey, outcomeOf, parseFilter, type ItemFilter } from './filters.js';
import {
  CSS_PATH, messagePage, moreLink, runItemsFragment, runPage, runsPage, SCRIPT_PATH, SHOW_MODES, sideBySidePage, sideRowsHtml,
  type ItemsPage, type ShowMode, type SideBySideRow,
} from './pages.js';
import type { JournalEntry } from '../core/run-folder.js';

export const HOST = '127.0.0.1';
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const COMMON_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface Reply {
  status?: number;
  type: 'html' | 'json' | 'css' | 'js';
  body: string;
}

const TYPES = { html: 'text/html; charset=utf-8', json: 'application/json; charset=utf-8', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' };

function intParam(q: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw new BadQuery(`${name} must be a whole number from 0 to ${max} (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

function pageParams(q: URLSearchParams): { offset: number; limit: number } {
  const limit = intParam(q, 'limit', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  if (limit === 0) throw new BadQuery('limit must be at least 1');
  return { offset: intParam(q, 'offset', 0, Number.MAX_SAFE_INTEGER), limit };
}

export interface ViewServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export interface ViewServerOptions {
  port?: number;
}

/** Starts the viewer over these folders (checked by the caller: catalog.checkRoots). */
export async function startViewServer(catalog: Catalog, opts: ViewServerOptions = {}): Promise<ViewServer> {
  let port = opts.port ?? 0;
  const server = createServer((req, res) => {
    handle(catalog, req, res, () => port).catch((e: unknown) => {
      // A bug, not bad input: still answered, never left hanging.
      if (!res.headersSent) send(res, req, { status: 500, type: 'html', body: messagePage('Error', (e as Error).message) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE'
        ? new InputError(`port ${opts.port} on ${HOST} is in use`, { field: '--port' }, 'pick another port, or --port 0 for any free one')
        : e);
    });
    server.listen(port, HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${HOST}:${port}/`;
  return {
    url,
    port,
    server,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function send(res: ServerResponse, req: IncomingMessage, reply: Reply, extra: Record<string, string> = {}): void {
  const body = Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status ?? 200, { ...COMMON_HEADERS, 'Content-Type': TYPES[reply.type], 'Content-Length': String(body.length), ...extra });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function handle(catalog: Catalog, req: IncomingMessage, res: ServerResponse, port: () => number): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...COMMON_HEADERS, Allow: 'GET, HEAD', 'Content-Type': TYPES.html });
    res.end(messagePage('Method not allowed', 'medeval view is read-only: it answers GET and HEAD only.'));
    return;
  }
  // A page from another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends its own Host.
  const host = req.headers.host ?? '';
  if (host !== `${HOST}:${port()}` && host !== `localhost:${port()}`) {
    send(res, req, { status: 403, type: 'html', body: messagePage('Forbidden', `medeval view answers requests for ${HOST}:${port()} only.`) });
    return;
  }
  const url = new URL(req.url ?? '/', `http://${HOST}`);
  const counters = new Counter(catalog);
  try {
    const reply = await route(catalog, url);
    send(res, req, reply, counters.headers());
  } catch (e) {
    if (e instanceof BadQuery) send(res, req, { status: 400, type: 'html', body: messagePage('Bad request', e.message) });
    else if (e instanceof HttpError) send(res, req, { status: e.status, type: 'html', body: messagePage(e.status === 404 ? 'Not found' : 'Error', e.message) });
    else if (e instanceof InputError) send(res, req, { status: 409, type: 'html', body: messagePage('Cannot read this run', e.message) });
    else throw e;
  }
}

/** Lines JSON-parsed while answering one request (requests in flight at the same time share the count). */
class Counter {
  private readonly start: { indexed: number; read: number };
  constructor(private readonly catalog: Catalog) {
    this.start = catalog.linesParsed();
  }
  headers(): Record<string, string> {
    const now = this.catalog.linesParsed();
    return { 'X-Medeval-Lines-Parsed': String(now.read - this.start.read), 'X-Medeval-Lines-Indexed': String(now.indexed - this.start.indexed) };
  }
}

async function route(catalog: Catalog, url: URL): Promise<Reply> {
  const path = url.pathname;
  const q = url.searchParams;
  if (path === CSS_PATH) return { type: 'css', body: VIEW_CSS };
  if (path === SCRIPT_PATH) return { type: 'js', body: VIEW_SCRIPT };
  if (path === '/' || path === '/api/runs') {
    const runs = await listRuns(catalog);
    if (path === '/') return { type: 'html', body: runsPage(runs, catalog.roots) };
    return { type: 'json', body: JSON.stringify({ runs: runs.map(runJson) }) };
  }
  let m = /^\/(api\/)?run\/([0-9a-f]{12})(\/items)?$/.exec(path);
  if (m) {
    const run = await getRun(catalog, m[2]!);
    const f = parseFilter(q);
    const { offset, limit } = pageParams(q);
    const page = await itemsPage(catalog, run, f, offset, limit);
    if (m[1]) {
      if (m[3] === undefined) throw new HttpError(404, `no such path: ${path}`);
      return { type: 'json', body: JSON.stringify({ run: runJson(run), ...page }) };
    }
    if (m[3]) return { type: 'html', body: runItemsFragment(run, f, page) };
    const others = (await listRuns(catalog)).filter((o) => o !== run && o.manifest && !o.error);
    return { type: 'html', body: runPage(run, others, f, page) };
  }
  m = /^\/compare(\/items)?$/.exec(path);
  if (m) return sideBySide(catalog, q, Boolean(m[1]));
  throw new HttpError(404, `no such page: ${path}`);
}

function listRuns(catalog: Catalog): Promise<ViewRun[]> {
  return catalog.list();
}

async function getRun(catalog: Catalog, id: string): Promise<ViewRun> {
  const run = await catalog.get(id);
  if (!run) throw new HttpError(404, `no run ${id} under the folders this viewer was started on`);
  return run;
}

function runJson(run: ViewRun) {
  const m = run.manifest;
  const t = totals(run);
  return {
    id: run.id, dir: run.dir, group: run.group, kind: runKind(run), error: run.error, problems: run.problems, warnings: run.warnings,
    label: m?.label ?? null, model: m?.model ?? null, suite: m?.suite.name ?? null, dataset: m?.suite.dataset ?? null, status: m?.status ?? null,
    createdAt: m?.createdAt ?? null, finishedAt: m?.finishedAt ?? null,
    records: t.records, expectedRecords: t.expectedRecords, scored: t.scored, right: t.right, accuracy: t.scored ? t.right / t.scored : null,
  };
}

async function itemsPage(catalog: Catalog, run: ViewRun, f: ItemFilter, offset: number, limit: number): Promise<ItemsPage> {
  if (run.error || !run.manifest) return { total: 0, offset, limit, records: [] };
  let other: Map<string, JournalEntry> | undefined;
  if (f.vs) {
    const vs = await getRun(catalog, f.vs);
    if (vs.error) throw new BadQuery(`the run to compare with cannot be read: ${vs.error}`);
    other = byKey(vs.index.entries());
  }
  const matching = applyFilter(run.index.entries(), f, other);
  const records = await run.index.records(matching.slice(offset, offset + limit));
  return { total: matching.length, offset, limit, records };
}

/** Does this row pass the side-by-side mode? Entries are the runs' index entries for one (item, sample). */
function showRow(mode: ShowMode, entries: (JournalEntry | undefined)[]): boolean {
  if (mode === 'all') return true;
  const present = entries.filter((e): e is JournalEntry => e !== undefined);
  if (mode === 'differ') {
    const first = present[0]!;
    return present.some((e) => e.extracted.letter !== first.extracted.letter || outcomeOf(e) !== outcomeOf(first));
  }
  const scored = present.filter((e) => e.correct !== null);
  return scored.some((e) => e.correct) && scored.some((e) => !e.correct);
}

async function sideBySide(catalog: Catalog, q: URLSearchParams, fragment: boolean): Promise<Reply> {
  const ids = [...new Set(q.getAll('runs'))];
  if (ids.length < 2) throw new BadQuery('side by side needs two or more runs: pick them on the list of runs');
  const runs: ViewRun[] = [];
  for (const id of ids) {
    if (!/^[0-9a-f]{12}$/.test(id)) throw new BadQuery(`not a run id: ${JSON.stringify(id)}`);
    const run = await getRun(catalog, id);
    if (run.error) throw new BadQuery(`${run.dir} cannot be read: ${run.error}`);
    runs.push(run);
  }
  const rawShow = q.get('show') || 'all';
  if (!(SHOW_MODES as readonly string[]).includes(rawShow)) throw new BadQuery(`show must be one of ${SHOW_MODES.join(', ')}`);
  const show = rawShow as ShowMode;
  const { offset, limit } = pageParams(q);
  const [first, ...rest] = runs.map((r) => r.index.entries());
  const maps = rest.map((entries) => byKey(entries));
  const firstKeys = new Set(first!.map(entryKey));
  const missing = rest.reduce((n, entries) => n + entries.filter((e) => !firstKeys.has(entryKey(e))).length, 0);
  const matching: (JournalEntry | undefined)[][] = [];
  for (const e of first!) {
    const row = [e, ...maps.map((m) => m.get(entryKey(e)))];
    if (showRow(show, row)) matching.push(row);
  }
  const slice = matching.slice(offset, offset + limit);
  // Each run reads only its own lines of this page.
  const perRun: Map<string, ItemResult>[] = [];
  for (let i = 0; i < runs.length; i++) {
    const entries = slice.map((row) => row[i]).filter((e): e is JournalEntry => e !== undefined);
    const records = await runs[i]!.index.records(entries);
    perRun.push(new Map(records.map((r) => [entryKey(r), r])));
  }
  const rows: SideBySideRow[] = slice.map((row) => ({
    key: entryKey(row[0]!),
    records: runs.map((_, i) => (row[i] ? perRun[i]!.get(entryKey(row[i]!)) ?? null : null)),
  }));
  const position = { total: matching.length, offset, shown: rows.length, limit };
  const query = new URLSearchParams();
  for (const r of runs) query.append('runs', r.id);
  if (show !== 'all') query.set('show', show);
  if (fragment) return { type: 'html', body: `${sideRowsHtml(runs, rows)}\n${moreLink('/compare', query, position)}` };
  return { type: 'html', body: sideBySidePage(runs, show, rows, position, query, missing) };
}
