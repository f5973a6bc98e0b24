import { describe, expect, it } from 'vitest';
import { frontierPath, paretoFrontier } from '../../src/report/pareto.js';

describe('paretoFrontier', () => {
  it('keeps the models no other beats on cost and accuracy at once', () => {
    // F16 (16 GiB, 60%), Q8 (8, 59%), Q4 (4, 55%), Q3 (3, 40%), Q5 bigger and worse than Q8 (9, 58%): dominated.
    const points = [
      { cost: 16, value: 0.6 }, { cost: 8, value: 0.59 }, { cost: 4, value: 0.55 }, { cost: 3, value: 0.4 }, { cost: 9, value: 0.58 },
    ];
    expect(paretoFrontier(points)).toEqual([true, true, true, true, false]);
    expect(frontierPath(points)).toEqual([3, 2, 1, 0]);
  });

  it('a tie stays on the frontier; equal cost and lower accuracy does not; missing figures never', () => {
    expect(paretoFrontier([{ cost: 4, value: 0.5 }, { cost: 4, value: 0.5 }])).toEqual([true, true]);
    expect(paretoFrontier([{ cost: 4, value: 0.5 }, { cost: 4, value: 0.4 }])).toEqual([true, false]);
    expect(paretoFrontier([{ cost: 5, value: 0.5 }, { cost: 4, value: 0.5 }])).toEqual([false, true]);
    expect(paretoFrontier([{ cost: null, value: 0.9 }, { cost: 4, value: null }, { cost: 8, value: 0.1 }])).toEqual([false, false, true]);
  });
});
