// End to end under faults: `runSuite` against the llama-server double answering about 10% of requests
// with a seeded mix of 500s, 429 + Retry-After, connection resets (before headers and mid-stream),
// hangs past the request timeout and broken SSE. The run must finish with every item answered or listed
// as an error (never missing, never twice, never scored wrong), and its accuracy on the answered items
// must equal a clean run's on the same items. Then: a server that dies mid-run, and --max-error-rate.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { itemSeed, runSuite } from '../../src/run/run.js';
import type { ItemResult } from '../../src/core/types.js';
import { NvidiaSmi } from '../../src/metrics/nvidia-smi.js';
import { createLlamaServerRunner, type LlamaServerProfile } from '../../src/runners/llama-server.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { scoreRun } from '../../src/scoring/accuracy.js';
import { FAULT_KINDS, requestKey, SeededFaultSchedule } from '../doubles/fault-schedule.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { answerScript, readJournal, resultKey, tempDir, writeSampleSuite, writeServerProfile } from './helpers.js';

const SEED = 1234;
/** Picked so that the ~10% of faulted requests include every fault kind (asserted below). */
const FAULT_SEED = 11;
const RETRY_AFTER_S = 7; // above any backoff of 3 retries (500 ms doubling: at most 4 s), so 429 waits are recognisable
const REQUEST_TIMEOUT_MS = 5000; // a hang costs this much; a normal answer takes a few ms (under 200 ms with the machine starved), so it never races this
/**
 * One retry: every fault kind is retried now (hangs and broken SSE too: issue 10 item 7), so with more
 * retries no item would end in error at this fault rate and the error path would go untested.
 */
const RETRIES = 1;

const doubles: LlamaServerDouble[] = [];
async function startDouble(): Promise<LlamaServerDouble> {
  const d = await new LlamaServerDouble().start();
  d.script = answerScript;
  doubles.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.stop()));
});

const generationRequests = (d: LlamaServerDouble) => d.requests.filter((r) => r.path === '/v1/chat/completions').length;
/** The key the fault schedule saw for a result's request (its prompt and per-item seed). */
const keyOf = (r: ItemResult) => requestKey({ messages: [{ role: 'user', content: r.prompt }], seed: itemSeed(SEED, r.itemId, r.sample) });

