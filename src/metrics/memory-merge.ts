// One memory report from several (the shards of a merged run, each its own machine; the replicas of a
// server, each its own process): per part the highest of their own figures, which is what any one of them
// needed, never a sum; the note lists every figure so nothing is hidden.
import type { MemoryFigure, MemoryReport } from '../core/types.js';
import { formatBytes } from './units.js';

type FigurePart = Exclude<keyof MemoryReport, 'gpuDevices'>;

/** `what` names each entry in notes ("shard", "replica"); `apart` says why they are never summed. */
export function highestMemory(entries: Array<{ name: string; memory?: MemoryReport }>, what: string, apart: string): MemoryReport | undefined {
  const withMemory = entries.filter((s) => s.memory);
  if (withMemory.length === 0) return undefined;
  // Figures only: a per-GPU list (gpuDevices) stays with its own shard or replica.
  const parts = new Set(withMemory.flatMap((s) => Object.keys(s.memory!)).filter((k) => k !== 'gpuDevices')) as Set<FigurePart>;
  const out: Partial<Record<FigurePart, MemoryFigure>> = {};
  for (const part of parts) {
    const figs = withMemory.map((s) => ({ name: s.name, fig: s.memory![part] })).filter((x): x is { name: string; fig: MemoryFigure } => x.fig !== undefined);
    const known = figs.filter((x) => x.fig.bytes !== null);
    if (known.length === 0) {
      out[part] = { ...figs[0]!.fig, note: `${figs[0]!.fig.note ? figs[0]!.fig.note + '; ' : ''}not available in any of the ${figs.length} ${what}(s)` };
      continue;
    }
    const top = known.reduce((a, b) => (b.fig.bytes! > a.fig.bytes! ? b : a));
    const same = known.length === figs.length && known.every((x) => x.fig.bytes === top.fig.bytes);
    const each = figs.map((x) => `${what} ${x.name} ${x.fig.bytes === null ? 'n/a' : formatBytes(x.fig.bytes)}`).join(', ');
    out[part] = {
      bytes: top.fig.bytes,
      source: top.fig.source,
      note: same ? `${top.fig.note ? top.fig.note + '; ' : ''}the same in all ${figs.length} ${what}s`
        : `highest of the ${figs.length} ${what}s' own figures (${what} ${top.name}; ${apart}, never summed): ${each}`,
    };
  }
  return out as MemoryReport;
}
