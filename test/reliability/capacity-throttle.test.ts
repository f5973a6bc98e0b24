// Capacity errors at concurrency (issue 10, real-server leftovers item 1). A real llama-server at -c 2048
// -np 4 answered 13 of 24 requests at concurrency 4 with "Input prompt is too big compared to KV size"
// (its shared KV cache fragments; a batch that does not fit fails every slot in it), and medeval retried
// them at full concurrency until the retries ran out. The double's kvCacheCells mode fails batches the same
// way; the run now halves the requests in flight on such an episode, every item is answered, and the
// manifest and summary say the run was throttled.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { answerScript, readJournal, tempDir, writeSampleSuite, writeServerProfile } from './helpers.js';

const doubles: LlamaServerDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.stop()));
});

describe('capacity errors throttle the run', () => {
  it('concurrency 4 on a KV cache that holds two requests: the window is cut, every item answered, the run says it was throttled', async () => {
    const server = new LlamaServerDouble();
    doubles.push(server);
    server.nCtxSlot = 4096;
    // The sample's prompts take 151-240 cells here: any two fit in 500, four never do.
    server.kvCacheCells = 500;
    // Streams that last a few decode steps, so requests in flight overlap.
    server.script = (body) => ({ ...answerScript(body), chunks: answerScript(body).chunks.map((c) => ({ ...c, delayMs: 5 })) });
    await server.start();
    const dir = tempDir('medeval-throttle-');
    const suite = writeSampleSuite(dir, { limit: 16, load: ['  profile: concurrency', '  concurrency: 4', '  warmup: 1'] });
    const notices: string[] = [];
    const runner = await loadRunnerProfile(writeServerProfile(dir, server.baseUrl, { retries: 6 }));
    const { manifest } = await runSuite({
      suite, runner, out: join(dir, 'run'), cacheDir: false,
      onEvent: (e) => {
        if (e.type === 'notice') notices.push(e.text);
      },
    });
    const journal = readJournal(join(dir, 'run'));
    expect(server.kvFullRefusals).toBeGreaterThan(0);
    expect(journal).toHaveLength(16);
    expect(journal.filter((r) => r.error)).toEqual([]);
    expect(manifest.status).toBe('finished');
    const th = manifest.load.throttle!;
    expect(th.cuts).toBeGreaterThanOrEqual(1);
    expect(th.before).toBe(4);
    expect(th.lowest).toBeLessThanOrEqual(2);
    expect(th.changes[0]).toMatchObject({ from: 4, to: 2, why: 'capacity' });
    expect(notices.some((n) => /had no room for the requests in flight \(capacity error\): at most 2 at a time/.test(n))).toBe(true);
    // Every retry says why: the server's own message.
    const reasons = journal.flatMap((r) => r.retryReasons ?? []);
    expect(reasons.length).toBeGreaterThan(0);
    for (const why of reasons) expect(why).toMatch(/^capacity: the server reported an error in the stream \(code 500, server_error\): Input prompt is too big compared to KV size/);
    expect(readFileSync(join(dir, 'run', 'summary.md'), 'utf8')).toMatch(/\*\*Throttled:\*\* the server ran out of room \(capacity errors\) \d+ time\(s\); medeval cut the requests in flight from 4 to as few as [12]/);
    // The reports built from the run folder show it per model beside the load settings (HTML, Markdown) and keep every change (report.json).
    const { reportFromRunFolders } = await import('../../src/report/write.js');
    await reportFromRunFolders([join(dir, 'run')], join(dir, 'report'), { formats: ['json', 'md', 'html'], resamples: 50 });
    const path = [th.before, ...th.changes.map((c) => c.to)].slice(0, 13).join(' → ');
    expect(readFileSync(join(dir, 'report', 'report.md'), 'utf8')).toContain(`| ${th.cuts} | ${path}`);
    expect(readFileSync(join(dir, 'report', 'report.html'), 'utf8')).toContain(`<td class="num">${th.cuts}</td><td>${path}`);
    expect(JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8')).runs[0].latency.load.throttle).toEqual(th);
    console.log(`[throttle] KV-full refusals ${server.kvFullRefusals}, retries ${reasons.length}, window ${th.changes.map((c) => `${c.from}->${c.to}`).join(' ')}`);
  }, 600_000);
});
