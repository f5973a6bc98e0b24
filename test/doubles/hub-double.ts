// A Hugging Face Hub double on loopback: the URL layout the @huggingface/hub client calls, answered
// the way the Hub answers (for tests; no network). Point HF_ENDPOINT at `url`.
//   GET /api/datasets/{repo}/revision/{rev}      -> {"id", "sha", ...}; unknown rev 404 RevisionNotFound
//   GET /api/datasets/{repo}/tree/{rev}?recursive -> [{type, oid, size, path, lfs?: {oid, size, pointerSize}}]
//   GET /datasets/{repo}/resolve/{rev}/{path}    -> small files inline; LFS files 302 to /cdn/{sha256} with
//                                                  X-Linked-Size / X-Linked-ETag, where Range is honoured
// Gated repos answer 401 (no token) or 403 (a token without access) with the Hub's JSON error and
// X-Error-Code: GatedRepo. `cutAfter` closes the socket mid-body, as a dropped connection does.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DoubleFile {
  bytes: Uint8Array;
  /** Stored with Git LFS (the Hub lists its sha256 as lfs.oid and serves it through a redirect). */
  lfs?: boolean;
}

export interface DoubleRepo {
  /** branch -> commit */
  branches: Record<string, string>;
  /** commit -> path -> file */
  commits: Record<string, Record<string, DoubleFile>>;
  gated?: { token: string };
}

export interface HubRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitOid = (b: Uint8Array) => createHash('sha1').update(`blob ${b.byteLength}\0`).update(b).digest('hex');

export class HubDouble extends EventEmitter {
  readonly repos = new Map<string, DoubleRepo>();
  /** Bytes of a file body after which the connection is destroyed (null: whole bodies). */
  cutAfter: number | null = null;
  readonly requests: HubRequest[] = [];
  private server: Server | null = null;
  private blobs = new Map<string, Uint8Array>();
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'X-Request-Id': 'Root=double', ...headers });
    res.end(JSON.stringify(body));
  }

  private commitOf(repo: DoubleRepo, rev: string): string | undefined {
    return repo.branches[rev] ?? (repo.commits[rev] ? rev : undefined);
  }

  /** The repo named at the start of `rest` ("owner/name/..."), checked for access. */
  private repoFor(rest: string, req: IncomingMessage, res: ServerResponse): { name: string; repo: DoubleRepo; tail: string } | null {
    const [owner, name, ...tail] = rest.split('/');
    const full = `${owner}/${name}`;
    const repo = this.repos.get(full);
    if (!repo) {
      this.json(res, 401, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
      return null;
    }
    if (repo.gated) {
      const auth = req.headers.authorization;
      if (!auth) {
        this.json(res, 401, { error: `Access to dataset ${full} is restricted. You must have access to it and be authenticated to access it. Please log in.` }, { 'X-Error-Code': 'GatedRepo' });
        return null;
      }
      if (auth !== `Bearer ${repo.gated.token}`) {
        this.json(res, 403, { error: `Access to dataset ${full} is restricted and you are not in the authorized list. Visit https://huggingface.co/datasets/${full} to ask for access.` }, { 'X-Error-Code': 'GatedRepo' });
        return null;
      }
    }
    return { name: full, repo, tail: tail.join('/') };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const path = decodeURIComponent(url.pathname);
    this.requests.push({ method: req.method ?? 'GET', path, ...(req.headers.range && { range: req.headers.range }), ...(req.headers.authorization && { authorization: req.headers.authorization }) });
    this.emit('request', path);
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/api\/datasets\/(.+)$/))) {
      const found = this.repoFor(m[1]!, req, res);
      if (!found) return;
      const [kind, rev, ...sub] = found.tail.split('/');
      const commit = this.commitOf(found.repo, rev ?? '');
      if (!commit) return this.json(res, 404, { error: 'Invalid rev id: ' + rev }, { 'X-Error-Code': 'RevisionNotFound' });
      if (kind === 'revision') {
        return this.json(res, 200, { _id: 'double', id: found.name, sha: commit, private: false, gated: found.repo.gated ? 'auto' : false, downloads: 0, likes: 0, lastModified: '2024-01-01T00:00:00.000Z' });
      }
      if (kind === 'tree') {
        const prefix = sub.join('/');
        const files = Object.entries(found.repo.commits[commit]!).filter(([p]) => !prefix || p.startsWith(prefix + '/'));
        return this.json(res, 200, files.map(([p, f]) => ({
          type: 'file', oid: gitOid(f.bytes), size: f.bytes.byteLength, path: p,
          ...(f.lfs && { lfs: { oid: sha256(f.bytes), size: f.bytes.byteLength, pointerSize: 134 } }),
        })));
      }
      return this.json(res, 404, { error: 'not found' });
    }
    if ((m = path.match(/^\/datasets\/(.+)$/))) {
      const found = this.repoFor(m[1]!, req, res);
      if (!found) return;
      const [kind, rev, ...filePath] = found.tail.split('/');
      const commit = this.commitOf(found.repo, rev ?? '');
      if (kind !== 'resolve' || !commit) return this.json(res, 404, { error: 'Revision not found' }, { 'X-Error-Code': 'RevisionNotFound' });
      const file = found.repo.commits[commit]![filePath.join('/')];
      if (!file) return this.json(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
      if (file.lfs) {
        const oid = sha256(file.bytes);
        this.blobs.set(oid, file.bytes);
        res.writeHead(302, { Location: `/cdn/${oid}`, 'X-Linked-Size': String(file.bytes.byteLength), 'X-Linked-ETag': `"${oid}"`, ETag: `"${gitOid(file.bytes)}"`, 'X-Repo-Commit': commit });
        return void res.end();
      }
      return this.body(req, res, file.bytes, `"${gitOid(file.bytes)}"`);
    }
    if ((m = path.match(/^\/cdn\/([0-9a-f]{64})$/)) && this.blobs.has(m[1]!)) return this.body(req, res, this.blobs.get(m[1]!)!, `"${m[1]}"`);
    this.json(res, 404, { error: 'not found' });
  }

  private body(req: IncomingMessage, res: ServerResponse, bytes: Uint8Array, etag: string): void {
    const range = req.headers.range?.match(/^bytes=(\d+)-(\d*)$/);
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), bytes.byteLength - 1) : bytes.byteLength - 1;
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${bytes.byteLength}`, 'Content-Length': String(end - start + 1), 'Accept-Ranges': 'bytes', ETag: etag });
      return void res.end(Buffer.from(bytes.subarray(start, end + 1)));
    }
    res.writeHead(200, { 'Content-Length': String(bytes.byteLength), 'Accept-Ranges': 'bytes', ETag: etag, 'Content-Type': 'application/octet-stream' });
    if (this.cutAfter !== null && this.cutAfter < bytes.byteLength) {
      // Half the body, then the connection drops: the client sees fewer bytes than Content-Length.
      res.write(Buffer.from(bytes.subarray(0, this.cutAfter)), () => res.destroy());
      return;
    }
    res.end(Buffer.from(bytes));
  }
}
