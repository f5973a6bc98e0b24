// The question stem travels from the run journal to the flip lists and results.csv; paths in manifests
// and reports are relative to the working directory when they can be.
import { describe, expect, it } from 'vitest';
import { questionExcerpt } from '../../src/core/run.js';
import { portablePath } from '../../src/core/portable-path.js';
import { buildReport } from '../../src/report/build.js';
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
