// The question stem travels from the run journal to the flip lists and results.csv; paths in manifests
// and reports are relative to the working directory when they can be.
import { describe, expect, it } from 'vitest';
import { questionExcerpt } from '../../src/run/item-record.js';
import { portablePath } from '../../src/core/portable-path.js';
import { buildReport, outputExcerpt } from '../../src/report/build.js';
import { itemResult, loadedRun, manifest } from '../fixtures/runs/synthetic.js';

describe('questionExcerpt', () => {
  it('folds whitespace onto one line and keeps short stems whole', () => {
    expect(questionExcerpt('  A 45-year-old\nman\t\twith  pain.  ')).toBe('A 45-year-old man with pain.');
  });

  it('cuts long stems at 300 characters with an ellipsis', () => {
    const long = `${'word '.repeat(100)}end`;
    const e = questionExcerpt(long);
    expect(e.length).toBeLessThanOrEqual(300);
    expect(e.endsWith('…')).toBe(true);
    expect(long.startsWith(e.slice(0, -1))).toBe(true);
    const exact = 'x'.repeat(300);
    expect(questionExcerpt(exact)).toBe(exact);
  });
});

describe('flips carry the question', () => {
  it('from the baseline record, or the compressed one when only it has the stem', () => {
    const base = [
      itemResult({ itemId: 'q1', gold: 'A', letter: 'A', question: 'Stem one?' }),
      itemResult({ itemId: 'q2', gold: 'B', letter: 'C' }),
      itemResult({ itemId: 'q3', gold: 'C', letter: 'C' }),
    ];
    const comp = [
      itemResult({ itemId: 'q1', gold: 'A', letter: 'D', question: 'Stem one?' }),
      itemResult({ itemId: 'q2', gold: 'B', letter: 'B', question: 'Stem two?' }),
      itemResult({ itemId: 'q3', gold: 'C', letter: 'C' }),
    ];
    const model = buildReport({ runs: [loadedRun(manifest('base'), base), loadedRun(manifest('comp'), comp)], resamples: 50 });
    const c = model.comparisons[0]!;
    expect(c.rightToWrong).toEqual([expect.objectContaining({ itemId: 'q1', question: 'Stem one?' })]);
    expect(c.wrongToRight).toEqual([expect.objectContaining({ itemId: 'q2', question: 'Stem two?' })]);
    expect(model.items!.rows.map((r) => r.question ?? null)).toEqual(['Stem one?', 'Stem two?', null]);
  });
});

describe('portablePath', () => {
  it('is relative (with /) inside the working directory and absolute outside it', () => {
    expect(portablePath('/home/me/proj/suites/demo.yaml', '/home/me/proj')).toBe('suites/demo.yaml');
    expect(portablePath('/home/me/proj', '/home/me/proj')).toBe('.');
    expect(portablePath('/models/r1.gguf', '/home/me/proj')).toBe('/models/r1.gguf');
    expect(portablePath('/home/me/project2/x', '/home/me/proj')).toBe('/home/me/project2/x');
    expect(portablePath('runs/a', '/home/me/proj')).toBe('runs/a');
  });
});

describe('flip replies', () => {
  it('show the reply after the reasoning, its end when long, and the sample behind the voted letter', () => {
    expect(outputExcerpt('<think>long\nthought</think>\n\nAnswer:  B')).toBe('Answer: B');
    expect(outputExcerpt('<think>cut off in the middle of reason')).toBe('cut off in the middle of reason');
    const long = `${'because '.repeat(60)}Answer: C`;
    const e = outputExcerpt(long);
    expect(e.length).toBeLessThanOrEqual(300);
    expect(e.startsWith('…')).toBe(true);
    expect(e.endsWith('Answer: C')).toBe(true);

    const base = [itemResult({ itemId: 'q1', gold: 'A', letter: 'A', rawOutput: '<think>x</think>Answer: A' })];
    const comp = [
      itemResult({ itemId: 'q1', gold: 'A', letter: null, status: 'truncated', rawOutput: '<think>still thinking', sample: 0 }),
      itemResult({ itemId: 'q1', gold: 'A', letter: 'D', rawOutput: 'Answer: D', sample: 1 }),
      itemResult({ itemId: 'q1', gold: 'A', letter: 'D', rawOutput: 'So D.', sample: 2 }),
    ];
    const model = buildReport({ runs: [loadedRun(manifest('base'), base), loadedRun(manifest('comp'), comp)], resamples: 50 });
    const flip = model.comparisons[0]!.rightToWrong[0]!;
    expect(flip.baselineOutput).toEqual({ status: 'answered', excerpt: 'Answer: A', reasoned: true });
    // majority D over three samples: the first sample that said D is the one shown
    expect(flip.compressedLetter).toBe('D');
    expect(flip.compressedOutput).toEqual({ status: 'answered', excerpt: 'Answer: D', reasoned: false });
  });
});

describe('flip replies of likelihood-scored runs', () => {
  it('show the letter distribution, most likely first, since nothing was written', () => {
    const lp = (a: number, b: number, c: number) => ({ A: Math.log(a), B: Math.log(b), C: Math.log(c) });
    const base = [{ ...itemResult({ itemId: 'q1', gold: 'A', letter: 'A', rawOutput: '' }), letterLogprobs: lp(0.5, 0.2, 0.1) }];
    const comp = [{ ...itemResult({ itemId: 'q1', gold: 'A', letter: 'B', rawOutput: '' }), letterLogprobs: lp(0.1, 0.6, 0.3) }];
    const model = buildReport({ runs: [loadedRun(manifest('base'), base), loadedRun(manifest('comp'), comp)], resamples: 50 });
    const flip = model.comparisons[0]!.rightToWrong[0]!;
    expect(flip.baselineOutput!.excerpt).toBe('P(A) 62.5%, P(B) 25.0%, P(C) 12.5%');
    expect(flip.compressedOutput!.excerpt).toBe('P(B) 60.0%, P(C) 30.0%, P(A) 10.0%');
    const d = model.comparisons[0]!.letterDistribution!;
    // KL(p || q) by hand: p = (.625, .25, .125), q = (.1, .6, .3)
    const kl = 0.625 * Math.log(0.625 / 0.1) + 0.25 * Math.log(0.25 / 0.6) + 0.125 * Math.log(0.125 / 0.3);
    expect(d.klMean.estimate).toBeCloseTo(kl, 12);
    expect(d).toMatchObject({ items: 1, top1Agreement: 0 });
    expect(d.baselineGoldProbability).toBeCloseTo(0.625, 12);
    expect(d.compressedLetterMass).toBeCloseTo(1, 12);
  });
});
