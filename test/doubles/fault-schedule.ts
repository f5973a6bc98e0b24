// A reproducible fault schedule for the protocol doubles: whether the k-th request for a given prompt
// fails, and how, depends only on (seed, prompt, k), so the same faults hit the same items whatever the
// order or concurrency of requests. Plug `failureFor` into a ScriptedSseServer.
import { createHash } from 'node:crypto';
import type { Failure } from './scripted-sse.js';

export const FAULT_KINDS = ['http-500', 'http-429', 'reset-before-headers', 'reset-mid-stream', 'hang', 'malformed-sse'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface InjectedFault {
  key: string;
  /** 0-based attempt number for this key. */
  attempt: number;
  kind: FaultKind;
}

/** A number in [0, 1) from a string: the first 4 bytes of its sha256. */
export function unitHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

/** The text that identifies one generation request: its messages (or prompt) and its seed. */
export function requestKey(body: Record<string, unknown>): string {
  const text = Array.isArray(body.messages)
    ? (body.messages as Array<{ content?: unknown }>).map((m) => String(m.content)).join('\n')
    : String(body.prompt ?? '');
  return `${text}\u0000${String(body.seed ?? '')}`;
}

export class SeededFaultSchedule {
  readonly injected: InjectedFault[] = [];
  /** Generation requests seen per key (first attempt included). */
  readonly attempts = new Map<string, number>();
  enabled = true;

  constructor(private readonly opts: { seed: number; rate: number; kinds?: readonly FaultKind[]; retryAfterSeconds?: number }) {}

  /** The fault for attempt `attempt` of `key`, or null. Pure: same inputs, same answer. */
  faultAt(key: string, attempt: number): FaultKind | null {
    const kinds = this.opts.kinds ?? FAULT_KINDS;
    const u = unitHash(`${this.opts.seed}:${attempt}:${key}`);
    if (u >= this.opts.rate) return null;
    return kinds[Math.floor((u / this.opts.rate) * kinds.length)]!;
  }

  readonly failureFor = (body: Record<string, unknown>): Failure | null => {
    const key = requestKey(body);
    const attempt = this.attempts.get(key) ?? 0;
    this.attempts.set(key, attempt + 1);
    if (!this.enabled) return null;
    const kind = this.faultAt(key, attempt);
    if (kind === null) return null;
    this.injected.push({ key, attempt, kind });
    return toFailure(kind, this.opts.retryAfterSeconds ?? 1);
  };

  count(kind: FaultKind): number {
    return this.injected.filter((f) => f.kind === kind).length;
  }
}

function toFailure(kind: FaultKind, retryAfterSeconds: number): Failure {
  switch (kind) {
    case 'http-500':
      return { status: 500, body: JSON.stringify({ error: { code: 500, message: 'injected: slot crashed', type: 'server_error' } }) };
    case 'http-429':
      return { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) }, body: JSON.stringify({ error: { code: 429, message: 'injected: too many requests', type: 'rate_limit_error' } }) };
    case 'reset-before-headers':
      return { reset: true };
    case 'reset-mid-stream':
      return { resetAfterChunks: 1 };
    case 'hang':
      return { hang: true };
    case 'malformed-sse':
      return { malformedAfterChunks: 1 };
  }
}
