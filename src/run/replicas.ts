// Several servers of one model as one Runner: the replicas of a server profile (attached `baseUrls`, or
// `replicas: N` managed instances). Each request goes to the replica in rotation with the fewest requests
// outstanding (ties: the one that has served fewest, then list order), and its record names that replica.
// A replica that fails the run's dead-server rule (core/run-health.ts: a request got no answer and the
// replica's health check then failed too, or too many no-answer requests in a row) is taken out of
// rotation, said on the terminal and in the manifest, and the request it failed is sent to another
// replica: nothing is lost, nothing is answered twice. The run goes on while one replica is in rotation.
import type { ChatMessage, GenerateRequest, Generation, ManagedServerEnd, MemoryReport, ModelDescription, ReplicaReport, Runner, RunnerNotice, ServerReport, ThrottleReport } from '../core/types.js';
import { NO_ANSWER_KINDS, RunHealth } from './run-health.js';
import { highestMemory } from '../metrics/memory-merge.js';
import { createRunner, type RunnerProfile } from '../runners/registry.js';

/** Request failures after which the replica itself is checked (its health endpoint). */
const CHECK_AFTER = new Set([...NO_ANSWER_KINDS, 'bad-response', 'http-5xx']);
/** Failures that are the request's own (the prompt, the user): never a reason to doubt the replica. */
const REQUEST_OWN = new Set(['aborted', 'input', 'http-4xx', 'prompt-too-long', 'prompt-truncated', 'context-shift']);

interface Replica {
  url: string;
  runner: Runner;
  outstanding: number;
  sent: number;
  answered: number;
  failed: number;
  health: RunHealth;
  down: { afterRequests: number; reason: string } | null;
}

/** A counter (a Prometheus _total, or a histogram's _sum / _count): summing it over replicas is meaningful. */
const isCounter = (name: string) => /(_total|_sum|_count)$/.test(name);

export class ReplicaSetRunner implements Runner {
  readonly kind: string;
  private readonly replicas: Replica[];
  private listener: ((n: RunnerNotice) => void) | null = null;
  /** The warm-up requests (before afterWarmup): replayed on replicas that got none, so each is warm. */
  private warmupRequest: GenerateRequest | null = null;
  private warmedUp = false;

  constructor(runners: Array<{ url: string; runner: Runner }>, maxConsecutiveNoAnswer = 5) {
    if (runners.length === 0) throw new Error('a replica set needs at least one replica');
    this.kind = runners[0]!.runner.kind;
    this.replicas = runners.map(({ url, runner }) => ({
      url, runner, outstanding: 0, sent: 0, answered: 0, failed: 0, health: new RunHealth(undefined, maxConsecutiveNoAnswer), down: null,
    }));
  }

  /** Replicas still in rotation. */
  get inRotation(): string[] {
    return this.replicas.filter((r) => !r.down).map((r) => r.url);
  }

  private pick(exclude: ReadonlySet<Replica>): Replica | null {
    let best: Replica | null = null;
    for (const r of this.replicas) {
      if (r.down || exclude.has(r)) continue;
      if (!best || r.outstanding < best.outstanding || (r.outstanding === best.outstanding && r.sent < best.sent)) best = r;
    }
    return best;
  }

  private takeOut(r: Replica, reason: string): void {
    if (r.down) return;
    r.down = { afterRequests: r.sent, reason };
    const left = this.inRotation;
    const text = `replica ${r.url} taken out of rotation after ${r.sent} request(s): ${reason}; ` +
      (left.length ? `the run goes on with ${left.length} replica(s): ${left.join(', ')}` : 'no replica is left in rotation');
    this.listener?.({ kind: 'replica-down', text, delayMs: 0 });
  }

