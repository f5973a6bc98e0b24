// A record's rssBytes is read at most once per interval, not once per item (its CPU cost at high request
// rates): within the interval the same figure comes back without asking the OS again.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { recentRss } from '../../src/metrics/process-memory.js';

afterEach(() => vi.restoreAllMocks());

describe('recentRss', () => {
  it('asks the OS once per interval, and again once the interval has passed', () => {
    const rss = vi.spyOn(process.memoryUsage, 'rss');
    const first = recentRss(0); // an interval of 0: always a fresh read
    expect(first).toBeGreaterThan(0);
    expect(rss).toHaveBeenCalledTimes(1);
    const hour = 3_600_000;
    const again = Array.from({ length: 1000 }, () => recentRss(hour));
    expect(rss).toHaveBeenCalledTimes(1);
    expect(new Set(again)).toEqual(new Set([first]));
    recentRss(0);
    expect(rss).toHaveBeenCalledTimes(2);
  });
});
