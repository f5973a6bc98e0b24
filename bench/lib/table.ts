// Renders a benchmark table as Markdown (readable in a terminal, pasteable into a README or an issue).
import type { BenchTable } from './types.js';

export function formatTable(t: BenchTable): string {
  const cells = t.rows.map((r) => r.map(String));
  const widths = t.head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' | ') + ' |';
  const out = [line(t.head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)];
  return (t.title ? `${t.title}\n` : '') + out.join('\n');
}
