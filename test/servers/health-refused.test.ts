// An attached server that is not there: fail soon with a clear reason instead of waiting the whole start-up timeout.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HealthTimeoutError, waitForHealth } from '../../src/runners/managed-process.js';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('waitForHealth on a port nobody listens on', () => {
  it('gives up after refusedLimitMs, long before the start-up timeout, and says why', async () => {
    const port = await closedPort();
    // The wait runs on the test's clock, 100 ms per poll, so the outcome does not depend on the machine's speed.
    let t = 0;
    const polls: string[] = [];
    const err = await waitForHealth(`http://127.0.0.1:${port}/health`, 60_000, {
      refusedLimitMs: 300,
      now: () => t,
      onPoll: (s) => {
        polls.push(s);
        t += 100;
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(HealthTimeoutError);
    expect((err as Error).message).toContain('nothing is listening');
    // Not before the limit (polls at 100, 200, 300 ms), at the first poll past it (400 ms of a 60 s timeout).
    expect(polls).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
  });
});
