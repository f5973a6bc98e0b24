// Number formatting shared by the text renderers (Markdown, CSV, LaTeX), so a figure reads the same
// everywhere. Fractions print as percentages; bytes as GB (10^9 bytes) so they match model cards.
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

export function gb(bytes: number | null | undefined, digits = 2): string {
  return bytes === null || bytes === undefined || !Number.isFinite(bytes) ? 'n/a' : (bytes / 1e9).toFixed(digits);
}

/** Bytes in binary units that fit the size ("14.66 MiB"), for figures too small for GB. */
export function bytesText(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  for (const [name, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) if (Math.abs(n) >= size) return `${(n / size).toFixed(2)} ${name}`;
  return `${n} B`;
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
