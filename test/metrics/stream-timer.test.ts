import { describe, expect, it } from 'vitest';
import { InlineThinkSplitter, StreamTimer } from '../../src/metrics/stream-timer.js';

function fakeClock() {
  let t = 1000;
  return { now: () => t, set: (v: number) => { t = v; } };
}

describe('StreamTimer', () => {
  it('measures TTFT from the first text (reasoning included), TTFO from the first answer text, ITL, E2EL and TPOT', () => {
    const c = fakeClock();
    const timer = new StreamTimer(c.now);
    c.set(1000);
    timer.start();
    timer.chunk('answer', '', 1005); // role-only chunk: no text, does not count
    timer.chunk('reasoning', 'Let me think', 1020);
    timer.chunk('reasoning', ' more', 1030);
    timer.chunk('answer', '\n\n', 1040); // blank answer text is not the answer's start
    timer.chunk('answer', 'Answer: C', 1055);
    c.set(1100); // finish() after the last chunk: E2EL still ends at the last text chunk
    const t = timer.finish(5);
    expect(t.ttftMs).toBe(20);
    expect(t.ttfoMs).toBe(55);
    expect(t.e2eMs).toBe(55);
    expect(t.itlMs).toEqual([10, 10, 15]);
    expect(t.tpotMs).toBeCloseTo((55 - 20) / 4, 10);
  });

  it('leaves tokens that sent no text (a server\'s stop token) out of TPOT: E2EL ends at the last text chunk', () => {
    const c = fakeClock();
    const timer = new StreamTimer(c.now);
    timer.start();
    for (const at of [1010, 1020, 1030]) timer.chunk('answer', 'x', at);
    // 3 text tokens and the stop token: 20 ms over 2 gaps is 10 ms per token, not 20/3
    expect(timer.finish(4, { silentTokens: 1 }).tpotMs).toBe(10);
    expect(timer.finish(3).tpotMs).toBe(10);
    // a 2-token answer whose second token was the stop: one text token, no TPOT
    const two = new StreamTimer(c.now);
    two.start();
    two.chunk('answer', 'A', 1010);
    expect(two.finish(2, { silentTokens: 1 }).tpotMs).toBeNull();
  });

  it('reports no TTFT (null, never 0) when no text came, and no TPOT for a single token', () => {
    const c = fakeClock();
    const timer = new StreamTimer(c.now);
    timer.start();
    c.set(1300);
    const t = timer.finish(0);
    expect(t.ttftMs).toBeNull();
    expect(t.ttfoMs).toBeNull();
    expect(t.tpotMs).toBeNull();
    expect(t.e2eMs).toBe(300);
    const one = new StreamTimer(c.now);
    one.start();
    one.chunk('answer', 'A', 1310);
    expect(one.finish(1).tpotMs).toBeNull();
  });
});

describe('InlineThinkSplitter', () => {
  const splitAll = (chunks: string[], prefilled = false) => {
    const s = new InlineThinkSplitter(prefilled);
    let reasoning = '';
    let answer = '';
    for (const c of chunks) {
      const p = s.feed(c);
      reasoning += p.reasoning;
      answer += p.answer;
    }
    const rest = s.flush();
    return { reasoning: reasoning + rest.reasoning, answer: answer + rest.answer, inReasoning: s.inReasoning };
  };

  it('splits reasoning and answer when tags are cut across chunks', () => {
    const r = splitAll(['<thi', 'nk>why A? no, C', '</th', 'ink>\n\nAnswer: C']);
    expect(r.reasoning).toBe('why A? no, C');
    expect(r.answer).toBe('\n\nAnswer: C');
  });

  it('handles a prefilled <think> (only the closing tag is generated)', () => {
    const r = splitAll(['because', ' B fits', '</think>', 'Answer: B'], true);
    expect(r.reasoning).toBe('because B fits');
    expect(r.answer).toBe('Answer: B');
  });

  it('treats text without a think block as answer, and an unterminated block as still reasoning', () => {
    expect(splitAll(['Answer: ', 'D'])).toMatchObject({ reasoning: '', answer: 'Answer: D' });
    const cut = splitAll(['<think>', 'still going </thi']);
    expect(cut.inReasoning).toBe(true);
    expect(cut.answer).toBe('');
    expect(cut.reasoning).toBe('still going </thi');
  });

  it('gives the same split whatever the chunk boundaries are', () => {
    const text = '<think>x < y and </b> is not a tag</think>Final: (E)';
    const whole = splitAll([text]);
    for (let size = 1; size <= 9; size++) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(splitAll(chunks)).toEqual(whole);
    }
  });
});