describe('a run against a faulty llama-server', () => {
  it('finishes with every item answered or listed as an error, and the same accuracy as a clean run on the answered items', async () => {
    const dir = tempDir('medeval-faults-');
    const suite = writeSampleSuite(dir, { samples: 2, load: ['  profile: concurrency', '  concurrency: 4', '  warmup: 0'] });

    // The clean run: same double answers, no faults, runner created from the profile as `medeval run` does.
    const clean = await startDouble();
    const cleanProfile = await loadRunnerProfile(writeServerProfile(dir, clean.baseUrl, { requestTimeoutMs: REQUEST_TIMEOUT_MS }));
    const cleanRun = await runSuite({ suite, runner: cleanProfile, out: join(dir, 'clean'), seed: SEED, cacheDir: false });
    expect(cleanRun.manifest.status).toBe('finished');
    expect(cleanRun.results.every((r) => !r.error)).toBe(true);

    // The faulty run. Backoff waits are recorded, not slept (the profile has no backoff setting; see report).
    const faulty = await startDouble();
    const schedule = new SeededFaultSchedule({ seed: FAULT_SEED, rate: 0.1, retryAfterSeconds: RETRY_AFTER_S });
    faulty.failureFor = schedule.failureFor;
    const loaded = await loadRunnerProfile(writeServerProfile(join(dir), faulty.baseUrl, { requestTimeoutMs: REQUEST_TIMEOUT_MS, retries: RETRIES }));
    const waits: number[] = [];
    const runner = await createLlamaServerRunner(loaded.profile as LlamaServerProfile, {
      nvidiaSmi: new NvidiaSmi(null),
      retrySleep: async (ms, signal) => {
        if (signal?.aborted) throw signal.reason;
        waits.push(ms);
      },
    });
    const out = join(dir, 'faulty');
    const run = await runSuite({ suite, runner: loaded, runnerInstance: runner, out, seed: SEED, cacheDir: false });

    // The run completes; the schedule hit every kind of fault.
    expect(run.manifest.status).toBe('incomplete'); // items are left in error: never "finished"
    expect(run.manifest.stopReason).toBeUndefined();
    for (const kind of FAULT_KINDS) expect(schedule.count(kind), kind).toBeGreaterThan(0);

    // None missing, none duplicated: the journal on disk holds each (item, sample) exactly once.
    const journal = readJournal(out);
    const expected = cleanRun.results.map(resultKey).sort();
    expect(journal.map(resultKey).sort()).toEqual(expected);
    expect(new Set(journal.map(resultKey)).size).toBe(journal.length);
    expect(journal.length).toBe(120);

    // Errors: recorded as errors with their retries, never scored, and only where a fault hit the last attempt.
    const errors = journal.filter((r) => r.error);
    const answered = journal.filter((r) => !r.error);
    expect(errors.length).toBeGreaterThan(0);
    for (const r of errors) {
      expect(r.correct).toBeNull();
      expect(r.extracted.letter).toBeNull();
      expect(['timeout', 'bad-response', 'http-5xx', 'http-429', 'connection']).toContain(r.error!.kind);
      const attempts = schedule.attempts.get(keyOf(r))!;
      expect(r.error!.retries, r.itemId).toBe(attempts - 1);
      expect(schedule.faultAt(keyOf(r), attempts - 1), r.itemId).not.toBeNull();
    }
    // Hangs end as timeouts, broken SSE as bad responses (both are retried within `retries` now: issue 10 item 7).
    const kindOfLastFault = (r: ItemResult) => schedule.faultAt(keyOf(r), schedule.attempts.get(keyOf(r))! - 1);
    for (const r of errors.filter((e) => kindOfLastFault(e) === 'hang')) expect(r.error!.kind).toBe('timeout');
    for (const r of errors.filter((e) => kindOfLastFault(e) === 'malformed-sse')) expect(r.error!.kind).toBe('bad-response');
    for (const r of answered) expect(schedule.faultAt(keyOf(r), schedule.attempts.get(keyOf(r))! - 1)).toBeNull();

    // Requests add up: one per record plus every retry; each retry waited once; 429s waited >= Retry-After.
    const requests = generationRequests(faulty);
    const retries = [...schedule.attempts.values()].reduce((a, n) => a + n - 1, 0);
    expect(requests).toBe(journal.length + retries);
    expect(waits.length).toBe(retries);
    const retried429 = schedule.injected.filter((f) => f.kind === 'http-429' && f.attempt < RETRIES).length;
    expect(waits.filter((w) => w >= RETRY_AFTER_S * 1000).length).toBeGreaterThanOrEqual(retried429);

    // Answered items got exactly the clean run's outputs, so accuracy on them is the clean run's.
    const cleanByKey = new Map(cleanRun.results.map((r) => [resultKey(r), r]));
    for (const r of answered) {
      expect(r.rawOutput).toBe(cleanByKey.get(resultKey(r))!.rawOutput);
      expect(r.correct).toBe(cleanByKey.get(resultKey(r))!.correct);
    }
    const faultyScore = scoreRun(journal).overall;
    const cleanSame = scoreRun(answered.map((r) => cleanByKey.get(resultKey(r))!)).overall;
    expect(faultyScore.errors).toBe(errors.length);
    expect(faultyScore.scored).toBe(answered.length);
    expect(faultyScore.correct).toBe(cleanSame.correct);
    expect(faultyScore.wrong).toBe(cleanSame.wrong);
    expect(faultyScore.unparseable).toBe(cleanSame.unparseable);
    expect(faultyScore.accuracy!.estimate).toBeCloseTo(cleanSame.accuracy!.estimate, 12);

    // The run's summary carries the same figures: errors by kind and every retry, answered or not.
    const summary = JSON.parse(readFileSync(join(run.dir, "summary.json"), 'utf8')).run.reliability;
    expect(summary.errors).toBe(errors.length);
    expect(summary.retries).toBe(retries);
    expect(summary.errorKinds).toEqual(Object.fromEntries([...new Set(errors.map((e) => e.error!.kind))].map((k) => [k, errors.filter((e) => e.error!.kind === k).length])));

    const figures = {
      records: journal.length,
      requests,
      faultsInjected: schedule.injected.length,
      byKind: Object.fromEntries(FAULT_KINDS.map((k) => [k, schedule.count(k)])),
      retries,
      errors: errors.length,
      errorKinds: Object.fromEntries([...new Set(errors.map((e) => e.error!.kind))].map((k) => [k, errors.filter((e) => e.error!.kind === k).length])),
      answered: answered.length,
      correct: faultyScore.correct,
      accuracyAnswered: faultyScore.accuracy!.estimate,
      cleanAccuracyAll: scoreRun(cleanRun.results).overall.accuracy?.estimate ?? null,
    };
    console.log(`[faulty-server figures] ${JSON.stringify(figures)}`);
  });

  it('stops with status failed when the server dies mid-run, keeping what was saved', async () => {
    const dir = tempDir('medeval-dead-');
    const suite = writeSampleSuite(dir);
    const server = await startDouble();
    // retries: 0, so no backoff sleeps: each request to the dead server fails at once.
    const runner = await loadRunnerProfile(writeServerProfile(dir, server.baseUrl, { retries: 0 }));
    const out = join(dir, 'run');
    let killedAfter = 0;
    const run = await runSuite({
      suite, runner, out, cacheDir: false,
      onEvent: (e) => {
        if (e.type === 'item' && e.done === 10 && !killedAfter) {
          killedAfter = e.done;
          void server.stop();
        }
      },
    });
    expect(run.manifest.status).toBe('failed');
    // The first request that cannot connect is followed by a /health probe, which cannot connect either.
    expect(run.manifest.stopReason).toMatch(/the server stopped answering: a request could not connect .*, then llama-server is not answering: .*\/health ECONNREFUSED/);
    const journal = readJournal(out);
    // The 10 answered before the kill are on disk, then the connection error that stopped the run.
    expect(journal.slice(0, 10).every((r) => !r.error && r.rawOutput.startsWith('Answer'))).toBe(true);
    expect(journal.length).toBe(11);
    expect(journal.slice(-1).every((r) => r.error?.kind === 'connection' && r.correct === null)).toBe(true);
    expect(new Set(journal.map(resultKey)).size).toBe(journal.length);
    expect(JSON.parse(JSON.stringify(run.manifest)).status).toBe('failed');
  });

  it('--max-error-rate stops a run that fails too often', async () => {
    const dir = tempDir('medeval-rate-');
    const suite = writeSampleSuite(dir);
    const server = await startDouble();
    const schedule = new SeededFaultSchedule({ seed: 3, rate: 0.5, kinds: ['http-500'] });
    server.failureFor = schedule.failureFor;
    const runner = await loadRunnerProfile(writeServerProfile(dir, server.baseUrl, { retries: 0 }));
    const out = join(dir, 'run');
    const run = await runSuite({ suite, runner, out, cacheDir: false, maxErrorRate: 0.2 });
    expect(run.manifest.status).toBe('failed');
    expect(run.manifest.stopReason).toMatch(/error rate .* is above --max-error-rate 20\.0%/);
    const journal = readJournal(out);
    expect(journal.length).toBeGreaterThanOrEqual(10);
    expect(journal.length).toBeLessThan(60);
    const errors = journal.filter((r) => r.error);
    expect(errors.length / journal.length).toBeGreaterThan(0.2);
    expect(errors.every((r) => r.error!.kind === 'http-5xx' && r.correct === null)).toBe(true);
  });
});
