// A frozen vLLM (it accepts connections, answers nothing) used to time every remaining item out in turn
// and end "finished". Now the first request without answer is followed by a /health probe, which gets no
// answer either, and the run stops: status failed, the reason, what was answered kept.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { VllmDouble } from '../doubles/vllm-double.js';
import { answerScript, readJournal, tempDir, writeSampleSuite } from './helpers.js';
import { writeFileSync } from 'node:fs';

const doubles: VllmDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.stop()));
});

describe('a frozen vLLM', () => {
  it('stops the run after one request timeout and one /health timeout, status failed', async () => {
    const server = await new VllmDouble().start();
    doubles.push(server);
    server.script = answerScript;
    const dir = tempDir('medeval-hung-');
    const suite = writeSampleSuite(dir, { limit: 12 });
    const file = join(dir, 'vllm.yaml');
    writeFileSync(file, ['kind: vllm', 'label: frozen-vllm', 'mode: attached', `baseUrl: ${server.baseUrl}`,
      // 20x the slowest answer or side request seen with the machine starved: only the freeze can reach them.
      'requestTimeoutMs: 4000', 'sideRequestTimeoutMs: 2000', 'retries: 0', ''].join('\n'));
    const runner = await loadRunnerProfile(file);
    const t: { frozenAt?: number } = {};
    const run = await runSuite({
      suite, runner, out: join(dir, 'run'), cacheDir: false,
      onEvent: (e) => {
        if (e.type === 'item' && e.done === 3) {
          server.frozen = true;
          t.frozenAt = performance.now();
        }
      },
    });
    const stoppedAfter = performance.now() - t.frozenAt!;
    expect(run.manifest.status).toBe('failed');
    expect(run.manifest.stopReason).toMatch(/^the server stopped answering: a request timed out .*, then vLLM is not answering: .*\/health no answer within 2000 ms$/);
    const journal = readJournal(run.dir);
    expect(journal.slice(0, 3).every((r) => !r.error)).toBe(true);
    expect(journal.slice(3).map((r) => r.error?.kind)).toEqual(['timeout']);
    // Not asked again for its /metrics after the stop (that would only cost one more timeout).
    expect(run.manifest.server).toMatchObject({ metrics: null, metricsNote: 'not read after the run: the server had stopped answering' });
    console.log(`[hung-vllm] frozen to run stopped: ${Math.round(stoppedAfter)} ms (requestTimeoutMs 4000, sideRequestTimeoutMs 2000, retries 0)`);
  });
});
