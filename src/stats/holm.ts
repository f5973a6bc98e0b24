// Holm's step-down adjustment of p-values for several tests at once (a ladder: each compressed model
// against the baseline): sort ascending, multiply the k-th smallest by (m - k + 1), carry the running
// maximum so adjusted values keep the order, cap at 1. Controls the family-wise error rate without
// assuming the tests independent. null entries (no test) are skipped and stay null.
export function holmAdjust(pValues: ReadonlyArray<number | null>): Array<number | null> {
  const present = pValues.flatMap((p, i) => (p === null || !Number.isFinite(p) ? [] : [{ p, i }])).sort((a, b) => a.p - b.p);
  const m = present.length;
  const out: Array<number | null> = pValues.map(() => null);
  let running = 0;
  present.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}
