// The window of requests in flight (src/runners/capacity-window.ts): no limit until a capacity error, then
// halved once per episode (every attempt of a failed batch reports the same lack of room), attempts past it
// wait in the client, and it grows by one after as many answers in a row as it holds, back to what it was.
import { describe, expect, it } from 'vitest';
import { CapacityWindow } from '../../src/runners/capacity-window.js';

/** Starts an acquire and tells whether it has been granted yet (after the microtasks have run). */
function pending(w: CapacityWindow) {
  const state = { granted: false, ticket: null as Awaited<ReturnType<CapacityWindow['acquire']>> | null };
  const p = w.acquire().then((t) => {
    state.granted = true;
    state.ticket = t;
    return t;
  });
  return { state, p };
}
const settle = () => new Promise((r) => setImmediate(r));

describe('capacity window (AIMD)', () => {
  it('no limit before any capacity error, and no throttle report', async () => {
    const w = new CapacityWindow();
    const ts = await Promise.all(Array.from({ length: 8 }, () => w.acquire()));
    for (const t of ts) w.release(t, 'ok');
    expect(w.size).toBe(Infinity);
    expect(w.report()).toBeNull();
  });

  it('4 in flight fail together: one cut to 2, the retries past 2 wait until places free up', async () => {
    const w = new CapacityWindow();
    const notices: string[] = [];
    w.onChange = (text) => notices.push(text);
    const first = await Promise.all([w.acquire(), w.acquire(), w.acquire(), w.acquire()]);
    for (const t of first) w.release(t, 'capacity');
    expect(w.size).toBe(2);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/at most 2 at a time from now on \(was 4\)/);
    const retries = [pending(w), pending(w), pending(w), pending(w)];
    await settle();
    expect(retries.map((r) => r.state.granted)).toEqual([true, true, false, false]);
    w.release(retries[0]!.state.ticket!, 'ok');
    await settle();
    expect(retries.map((r) => r.state.granted)).toEqual([true, true, true, false]);
  });

  it('a failure of an attempt sent before the last cut does not cut again; one request alone is only retried', async () => {
    const w = new CapacityWindow();
    const a = await w.acquire();
    const b = await w.acquire();
    w.release(a, 'capacity'); // 2 -> 1
    const c = pending(w);
    w.release(b, 'capacity'); // same episode: stays 1
    expect(w.size).toBe(1);
    await settle();
    expect(c.state.granted).toBe(true);
    w.release(c.state.ticket!, 'capacity'); // sent after the cut: a new episode, but a window of 1 has nothing to cut
    expect(w.size).toBe(1);
    expect(w.report()).toMatchObject({ cuts: 1, before: 2, lowest: 1, atEnd: 1 });
  });

  it('grows by one after as many answers in a row as the window holds up to one less than the window that ran out of room, past it after four times as many', async () => {
    const w = new CapacityWindow();
    const four = await Promise.all([w.acquire(), w.acquire(), w.acquire(), w.acquire()]);
    for (const t of four) w.release(t, 'capacity');
    expect(w.size).toBe(2);
    const answer = async () => w.release(await w.acquire(), 'ok');
    await answer();
    expect(w.size).toBe(2);
    await answer();
    expect(w.size).toBe(3);
    for (let i = 0; i < 11; i++) await answer();
    expect(w.size).toBe(3); // 4 ran out of room: back to it only after 4 x 3 answers in a row
    await answer();
    expect(w.size).toBe(4);
    for (let i = 0; i < 20; i++) await answer();
    expect(w.size).toBe(4); // never past what was in flight before the first cut
    // 4 runs out of room again: cut to 2; the ceiling is now 3 (one less than 4).
    const four2 = await Promise.all([w.acquire(), w.acquire(), w.acquire(), w.acquire()]);
    for (const t of four2) w.release(t, 'capacity');
    expect(w.size).toBe(2);
    const r = w.report()!;
    expect(r).toMatchObject({ cuts: 2, before: 4, lowest: 2, atEnd: 2, changesTotal: 4 });
    expect(r.changes.map((c) => [c.from, c.to, c.why])).toEqual([[4, 2, 'capacity'], [2, 3, 'recovered'], [3, 4, 'recovered'], [4, 2, 'capacity']]);
  });

  it('a waiter whose caller gives up leaves the queue', async () => {
    const w = new CapacityWindow();
    const two = await Promise.all([w.acquire(), w.acquire()]);
    for (const t of two) w.release(t, 'capacity');
    const held = await w.acquire();
    const ac = new AbortController();
    const waiting = w.acquire(ac.signal);
    ac.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    w.release(held, 'ok');
    expect((await w.acquire()).epoch).toBe(1);
  });
});