  /** After a failure on `r`: does it pass the dead-server rule? Takes it out of rotation when not. */
  private async judge(r: Replica, err: Error & { kind?: string }, signal?: AbortSignal): Promise<boolean> {
    const kind = err.kind ?? 'error';
    if (REQUEST_OWN.has(kind) || !CHECK_AFTER.has(kind) || signal?.aborted) return false;
    const unanswered = r.runner.probe ? await r.runner.probe(signal) : null;
    if (signal?.aborted) return false;
    // The same rule a single-server run stops on, applied to this replica alone; a broken answer
    // (bad stream, 5xx) counts only when the replica's health check then fails as well.
    const stop = NO_ANSWER_KINDS.has(kind) ? r.health.recordOutcome({ kind, message: err.message }, unanswered)
      : unanswered ? `a request failed (${err.message.split('\n')[0]}), then ${unanswered}` : null;
    if (stop) this.takeOut(r, stop.replace(/^the server /, 'it '));
    return stop !== null;
  }

  async generate(req: GenerateRequest): Promise<Generation> {
    if (!this.warmedUp && req.itemId === undefined) this.warmupRequest ??= req;
    const tried = new Set<Replica>();
    let failovers = 0;
    for (;;) {
      const r = this.pick(tried);
      if (!r) {
        throw Object.assign(new Error(`no replica is in rotation: ${this.replicas.map((x) => `${x.url}: ${x.down?.reason ?? 'failed this request'}`).join('; ')}`), { kind: 'server-dead' });
      }
      tried.add(r);
      r.outstanding++;
      r.sent++;
      try {
        const g = await r.runner.generate(req);
        r.answered++;
        r.health.recordOutcome(null, null);
        return { ...g, replica: r.url, ...(failovers ? { retries: (g.retries ?? 0) + failovers } : {}) };
      } catch (e) {
        r.failed++;
        const err = e as Error & { kind?: string; replica?: string };
        const dead = await this.judge(r, err, req.signal);
        // The request never got an answer from a replica now out of rotation: it goes to another one.
        if (dead && !req.signal?.aborted && this.pick(tried)) {
          failovers++;
          continue;
        }
        throw Object.assign(err, { replica: r.url });
      } finally {
        r.outstanding--;
      }
    }
  }

  async describe(): Promise<ModelDescription> {
    const first = await this.replicas[0]!.runner.describe();
    return { ...first, extra: { ...(first.extra ?? {}), replicas: this.replicas.map((r) => r.url), routing: 'fewest outstanding requests' } };
  }

  async countPromptTokens(messages: ChatMessage[], signal?: AbortSignal): Promise<number | null> {
    const r = this.replicas.find((x) => !x.down);
    return r?.runner.countPromptTokens ? r.runner.countPromptTokens(messages, signal) : null;
  }

  /** Every replica warm before the measured requests: one that got no warm-up request gets the last one now. */
  async afterWarmup(): Promise<void> {
    this.warmedUp = true;
    const warm = this.warmupRequest;
    await Promise.all(this.replicas.map(async (r) => {
      if (warm && r.sent === 0 && !r.down) {
        await r.runner.generate(warm).catch((e) => this.listener?.({ kind: 'replica-down', text: `replica ${r.url}: its warm-up request failed: ${(e as Error).message}`, delayMs: 0 }));
      }
      await r.runner.afterWarmup?.();
    }));
    for (const r of this.replicas) r.sent = 0;
  }

  async probe(signal?: AbortSignal): Promise<string | null> {
    const why: string[] = [];
    for (const r of this.replicas) {
      if (r.down) {
        why.push(`${r.url} is out of rotation (${r.down.reason})`);
        continue;
      }
      const w = r.runner.probe ? await r.runner.probe(signal) : null;
      if (w === null) return null;
      why.push(`${r.url}: ${w}`);
    }
    return `no replica answers: ${why.join('; ')}`;
  }

