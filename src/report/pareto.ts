// The Pareto frontier of a ladder: the models no other model beats on both axes at once. A model is
// dominated when another costs no more (memory, latency: lower is better) and scores no less (accuracy:
// higher is better), and is strictly better on one of them. Judged on the point estimates; two models
// with the same figures both stay on the frontier. Points with a missing figure are never on it.
export interface CostValue {
  cost: number | null;
  value: number | null;
}

/** true where the point is on the frontier (not dominated), parallel to `points`. */
export function paretoFrontier(points: readonly CostValue[]): boolean[] {
  const known = (p: CostValue): p is { cost: number; value: number } => p.cost !== null && p.value !== null && Number.isFinite(p.cost) && Number.isFinite(p.value);
  return points.map((p) => {
    if (!known(p)) return false;
    return !points.some((q) => known(q) && q.cost <= p.cost && q.value >= p.value && (q.cost < p.cost || q.value > p.value));
  });
}

/** The frontier's points in increasing cost, for drawing it as a line (indices into `points`). */
export function frontierPath(points: readonly CostValue[]): number[] {
  const on = paretoFrontier(points);
  return points.map((_, i) => i).filter((i) => on[i]).sort((a, b) => points[a]!.cost! - points[b]!.cost! || points[a]!.value! - points[b]!.value!);
}
