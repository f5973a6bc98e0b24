// Number formatting shared by the text renderers (Markdown, CSV, LaTeX), so a figure reads the same
// everywhere. Fractions print as percentages; bytes go through metrics/units.ts (the one byte policy).
import type { Interval } from './model.js';

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(digits)}%`;
}

/** "92.1% [90.6%, 93.5%]", or "n/a"; an exact figure prints without brackets. */
export function pctInterval(i: Interval | null | undefined, digits = 1): string {
  if (!i) return 'n/a';
  if (i.lower === i.upper && i.lower === i.estimate) return pct(i.estimate, digits);
  return `${pct(i.estimate, digits)} [${pct(i.lower, digits)}, ${pct(i.upper, digits)}]`;
}

export function ms(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

/** p-values: 3 significant digits, "<0.001" below that. */
export function pValue(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return 'n/a';
  if (p < 0.001) return '<0.001';
  return Number(p.toPrecision(3)).toString();
}

export function num(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

/** A KL divergence (or any small positive figure) in nats, 3 significant digits; infinity spelled out. */
export function nats(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(3) : 'inf';
}

/**
 * A difference of two proportions in percentage points, signed: "+1.2 pp", "-3.4 pp", "0.0 pp". Every
 * output prints an accuracy difference this way (never as a percentage, which reads as a ratio).
 */
export function points(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  const v = Number((x * 100).toFixed(digits));
  return `${v > 0 ? '+' : v < 0 ? '-' : ''}${Math.abs(v).toFixed(digits)} pp`;
}

/** "+1.2 pp [-0.4, +2.9]": the estimate with its unit, the bounds in the same unit. */
export function pointsInterval(i: Interval | null | undefined, digits = 1): string {
  if (!i) return 'n/a';
  if (i.lower === i.upper && i.lower === i.estimate) return points(i.estimate, digits);
  const bare = (x: number) => points(x, digits).replace(' pp', '');
  return `${points(i.estimate, digits)} [${bare(i.lower)}, ${bare(i.upper)}]`;
}
