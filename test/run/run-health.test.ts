// The dead-server rule: requests that got no answer (no connection, or a timeout) in a row stop the run,
// and so does one such request after which the server's health check failed too.
import { describe, expect, it } from 'vitest';
import { RunHealth } from '../../src/run/run-health.js';
import type { ItemResult } from '../../src/core/types.js';

const result = (kind?: string): ItemResult =>
  ({ itemId: 'x', sample: 0, ...(kind ? { error: { kind, message: `${kind} happened` } } : {}) }) as unknown as ItemResult;

describe('RunHealth', () => {
  it('counts timeouts towards the dead-server streak, with connection failures', () => {
    const h = new RunHealth(undefined, 5);
    for (const k of ['timeout', 'timeout', 'connection', 'timeout']) expect(h.record(result(k))).toBeNull();
    expect(h.record(result('timeout'))).toMatch(/the server looks dead: 5 requests in a row got no answer \(4 timed out, 1 could not connect\)/);
  });

  it('an answer or an error the server did send breaks the streak', () => {
    const h = new RunHealth(undefined, 3);
    for (const k of ['timeout', 'timeout', undefined, 'timeout', 'timeout', 'http-5xx', 'timeout', 'timeout']) expect(h.record(result(k))).toBeNull();
    expect(h.record(result('connection'))).toMatch(/3 requests in a row got no answer/);
  });

  it('keeps the connection wording when only connections failed', () => {
    const h = new RunHealth(undefined, 2);
    h.record(result('connection'));
    expect(h.record(result('connection'))).toMatch(/2 connection failures in a row/);
  });

  it('stops at once when the health check after a request without answer failed too', () => {
    const h = new RunHealth(undefined, 5);
    expect(h.record(result('timeout'), 'llama-server is not answering: http://h/health no answer within 500 ms'))
      .toBe('the server stopped answering: a request timed out (timeout happened), then llama-server is not answering: http://h/health no answer within 500 ms');
    // A probe reason only counts after a request that got no answer.
    expect(new RunHealth(undefined, 5).record(result('http-5xx'), 'whatever')).toBeNull();
  });
});
