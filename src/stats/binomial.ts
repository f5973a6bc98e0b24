// Exact binomial tail probabilities in log space (stable for thousands of trials) and the
// chi-square(1) survival function, for McNemar's test.

const LOG_FACTORIALS: number[] = [0];

function logFactorial(n: number): number {
  for (let k = LOG_FACTORIALS.length; k <= n; k++) LOG_FACTORIALS[k] = LOG_FACTORIALS[k - 1]! + Math.log(k);
  return LOG_FACTORIALS[n]!;
}

/** P(X = k) for X ~ Binomial(n, 1/2). */
export function binomialHalfPmf(k: number, n: number): number {
  if (k < 0 || k > n) return 0;
  return Math.exp(logFactorial(n) - logFactorial(k) - logFactorial(n - k) - n * Math.LN2);
}

/** P(X <= k) for X ~ Binomial(n, 1/2). */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += binomialHalfPmf(i, n);
  return Math.min(1, sum);
}

/** Complementary error function (Numerical Recipes erfcc, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** P(X >= x) for X ~ chi-square with 1 degree of freedom. */
export function chiSquare1Survival(x: number): number {
  if (x <= 0) return 1;
  return erfc(Math.sqrt(x / 2));
}
