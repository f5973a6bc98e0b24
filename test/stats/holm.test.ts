import { describe, expect, it } from 'vitest';
import { holmAdjust } from '../../src/stats/holm.js';

describe('holmAdjust', () => {
  it('matches hand-computed Holm values (and R p.adjust(method = "holm"))', () => {
    // p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted.map((p) => Number(p!.toFixed(10)))).toEqual([0.03, 0.06, 0.06, 0.02]);
  });

  it('keeps the order monotone, caps at 1 and leaves missing tests null', () => {
    expect(holmAdjust([0.5, null, 0.6])).toEqual([1, null, 1]);
    expect(holmAdjust([0.2])).toEqual([0.2]);
    expect(holmAdjust([])).toEqual([]);
  });
});
