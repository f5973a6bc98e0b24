// The one unit policy for bytes in every output (terminal, summary.md, report.md/html/tex, charts, gate):
// binary units (1 KiB = 1024 bytes, 1 MiB = 2^20, 1 GiB = 2^30), the largest unit in which the figure is
// at least 1, two decimals: "14.66 MiB", "1.27 GiB". A chart axis takes one unit for all its bars, chosen
// by the same rule from its largest value. CSV and JSON keep raw byte counts. Stated in docs/report-schema.md.

export interface ByteUnit {
  name: 'TiB' | 'GiB' | 'MiB' | 'KiB' | 'B';
  bytes: number;
}

const UNITS: readonly ByteUnit[] = [
  { name: 'TiB', bytes: 2 ** 40 },
  { name: 'GiB', bytes: 2 ** 30 },
  { name: 'MiB', bytes: 2 ** 20 },
  { name: 'KiB', bytes: 2 ** 10 },
  { name: 'B', bytes: 1 },
];

/** The policy in one sentence, for report definitions and docs. */
export const BYTE_UNIT_POLICY = 'binary units: 1 KiB = 1024 bytes, 1 MiB = 1024 KiB, 1 GiB = 1024 MiB';

/** The largest unit in which `bytes` is at least 1 (B for anything under 1 KiB). */
export function chooseByteUnit(bytes: number): ByteUnit {
  const n = Math.abs(bytes);
  return UNITS.find((u) => n >= u.bytes) ?? UNITS[UNITS.length - 1]!;
}

/** "14.66 MiB" ("512 B", "n/a" for a missing figure); `space` joins number and unit (HTML passes &nbsp;). */
export function formatBytes(bytes: number | null | undefined, space = ' '): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return 'n/a';
  const unit = chooseByteUnit(bytes);
  return unit.name === 'B' ? `${bytes}${space}B` : `${(bytes / unit.bytes).toFixed(2)}${space}${unit.name}`;
}
