// Measured latency against what the protocol doubles really did: each double records, on the client's own
// monotonic clock, when it wrote every chunk. TTFT, TTFO, ITL and E2EL must be within 2 ms of that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../src/core/types.js';
import { OpenAiServerSession } from '../../src/runners/openai-stream.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import type { ScriptChunk, ScriptedSseServer } from '../doubles/scripted-sse.js';
import { VllmDouble } from '../doubles/vllm-double.js';

const TOLERANCE_MS = 2;

/**
 * A different schedule per request: reasoning, then an answer, with uneven gaps. The first chunk waits
 * until all 16 requests are out (sending 16 requests costs the client ~1 ms each on this 2-core box) and
 * requests are staggered, so the test measures the method, not a saturated CPU.
 */
function scheduleFor(i: number, concurrency: number): ScriptChunk[] {
  const first = concurrency > 1 ? 60 + 7 * i : 15;
  return [
    { delayMs: first, reasoning: 'Think' },
    { delayMs: 3, reasoning: 'ing.' },
    { delayMs: 8 + (i % 3), content: 'Answer' },
    { delayMs: 2, content: ': ' },
    { delayMs: 6, content: 'B' },
  ];
}

function request(i: number): GenerateRequest {
  return {
    messages: [{ role: 'user', content: `question ${i}` }],
    sampling: { temperature: 0, topP: 1, maxTokens: 16 },
  };
}

async function measure(server: ScriptedSseServer, concurrency: number) {
  server.script = (body) => {
    const msgs = body.messages as Array<{ content: string }>;
    return { chunks: scheduleFor(Number(msgs[0]!.content.split(' ')[1]), concurrency), finishReason: 'stop' };
  };
  const session = new OpenAiServerSession({
    baseUrl: server.baseUrl, apiKey: null, model: 'm', api: 'chat', inlineThink: 'auto', retries: 0, requestTimeoutMs: 10_000,
  });
  const starts = new Map<number, number>();
  const outs = await Promise.all(
    Array.from({ length: concurrency }, (_, i) => session.generate(request(i), {}, { onStart: (t0) => starts.set(i, t0) })),
  );
  const errors = { ttft: [] as number[], ttfo: [] as number[], e2e: [] as number[], itl: [] as number[] };
  outs.forEach((out, i) => {
    const rec = server.records.find((r) => (r.body.messages as Array<{ content: string }>)[0]!.content === `question ${i}`)!;
    const t0 = starts.get(i)!;
    const t = out.generation.timings;
    const firstAnswer = rec.textSentAt[rec.kinds.indexOf('answer')]!;
    errors.ttft.push(t.ttftMs! - (rec.textSentAt[0]! - t0));
    errors.ttfo.push(t.ttfoMs! - (firstAnswer - t0));
    errors.e2e.push(t.e2eMs - (rec.textSentAt[rec.textSentAt.length - 1]! - t0));
    const sentGaps = rec.textSentAt.slice(1).map((s, k) => s - rec.textSentAt[k]!);
    expect(t.itlMs).toHaveLength(sentGaps.length);
    t.itlMs.forEach((g, k) => errors.itl.push(g - sentGaps[k]!));
    expect(out.generation.reasoning).toBe('Thinking.');
    expect(out.generation.rawText).toBe('<think>Thinking.</think>Answer: B');
    expect(out.generation.tokenSource).toBe('server-usage');
    expect(out.generation.outputTokens).toBe(5);
    // TPOT is (E2EL - TTFT) / (tokens - 1) by the shared definition.
    expect(t.tpotMs).toBeCloseTo((t.e2eMs - t.ttftMs!) / 4, 9);
  });
  server.records.length = 0;
  return errors;
}

const worst = (xs: number[]) => Math.max(...xs.map(Math.abs));
/** 90th percentile of |error| (nearest rank). */
const p90 = (xs: number[]) => {
  const a = xs.map(Math.abs).sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.ceil(0.9 * a.length) - 1)]!;
};

describe.each([
  ['llama-server', () => new LlamaServerDouble()],
  ['vllm', () => new VllmDouble()],
] as const)('%s double: measured vs sent', (_name, make) => {
  let server: ScriptedSseServer;
  beforeAll(async () => {
    server = await make().start();
  });
  afterAll(() => server.stop());

  // Other test files run beside this one on 2 cores; a measurement spoiled by their CPU use is taken again.
  it.each([1, 16])('concurrency %i: TTFT, TTFO, ITL and E2EL within 2 ms', { retry: 3 }, async (c) => {
    await measure(server, c); // warm-up round (JIT, connections), as every benchmark run does
    const e = await measure(server, c);
    // Arrival is never before sending (same clock): errors are small and non-negative, ITL symmetric.
    for (const x of [...e.ttft, ...e.ttfo, ...e.e2e]) expect(x).toBeGreaterThanOrEqual(0);
    const all = { ttft: e.ttft, ttfo: e.ttfo, itl: e.itl, e2e: e.e2e };
    const line = Object.entries(all).map(([k, v]) => `${k} p90=${p90(v).toFixed(3)} max=${worst(v).toFixed(3)}`).join('  ');
    console.log(`[timing] ${_name} c=${c}: |measured - sent| ms  ${line}`);
    for (const v of Object.values(all)) {
      // One stream: every single error within 2 ms. Sixteen streams on this shared 2-core machine: the
      // client parses chunks one after another, so 90% within 2 ms and none beyond 10 ms.
      if (c === 1) expect(worst(v)).toBeLessThan(TOLERANCE_MS);
      else {
        expect(p90(v)).toBeLessThan(TOLERANCE_MS);
        expect(worst(v)).toBeLessThan(10);
      }
    }
  });
});
