// A response cache so that re-running a greedy evaluation costs nothing. Keyed by the runner's identity
// (kind, model file identity, profile), the prompt, the sampling parameters and the seed.
// Only greedy generations (temperature 0) and the first sample are cached: a sampled repeat for pass@1
// must be a new, independent request [promptfoo#5947], so it is never served from here.
// A cached result keeps its original timings but is flagged `cached`, and latency figures leave it out.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeRedacted } from '../core/redact.js';
import type { GenerateRequest, Generation, ModelDescription } from '../core/types.js';

export interface CacheIdentity {
  runner: string;
  model: ModelDescription;
  profile: unknown;
}

export class ResponseCache {
  private readonly runnerKey: string;

  constructor(private readonly dir: string, identity: CacheIdentity) {
    this.runnerKey = createHash('sha256').update(JSON.stringify({
      runner: identity.runner,
      profile: identity.profile,
      file: fileIdentity(identity.model.modelPath),
      parameters: identity.model.parameters,
      quantization: identity.model.quantization,
    })).digest('hex');
  }

  /** Whether a request may be cached at all (greedy, first sample). */
  static cacheable(req: GenerateRequest, sample: number): boolean {
    return sample === 0 && req.sampling.temperature === 0;
  }

  private file(req: GenerateRequest): string {
    const key = createHash('sha256')
      .update(JSON.stringify({ r: this.runnerKey, m: req.messages, s: req.sampling, c: req.constrain ?? null }))
      .digest('hex');
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  get(req: GenerateRequest): Generation | null {
    try {
      return JSON.parse(readFileSync(this.file(req), 'utf8')) as Generation;
    } catch {
      return null; // a miss, or an unreadable entry: either way, ask the model
    }
  }

  put(req: GenerateRequest, gen: Generation): void {
    const file = this.file(req);
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeRedacted(tmp, JSON.stringify(gen));
    renameSync(tmp, file);
  }
}

/** Path, size and modification time: cheap to get for a multi-GB model, and changes when the file does. */
function fileIdentity(path: string | undefined): unknown {
  if (!path) return null;
  try {
    const s = statSync(path);
    return { path, size: s.size, mtimeMs: Math.round(s.mtimeMs) };
  } catch {
    return { path };
  }
}