  async serverReport(): Promise<ServerReport> {
    const replicas: ReplicaReport[] = [];
    for (const r of this.replicas) {
      const base = { replica: r.url, answered: r.answered, failed: r.failed, ...(r.down ? { outOfRotation: r.down } : {}) };
      if (r.down || !r.runner.serverReport) {
        replicas.push({ ...base, metrics: null, metricsNote: r.down ? 'not read after the run: out of rotation' : 'this runner reads no server figures' });
        continue;
      }
      const s = await r.runner.serverReport().catch((e): ServerReport => ({ metrics: null, metricsNote: `could not read: ${(e as Error).message}` }));
      replicas.push({ ...base, metrics: s.metrics, ...(s.metricsNote ? { metricsNote: s.metricsNote } : {}) });
    }
    const read = replicas.filter((x) => x.metrics);
    const sum = (pick: (m: NonNullable<ServerReport['metrics']>) => Record<string, number>) => {
      const out: Record<string, number> = {};
      for (const x of read) for (const [k, v] of Object.entries(pick(x.metrics!))) if (isCounter(k)) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const metrics = read.length ? { before: sum((m) => m.before), after: sum((m) => m.after), delta: sum((m) => m.delta) } : null;
    const note = `counters summed over the ${read.length} of ${replicas.length} replica(s) whose /metrics were read (gauges per replica only, in server.replicas)`;
    return { metrics, metricsNote: note, replicas };
  }

  /** The highest replica's figure per part (each replica holds its own copy of the model); every replica listed. */
  async memory(): Promise<MemoryReport> {
    const reports = await Promise.all(this.replicas.map(async (r) => ({ name: r.url, memory: await r.runner.memory() })));
    return highestMemory(reports, 'replica', `each replica its own server process holding its own copy of the model; ${reports.length} replicas on one machine need up to the sum`)!;
  }

  managedServer(): ManagedServerEnd | null {
    const ends = this.replicas.map((r) => ({ url: r.url, end: r.runner.managedServer?.() ?? null })).filter((x) => x.end);
    if (ends.length === 0) return null;
    const worst = ends.find((x) => x.end!.ended === 'died-during-run') ?? ends[0]!;
    return { ...worst.end!, description: ends.map((x) => `${x.url}: ${x.end!.description}`).join('; ') };
  }

  /** Each replica throttles on its own: the one cut most stands for the run. */
  throttle(): ThrottleReport | null {
    const reports = this.replicas.map((r) => r.runner.throttle?.() ?? null).filter((t): t is ThrottleReport => t !== null);
    return reports.sort((a, b) => b.cuts - a.cuts)[0] ?? null;
  }

  setNoticeListener(listener: (notice: RunnerNotice) => void): void {
    this.listener = listener;
    for (const r of this.replicas) r.runner.setNoticeListener?.(listener);
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.runner.close()));
  }
}

/** The profile of each replica: one base URL each (attached), or `replicas` copies (managed, each its own port). */
export function replicaProfiles<P extends { mode: string; baseUrl?: string; baseUrls?: string[]; replicas?: number }>(profile: P): P[] | null {
  if (profile.mode === 'attached' && profile.baseUrls) {
    return profile.baseUrls.map((u) => { const { baseUrls: _all, replicas: _n, ...one } = profile; return { ...one, baseUrl: u } as P; });
  }
  if (profile.mode === 'managed' && (profile.replicas ?? 1) > 1) {
    const { replicas: _n, ...one } = profile;
    return Array.from({ length: profile.replicas! }, () => ({ ...one }) as P);
  }
  return null;
}

/**
 * The runner for a profile: one server, or a ReplicaSetRunner over a server profile's replicas. Managed
 * replicas start one after another (each takes a free port of its own); a start that fails stops those
 * already started.
 */
export async function createRunnerWithReplicas(profile: RunnerProfile): Promise<Runner> {
  const each = profile.kind === 'llama-server' || profile.kind === 'vllm' ? replicaProfiles<typeof profile>(profile) : null;
  if (!each) return createRunner(profile);
  const started: Array<{ url: string; runner: Runner }> = [];
  try {
    for (const p of each) {
      const runner = await createRunner(p);
      started.push({ url: (runner as Runner & { baseUrl?: string }).baseUrl ?? p.baseUrl ?? `replica ${started.length}`, runner });
    }
  } catch (e) {
    await Promise.all(started.map((s) => s.runner.close().catch(() => {})));
    throw e;
  }
  return new ReplicaSetRunner(started);
}
