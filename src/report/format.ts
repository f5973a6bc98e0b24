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
