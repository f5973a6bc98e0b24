// Client overhead of medeval's HTTP runner path (openai SDK + retry wrapper + per-chunk timing), against a
// bare fetch loop doing the same streamed requests, in the same run, against an instant loopback SSE
// server (llama-server's chunk format, running in a worker thread so it does not share our event loop).
// Targets: requests/s ratio >= 0.9 and added median latency < 0.5 ms, at concurrency 1 and 64.
// Run: npx tsx bench/client-overhead.ts [--seconds 3]   Writes reports/bench/client-overhead.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { OpenAiServerSession } from '../src/runners/openai-stream.js';

const SERVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const meta = '"created":1795534944,"id":"chatcmpl-bench","model":"gpt-3.5-turbo","system_fingerprint":"b0-unknown","object":"chat.completion.chunk"';
const words = ['The', ' answer', ' is', ' B', '.', ' Because', ' of', ' it'];
let body = '';
for (const w of words) body += 'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":' + JSON.stringify(w) + '}}],' + meta + '}\\n\\n';
body += 'data: {"choices":[{"finish_reason":"length","index":0,"delta":{}}],' + meta + ',"usage":{"completion_tokens":8,"prompt_tokens":12,"total_tokens":20},"timings":{"prompt_n":12,"prompt_ms":1.0,"predicted_n":8,"predicted_ms":2.0}}\\n\\ndata: [DONE]\\n\\n';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Server': 'llama.cpp' });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

interface Sample {
  rps: number;
  medianMs: number;
  p90Ms: number;
  requests: number;
}

const REQUEST = { messages: [{ role: 'user' as const, content: 'Which option is correct? A, B, C or D.' }], sampling: { temperature: 0, topP: 1, maxTokens: 8 } };

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The bare loop: fetch, read the body, split SSE events, parse JSON, time first and last text chunk. */
async function bareRequest(url: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: REQUEST.messages, max_tokens: 8, temperature: 0, top_p: 1, stream: true, stream_options: { include_usage: true } }),
  });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let text = '';
  let first = -1;
  let last = -1;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
      const j = JSON.parse(ev.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> };
      const c = j.choices?.[0]?.delta?.content;
      if (c) {
        const now = performance.now();
        if (first < 0) first = now;
        last = now;
        text += c;
      }
    }
  }
  if (!text || first < 0 || last < 0) throw new Error('bare client: no text');
}

async function runLoad(fn: () => Promise<void>, concurrency: number, seconds: number): Promise<Sample> {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await fn();
        lat.push(performance.now() - s);
      }
    }),
  );
  const dur = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { rps: lat.length / dur, medianMs: quantile(lat, 0.5), p90Ms: quantile(lat, 0.9), requests: lat.length };
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

async function main(): Promise<void> {
  const secIdx = process.argv.indexOf('--seconds');
  const seconds = secIdx > 0 ? Number(process.argv[secIdx + 1]) : 2;
  const rounds = 3;
  const worker = new Worker(SERVER, { eval: true });
  const port = await new Promise<number>((r) => worker.once('message', r));
  const base = `http://127.0.0.1:${port}`;
  const session = new OpenAiServerSession({ baseUrl: base, apiKey: null, model: 'm', api: 'chat', inlineThink: 'auto', retries: 3, requestTimeoutMs: 60_000 });
  const medeval = async () => {
    const out = await session.generate(REQUEST, { cache_prompt: true });
    if (!out.generation.rawText || out.generation.timings.ttftMs === null) throw new Error('medeval client: no text');
  };
  const bare = () => bareRequest(`${base}/v1/chat/completions`);

  const rows: Array<Record<string, number | string | boolean>> = [];
  for (const c of [1, 64]) {
    // Warm up both paths (JIT, connection pools), then alternate rounds so drift hits both alike.
    await runLoad(medeval, c, 0.5);
    await runLoad(bare, c, 0.5);
    const m: Sample[] = [];
    const b: Sample[] = [];
    for (let r = 0; r < rounds; r++) {
      b.push(await runLoad(bare, c, seconds));
      m.push(await runLoad(medeval, c, seconds));
    }
    const rpsM = median(m.map((x) => x.rps));
    const rpsB = median(b.map((x) => x.rps));
    const medM = median(m.map((x) => x.medianMs));
    const medB = median(b.map((x) => x.medianMs));
    const ratio = rpsM / rpsB;
    const added = medM - medB;
    // At concurrency 64 the median includes waiting behind 63 other requests on one event loop, so
    // added latency there is mostly lower throughput; the per-request cost is added/64.
    rows.push({
      concurrency: c,
      bareRps: round(rpsB), medevalRps: round(rpsM), rpsRatio: round(ratio, 3),
      bareMedianMs: round(medB, 3), medevalMedianMs: round(medM, 3), addedMedianMs: round(added, 3),
      addedPerRequestCpuMs: round(1000 / rpsM - 1000 / rpsB, 3),
      ratioTargetMet: ratio >= 0.9, latencyTargetMet: added < 0.5,
      requests: m.reduce((s, x) => s + x.requests, 0) + b.reduce((s, x) => s + x.requests, 0),
    });
  }
  await worker.terminate();

  const head = ['conc', 'bare req/s', 'medeval req/s', 'ratio (>=0.9)', 'bare p50 ms', 'medeval p50 ms', 'added p50 ms (<0.5)', 'added CPU ms/req'];
  const lines = rows.map((r) => [r.concurrency, r.bareRps, r.medevalRps, `${r.rpsRatio} ${r.ratioTargetMet ? 'ok' : 'MISSED'}`, r.bareMedianMs, r.medevalMedianMs, `${r.addedMedianMs} ${r.latencyTargetMet ? 'ok' : 'MISSED'}`, r.addedPerRequestCpuMs].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(fmt(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const l of lines) console.log(fmt(l));

  mkdirSync('reports/bench', { recursive: true });
  const out = {
    benchmark: 'client-overhead',
    description: 'medeval OpenAiServerSession (openai SDK v6 + retry + StreamTimer) vs a bare fetch SSE loop, same requests, same run, instant loopback server in a worker thread',
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    loadavg: (await import('node:os')).loadavg(),
    secondsPerRound: seconds,
    rounds,
    rows,
    createdAt: new Date().toISOString(),
  };
  writeFileSync('reports/bench/client-overhead.json', JSON.stringify(out, null, 2) + '\n');
  console.log('wrote reports/bench/client-overhead.json');
}

function round(x: number, d = 1): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

await main();
