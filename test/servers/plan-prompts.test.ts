// The planning step counts prompts a few at a time (side requests), and an abort leaves the rest uncounted.
import { describe, expect, it } from 'vitest';
import { planPrompts } from '../../src/run/plan-budget.js';
import type { ChatMessage, Runner } from '../../src/core/types.js';

/** A runner whose counts end when the test says so. */
function countingRunner() {
  let running = 0;
  let maxRunning = 0;
  const pending: Array<{ text: string; answer: (n: number) => void }> = [];
  let onStart: (() => void) | null = null;
  const runner = {
    kind: 'scripted',
    countPromptTokens(messages: ChatMessage[]): Promise<number | null> {
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<number>((resolve) => {
        pending.push({ text: messages[0]!.content, answer: (n) => { running--; resolve(n); } });
        onStart?.();
      });
    },
  } as unknown as Runner;
  const started = (n: number) => new Promise<void>((resolve) => {
    const check = () => { if (pending.length >= n) { onStart = null; resolve(); } };
    onStart = check;
    check();
  });
  return { runner, pending, started, get maxRunning() { return maxRunning; } };
}

describe('planPrompts', () => {
  it('counts each distinct prompt once, at most `parallel` at a time', async () => {
    const r = countingRunner();
    const prompts = ['a', 'b', 'c', 'a', 'd', 'e'];
    const done = planPrompts(r.runner, 100, prompts, 10, { parallel: 2 });
    await r.started(2);
    expect(r.pending.map((p) => p.text)).toEqual(['a', 'b']);
    for (let k = 0; k < 5; k++) {
      await r.started(k + 1);
      r.pending[k]!.answer(95);
    }
    const { plans, summary } = await done;
    expect(r.maxRunning).toBe(2);
    expect(r.pending.map((p) => p.text)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(plans.size).toBe(5);
    expect(summary.counted).toBe(5);
    expect(summary.capped).toBe(5);
    expect(plans.get('a')!.budget.maxTokens).toBe(4);
  });

  it('an abort leaves the prompts not yet started uncounted', async () => {
    const r = countingRunner();
    const ctl = new AbortController();
    const done = planPrompts(r.runner, 100, ['a', 'b', 'c', 'd'], 10, { parallel: 1, signal: ctl.signal });
    await r.started(1);
    ctl.abort();
    r.pending[0]!.answer(10);
    const { plans } = await done;
    expect([...plans.keys()]).toEqual(['a']);
    expect(r.pending).toHaveLength(1);
  });
});
