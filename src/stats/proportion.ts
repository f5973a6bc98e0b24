// Confidence intervals for a proportion (accuracy = correct / scored).
// Wilson's score interval rather than the normal ("Wald") one: it stays inside [0, 1] and keeps its
// coverage near 0% and 100% accuracy and for small per-category counts, where Wald collapses to a point.

export interface ProportionInterval {
  /** successes / n; NaN when n = 0. */
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * Standard normal quantile (inverse CDF): the z with P(Z <= z) = p.
 * Wichura's algorithm AS 241 (PPND16, Applied Statistics 37:477-484, 1988), accurate to about 1e-16,
 * the same algorithm as Python's statistics.NormalDist.inv_cdf and R's qnorm.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r +
          45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r +
          133.14166789178437745) * r + 3.387132872796366608)) /
      (((((((5226.495278852854561 * r + 28729.085735721942674) * r + 39307.89580009271061) * r +
        21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r +
        42.313330701600911252) * r + 1)
    );
  }
  let r = q < 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value =
      (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
        1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r +
        4.6303378461565452959) * r + 1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
        0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r +
        2.05319162663775882187) * r + 1);
  } else {
    r -= 5;
    value =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
        0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r +
        5.4637849111641143699) * r + 6.6579046435011037772) /
      (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
        7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r +
        0.59983220655588793769) * r + 1);
  }
  return q < 0 ? -value : value;
}

/** The two-sided critical value for a confidence level: 1.959963984540054 for 0.95. */
export function twoSidedZ(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be strictly between 0 and 1 (e.g. 0.95), got ${confidence}`);
  }
  return normalQuantile(1 - (1 - confidence) / 2);
}

/**
 * Wilson score interval for successes out of n.
 * n = 0 gives estimate NaN and the uninformative interval [0, 1].
 * successes may be fractional (a mean of per-item scores times n, e.g. pass@1 over items); it must lie
 * in [0, n].
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): ProportionInterval {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`wilsonInterval: n must be a non-negative integer, got ${n}`);
  if (!Number.isFinite(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: successes must be between 0 and n (${n}), got ${successes}`);
  }
  const z = twoSidedZ(confidence);
  if (n === 0) return { estimate: Number.NaN, lower: 0, upper: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const halfWidth = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  // At p = 0 or 1 one bound is exactly 0 or 1 in exact arithmetic; pin it so rounding cannot leak past.
  const lower = p === 0 ? 0 : Math.max(0, centre - halfWidth);
  const upper = p === 1 ? 1 : Math.min(1, centre + halfWidth);
  return { estimate: p, lower, upper };
}
